"""Impact of a policy change: `kpirules diff OLD.rules NEW.rules INPUT --evaluation NAME --out REPORT`.

Both versions are evaluated on every row of INPUT (any format `kpirules run` reads). For every
person: the old and new value of each output and the delta, and **why** it changed: the values
that first differ in dependency order (a value that differs while everything it reads is the
same, or whose own definition changed), each with the clause of both versions (file:line and
text) and the words that changed (`project_success 18 -> 20: standard 85% -> standard 80%`).
Totals (the cost of the change), counts of people better off, worse off and unchanged, the
largest changes and a histogram of the deltas. REPORT by extension: `.html`, `.json`, `.csv`.

Exact throughout: values and deltas are decimal strings; only the histogram's bar heights are
drawn, never computed from, floats.
"""

from __future__ import annotations

import csv
import heapq
import html
import io
import json
import os
import re
import sys
from decimal import Decimal
from typing import Any

from . import exact as x
from . import tabular
from .errors import EvaluationError, FactError, PolicyError, UsageError

EXIT_OK, EXIT_USAGE = 0, 2
LARGEST = 20
HTML_PEOPLE = 500


def add_parser(command) -> None:
    d = command("diff", "compare two versions of a policy over the same people: who gains, "
                                    "who loses, and why")
    d.add_argument("old", metavar="OLD.rules", help="the policy as it is")
    d.add_argument("new", metavar="NEW.rules", help="the policy as it would be")
    d.add_argument("input", metavar="INPUT", help="facts, one row per person: .jsonl, .csv, .xlsx or .parquet")
    d.add_argument("--evaluation", metavar="NAME", help="which evaluation (needed when the policy has several)")
    d.add_argument("--out", metavar="REPORT", required=True, help="the report: .html, .json or .csv")
    d.add_argument("--as-of", metavar="DATE", dest="as_of", help="the date the evaluations are made as of")
    d.add_argument("--id-field", metavar="NAME", default="id", help="the field naming each person (default: id)")
    d.add_argument("--measure", metavar="OUTPUT",
                   help="the output whose deltas decide better/worse off, the largest changes and the "
                        "histogram (default: the evaluation's last number output)")
    d.add_argument("--stats", action="store_true",
                   help="add the firing statistics of both versions (how many people took each ladder side, "
                        "band, table row, gate, cap and floor) to the report")


def _fail(message: str) -> int:
    print(f"kpirules: error: {message}", file=sys.stderr)
    return EXIT_USAGE


# ---- the clauses of a value in both versions ---------------------------------------------------

def _lines(span) -> list[tuple[int, str]]:
    """(line number, text without its comment) of each line of a value's definition."""
    if span is None:
        return []
    line, _col = span.source.line_col(span.start)
    out = []
    for i, text in enumerate(span.text.split("\n")):
        code = text.split("  #", 1)[0].rstrip()
        out.append((line + i, code.strip()))
    return out


def _own_lines(values: dict) -> dict[str, list[tuple[int, str]]]:
    spans = {name: v.span for name, v in values.items() if v.span is not None}
    owner: dict[tuple[str, int], tuple[int, str]] = {}  # (file, line) -> (span length, innermost value)
    lines = {name: _lines(span) for name, span in spans.items()}
    for name, span in spans.items():
        size = span.end - span.start
        for number, _text in lines[name]:
            key = (span.source.path, number)
            if key not in owner or size < owner[key][0]:
                owner[key] = (size, name)
    return {name: [(number, text) for number, text in lines[name]
                   if owner[(spans[name].source.path, number)][1] == name] for name in spans}


def _changed_words(old: str, new: str) -> tuple[str, str]:
    """The part of two lines that differs, with one word of context before it."""
    a, b = old.split(), new.split()
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[len(a) - 1 - j] == b[len(b) - 1 - j]:
        j += 1
    start = max(0, i - 1)
    while start > 0 and not any(ch.isalnum() for ch in a[start]):  # context is a word, not `->`
        start -= 1
    old_part, new_part = " ".join(a[start:len(a) - j]), " ".join(b[start:len(b) - j])
    if "->" in old_part or "->" in new_part:  # a table row: quote it, so that the arrows read right
        return f"`{old_part}`", f"`{new_part}`"
    return old_part, new_part


class Clauses:
    """For each value name: where it is defined in each version and, if its definition changed,
    the first changed line of each."""

    def __init__(self, old_program, new_program):
        self.old = {v.name: v for v in old_program.evaluation.values}
        self.new = {v.name: v for v in new_program.evaluation.values}
        self.order = [v.name for v in new_program.evaluation.values] + [
            v.name for v in old_program.evaluation.values if v.name not in self.new]
        self.deps = {name: set(getattr(self.new.get(name) or self.old.get(name), "deps", ())) for name in self.order}
        self.info: dict[str, dict[str, Any]] = {}
        old_own, new_own = _own_lines(self.old), _own_lines(self.new)
        for name in self.order:
            o, n = self.old.get(name), self.new.get(name)
            # A value's own lines: those of its definition that no value nested in it (an item in
            # a scorecard) holds; a change inside an item is the item's change, not the scorecard's.
            old_lines = old_own.get(name, [])
            new_lines = new_own.get(name, [])
            entry: dict[str, Any] = {"changed": [t for _l, t in old_lines] != [t for _l, t in new_lines]}
            pair = None
            for k in range(max(len(old_lines), len(new_lines))):
                ol = old_lines[k] if k < len(old_lines) else None
                nl = new_lines[k] if k < len(new_lines) else None
                if (ol and ol[1]) != (nl and nl[1]):
                    pair = (ol, nl)
                    break
            if pair is None:
                pair = (old_lines[0] if old_lines else None, new_lines[0] if new_lines else None)
            ol, nl = pair
            entry["old"] = {"where": f"{o.span.source.path}:{ol[0]}", "text": ol[1]} if o is not None and ol else None
            entry["new"] = {"where": f"{n.span.source.path}:{nl[0]}", "text": nl[1]} if n is not None and nl else None
            if entry["changed"] and ol and nl:
                entry["words"] = _changed_words(ol[1], nl[1])
            self.info[name] = entry

        # Tables, bands and functions whose definition changed: what an unchanged value may read.
        self.shared: dict[str, dict[str, Any]] = {}
        for kind, attr in (("table", "tables"), ("bands", "bands"), ("function", "functions")):
            before = {t.name: t for t in getattr(old_program.policy, attr)}
            for t in getattr(new_program.policy, attr):
                o = before.get(t.name)
                if o is None:
                    continue
                a, b = _lines(o.span), _lines(t.span)
                if [x for _n, x in a] == [x for _n, x in b]:
                    continue
                k = next((k for k in range(min(len(a), len(b))) if a[k][1] != b[k][1]), min(len(a), len(b)) - 1)
                ol, nl = a[max(k, 0)], b[max(k, 0)]
                words = _changed_words(ol[1], nl[1])
                self.shared[t.name] = {
                    "old": {"where": f"{o.span.source.path}:{ol[0]}", "text": ol[1]},
                    "new": {"where": f"{t.span.source.path}:{nl[0]}", "text": nl[1]},
                    "change": f"{kind} {t.name}: {words[0]} -> {words[1]}"}

    def _shared_change(self, name: str) -> dict[str, Any] | None:
        v = self.new.get(name) or self.old.get(name)
        text = v.span.text if v is not None and v.span is not None else ""
        words = set(re.findall(r"\w+", text))
        return next((c for n, c in self.shared.items() if n in words), None)

    def why(self, old_values: dict, new_values: dict) -> list[dict[str, Any]]:
        differs = {name for name in self.order if old_values.get(name) != new_values.get(name)}
        causes = []
        for name in self.order:
            if name not in differs:
                continue
            entry = self.info[name]
            if entry["changed"] or not (self.deps[name] & differs):
                cause = {"value": name, "old": _text(old_values.get(name)), "new": _text(new_values.get(name)),
                         "old_clause": entry["old"], "new_clause": entry["new"]}
                if "words" in entry:
                    a, b = entry["words"]
                    cause["change"] = f"{a} -> {b}"
                elif not entry["changed"]:
                    shared = self._shared_change(name)
                    if shared is not None:
                        cause["change"] = shared["change"]
                        cause["old_clause"], cause["new_clause"] = shared["old"], shared["new"]
                    else:
                        cause["change"] = ("its definition is the same; a table, band, shared ladder or function "
                                           "it uses changed")
                causes.append(cause)
        return causes


def _text(v) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    from .batch import value_json
    return value_json(v)


def why_text(causes: list[dict[str, Any]]) -> str:
    parts = []
    for c in causes:
        head = f"{c['value']} {c['old']} -> {c['new']}"
        if c.get("change"):
            head += f": {c['change']}"
        where = (c.get("new_clause") or c.get("old_clause") or {}).get("where")
        if where:
            head += f" ({where})"
        parts.append(head)
    return "; ".join(parts)


# ---- the comparison ----------------------------------------------------------------------------

class Comparison:
    def __init__(self, old, new, old_program, new_program, measure: str | None):
        self.clauses = Clauses(old_program, new_program)
        new_out = [v.name for v in new_program.evaluation.values if v.kind == "output"]
        old_out = [v.name for v in old_program.evaluation.values if v.kind == "output"]
        self.outputs = new_out + [n for n in old_out if n not in new_out]
        numbers = [v.name for v in new_program.evaluation.values if v.kind == "output" and v.type.kind == "number"]
        self.measure = measure or (numbers[-1] if numbers else None)
        self.people: list[dict[str, Any]] = []
        self.totals = {n: [Decimal(0), Decimal(0)] for n in self.outputs}
        self.counts = {"better": 0, "worse": 0, "unchanged": 0, "errors": 0}
        self.largest: list = []
        self.deltas: list[Decimal] = []
        self.rows = 0

    def add(self, row: int, ident, old_result, new_result) -> None:
        self.rows += 1
        person: dict[str, Any] = {"row": row, "id": ident}
        if isinstance(old_result, Exception) or isinstance(new_result, Exception):
            person["status"] = "error"
            person["error"] = {"old": _error_text(old_result), "new": _error_text(new_result)}
            self.counts["errors"] += 1
            self.people.append(person)
            return
        person["status"] = "ok"
        values = {}
        for name in self.outputs:
            a, b = old_result.values.get(name), new_result.values.get(name)
            entry = {"old": _text(a), "new": _text(b)}
            if _is_number(a) and _is_number(b):
                delta = x.to_decimal(x.sub(x.to_exact(b), x.to_exact(a)))
                entry["delta"] = x.to_string(delta) if delta else "0"
                self.totals[name][0] += x.to_decimal(a)
                self.totals[name][1] += x.to_decimal(b)
            values[name] = entry
        person["values"] = values
        if any(v["old"] != v["new"] for v in values.values()):
            person["why"] = self.clauses.why(old_result.values, new_result.values)
        m = values.get(self.measure) if self.measure else None
        if m is not None and "delta" in m:
            d = Decimal(m["delta"])
            self.deltas.append(d)
            self.counts["better" if d > 0 else "worse" if d < 0 else "unchanged"] += 1
            if d:
                item = (abs(d), -row, row)
                if len(self.largest) < LARGEST:
                    heapq.heappush(self.largest, item)
                else:
                    heapq.heappushpop(self.largest, item)
        self.people.append(person)

    def report(self, old, new, evaluation: str) -> dict[str, Any]:
        by_row = {p["row"]: p for p in self.people}
        largest = [by_row[r] for _a, _n, r in sorted(self.largest, reverse=True)]
        return {
            "schema": "kpirules.diff/1",
            "evaluation": evaluation,
            "old": {"path": old.path, "version": old.version, "sha256": old.sha256},
            "new": {"path": new.path, "version": new.version, "sha256": new.sha256},
            "measure": self.measure,
            "rows": self.rows,
            "totals": {n: {"old": x.to_string(a), "new": x.to_string(b), "delta": x.to_string(b - a)}
                       for n, (a, b) in self.totals.items()},
            "counts": dict(self.counts),
            "largest": [{"row": p["row"], "id": p["id"], "delta": p["values"][self.measure]["delta"],
                         "why": why_text(p.get("why", []))} for p in largest],
            "people": self.people,
        }


def _is_number(v) -> bool:
    return v is not None and not isinstance(v, (bool, str, dict, list)) and not hasattr(v, "isoformat")


def _error_text(r) -> str | None:
    if not isinstance(r, Exception):
        return None
    return tabular.visible(_error_words(r))


def _error_words(r) -> str:
    if isinstance(r, FactError):
        from .batch import first_violations
        code, path, message = first_violations(r)
        return f"{code} at `{path}`: {message}"
    if isinstance(r, EvaluationError):
        from .batch import evaluation_violation
        code, path, message = evaluation_violation(r)
        return f"{code} at `{path}`: {message}"
    return str(r)


# ---- writing ----------------------------------------------------------------------------------

def write_json(report: dict, path: str) -> None:
    _atomic(path, json.dumps(report, ensure_ascii=False, indent=1) + "\n")


def write_csv(report: dict, outputs: list[str], path: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    head = ["row", "id", "status"]
    for n in outputs:
        head += [f"{n}.old", f"{n}.new", f"{n}.delta"]
    w.writerow(head + ["why", "error"])
    for p in report["people"]:
        cells = [p["row"], tabular.safe_text(p["id"] or ""), p["status"]]
        for n in outputs:
            v = (p.get("values") or {}).get(n) or {}
            cells += [_cell(v.get("old")), _cell(v.get("new")), v.get("delta", "")]
        err = p.get("error") or {}
        cells += [tabular.safe_text(why_text(p.get("why", []))),
                  tabular.safe_text("; ".join(f"{k}: {v}" for k, v in err.items() if v))]
        w.writerow(cells)
    _atomic(path, buf.getvalue())


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return tabular.safe_text(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))


def histogram_svg(deltas: list[Decimal], bins: int = 20, width: int = 640, height: int = 240) -> str:
    """An SVG bar chart of the deltas (bins of equal width between the smallest and largest)."""
    if not deltas:
        return "<p>No deltas to plot.</p>"
    lo, hi = min(deltas), max(deltas)
    if lo == hi:
        counts = [len(deltas)]
        edges = [lo, hi]
    else:
        step = (hi - lo) / bins
        counts = [0] * bins
        for d in deltas:
            k = min(int((d - lo) / step), bins - 1)
            counts[k] += 1
        edges = [lo + step * k for k in range(bins + 1)]
    top = max(counts)
    pad_l, pad_b, pad_t = 50, 40, 10
    plot_w, plot_h = width - pad_l - 10, height - pad_b - pad_t
    bar_w = plot_w / len(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="histogram of the deltas">',
             f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{pad_l + plot_w}" y2="{pad_t + plot_h}" stroke="#333"/>',
             f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + plot_h}" stroke="#333"/>',
             f'<text x="{pad_l - 6}" y="{pad_t + 10}" text-anchor="end" font-size="11">{top}</text>',
             f'<text x="{pad_l - 6}" y="{pad_t + plot_h}" text-anchor="end" font-size="11">0</text>']
    for k, c in enumerate(counts):
        h = plot_h * c / top if top else 0
        xk = pad_l + k * bar_w
        title = html.escape(f"{_short(edges[k])} to {_short(edges[min(k + 1, len(edges) - 1)])}: {c} people")
        parts.append(f'<rect x="{xk + 1:.1f}" y="{pad_t + plot_h - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                     f'height="{h:.1f}" fill="#4a7ab5"><title>{title}</title></rect>')
    parts.append(f'<text x="{pad_l}" y="{height - 12}" font-size="11">{html.escape(_short(lo))}</text>')
    parts.append(f'<text x="{pad_l + plot_w}" y="{height - 12}" text-anchor="end" font-size="11">'
                 f'{html.escape(_short(hi))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _short(d: Decimal) -> str:
    return x.to_string(d.quantize(Decimal("0.01"))) if d == d and abs(d) < 10**15 else str(d)


def write_html(report: dict, outputs: list[str], deltas: list[Decimal], path: str) -> None:
    e = html.escape
    old, new = report["old"], report["new"]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>kpirules diff: {e(old['path'])} -> {e(new['path'])}</title>",
           "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;"
           "margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}"
           "td.n{text-align:right;font-variant-numeric:tabular-nums}.up{color:#1a7f37}.down{color:#b42318}</style>",
           "</head><body>",
           f"<h1>Impact of a policy change: evaluation {e(report['evaluation'])}</h1>",
           f"<p>Old: <code>{e(old['path'])}</code> (version {e(str(old['version']))}); new: "
           f"<code>{e(new['path'])}</code> (version {e(str(new['version']))}); {report['rows']:,} people.</p>",
           "<h2>Totals: the cost of the change</h2>",
           "<table><tr><th>output</th><th>old total</th><th>new total</th><th>change</th></tr>"]
    for n, t in report["totals"].items():
        out.append(f"<tr><td>{e(n)}</td><td class=n>{e(t['old'])}</td><td class=n>{e(t['new'])}</td>"
                   f"<td class=n>{e(t['delta'])}</td></tr>")
    out.append("</table>")
    c = report["counts"]
    measure = report["measure"] or ""
    out.append(f"<h2>Who is better off ({e(measure)})</h2><table>"
               f"<tr><th>better off</th><td class=n>{c['better']:,}</td></tr>"
               f"<tr><th>worse off</th><td class=n>{c['worse']:,}</td></tr>"
               f"<tr><th>unchanged</th><td class=n>{c['unchanged']:,}</td></tr>"
               f"<tr><th>rows with an error</th><td class=n>{c['errors']:,}</td></tr></table>")
    out.append(f"<h2>Histogram of the changes of {e(measure)}</h2>")
    out.append(histogram_svg(deltas))
    out.append(f"<h2>The largest changes of {e(measure)}</h2><table><tr><th>row</th><th>id</th>"
               "<th>change</th><th>why</th></tr>")
    for p in report["largest"]:
        cls = "up" if not p["delta"].startswith("-") else "down"
        out.append(f"<tr><td class=n>{p['row']}</td><td>{e(str(p['id'] or ''))}</td>"
                   f"<td class='n {cls}'>{e(p['delta'])}</td><td>{e(p['why'])}</td></tr>")
    out.append("</table>")
    if "stats" in report:
        out.append(_stats_html(report["stats"]))
    changed = [p for p in report["people"] if p.get("why") or p["status"] != "ok"]
    out.append(f"<h2>Every change ({len(changed):,} people"
               + (f"; the first {HTML_PEOPLE} shown, the JSON or CSV report has all" if len(changed) > HTML_PEOPLE
                  else "") + ")</h2>")
    out.append("<table><tr><th>row</th><th>id</th>" + "".join(f"<th>{e(n)}</th>" for n in outputs)
               + "<th>why</th></tr>")
    for p in changed[:HTML_PEOPLE]:
        cells = []
        for n in outputs:
            v = (p.get("values") or {}).get(n) or {}
            text = f"{v.get('old')} -> {v.get('new')}" if v.get("old") != v.get("new") else str(v.get("old"))
            cells.append(f"<td class=n>{e(text)}</td>")
        why = why_text(p.get("why", [])) if p["status"] == "ok" else "; ".join(
            f"{k}: {v}" for k, v in (p.get("error") or {}).items() if v)
        out.append(f"<tr><td class=n>{p['row']}</td><td>{e(str(p['id'] or ''))}</td>{''.join(cells)}"
                   f"<td>{e(why)}</td></tr>")
    out.append("</table></body></html>\n")
    _atomic(path, "\n".join(out))


def _stats_html(stats: dict) -> str:
    """Firing statistics of both versions, construct by construct (matched by what they are)."""
    e = html.escape
    old = {(c["kind"], c["what"]): c for c in stats["old"]["constructs"]}
    rows = ["<h2>Firing statistics</h2><p>How many people took each branch, in each version.</p>",
            "<table><tr><th>construct</th><th>where (new)</th><th>outcome</th><th>old</th><th>new</th></tr>"]
    for c in stats["new"]["constructs"]:
        before = old.get((c["kind"], c["what"]), {"rows": {}})["rows"]
        for outcome, n in c["rows"].items():
            b = before.get(outcome, 0)
            mark = " class=up" if n != b else ""
            rows.append(f"<tr{mark}><td>{e(c['what'])}</td><td>{e(c['where'])}</td><td>{e(outcome)}</td>"
                        f"<td class=n>{b:,}</td><td class=n>{n:,}</td></tr>")
    rows.append("</table>")
    never = stats["new"]["never_taken"]
    if never:
        rows.append("<p>Never taken under the new version:</p><ul>" + "".join(f"<li>{e(n)}</li>" for n in never)
                    + "</ul>")
    return "\n".join(rows)


def _atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


# ---- the command -------------------------------------------------------------------------------

def cmd_diff(args) -> int:
    kind = os.path.splitext(args.out)[1].lower()
    if kind not in (".html", ".json", ".csv"):
        return _fail(f"--out `{args.out}` must end in .html, .json or .csv")
    from . import _as_of_date, load_policy
    policies = []
    for path in (args.old, args.new):
        try:
            policies.append(load_policy(path))
        except PolicyError as exc:
            print(exc.render(), file=sys.stderr)
            return EXIT_USAGE
        except OSError as exc:
            return _fail(f"cannot read the policy `{path}`: {exc.strerror or exc}")
    old, new = policies
    try:
        day = _as_of_date(args.as_of)
        old_program = old._program(args.evaluation, day)
        new_program = new._program(args.evaluation, day)
    except UsageError as exc:
        return _fail(str(exc))
    if args.measure is not None and args.measure not in {v.name for v in new_program.evaluation.values
                                                         if v.kind == "output"}:
        return _fail(f"--measure: evaluation `{new_program.evaluation.name}` has no output `{args.measure}`")
    try:
        reader = tabular.open_reader(args.input)
    except FileNotFoundError:
        return _fail(f"INPUT `{args.input}` does not exist")
    except tabular.InputProblem as exc:
        return _fail(f"INPUT `{args.input}`: {exc}")
    except OSError as exc:
        return _fail(f"cannot read INPUT `{args.input}`: {exc.strerror or exc}")
    decoders = [tabular.RowDecoder(reader.columns, {d.name: d.type for d in p.model.facts}, keep_undeclared=False)
                for p in (old_program, new_program)]
    for decoder in decoders:
        decoder.all_text = reader.kind == "csv"  # as `kpirules run`: a byte that is not UTF-8 is the row's error
    comparison = Comparison(old, new, old_program, new_program, args.measure)
    counters = None
    if args.stats:
        from .population import Counter
        counters = (Counter(old_program), Counter(new_program))
    name = new_program.evaluation.name
    try:
        for number, raw in enumerate(reader.rows(), 1):
            ident = None
            results: list[Any] = []
            for policy, program, decoder in ((old, old_program, decoders[0]), (new, new_program, decoders[1])):
                try:
                    facts = decoder.decode(raw)
                    if reader.columns is None:
                        ident = facts.get(args.id_field)
                        if args.id_field in facts and args.id_field not in {d.name for d in program.model.facts}:
                            from .batch import _without
                            facts = _without(facts, args.id_field)
                    results.append(policy.evaluate(facts, evaluation=name, as_of=args.as_of))
                    if counters is not None:
                        counters[0 if program is old_program else 1].add(facts, args.as_of)
                except (FactError, EvaluationError) as exc:
                    results.append(exc)
            if reader.columns is not None:
                ident = decoders[1].raw_cell(raw, args.id_field)
            from .batch import id_text
            shown = id_text(ident)
            comparison.add(number, tabular.visible(shown) if shown is not None else None, results[0], results[1])
    finally:
        reader.close()
    report = comparison.report(old, new, name)
    if counters is not None:
        report["stats"] = {"old": counters[0].report(), "new": counters[1].report()}
    try:
        if kind == ".json":
            write_json(report, args.out)
        elif kind == ".csv":
            write_csv(report, comparison.outputs, args.out)
        else:
            write_html(report, comparison.outputs, comparison.deltas, args.out)
    except OSError as exc:
        from .batch import _fail_write
        stop = _fail_write(args.out, exc)
        print(stop.message, file=sys.stderr)
        return EXIT_USAGE
    c = report["counts"]
    total = report["totals"].get(comparison.measure or "", {}).get("delta", "")
    print(f"{report['rows']:,} people: {c['better']:,} better off, {c['worse']:,} worse off, "
          f"{c['unchanged']:,} unchanged, {c['errors']:,} with an error"
          + (f"; {comparison.measure} changes by {total} in total" if total else "") + f"; report in {args.out}",
          file=sys.stderr)
    return EXIT_OK
