"""Trace stage: the evaluator's records as the versioned trace document (`kpirules.trace/1`).

The document is a tree an auditor can follow: one node per fact (kind `input`) and per computed
value, each value's children being what shaped it (table lookups, bands, function calls,
deductions, ladder steps, floors and caps, roundings, gates, list lines), and every node
carrying a reason code with parameters that renderers turn into sentences (render/reasons.py).
The schema is docs/trace-schema.json. Values stay exact here; result.py writes them as decimal
strings.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from . import exact as x
from . import model as m
from . import nodes as n
from .compile import Program, band_of
from .evaluate import keeps_digits, public_value

SCHEMA = "kpirules.trace/1"

# Every kind a node can have (docs/trace-schema.json lists the same).
KINDS = ("input", "value", "output", "item", "scorecard", "deduction", "deduction_skipped",
         "score_set", "ladder_step", "floor_applied", "cap_applied", "rounding", "gate_excluded",
         "gate_passed", "filter_excluded", "line", "band_chosen", "table_lookup", "function_call")


def build(program: Program, policy: dict, facts: dict, records) -> dict:
    """The trace document of one evaluation."""
    ev = program.evaluation
    tables = _Tables(program.tables, program.table_display, program.bands, program.table_info)
    shown = _Shown(facts)  # facts as given, values as returned: what the trace shows for each name
    inputs = [_input_node(ev, f, facts[f.name]) for f in ev.facts]
    nodes = []
    for d, value, events, calls in records:
        shown[d.name] = public_value(value, keeps_digits(d))
        if isinstance(value, Fraction):
            shown.exact[d.name] = value  # shown as the fraction in a formula's working
        nodes.append(_value_node(ev, d, value, events, calls, shown, tables))
    return {
        "schema": SCHEMA,
        "policy": dict(policy),
        "evaluation": {"name": ev.name, "label": ev.label},
        "inputs": inputs,
        "nodes": nodes,
    }


def _reason(code: str, params: dict | None = None, display: dict | None = None) -> dict:
    # Numbers in sentences in their shortest exact form; a rounding's result keeps its digits.
    params = {k: (x.canonical(v) if isinstance(v, (Decimal, Fraction)) and not isinstance(v, bool)
                  and not (k in ("after", "quantum") and code == "round.applied") and k != "result" else v)
              for k, v in (params or {}).items()}
    out = {"code": code, "params": params}
    if display:
        out["display"] = display
    return out


def _node(id_, kind, name, label, result, span, reason, *, formula=None, working=None, reads=(),
          cites=(), children=(), display="number", exact=None) -> dict:
    return {
        "id": id_, "kind": kind, "name": name, "label": label, "display": display,
        "formula": formula, "working": working, "reads": list(reads), "result": result,
        "exact": exact, "span": span, "cites": list(cites), "reason": reason,
        "children": list(children),
    }


def _input_node(ev: m.EvaluationModel, f: m.FactDecl, value) -> dict:
    shown = value if isinstance(value, (Decimal, bool, str)) else _show(value)
    return _node(f"{ev.name}/fact/{f.name}", "input", f.name, f.label, value, f.span,
                 _reason("input.given", {"rule": f.rule, "value": shown}),
                 display=f.type.display, cites=f.cites)


def _reads(d: m.ValueDef, ev: m.EvaluationModel, shown) -> list:
    facts = {f.name: f for f in ev.facts}
    values = {v.name: v for v in ev.values}
    out = []
    for name in d.deps:
        if name not in shown:
            continue
        if name in facts:
            f = facts[name]
            out.append({"id": f"{ev.name}/fact/{name}", "name": name, "label": f.label,
                        "value": shown[name], "display": f.type.display})
        elif name in values:
            v = values[name]
            out.append({"id": f"{ev.name}/{name}", "name": name, "label": v.label,
                        "value": shown[name], "display": v.type.display})
    return out


def _value_node(ev, d: m.ValueDef, value, events, calls, shown, tables) -> dict:
    id_ = f"{ev.name}/{d.name}"
    kind = {"let": "value", "output": "output", "item": "item", "scorecard": "scorecard"}[d.kind]
    result = public_value(value, keeps_digits(d))
    exact = f"{value.numerator}/{value.denominator}" if isinstance(value, Fraction) else None
    computed = next((e["value"] for e in events if e["kind"] == "computed"), value)
    children = []
    formula = working = None
    if d.kind in ("let", "output"):
        expr = d.node.value
        formula = expr.span.text
        if isinstance(expr, n.Aggregate):
            lines = [e for e in events if e["kind"] == "line"]
            kept = [x.to_string(e["value"]) for e in lines if e["included"]]
            working = (" + ".join(kept) if kept else "0") + f" = {_plain(computed)}"
            children.extend(_line_node(id_, i, e, expr, shown, tables) for i, e in enumerate(lines))
        else:
            working = f"{substitute(expr, shown, tables)} = {_plain(computed)}"
            children.extend(_lookup_nodes(id_, expr, shown, tables))
        reason = _reason(f"{kind}.formula", {"formula": formula, "working": working, "result": result})
    elif d.kind == "item":
        reason = _reason("item.start", {"weight": d.node.weight, "result": result})
    else:
        sc: n.Scorecard = d.node
        formula = " + ".join(i.name for i in sc.items)
        working = " + ".join(_plain(shown[i.name]) for i in sc.items) + f" = {_plain(computed)}"
        reason = _reason("scorecard.sum", {"items": len(sc.items), "working": working, "result": result})
    children.extend(_call_node(id_, len(children), c, tables) for c in calls)
    for e in events:
        if e["kind"] in ("line", "computed"):
            continue
        children.append(_event_node(f"{id_}/{len(children)}", d, e, shown, tables))
    node = _node(id_, kind, d.name, d.label, result, d.span, reason, formula=formula, working=working,
                 reads=_reads(d, ev, shown), cites=d.cites, children=children, display=d.type.display,
                 exact=exact)
    if d.kind == "item":
        node["weight"] = d.node.weight
        node["tags"] = list(d.node.tags)
        node["scorecard"] = d.scorecard
    return node


def _plain(v, keep_digits=False) -> str:
    """A value in a working line: shortest exact form, or the declared rounding's digits."""
    if isinstance(v, (bool, str, list, dict)):
        return _show(v)
    return x.to_string(v if keep_digits else x.canonical(v))


def _pct(expr) -> str:
    return "percent" if isinstance(expr, n.Number) and expr.unit == "percent" else "number"


def _event_node(id_: str, d: m.ValueDef, e: dict, shown=None, tables=None) -> dict:
    """One thing that shaped a value, as a child node with its reason code, in the value's unit."""
    node = _event(id_, d, e, shown, tables)
    node["display"] = d.type.display
    return node


def _event(id_: str, d: m.ValueDef, e: dict, shown, tables) -> dict:
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
            filled = substitute(e["gate"].condition, _ItemEnv(shown, d.name), tables)
        if e["passed"]:
            return _node(id_, "gate_passed", d.name, d.label, None, span,
                         _reason("gate.passed", {"tag": e["tag"], "condition": e["condition"],
                                                 "filled": filled}),
                         formula=e["condition"], working=filled)
        return _node(id_, "gate_excluded", d.name, d.label, x.ZERO, span,
                     _reason("gate.excluded", {"tag": e["tag"], "condition": e["condition"], "filled": filled,
                                               "reason": e.get("reason"), "before": e["before"]}),
                     formula=e["condition"], working=filled, cites=e.get("cites", ()))
    raise AssertionError(k)


def _line_node(parent: str, i: int, e: dict, agg: n.Aggregate, shown, tables) -> dict:
    line = e["line"] if isinstance(e["line"], dict) else {agg.list_name: e["line"]}
    ident = _line_label(line)
    name = f"{agg.list_name}[{e['index']}]"
    id_ = f"{parent}/{i}"
    if not e["included"]:
        filled = substitute(e["filter"].condition, {**shown, **line}, tables) if e.get("filter") else None
        return _node(id_, "filter_excluded", name, ident, None, e["span"],
                     _reason("filter.excluded", {"index": e["index"], "id": ident, "condition": e["condition"],
                                                 "filled": filled, "reason": e.get("reason"), "line": line}),
                     formula=e["condition"], working=filled)
    env = {**shown, **line}
    working = substitute(agg.body, env, tables) if agg.body is not None else "1"
    children = _lookup_nodes(id_, agg.body, env, tables) if agg.body is not None else []
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


def _lookup_nodes(parent: str, expr, shown, tables) -> list:
    out = []
    for lk in _lookups(expr, shown, tables):
        id_ = f"{parent}/{len(out)}"
        if "bands" in lk:
            name, lo, lo_in, hi, hi_in = lk["band_row"]
            out.append(_node(id_, "band_chosen", lk["bands"], None, lk["value"], lk["span"],
                             _reason("band.chosen", {"bands": lk["bands"], "value": lk["key"], "band": name,
                                                     "low": lo, "low_included": lo_in, "high": hi,
                                                     "high_included": hi_in}),
                             formula=lk["text"], display="text"))
        else:
            label, cites = tables.info.get(lk["table"], (None, ()))
            out.append(_node(id_, "table_lookup", lk["table"], label, lk["value"], lk["span"],
                             _reason("table.lookup", {"table": lk["table"], "key": lk["key"], "value": lk["value"]},
                                     {"value": lk["display"]}),
                             formula=lk["text"], display=lk["display"], cites=cites))
    return out


def _call_node(parent: str, i: int, call: dict, tables) -> dict:
    args = {k: public_value(v) for k, v in call["args"].items()}
    id_ = f"{parent}/{i}"
    working = f"{substitute(call['body'], args, tables)} = {_plain(call['computed'])}"
    children = [_event_node(f"{id_}/{j}", _CallDef(call), e) for j, e in enumerate(call["events"] or ())]
    return _node(id_, "function_call", call["function"], call["label"], public_value(call["result"]), call["span"],
                 _reason("function.called", {"function": call["function"], "args": args,
                                             "formula": call["body"].span.text, "working": working,
                                             "result": public_value(call["result"])}),
                 formula=call["text"], working=working, cites=call["cites"], children=children)


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


class _ItemEnv(dict):
    """The values seen by a gate's condition, which speaks of `item`."""

    def __init__(self, shown, item):
        super().__init__(shown)
        self.exact = getattr(shown, "exact", {})
        self.item = item


def _truth(cond, env):
    """Whether a condition held, when it can be read from the shown values; else None."""
    try:
        v = _value_of(cond, env)
    except (KeyError, TypeError, ArithmeticError):
        return None
    return v if isinstance(v, bool) else None


def _value_of(e, env):
    if isinstance(e, (n.Number, n.Text, n.Bool)):
        return e.value
    if isinstance(e, n.Name):
        exact = getattr(env, "exact", {})
        return exact[e.name] if e.name in exact else env[e.name]
    if isinstance(e, n.Unary):
        v = _value_of(e.operand, env)
        return (not v) if e.op == "not" else x.neg(v)
    if isinstance(e, n.Binary):
        if e.op in ("and", "or"):
            a = _value_of(e.left, env)
            return (a and _value_of(e.right, env)) if e.op == "and" else (a or _value_of(e.right, env))
        a, b = _value_of(e.left, env), _value_of(e.right, env)
        return {"+": x.add, "-": x.sub, "*": x.mul, "/": x.div}[e.op](a, b)
    if isinstance(e, n.Compare):
        a, b = _value_of(e.left, env), _value_of(e.right, env)
        if isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
            return {"==": a == b, "!=": a != b}[e.op]
        c = x.compare(a, b)
        return {">=": c >= 0, "<=": c <= 0, ">": c > 0, "<": c < 0, "==": c == 0, "!=": c != 0}[e.op]
    if isinstance(e, n.Field):
        return _value_of(e.target, env)[e.name]
    raise KeyError(e)


class _Tables(dict):
    """Table rows by name, plus how each table's values read, plus the bands."""

    def __init__(self, rows, display, bands, info=None):
        super().__init__(rows)
        self.display = display
        self.bands = bands
        self.info = info or {}


def _lookups(expr, env, tables) -> list:
    out = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name in tables.bands:
            try:
                key = _eval_simple(e.key, env)
                bands = tables.bands[e.target.name]
                name = band_of(bands, key, e.span)
                row = next(b for b in bands.bands if b[0] == name)
                out.append({"bands": e.target.name, "key": key, "text": e.span.text, "value": name,
                            "band_row": row, "span": e.span})
            except Exception:  # noqa: BLE001 - a lookup the evaluator already reported
                pass
        elif isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name in tables:
            try:
                key = _eval_simple(e.key, env)
                out.append({"table": e.target.name, "key": key, "text": e.span.text,
                            "value": tables[e.target.name].get(key), "span": e.span,
                            "display": tables.display.get(e.target.name, "number")})
            except KeyError:
                pass
        for attr in ("left", "right", "operand", "condition", "then", "otherwise", "target", "key"):
            child = getattr(e, attr, None)
            if child is not None and not isinstance(child, (str, Decimal)):
                stack.append(child)
        if isinstance(e, n.Call):
            stack.extend(e.args)
        if isinstance(e, n.Blend):
            stack.extend(p[0] for p in e.parts)
    return list(reversed(out))


def _eval_simple(e, env):
    if isinstance(e, n.Name):
        return env[e.name]
    if isinstance(e, n.Number):
        return e.value
    if isinstance(e, n.Text):
        return e.value
    raise KeyError(e)


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def substitute(expr, env, tables) -> str:
    """The formula with every name replaced by its value: the arithmetic an auditor re-does."""
    text, _ = _sub(expr, env, tables)
    return text


def _show(v, display="number") -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(_show(i) for i in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_show(i)}" for k, i in v.items()) + "}"
    if display == "percent":
        return x.to_string(x.canonical(x.mul(x.to_decimal(v), Decimal(100)))) + "%"
    return x.to_string(v)


def _sub(e, env, tables):
    if isinstance(e, n.Number):
        return e.span.text, 9
    if isinstance(e, (n.Text, n.Bool)):
        return e.span.text, 9
    if isinstance(e, n.Name):
        exact = getattr(env, "exact", {})
        if e.name in exact:
            f = exact[e.name]
            return f"({f.numerator}/{f.denominator})", 9
        if e.name in env:
            return _show(env[e.name]), 9
        return e.name, 9
    if isinstance(e, n.ItemRef):
        item = getattr(env, "item", None)
        return (f'"{item}"' if item is not None else "item"), 9
    if isinstance(e, n.Unary):
        inner, p = _sub(e.operand, env, tables)
        if e.op == "not":
            return f"not {inner}", 3
        return f"-{inner}" if p >= 7 else f"-({inner})", 7
    if isinstance(e, (n.Binary, n.Compare)):
        prec = _PRECEDENCE["cmp"] if isinstance(e, n.Compare) else _PRECEDENCE[e.op]
        left, lp = _sub(e.left, env, tables)
        right, rp = _sub(e.right, env, tables)
        if lp < prec:
            left = f"({left})"
        if rp < prec or (rp == prec and e.op in ("-", "/")):
            right = f"({right})"
        op = {"*": "×", "/": "÷"}.get(e.op, e.op)
        return f"{left} {op} {right}", prec
    if isinstance(e, n.Conditional):
        # The branch taken is filled in; the other stays as written (it may not be computable: 0 ÷ 0).
        c, _ = _sub(e.condition, env, tables)
        taken = _truth(e.condition, env)
        a = _sub(e.then, env, tables)[0] if taken is True else e.then.span.text
        b = _sub(e.otherwise, env, tables)[0] if taken is False else e.otherwise.span.text
        return f"if {c} then {a} else {b}", 0
    if isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name in tables.bands:
        return e.span.text, 9
    if isinstance(e, n.Index) and isinstance(e.target, n.Name) and isinstance(env.get(e.target.name), dict):
        # A record read by key: name the key (`rollout[sales_tools]`), the reads show its value.
        if isinstance(e.key, n.ItemRef) and getattr(env, "item", None) is not None:
            return f"{e.target.name}[{env.item}]", 9
        return f"{e.target.name}[{_sub(e.key, env, tables)[0]}]", 9
    if isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name in tables:
        try:
            value = tables[e.target.name][_eval_simple(e.key, env)]
        except KeyError:
            return e.span.text, 9
        return _show(value, tables.display.get(e.target.name, "number")), 9
    if isinstance(e, n.Call) and e.function in ("count", "sum") and isinstance(e.args[0], n.Name) \
            and isinstance(env.get(e.args[0].name), list):
        # A list's count or sum is the number the auditor needs, not the list itself.
        items = env[e.args[0].name]
        if e.function == "count":
            return str(len(items)), 9
        try:
            return _plain(sum((Decimal(str(v)) for v in items), Decimal(0))), 9
        except Exception:  # noqa: BLE001 - not a list of numbers: show it as written
            return e.span.text, 9
    if isinstance(e, n.Call):
        args = ", ".join(_sub(a, env, tables)[0] for a in e.args)
        return f"{e.function}({args})", 9
    if isinstance(e, n.Blend):
        parts = ", ".join(f"{_sub(expr, env, tables)[0]} × {x.to_string(x.canonical(w * 100))}%"
                          for expr, w, _ in e.parts)
        return f"blend({parts})", 9
    return e.span.text, 9
