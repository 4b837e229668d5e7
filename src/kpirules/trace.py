"""Trace stage: the evaluator's records as the versioned trace document (`kpirules.trace/1`).

The document is a tree an auditor can follow: one node per fact (kind `input`) and per computed
value, each value's children being what shaped it (table lookups, bands, function calls,
deductions, ladder steps, floors and caps, roundings, gates, list lines), and every node
carrying a reason code with parameters that renderers turn into sentences (render/reasons.py).
The schema is docs/trace-schema.json. Values stay exact here; result.py writes them as decimal
strings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from . import dates, ir
from . import exact as x
from . import model as m
from .evaluate import public_value
from .program import Program
from .result import Trace, TraceNode
from .runtime import AS_OF

SCHEMA = "kpirules.trace/1"

# Every kind a node can have (docs/trace-schema.json lists the same).
KINDS = ("input", "value", "output", "item", "scorecard", "deduction", "deduction_skipped",
         "score_set", "ladder_step", "floor_applied", "cap_applied", "rounding", "gate_excluded",
         "gate_passed", "filter_excluded", "line", "band_chosen", "table_lookup", "function_call",
         "member", "allocation", "ranking",
         "assertion", "tiers_applied", "tier")


def build(program: Program, policy: dict, facts: dict, values: tuple, records: list) -> Trace:
    """The trace document of one evaluation, from the values and records of its traced run."""
    ev = program.evaluation
    tables = program.cache.get("tables")
    if tables is None:
        tables = program.cache["tables"] = _Tables(program.tables, program.table_display, program.bands,
                                                   program.table_info, ev)
    shown = _Shown(facts)  # facts as given, values as returned: what the trace shows for each name
    inputs = [_input_node(ev, f, facts[f.name]) for f in ev.facts]
    nodes = []
    for v, value, (events, calls, xs) in zip(ev.values, values, records, strict=True):
        if v.per is not None:  # a column: one value per member, shown by the members' keys
            column = [public_value(i, v.keeps_digits) for i in value]
            shown[v.name] = {line[v.key]: i for line, i in zip(facts[v.per], column, strict=True)}
            shown.columns[v.name] = (v.per, column)
            nodes.append(_per_member_node(ev, v, events, xs, shown, tables))
            continue
        shown[v.name] = public_value(value, v.keeps_digits)
        if isinstance(value, Fraction):
            shown.exact[v.name] = value  # shown as the fraction in a formula's working
        nodes.append(_value_node(ev, v, value, events, calls, xs, shown, tables))
    return {
        "schema": SCHEMA,
        "policy": dict(policy),
        "evaluation": _evaluation_block(ev, program),
        "inputs": inputs,
        "nodes": nodes,
    }


_KEEP_ROUNDED = ("after", "quantum", "result")
_KEEP = ("result",)


def _evaluation_block(ev: ir.Evaluation, program: Program) -> dict:
    """The evaluation's name and label, and for a version of it, the dates it is in force."""
    out: dict = {"name": ev.name, "label": ev.label}
    if program.effective is not None:
        start, until = program.effective
        out["version"] = {"from": start.isoformat(), "until": until.isoformat() if until else None}
    return out


def _reason(code: str, params: dict | None = None, display: dict | None = None) -> dict:
    # Numbers in sentences in their shortest exact form; a rounding's result keeps its digits.
    keep = _KEEP_ROUNDED if code == "round.applied" else _KEEP
    shown: dict = {}
    endless: dict | None = None
    if params:
        for k, v in params.items():
            t = type(v)
            if t is Decimal:
                shown[k] = v if k in keep else x.canonical(v)
            elif t is x.Ratio or t is Fraction:
                shown[k] = v if k in keep else x.canonical(v)
                if t is x.Ratio:
                    # No finite decimal expansion: its exact fraction, for people (reasons.number).
                    if endless is None:
                        endless = {}
                    endless[k] = _fraction(v)
            else:
                shown[k] = v
    out = {"code": code, "params": shown}
    if display:
        out["display"] = display
    if endless:
        out["exact"] = endless
    return out


def _fraction(v) -> str:
    return f"{v.numerator}/{v.denominator}"


def _node(id_, kind, name, label, result, span, reason, *, formula=None, working=None, reads=(),
          cites=(), notes=(), children=(), display="number", exact=None) -> TraceNode:
    return {
        "id": id_, "kind": kind, "name": name, "label": label, "display": display,
        "formula": formula, "working": working, "reads": list(reads), "result": result,
        "exact": exact, "span": span, "cites": list(cites), "notes": list(notes), "reason": reason,
        "children": list(children),
    }


def _input_node(ev: ir.Evaluation, f: m.FactDecl, value) -> TraceNode:
    shown = value if isinstance(value, (Decimal, bool, str)) else _show(value)
    return _node(f"{ev.name}/fact/{f.name}", "input", f.name, f.label, value, f.span,
                 _reason("input.given", {"rule": f.rule, "value": shown}),
                 display=f.type.display, cites=f.cites, notes=f.notes)


def _reads(d: ir.Value, tables, shown) -> list:
    named = tables.named
    out = []
    for name in d.deps:
        if name in shown and name in named:
            read = {"id": named[name][0], "name": name, "label": named[name][1], "value": shown[name],
                    "display": named[name][2]}
            if name in shown.exact:
                read["exact"] = _fraction(shown.exact[name])
            out.append(read)
    return out


def _value_node(ev: ir.Evaluation, d: ir.Value, value, events, calls, xs, shown, tables) -> TraceNode:
    id_ = f"{ev.name}/{d.name}"
    kind = {"let": "value", "output": "output", "item": "item", "scorecard": "scorecard", "assert": "assertion"}[d.kind]
    result = public_value(value, d.keeps_digits)
    exact = f"{value.numerator}/{value.denominator}" if isinstance(value, Fraction) else None
    computed = next((e["value"] for e in events if e["kind"] == "computed"), value)
    children: list[TraceNode] = []
    formula = working = None
    c = d.compute
    if isinstance(c, ir.Aggregate):
        formula = c.span.text
        lines = [e for e in events if e["kind"] == "line"]
        kept = [x.to_string(e["value"]) for e in lines if e["included"]]
        working = (" + ".join(kept) if kept else "0") + f" = {_plain(computed)}"
        children.extend(_line_node(id_, i, e, c, shown, tables) for i, e in enumerate(lines))
        reason = _reason(f"{kind}.formula", {"formula": formula, "working": working, "result": result})
    elif isinstance(c, ir.Formula):
        formula = c.expr.span.text
        working = f"{substitute(c.expr, shown, tables, xs)} = {_plain(computed)}"
        children.extend(_lookup_nodes(id_, c.expr, xs, tables))
        reason = _reason(f"{kind}.formula", {"formula": formula, "working": working, "result": result})
    elif isinstance(c, ir.Assert):  # issue 10: an assertion that held (a false one stops the run)
        formula = c.condition.span.text
        working = substitute(c.condition, shown, tables, xs)
        children.extend(_lookup_nodes(id_, c.condition, xs, tables))
        reason = _reason("assert.held", {"condition": formula, "filled": working, "message": c.message})
    elif isinstance(c, ir.Item):
        reason = _reason("item.start", {"weight": c.weight, "result": result})
    else:
        formula = " + ".join(c.items)
        working = " + ".join(_name(i, shown)[0] for i in c.items) + f" = {_plain(computed)}"
        reason = _reason("scorecard.sum", {"items": len(c.items), "working": working, "result": result})
    children.extend(_call_node(id_, len(children), call, tables) for call in calls)
    for e in events:
        if e["kind"] in ("line", "computed"):
            continue
        children.append(_event_node(f"{id_}/{len(children)}", d, e, shown, tables, xs))
    node = _node(id_, kind, d.name, d.label, result, d.span, reason, formula=formula, working=working,
                 reads=_reads(d, tables, shown), cites=d.cites, notes=d.notes, children=children,
                 display=d.type.display, exact=exact)
    if isinstance(c, ir.Item):
        node["weight"] = c.weight
        node["tags"] = list(c.tags)
        node["scorecard"] = d.scorecard
    return node


def _per_member_node(ev: ir.Evaluation, d: ir.Value, events, xs, shown, tables) -> TraceNode:
    """A `for each` value: its formula, the whole team's allocations, then one node per member."""
    id_ = f"{ev.name}/{d.name}"
    kind = "output" if d.kind == "output" else "value"
    c = d.compute
    assert isinstance(c, ir.Formula)  # the checker allows formulas only in `for each`
    team = [e for e in reversed(list(ir.walk(c))) if isinstance(e, (ir.Allocate, ir.Rank)) and e.rid in xs]
    children: list[TraceNode] = []
    for e in team:
        if isinstance(e, ir.Allocate):
            got = xs[e.rid]
            children.append(_node(f"{id_}/{len(children)}", "allocation", d.name, d.label, got["amount"], e.span,
                                  _reason("allocation.total", {
                                      "amount": got["amount"], "count": Decimal(len(got["members"])),
                                      "weight_formula": e.weight.span.text, "total_weight": got["total_weight"],
                                      "quantum": got["quantum"], "leftover": Decimal(got["leftover"]),
                                      "ties": got["ties"],
                                      "unallocated": got["unallocated"]}, {"total_weight": "number"}),
                                  formula=e.span.text, display=d.type.display))
    members = [e for e in events if e["kind"] == "member"]
    for e in members:
        children.append(_member_node(f"{id_}/{len(children)}", d, c, e, team, xs, shown, tables))
    result = shown[d.name]
    reason = _reason(f"{kind}.per_member", {"formula": c.expr.span.text, "count": Decimal(len(members)),
                                              "list": d.per})
    node = _node(id_, kind, d.name, d.label, result, d.span, reason, formula=c.expr.span.text,
                 reads=_reads(d, tables, shown), cites=d.cites, notes=d.notes, children=children,
                 display=d.type.display)
    assert d.per is not None  # the caller checks
    node["per"] = d.per
    return node


def _member_node(id_: str, d: ir.Value, c: ir.Formula, e: dict, team, team_xs, shown, tables) -> TraceNode:
    """One member's value: the formula with the member's numbers, what shaped it, its place."""
    i, line = e["index"], e["line"]
    assert d.key is not None and d.per is not None  # a per-member value has its list and key
    key = line[d.key]
    env = _Env(shown, _member_env(shown, d.per, line, i), exact=False)
    computed = next((ev["value"] for ev in e["events"] if ev["kind"] == "computed"), e["value"])
    working = f"{substitute(c.expr, env, tables, e['x'])} = {_plain(computed, d.keeps_digits)}"
    result = public_value(e["value"], d.keeps_digits)
    children = _lookup_nodes(id_, c.expr, e["x"], tables)
    for t in team:
        got = team_xs[t.rid]
        cid = f"{id_}/{len(children)}"
        if isinstance(t, ir.Allocate):
            mine = got["members"][i]
            children.append(_node(cid, "allocation", d.name, _key_text(key), mine["paid"], t.span,
                                  _reason("allocation.share", {
                                      "amount": got["amount"], "weight": mine["weight"],
                                      "total_weight": got["total_weight"], "share": mine["share"],
                                      "quantum": got["quantum"], "cut": mine["cut"], "remainder": mine["remainder"],
                                      "leftover": mine["leftover"], "paid": mine["paid"]},
                                      # The exact share and remainder need more digits than cents.
                                      {"weight": "number", "total_weight": "number", "share": "number",
                                       "cut": d.type.display, "remainder": "number",
                                       "paid": d.type.display}),
                                  formula=t.span.text, display=d.type.display))
        else:
            value = got["values"][i]
            place = public_value(got["places"][i])
            if t.kind == "percentile":
                reason = _reason("percentile.placed", {"value": value, "lower": Decimal(got["lower"][i]),
                                                       "others": Decimal(got["count"] - 1), "place": place},
                                 {"value": "number", "place": "percent"})
            else:
                tied = got["tied"][i] if t.kind != "ordinal" else 1
                reason = _reason("rank.placed", {"value": value, "place": place, "count": Decimal(got["count"]),
                                                 "order": t.order, "tied": Decimal(tied)}, {"value": "number"})
            children.append(_node(cid, "ranking", d.name, _key_text(key), place, t.span, reason,
                                  formula=t.span.text, display="percent" if t.kind == "percentile" else "integer"))
    children.extend(_call_node(id_, len(children), call, tables) for call in e["calls"])
    for ev in e["events"]:
        if ev["kind"] != "computed":
            children.append(_event_node(f"{id_}/{len(children)}", d, ev, shown, tables, e["x"]))
    return _node(id_, "member", d.name, _key_text(key), result, c.span,
                 _reason("member.value", {"list": d.per, "key": _key_text(key), "working": working,
                                          "result": result}),
                 formula=c.expr.span.text, working=working, children=children, display=d.type.display)


def _key_text(key) -> str:
    return key if isinstance(key, str) else x.to_string(key)


def _member_env(shown, list_name: str, line: dict, i: int) -> dict:
    """A line's fields and its per-member values, for filling in a formula of that line."""
    extra = dict(line)
    for name, (lst, column) in shown.columns.items():
        if lst == list_name:
            extra[name] = column[i]
    return extra


def _plain(v, keep_digits=False) -> str:
    """A value in a working line: shortest exact form, or the declared rounding's digits; an
    endless one as its exact fraction (`2/3`): a working is arithmetic an auditor re-does, and
    the value's own line shows it as `≈0.666667 (exactly 2/3)`."""
    if isinstance(v, (bool, str, list, dict, date, dates.Period)):
        return _show(v)
    if type(v) is x.Ratio:
        return _fraction(v)
    return x.to_string(v if keep_digits else x.canonical(v))


def _event_node(id_: str, d, e: dict, shown=None, tables=None, xs=None) -> TraceNode:
    """One thing that shaped a value, as a child node with its reason code, in the value's unit."""
    node = _event(id_, d, e, shown, tables, xs)
    node["display"] = d.type.display
    return node


def _event(id_: str, d, e: dict, shown, tables, xs) -> TraceNode:
    k = e["kind"]
    span = e.get("span", d.span)
    text = span.text if span is not None else None
    if k in ("floor", "cap"):
        name = "floor" if k == "floor" else "cap"
        return _node(id_, f"{name}_applied", d.name, d.label, e["after"], span,
                     _reason(f"{name}.applied", {name: e["bound"], "before": e["before"], "after": e["after"]},
                             {name: d.type.display, "before": d.type.display, "after": d.type.display}),
                     formula=text)
    if k == "round":
        return _node(id_, "rounding", d.name, d.label, e["after"], span,
                     _reason("round.applied", {"mode": e["mode"], "quantum": e["quantum"], "before": e["before"],
                                               "after": e["after"]},
                             {"before": d.type.display, "after": d.type.display}),
                     formula=text, display=d.type.display)
    if k == "adjust":
        if not e["applied"]:
            return _node(id_, "deduction_skipped", d.name, d.label, e["value"], span,
                         _reason(f"{e['sign']}.skipped", {"clause": text}), formula=text)
        if e.get("per") is not None:
            params = {"amount": e["amount"], "count": e["per"], "total": e["delta"], "before": e["before"],
                      "after": e["after"], "clause": text}
            code = f"{e['sign']}.per"
        else:
            params = {"total": e["delta"], "before": e["before"], "after": e["after"], "clause": text}
            code = f"{e['sign']}.applied"
        return _node(id_, "deduction", d.name, d.label, e["after"], span, _reason(code, params), formula=text)
    if k == "override":
        if not e["applied"]:
            return _node(id_, "deduction_skipped", d.name, d.label, e["value"], span,
                         _reason("score.skipped", {"clause": text}), formula=text)
        return _node(id_, "score_set", d.name, d.label, e["after"], span,
                     _reason("score.set", {"before": e["before"], "after": e["after"], "clause": text}),
                     formula=text)
    if k == "ladder":
        pct = "percent" if e.get("percent") else "number"
        display = {p: pct for p in ("rate", "standard", "gap", "step")}
        params = {"rate": e["rate"], "standard": e["standard"], "rate_formula": e["rate_text"],
                  "before": e["before"], "after": e["after"]}
        if isinstance(e["rate"], Fraction):
            params["rate_exact"] = f"{e['rate'].numerator}/{e['rate'].denominator}"
        if e["direction"] == "at" or e.get("gap") is None:
            code = "ladder.at" if e["direction"] == "at" else "ladder.no_line"
            if e.get("undefined"):
                code = "ladder.no_rate"
            if e["direction"] != "at":
                params["direction"] = e["direction"]
        else:
            code = f"ladder.{e['direction']}"
            params.update({"gap": e["gap"], "step": e["step"], "rule": e["rule"], "steps": e["steps"],
                           "points": e["points"], "delta": e["delta"], "sign": e["sign"]})
            if e.get("undefined"):
                params["no_rate"] = True
        return _node(id_, "ladder_step", d.name, d.label, e["after"], span, _reason(code, params, display),
                     formula=text)
    if k == "gate":
        # The condition as it read for this item: `rollout[item]` becomes `rollout[sales_tools]`.
        filled = e["condition"]
        if shown is not None and e.get("gate") is not None:
            filled = substitute(e["gate"].condition, _Env(shown, item=d.name), tables, xs)
        if e["passed"]:
            return _node(id_, "gate_passed", d.name, d.label, None, span,
                         _reason("gate.passed", {"tag": e["tag"], "condition": e["condition"],
                                                 "filled": filled}),
                         formula=e["condition"], working=filled)
        return _node(id_, "gate_excluded", d.name, d.label, x.ZERO, span,
                     _reason("gate.excluded", {"tag": e["tag"], "condition": e["condition"], "filled": filled,
                                               "reason": e.get("reason"), "before": e["before"]}),
                     formula=e["condition"], working=filled, cites=e.get("cites", ()), notes=e.get("notes", ()))
    raise AssertionError(k)


def _line_node(parent: str, i: int, e: dict, agg: ir.Aggregate, shown, tables) -> TraceNode:
    line = e["line"] if isinstance(e["line"], dict) else {agg.list_name: e["line"]}
    ident = _line_label(line)
    name = f"{agg.list_name}[{e['index']}]"
    id_ = f"{parent}/{i}"
    xs = e["x"]
    if not e["included"]:
        here = _member_env(shown, agg.list_name, line, e["index"]) if shown.columns else line
        filled = substitute(e["filter"].condition, _Env(shown, here, exact=False), tables, xs)
        return _node(id_, "filter_excluded", name, ident, None, e["span"],
                     _reason("filter.excluded", {"index": e["index"], "id": ident, "condition": e["condition"],
                                                 "filled": filled, "reason": e.get("reason"), "line": line}),
                     formula=e["condition"], working=filled)
    env = _Env(shown, _member_env(shown, agg.list_name, line, e["index"]) if shown.columns else line, exact=False)
    working = substitute(agg.body, env, tables, xs) if agg.body is not None else "1"
    children = _lookup_nodes(id_, agg.body, xs, tables) if agg.body is not None else []
    rnd = e.get("round")
    if rnd is not None:
        children.append(_node(f"{id_}/{len(children)}", "rounding", name, ident, rnd["after"], rnd["span"],
                              _reason("round.applied", {"mode": rnd["mode"], "quantum": rnd["quantum"],
                                                        "before": rnd["before"], "after": rnd["after"]}),
                              formula=rnd["span"].text))
    before = rnd["before"] if rnd is not None else e["value"]
    return _node(id_, "line", name, ident, e["value"], agg.span,
                 _reason("line.included", {"index": e["index"], "id": ident, "working": working,
                                           "value": before}),
                 formula=agg.body.span.text if agg.body is not None else None,
                 working=f"{working} = {_plain(before)}" if working else None, children=children)


def _line_label(line: dict):
    """What names a list line for people: its `id`, else its `name`, else its first text field."""
    for key in ("id", "name"):
        if isinstance(line.get(key), str):
            return line[key]
    return next((v for v in line.values() if isinstance(v, str)), None)


def _lookups(expr) -> list:
    """The table and bands lookups of an expression, in the order explanations list them."""
    out = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, (ir.TableLookup, ir.BandLookup, ir.TierApply)):
            out.append(e)
        stack.extend(ir.children(e))
    return list(reversed(out))


def _lookup_nodes(parent: str, expr, xs, tables) -> list:
    """A child node for each lookup the evaluation made (a branch not taken made none)."""
    out: list = []
    if not xs:
        return out
    found = tables.lookups.get(id(expr))
    if found is None:
        found = tables.lookups[id(expr)] = (expr, _lookups(expr))  # keeps expr alive with its id
    for lk in found[1]:
        if lk.rid not in xs:
            continue
        key, got = xs[lk.rid][:2]
        id_ = f"{parent}/{len(out)}"
        if isinstance(lk, ir.TierApply):
            out.append(_tiers_node(id_, lk, xs[lk.rid], tables))
        elif isinstance(lk, ir.BandLookup):
            name, lo, lo_in, hi, hi_in = got
            out.append(_node(id_, "band_chosen", lk.bands, None, name, lk.span,
                             _reason("band.chosen", {"bands": lk.bands, "value": key, "band": name,
                                                     "low": lo, "low_included": lo_in, "high": hi,
                                                     "high_included": hi_in}),
                             formula=lk.span.text, display="text"))
        else:
            label, cites, notes = tables.info.get(lk.table, (None, (), ()))
            display = tables.display.get(lk.table, "number")
            if len(xs[lk.rid]) == 3:  # an effective-dated table: the version in force, and from when
                start, until = xs[lk.rid][2]
                reason = _reason("table.version", {"table": lk.table, "key": dates.show(key), "value": got,
                                                   "from": dates.show(start),
                                                   "until": dates.show(until) if until else None},
                                 {"value": display})
            else:
                reason = _reason("table.lookup", {"table": lk.table, "key": key, "value": got}, {"value": display})
            out.append(_node(id_, "table_lookup", lk.table, label, got, lk.span, reason,
                             formula=lk.span.text, display=display, cites=cites, notes=notes))
    return out


def _call_node(parent: str, i: int, call: dict, tables) -> TraceNode:
    args = {k: public_value(v) for k, v in call["args"].items()}
    id_ = f"{parent}/{i}"
    working = f"{substitute(call['body'], args, tables, call['x'])} = {_plain(call['computed'])}"
    children = [_event_node(f"{id_}/{j}", _CallDef(call), e) for j, e in enumerate(call["events"] or ())]
    return _node(id_, "function_call", call["function"], call["label"], public_value(call["result"]), call["span"],
                 _reason("function.called", {"function": call["function"], "args": args,
                                             "formula": call["body"].span.text, "working": working,
                                             "result": public_value(call["result"])}),
                 formula=call["text"], working=working, cites=call["cites"], notes=call["notes"], children=children)


class _CallDef:
    """Enough of a ValueDef for the events of a function call."""

    def __init__(self, call):
        self.name = call["function"]
        self.label = call["label"]
        self.span = call["span"]
        self.type = m.NUMBER


# ---- formulas with the numbers filled in --------------------------------------------------------

class _Shown(dict):
    """Values by name as the trace shows them, plus the exact fractions behind endless decimals."""

    def __init__(self, values):
        super().__init__(values)
        self.exact = {}
        self.columns: dict = {}  # per-member value -> (its list, its public values in list order)


class _Env:
    """The values a formula is filled in with: a list line's fields (or nothing) over the
    values shown so far, without copying them (a copy per item or line would make explanations
    quadratic in the size of the policy). In a gate, `item` is the item decided on; in a list
    line, endless values are shown as decimals (`exact` off), as the line's own values are."""

    __slots__ = ("base", "extra", "item", "exact")

    def __init__(self, base, extra=None, *, item=None, exact=True):
        self.base = base
        self.extra = extra or {}
        self.item = item
        self.exact = getattr(base, "exact", {}) if exact else {}

    def __contains__(self, name):
        return name in self.extra or name in self.base

    def __getitem__(self, name):
        return self.extra[name] if name in self.extra else self.base[name]

    def get(self, name, default=None):
        return self.extra[name] if name in self.extra else self.base.get(name, default)


class _Tables(dict):
    """What explanations of one evaluation look up, derived once: table rows by name, how each
    table's values read, the bands, each name's (id, label, display), each expression's lookups."""

    def __init__(self, rows, display, bands, info, ev: ir.Evaluation):
        super().__init__(rows)
        self.display = display
        self.bands = bands
        self.info = info or {}
        self.named = {f.name: (f"{ev.name}/fact/{f.name}", f.label, f.type.display) for f in ev.facts}
        self.named.update({v.name: (f"{ev.name}/{v.name}", v.label, v.type.display) for v in ev.values})
        self.lookups: dict = {}
        self.renderers: dict = {}


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def substitute(expr, env, tables, xs) -> str:
    """The formula with every name replaced by its value: the arithmetic an auditor re-does.

    `xs` holds the records of the run that computed it: the branch each `if` took, each lookup's
    row, each list's sum. Nothing is computed here. Each expression's renderer is built once
    per evaluation (`_render`) and kept with the evaluation's other derived data.
    """
    found = tables.renderers.get(id(expr))
    if found is None:
        found = tables.renderers[id(expr)] = (expr, _render(expr))  # keeps expr alive with its id
    return found[1](env, tables, xs)[0]


def _show(v, display="number") -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (date, dates.Period)):
        return dates.show(v)  # as written: 2026-07-01, 2026-Q2
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(_show(i) for i in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_show(i)}" for k, i in v.items()) + "}"
    if display == "percent":
        return x.to_string(x.canonical(x.mul(x.to_decimal(v), Decimal(100)))) + "%"
    return x.to_string(v)


def _name(name, env):
    exact = getattr(env, "exact", {})
    if name in exact:
        f = exact[name]
        return f"({f.numerator}/{f.denominator})", 9
    if name in env:
        return _show(env[name]), 9
    return name, 9


def _render(e):
    """A function (env, tables, xs) -> (text, precedence) that writes `e` with its values."""
    t = type(e)
    if t is ir.Const:
        text = e.span.text
        return lambda env, tables, xs: (text, 9)
    if t in (ir.FactRef, ir.ValueRef, ir.ParamRef, ir.FieldRef, ir.ElemRef):
        name = e.name
        return lambda env, tables, xs: _name(name, env)
    if t is ir.ItemName:
        def item(env, tables, xs):
            found = getattr(env, "item", None)
            return (f'"{found}"' if found is not None else "item"), 9
        return item
    if t is ir.Not:
        inner_not = _render(e.operand)
        return lambda env, tables, xs: (f"not {inner_not(env, tables, xs)[0]}", 3)
    if t is ir.Neg:
        inner_neg = _render(e.operand)

        def neg(env, tables, xs):
            text, p = inner_neg(env, tables, xs)
            return (f"-{text}" if p >= 7 else f"-({text})"), 7
        return neg
    if t in (ir.Arith, ir.Logic, ir.Compare):
        prec = _PRECEDENCE["cmp"] if t is ir.Compare else _PRECEDENCE[e.op]
        left_r, right_r = _render(e.left), _render(e.right)
        op = {"*": "×", "/": "÷"}.get(e.op, e.op)
        strict_right = e.op in ("-", "/")

        def binary(env, tables, xs):
            left, lp = left_r(env, tables, xs)
            right, rp = right_r(env, tables, xs)
            if lp < prec:
                left = f"({left})"
            if rp < prec or (rp == prec and strict_right):
                right = f"({right})"
            return f"{left} {op} {right}", prec
        return binary
    if t is ir.Cond:
        # The branch taken is filled in; the other stays as written (it may not be computable: 0 ÷ 0).
        cond_r, then_r, else_r = _render(e.condition), _render(e.then), _render(e.otherwise)
        rid, then_text, else_text = e.rid, e.then.span.text, e.otherwise.span.text

        def conditional(env, tables, xs):
            taken = xs.get(rid)
            a = then_r(env, tables, xs)[0] if taken is True else then_text
            b = else_r(env, tables, xs)[0] if taken is False else else_text
            return f"if {cond_r(env, tables, xs)[0]} then {a} else {b}", 0
        return conditional
    text = e.span.text
    if t is ir.KeyGet and isinstance(e.target, (ir.FactRef, ir.ValueRef)):
        # A record read by key: name the key (`rollout[sales_tools]`), the reads show its value.
        target, key_r, by_item = e.target.name, _render(e.key), isinstance(e.key, ir.ItemName)

        def key_get(env, tables, xs):
            if not isinstance(env.get(target), dict):
                return text, 9
            if by_item and getattr(env, "item", None) is not None:
                return f"{target}[{env.item}]", 9
            return f"{target}[{key_r(env, tables, xs)[0]}]", 9
        return key_get
    if t is ir.TableLookup:
        rid, table = e.rid, e.table

        def lookup(env, tables, xs):
            if rid not in xs:
                return text, 9
            return _show(xs[rid][1], tables.display.get(table, "number")), 9
        return lookup
    if t in (ir.Call, ir.ListSum, ir.ListCount, ir.Abs, ir.Extreme):
        args = e.args if t in (ir.Call, ir.Extreme) else (e.arg,)
        fname = e.function if t is ir.Call else e.fn if t is ir.Extreme else {
            ir.ListSum: "sum", ir.ListCount: "count", ir.Abs: "abs"}[t]
        arg_rs = [_render(a) for a in args]
        listed = (e.arg.name if t in (ir.ListSum, ir.ListCount) and isinstance(e.arg, (ir.FactRef, ir.ValueRef))
                  else None)
        rid, counting = getattr(e, "rid", -1), t is ir.ListCount

        def call(env, tables, xs):
            if listed is not None and isinstance(env.get(listed), list) and rid in xs:
                # A list's count or sum is the number the auditor needs, not the list itself.
                return (str(len(env[listed])) if counting else _plain(xs[rid])), 9
            return f"{fname}({', '.join(r(env, tables, xs)[0] for r in arg_rs)})", 9
        return call
    if t is ir.TierApply:
        # `marginal commission_rates on 180000 of 100000`: the schedule's children give the amounts.
        value_r = _render(e.value)
        base_r = _render(e.base) if e.base is not None else None
        head = f"{e.mode} {e.schedule.name}" + (f".{e.tier}" if e.tier is not None else "")

        def tiers_applied(env, tables, xs):
            of = f" of {base_r(env, tables, xs)[0]}" if base_r is not None else ""
            return f"{head} on {value_r(env, tables, xs)[0]}{of}", 0
        return tiers_applied
    if t is ir.AsOf:
        return lambda env, tables, xs: (dates.show(env[AS_OF]) if AS_OF in env else "evaluation_date", 9)
    if t is ir.DaysBetween:
        # Both ends filled in: `days from 2026-03-16 to 2026-12-31`.
        start_r, end_r = _render(e.start), _render(e.end)
        return lambda env, tables, xs: (
            f"days from {start_r(env, tables, xs)[0]} to {end_r(env, tables, xs)[0]}", 9)
    if t is ir.DateFn:
        fn_rs, fn_name = [_render(a) for a in e.args], e.fn
        return lambda env, tables, xs: (f"{fn_name}({', '.join(r(env, tables, xs)[0] for r in fn_rs)})", 9)
    if t is ir.Blend:
        parts = [(_render(expr), x.to_string(x.canonical(x.mul(w, Decimal(100))))) for expr, w in e.parts]
        return lambda env, tables, xs: (
            "blend(" + ", ".join(f"{r(env, tables, xs)[0]} × {w}%" for r, w in parts) + ")", 9)
    return lambda env, tables, xs: (text, 9)


# ---- tiers (issue 10) --------------------------------------------------------------------------

def _tiers_node(id_: str, e: ir.TierApply, record, tables) -> TraceNode:
    """A tier schedule applied: each tier's range (in the value's unit, and as declared), the part
    of the value in it, its rate and its amount, as recorded by the run (tiers.py computed them)."""
    value, base, rows, reached, amount = record
    schedule = e.schedule
    declared = {name: (lo, lo_in, hi, hi_in) for name, _l, lo, lo_in, hi, hi_in, _r in schedule.tiers}
    labels = {name: label for name, label, *_ in schedule.tiers}
    percent = base is not None or schedule.unit == "percent"
    # How the value reads (money, ...): the display of the value, or of the base, it names.
    unit = "money" if schedule.unit == "money" else "number"
    for part in (e.value, e.base):
        if isinstance(part, (ir.FactRef, ir.ValueRef)) and part.name in tables.named:
            unit = tables.named[part.name][2]
            break
    shows = {"low": unit, "high": unit, "part": unit, "rate": "percent", "value": unit, "base": unit,
             "amount": unit, "result": unit}
    children = []
    for i, (name, lo, lo_in, hi, hi_in, part, rate, tier_amount) in enumerate(rows):
        dlo, dlo_in, dhi, dhi_in = declared[name]
        params = {"tier": name, "label": labels[name], "low": lo, "low_included": lo_in, "high": hi,
                  "high_included": hi_in, "declared": _declared(dlo, dlo_in, dhi, dhi_in, percent),
                  "part": part, "rate": rate, "amount": tier_amount, "reached": name == reached}
        children.append(_node(f"{id_}/{i}", "tier", name, labels[name], tier_amount, e.span,
                              _reason("tier.marginal" if e.mode == "marginal" else "tier.retroactive", params, shows),
                              formula=e.span.text, display=unit))
    params = {"tiers": schedule.name, "mode": e.mode, "tier": e.tier, "value": value, "base": base,
              "reached": reached, "result": x.canonical(amount)}
    return _node(id_, "tiers_applied", schedule.name, schedule.label, amount, e.span,
                 _reason("tiers.applied", params, shows), formula=e.span.text, children=children, display=unit)


def _declared(lo, lo_in, hi, hi_in, percent: bool) -> str:
    def show(v):
        return _show(v, "percent") if percent else x.to_string(x.canonical(v))
    return f"{'from' if lo_in else 'above'} {show(lo)} {'to' if hi_in else 'below'} {show(hi)}"
