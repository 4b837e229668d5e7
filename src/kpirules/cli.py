"""Command line: a thin shell over the public API (`kpirules check`, `kpirules eval`).

Exit codes (a contract): 0 success; 1 bad facts or evaluation error; 2 bad policy or bad usage.
Errors go to stderr in the diagnostic format; never a Python traceback for bad input.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path

from . import __version__, load_policy, read_facts
from .diagnostics import render as render_diagnostic
from .errors import EvaluationError, FactError, KpiRulesError, PolicyError, UsageError
from .render import text as text_renderer
from .stamp import make as make_stamp

EXIT_OK, EXIT_FACTS, EXIT_POLICY = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with one clear line, as argparse does
        self.print_usage(sys.stderr)
        self.exit(EXIT_POLICY, f"kpirules: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kpirules", description="Evaluate and check performance-assessment and bonus policies.")
    p.add_argument("--version", action="version", version=f"kpirules {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("check", help="check policies and report every problem")
    c.add_argument("paths", nargs="+", metavar="POLICY", help="policy files or folders of .rules files")
    c.add_argument("--strict", action="store_true", help="treat warnings (lints) as errors")
    c.add_argument("--source", metavar="FILE",
                   help="also prove that every `cite` appears in this source document (UTF-8 text; "
                        "whitespace and line breaks are ignored)")
    e = sub.add_parser("eval", help="evaluate a policy on a fact file")
    e.add_argument("policy", metavar="POLICY")
    e.add_argument("facts", metavar="FACTS.json")
    e.add_argument("--evaluation", metavar="NAME", help="which evaluation (needed when the policy has several)")
    e.add_argument("--as-of", metavar="DATE", dest="as_of",
                   help="the date the evaluation is made as of, YYYY-MM-DD (read by formulas as evaluation_date)")
    e.add_argument("--format", choices=("text", "markdown", "html", "json"), default="text",
                   help="text (terminal), markdown or html (a statement, with the working under --explain), json")
    e.add_argument("--explain", action="store_true", help="include the explanation of every value")
    e.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="language of the explanation's sentences (labels stay as the policy wrote them)")
    e.add_argument("--out", metavar="DIR",
                   help="with a .jsonl fact file (one fact set per line): write each line's result (.json) "
                        "and text statement (.txt), with --format html or markdown that statement too, and "
                        "summary.csv, into DIR (one results file for a whole population: `kpirules run`)")
    e.add_argument("--id-field", metavar="NAME", default="id",
                   help="with --out: the field of each line that names its files (default: id)")
    v = sub.add_parser("verify", help="re-evaluate a JSON result and confirm its stamp and every value")
    v.add_argument("result", metavar="RESULT.json", help="a result written by `kpirules eval --format json`")
    v.add_argument("facts", metavar="FACTS.json")
    v.add_argument("policy", metavar="POLICY")
    t = sub.add_parser("test", help="run the examples written in policies")
    t.add_argument("paths", nargs="*", metavar="PATH", default=["policies"],
                   help="policy files or folders (default: policies/)")
    t.add_argument("--coverage", action="store_true",
                   help="after the examples, report the branches of each policy they took and the ones they never did")
    t.add_argument("--min-coverage", metavar="PERCENT",
                   help="exit 1 when the examples of a policy take fewer than PERCENT of its branches "
                        "(implies --coverage)")
    from . import batch, diff
    batch.add_parser(sub)
    diff.add_parser(sub)
    f = sub.add_parser("fmt", help="rewrite policies in the canonical layout (comments kept)")
    f.add_argument("paths", nargs="+", metavar="PATH", help="policy files or folders of .rules files")
    f.add_argument("--check", action="store_true",
                   help="change nothing; list the files that would change and exit 1 if any")
    return p


def _policy_files(paths) -> list:
    files = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(str(f) for f in p.rglob("*.rules")))
        else:
            files.append(raw)
    return files


def cmd_check(args) -> int:
    files = _policy_files(args.paths)
    if not files:
        print("kpirules: error: no .rules files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_POLICY
    document = None
    if args.source is not None:
        from . import citations
        try:
            document = citations.SourceDocument.read(args.source)
        except UnicodeDecodeError:
            print(f"kpirules: error: --source: `{args.source}` is not UTF-8 text", file=sys.stderr)
            return EXIT_POLICY
        except OSError as exc:
            print(f"kpirules: error: --source: cannot read `{args.source}`: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_POLICY
    seen: dict = {}  # cites already checked (a module imported by several policies): reported once
    failed = 0
    warnings = 0
    for f in files:
        try:
            policy = load_policy(f)
        except PolicyError as exc:
            failed += 1
            print(exc.render(), file=sys.stderr)
            continue
        for d in policy.diagnostics:
            warnings += 1
            print(render_diagnostic(d), file=sys.stderr)
        found = ""
        if document is not None:
            from .loader import merged_tree, read_source
            tree = merged_tree(read_source(f))
            checked, missing = citations.check(tree, document, seen)
            if missing or any(seen[(c.span.path, c.span.start)] is not None for c in citations.cites(tree)):
                failed += 1
                for d in missing:
                    print(render_diagnostic(d), file=sys.stderr)
                continue
            found = f", {checked} cite{'s' if checked != 1 else ''} found in the source"
        print(f"{f}: ok ({len(policy.evaluations)} evaluation{'s' if len(policy.evaluations) != 1 else ''}{found})")
    print(f"{len(files)} checked, {failed} with errors, {warnings} warning{'s' if warnings != 1 else ''}"
          + (" (errors under --strict)" if args.strict and warnings else ""))
    return EXIT_POLICY if failed or (args.strict and warnings) else EXIT_OK


def _fact_errors(path, exc: FactError) -> str:
    return "\n".join(f"{path}: {v.severity}[{v.code}]: `{v.path}`: {v.message}"
                     for v in tuple(exc.violations) + tuple(exc.warnings))


def cmd_eval(args) -> int:
    if args.facts.endswith(".jsonl") or args.out is not None:
        return cmd_batch(args)
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_POLICY
    try:
        facts = read_facts(args.facts)
        result = policy.evaluate(facts, evaluation=args.evaluation, explain=args.explain, as_of=args.as_of)
    except UsageError as exc:
        print(f"kpirules: error: {exc}", file=sys.stderr)
        return EXIT_POLICY
    except FactError as exc:
        print(_fact_errors(args.facts, exc), file=sys.stderr)
        return EXIT_FACTS
    except EvaluationError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_FACTS
    data = result.to_json(stamp=make_stamp(result.policy, facts, result.as_of))
    if args.format == "json":
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif args.format in ("markdown", "html"):
        from .render import html as html_renderer
        from .render import markdown as markdown_renderer
        if "trace" not in data:  # a statement needs the labels and items of the trace, even unexplained
            data = policy.evaluate(facts, evaluation=args.evaluation, explain=True, as_of=args.as_of).to_json()
        renderer = html_renderer if args.format == "html" else markdown_renderer
        sys.stdout.write(renderer.render(data, explain=args.explain, lang=args.lang))
    else:
        sys.stdout.write(text_renderer.render(data, explain=args.explain, lang=args.lang))
    for w in result.warnings:
        print(f"{args.facts}: warning[{w.code}]: `{w.path}`: {w.message}", file=sys.stderr)
    return EXIT_OK


def cmd_test(args) -> int:
    from . import coverage, examples
    minimum = None
    if getattr(args, "min_coverage", None) is not None:
        try:
            minimum = coverage.parse_percent(args.min_coverage)
        except ValueError as exc:
            print(f"kpirules: error: --min-coverage: {exc}", file=sys.stderr)
            return EXIT_POLICY
    measure = minimum is not None or getattr(args, "coverage", False)
    files = _policy_files(args.paths)
    if not files:
        print("kpirules: error: no .rules files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_POLICY
    passed = failed = 0
    broken = False
    loaded = []
    for f in files:
        try:
            policy = load_policy(f)
        except PolicyError as exc:
            broken = True
            failed += 1
            print(f"FAIL {f}: the policy does not load", file=sys.stdout)
            print(exc.render(), file=sys.stderr)
            continue
        loaded.append(policy)
        for case in examples.run(policy):
            print(case.render())
            if case.passed:
                passed += 1
            else:
                failed += 1
    below = []
    if measure:  # the coverage of each policy (modules have no evaluation: nothing to cover)
        reports = [coverage.measure(p) for p in loaded if p.evaluations]
        if reports:
            print()
            print("coverage of the examples:")
        for report in reports:
            print(report.render())
            if minimum is not None and report.below(minimum):
                below.append(report)
        for report in below:
            assert minimum is not None  # only a minimum puts reports below it
            print(f"coverage below {coverage.percent_text(minimum)}: {report.path} "
                  f"({report.covered}/{report.total} branches, {report.percent})")
    print(f"{passed} passed, {failed} failed")
    if broken:
        return EXIT_POLICY
    return EXIT_FACTS if failed or below else EXIT_OK


def cmd_verify(args) -> int:
    """Re-evaluate RESULT's evaluation on FACTS with POLICY; 0 when stamp and values all match."""
    from . import stamp
    claimed = _read_result(args.result)
    if claimed is None:
        return EXIT_POLICY
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_POLICY
    evaluation = claimed["evaluation"]
    if evaluation not in policy.evaluations:
        print(f"evaluation: result says {evaluation}, and {args.policy} has no such evaluation (it has: "
              + ", ".join(policy.evaluations) + ")")
        print("not verified: the result is not of this policy")
        return EXIT_FACTS
    try:
        facts = read_facts(args.facts)
        said_stamp = claimed.get("stamp") if isinstance(claimed.get("stamp"), dict) else {}
        as_of = said_stamp.get("as_of")
        result = policy.evaluate(facts, evaluation=evaluation, explain="trace" in claimed,
                                 as_of=as_of if isinstance(as_of, str) else None)
    except UsageError as exc:
        print(f"kpirules: error: {exc}", file=sys.stderr)
        print("not verified: the result cannot be re-evaluated", file=sys.stderr)
        return EXIT_FACTS
    except FactError as exc:
        print(_fact_errors(args.facts, exc), file=sys.stderr)
        print("not verified: the facts cannot be evaluated", file=sys.stderr)
        return EXIT_FACTS
    except EvaluationError as exc:
        print(exc.render(), file=sys.stderr)
        print("not verified: the facts cannot be evaluated", file=sys.stderr)
        return EXIT_FACTS
    fresh = result.to_json(stamp=stamp.make(result.policy, facts, result.as_of))
    problems, notes, count = stamp.compare(claimed, fresh)
    for note in notes:
        print(f"note: {note}")
    for problem in problems:
        print(problem)
    if problems:
        print(f"not verified: {len(problems)} difference{'s' if len(problems) != 1 else ''}")
        return EXIT_FACTS
    trace = f", and its trace of {_count_nodes(claimed['trace'])} nodes" if "trace" in claimed else ""
    print(f"verified: {count} value{'s' if count != 1 else ''} match{'es' if count == 1 else ''}{trace}")
    return EXIT_OK


def _read_result(path):
    """A JSON result as written by `eval --format json` (numbers stay text), or None after saying why."""
    problem = None
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.loads(fh.read().lstrip("\ufeff"), parse_float=str)
    except FileNotFoundError:
        problem = "does not exist"
    except UnicodeDecodeError:
        problem = "is not UTF-8 text"
    except json.JSONDecodeError as exc:
        problem = f"is not JSON ({exc.msg[:1].lower() + exc.msg[1:]} at line {exc.lineno}, column {exc.colno})"
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})"
    else:
        if not (isinstance(data, dict) and isinstance(data.get("evaluation"), str)
                and isinstance(data.get("values"), dict)):
            problem = "is not a kpirules result (expected the JSON of `kpirules eval --format json`)"
    if problem is not None:
        print(f"kpirules: error: result file `{path}` {problem}", file=sys.stderr)
        return None
    return data


def _count_nodes(trace) -> int:
    stack = list(trace.get("inputs", ())) + list(trace.get("nodes", ())) if isinstance(trace, dict) else []
    count = 0
    while stack:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            stack.extend(node.get("children") or ())
    return count


# ---- batch: one fact set per line of a .jsonl file --------------------------------------------

# A safe file name: letters (any script), digits, `_`, `.` and `-`, starting with a letter, digit
# or `_` (no hidden files, nothing read as an option), at most 64 characters (so that even in a
# script of 3-byte characters `ID.error.txt` stays within the usual 255-byte limit).
_SAFE_ID = re.compile(r"\w[\w.\-]{0,63}")
# Names Windows keeps for devices, whatever the extension.
_RESERVED_IDS = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def _line_id(facts: dict, field: str):
    """(id, None) or (None, why the line's id cannot name its files)."""
    if field not in facts:
        return None, f"no `{field}` field to name its files (choose the field with --id-field)"
    raw = facts[field]
    if isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value() and 0 <= raw.adjusted() < 64:
        raw = str(int(raw))
    elif isinstance(raw, Decimal) and raw.is_finite() and raw == 0:
        raw = "0"
    if not isinstance(raw, str):
        shown = str(raw) if isinstance(raw, Decimal) else json.dumps(_plain_json(raw), ensure_ascii=False)
        return None, f"`{field}` must be a text or a whole number to name files; it is {shown[:60]}"
    if not _SAFE_ID.fullmatch(raw):
        return None, (f"`{field}` {json.dumps(raw[:80], ensure_ascii=False)} is not a safe file name (use "
                      "letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_`, at most 64 "
                      "characters)")
    stem = raw.split(".", 1)[0].casefold()
    if stem in _RESERVED_IDS or raw.casefold().endswith(".error"):
        return None, f"`{field}` {json.dumps(raw, ensure_ascii=False)} is not a safe file name (a reserved name)"
    return raw, None


def _plain_json(v):
    from .result import jsonable
    return jsonable(v)


def cmd_batch(args) -> int:
    """`eval POLICY facts.jsonl --out DIR`: a result and a statement per line, and summary.csv."""
    if not args.facts.endswith(".jsonl"):
        print(f"kpirules: error: --out is for a .jsonl fact file (one JSON fact set per line); "
              f"`{args.facts}` is not one", file=sys.stderr)
        return EXIT_POLICY
    if args.out is None:
        print(f"kpirules: error: `{args.facts}` holds one fact set per line: name a folder for the results "
              "with --out DIR", file=sys.stderr)
        return EXIT_POLICY
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_POLICY
    try:
        declared = {name for name, _label, _rule in policy.facts_of(args.evaluation)}
    except UsageError as exc:
        print(f"kpirules: error: {exc}", file=sys.stderr)
        return EXIT_POLICY
    try:
        source = open(args.facts, "rb")  # noqa: SIM115 - read line by line, closed below
    except FileNotFoundError:
        print(f"{args.facts}: error[F002]: `$`: fact file `{args.facts}` does not exist", file=sys.stderr)
        return EXIT_FACTS
    except OSError as exc:
        print(f"{args.facts}: error[F002]: `$`: cannot read `{args.facts}`: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FACTS
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"kpirules: error: cannot create the folder `{args.out}`: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_POLICY
    statement = _statement_renderer(args.format)
    seen: dict[str, int] = {}  # an id, normalised (see _batch_line) -> the line that first used it
    rows, outputs = [], None
    # Lines are split on \n only: a JSON text may hold U+2028, which str.splitlines() would split on.
    with source:
        for number, raw_bytes in enumerate(source, 1):
            if number == 1:
                raw_bytes = raw_bytes.removeprefix(b"\xef\xbb\xbf")
            if not raw_bytes.strip():
                continue
            try:
                row = _batch_line(args, policy, declared, raw_bytes.rstrip(b"\r\n"), number, seen, out, statement)
            except OSError as exc:  # a file of this line cannot be written: the others still are
                message = f"cannot write the files of this line: {exc.strerror or exc}"
                print(f"{args.facts}:{number}: error: {message}", file=sys.stderr)
                row = {"id": "", "line": number, "status": "error", "error": message}
            if row["status"] == "ok" and outputs is None:
                outputs = row["outputs"]
            rows.append(row)
    outputs = outputs or ()
    from .tabular import safe_text
    # No byte-order mark, and no cell a spreadsheet would run as a formula; written whole, then
    # renamed, so that a killed run never leaves half a summary.
    summary = out / "summary.csv"
    tmp = out / f".summary.csv.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["id", "line", "status", *outputs, "error"])
        for row in rows:
            values = row.get("values") or {}
            writer.writerow([safe_text(row["id"]), row["line"], row["status"],
                             *(safe_text(_csv_value(values.get(name))) for name in outputs),
                             safe_text(row.get("error", ""))])
    os.replace(tmp, summary)
    failed = sum(1 for row in rows if row["status"] != "ok")
    print(f"{len(rows)} fact set{'s' if len(rows) != 1 else ''}: {len(rows) - failed} ok, {failed} failed; "
          f"summary in {out / 'summary.csv'}")
    return EXIT_FACTS if failed else EXIT_OK


def _statement_renderer(fmt: str):
    """(extension, render) of the statement asked for with --format html or markdown, else None."""
    if fmt == "html":
        from .render import html
        return ".html", html.render
    if fmt == "markdown":
        from .render import markdown
        return ".md", markdown.render
    return None


def _csv_value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _batch_line(args, policy, declared, raw: bytes, number, seen, out, statement) -> dict:
    """Evaluate one line; write its files; the summary row. Never raises for bad input."""
    where = f"{args.facts}:{number}"
    ident = None

    def failed(message, detail=None, name=None):
        # A line without a usable id names its error file `@line-N`: no id can start with `@`,
        # so it never touches the files of a line whose id is `line-N`.
        stem = name if name is not None else f"@line-{number}"
        for ext in (".json", ".txt", ".html", ".md"):  # a result of an earlier run would contradict the error
            (out / f"{stem}{ext}").unlink(missing_ok=True)
        _write(out / f"{stem}.error.txt", f"{where}: {detail or message}\n")
        print(f"{where}: error: {message}", file=sys.stderr)
        return {"id": ident or "", "line": number, "status": "error", "error": message}

    from .tabular import _jsonl_facts, find_surrogate
    try:
        facts = _jsonl_facts(raw)  # not UTF-8, not JSON, a lone surrogate: this line's error
    except FactError as exc:
        return failed("; ".join(f"{v.message}" for v in exc.violations))
    if find_surrogate(facts) is not None:
        return failed("holds a lone surrogate (`\\ud800`-`\\udfff`), which is not a character")
    ident, problem = _line_id(facts, args.id_field)
    if ident is None:
        raw_id = facts.get(args.id_field)
        if isinstance(raw_id, Decimal):
            raw_id = str(raw_id)  # `1E+400000`, not four hundred thousand digits
        ident = (raw_id if isinstance(raw_id, str) else "" if raw_id is None
                 else json.dumps(_plain_json(raw_id), ensure_ascii=False))[:80]
        return failed(problem)
    key = unicodedata.normalize("NFC", ident).casefold()  # `A` and `a` are one file on Windows and macOS
    if key in seen:
        return failed(f"duplicate id `{ident}` (first on line {seen[key]}); this line is not written")
    seen[key] = number
    given = facts
    if args.id_field in facts and args.id_field not in declared:  # duplicate keys stay known to validation
        from .batch import _without
        given = _without(facts, args.id_field)
    try:
        # A trace only when asked: --explain, or a statement (which shows the trace's labels and items).
        result = policy.evaluate(given, evaluation=args.evaluation, explain=args.explain or statement is not None,
                                 as_of=args.as_of)
    except FactError as exc:
        lines = [f"`{v.path}`: {v.message}" for v in exc.violations]
        return failed("; ".join(lines), _fact_errors(where, exc).replace(f"{where}: ", "", 1), ident)
    except EvaluationError as exc:
        return failed(exc.render().splitlines()[0], exc.render(), ident)
    except UsageError as exc:
        return failed(str(exc), name=ident)
    except Exception as exc:  # a defect in kpirules: reported for this line, the others still run
        if os.environ.get("KPIRULES_DEBUG"):
            raise
        return failed(f"internal error ({type(exc).__name__}: {exc}); please report it", name=ident)
    for w in result.warnings:
        print(f"{where}: warning[{w.code}]: `{w.path}`: {w.message}", file=sys.stderr)
    explained = result.to_json(stamp=make_stamp(result.policy, facts, result.as_of))
    data = explained if args.explain else {k: v for k, v in explained.items() if k != "trace"}
    (out / f"{ident}.error.txt").unlink(missing_ok=True)
    _write(out / f"{ident}.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    _write(out / f"{ident}.txt", text_renderer.render(data, explain=args.explain, lang=args.lang))
    if statement is not None:
        ext, render = statement
        _write(out / f"{ident}{ext}", render(explained, explain=args.explain, lang=args.lang))
    return {"id": ident, "line": number, "status": "ok", "values": data["values"], "outputs": result.outputs}


def _write(path: Path, text: str) -> None:
    """Written whole to a temporary file, then renamed: never half a file under its name."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def cmd_fmt(args) -> int:
    """Rewrite each file in its canonical layout and list those changed; with --check, only list
    the files that would change (exit 1 if any). A file that does not parse: its diagnostics, exit 2."""
    from .fmt import format_text
    from .loader import read_source
    from .parser import ParseFailure
    files = _policy_files(args.paths)
    if not files:
        print("kpirules: error: no .rules files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_POLICY
    broken = changed = 0
    for f in files:
        try:
            source = read_source(f)
            formatted = format_text(source.text, f)
        except PolicyError as exc:
            broken += 1
            print(exc.render(), file=sys.stderr)
            continue
        except ParseFailure as exc:
            broken += 1
            print(PolicyError(exc.diagnostics).render(), file=sys.stderr)
            continue
        raw = Path(f).read_bytes().decode("utf-8")
        if raw.startswith("\ufeff"):  # a byte-order mark stays: the layout is about the text
            formatted = "\ufeff" + formatted
        if formatted == raw:
            continue
        changed += 1
        if not args.check:
            with open(f, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(formatted)
        print(f)
    if broken:
        return EXIT_POLICY
    return 1 if args.check and changed else EXIT_OK


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "fmt":
            return cmd_fmt(args)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "test":
            return cmd_test(args)
        if args.command == "verify":
            return cmd_verify(args)
        if args.command == "run":
            from .batch import cmd_run
            return cmd_run(args)
        if args.command == "diff":
            from .diff import cmd_diff
            return cmd_diff(args)
        return cmd_eval(args)
    except KpiRulesError as exc:  # any other error the library raises for bad input
        print(f"kpirules: error: {exc}", file=sys.stderr)
        return EXIT_POLICY
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a defect in kpirules itself: say so plainly, keep the details opt-in
        if os.environ.get("KPIRULES_DEBUG"):
            raise
        print(f"kpirules: internal error ({type(exc).__name__}: {exc}); please report it with the "
              "policy and facts (set KPIRULES_DEBUG=1 for details)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
