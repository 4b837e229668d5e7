"""Evaluation stage: run a compiled program on validated facts; build the trace when asked.

Pure: no clock, no I/O, no module state. The trace is made of plain dicts holding exact values;
result.py turns them into JSON and renderers read only that.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from . import exact as x
from . import model as m
from . import nodes as n
from . import codegen
from .compile import CALLS, Failure, Program, band_of
from .errors import EvaluationError


def fast_values(program: Program, facts: dict, plan) -> dict | None:
    """Public values from the generated fast path, or None when it cannot prove them exact."""
    try:
        raw, inexact = program.fast(facts)
    except (codegen.Fallback, ArithmeticError, LookupError, TypeError):
        return None
    if not inexact:
        return {name: convert(raw[i]) for name, i, convert in plan}
    try:
        return {name: convert(codegen.shown(raw[i]) if i in inexact else raw[i]) for name, i, convert in plan}
    except codegen.Fallback:
        return None


def output_plan(program: Program) -> tuple:
    """(name, index in the program, converter) for each value, in written order; built once."""
    values = program.evaluation.values
    index = {d.name: i for i, d in enumerate(values)}
    order = sorted(values, key=lambda d: (d.span.end if d.kind == "scorecard" else d.span.start))
    plan = []
    for d in order:
        if d.type.kind != "number":
            convert = public_value
        elif keeps_digits(d):
            convert = x.to_decimal
        else:
            convert = x.canonical
        plan.append((d.name, index[d.name], convert))
    return tuple(plan)


def run(program: Program, facts: dict, explain: bool = False):
    """Returns (values, trace): values maps every computed name to its exact value."""
    env = dict(facts)
    if not explain:
        for cv in program.values:
            try:
                env[cv.definition.name] = cv.run(env, None)
            except Failure as f:
                raise EvaluationError(f.message, cv.definition.name, f.span) from None
        return env, None
    nodes = []
    shown = dict(facts)  # what the trace shows for each name: facts as given, values as returned
    for cv in program.values:
        d = cv.definition
        events: list = []
        calls: list = []
        env[CALLS] = calls
        try:
            value = cv.run(env, events)
        except Failure as f:
            raise EvaluationError(f.message, d.name, f.span) from None
        env[d.name] = value
        shown[d.name] = public_value(value, keeps_digits(d))
        node = _node(d, value, events, shown, program)
        if calls:
            node["calls"] = [_call(c, program) for c in calls]
        nodes.append(node)
    env.pop(CALLS, None)
    return env, nodes


# ---- trace nodes ------------------------------------------------------------------------------

class _Tables(dict):
    """Table rows by name, plus how each table's values read (for the substituted formula)."""

    def __init__(self, rows, display, bands):
        super().__init__(rows)
        self.display = display
        self.bands = bands


def keeps_digits(d: m.ValueDef) -> bool:
    """A value with a declared rounding is shown with its quantum's digits (`7488.00`)."""
    clauses = getattr(d.node, "clauses", ())
    return any(isinstance(c, n.Round) for c in clauses)


def public_value(v, keep_digits=False):
    """A computed value as the API returns it: Decimal (see keeps_digits), str, bool."""
    if isinstance(v, (bool, str)):
        return v
    if isinstance(v, list):
        return [public_value(i) for i in v]
    if isinstance(v, dict):
        return {k: public_value(i) for k, i in v.items()}
    return x.to_decimal(v) if keep_digits else x.canonical(v)


def _node(d: m.ValueDef, value, events, env, program: Program) -> dict:
    ev = program.evaluation
    tables = _Tables(program.tables, program.table_display, program.bands)
    node = {
        "id": f"{ev.name}.{d.name}",
        "kind": {"let": "value", "output": "output", "item": "item", "scorecard": "scorecard"}[d.kind],
        "name": d.name,
        "label": d.label,
        "display": d.type.display,
        "result": public_value(value, keeps_digits(d)),
        "span": d.span,
        "cites": list(d.cites),
        "inputs": [_input(name, env, ev) for name in d.deps if name in env],
        "events": [_event(e) for e in events if e["kind"] not in ("line", "computed")],
    }
    computed = [e["value"] for e in events if e["kind"] == "computed"]
    if computed:
        node["computed"] = computed[0]
    if isinstance(value, Fraction):
        node["fraction"] = f"{value.numerator}/{value.denominator}"
    if d.kind in ("let", "output"):
        expr = d.node.value
        node["formula"] = expr.span.text
        if isinstance(expr, n.Aggregate):
            node["lines"] = [_line(e, expr, env, tables) for e in events if e["kind"] == "line"]
            node["aggregate"] = expr.function
        else:
            node["substituted"] = substitute(expr, env, tables)
            node["lookups"] = _lookups(expr, env, tables)
    elif d.kind == "item":
        item: n.Item = d.node
        node["weight"] = item.weight
        node["tags"] = list(item.tags)
        node["scorecard"] = d.scorecard
    else:
        sc: n.Scorecard = d.node
        node["items"] = [f"{ev.name}.{i.name}" for i in sc.items]
        node["total"] = sc.total
        node["formula"] = " + ".join(i.name for i in sc.items)
        node["substituted"] = " + ".join(_show(env[i.name]) for i in sc.items)
    return node


def _input(name, env, ev: m.EvaluationModel) -> dict:
    for f in ev.facts:
        if f.name == name:
            return {"name": name, "label": f.label, "kind": "fact", "value": env[name],
                    "display": f.type.display}
    for d in ev.values:
        if d.name == name:
            kind = {"let": "value"}.get(d.kind, d.kind)
            return {"name": name, "label": d.label, "kind": kind, "value": env[name],
                    "display": d.type.display}
    return {"name": name, "label": None, "kind": "value", "value": env[name], "display": "number"}


def _event(e: dict) -> dict:
    out = dict(e)
    if isinstance(e.get("rate"), Fraction):
        out["rate_fraction"] = f"{e['rate'].numerator}/{e['rate'].denominator}"
    return out


def _line(e: dict, agg: n.Aggregate, env, tables) -> dict:
    out = dict(e)
    if e["included"] and agg.body is not None:
        line = e["line"] if isinstance(e["line"], dict) else {agg.list_name: e["line"]}
        out["substituted"] = substitute(agg.body, {**env, **line}, tables)
    return out


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
                band = next(b for b in bands.bands if b[0] == name)
                out.append({"bands": e.target.name, "key": key, "text": e.span.text, "value": name,
                            "display": "text", "band": _band_text(band)})
            except (KeyError, Failure):
                pass
        elif isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name in tables:
            try:
                key = _eval_simple(e.key, env)
                out.append({"table": e.target.name, "key": key, "text": e.span.text,
                            "value": tables[e.target.name].get(key),
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


def _call(call: dict, program: Program) -> dict:
    """A logged function call, with its formula and the arithmetic with the arguments filled in."""
    out = {k: v for k, v in call.items() if k != "body"}
    args = {k: public_value(v) for k, v in call["args"].items()}
    out["args"] = args
    out["computed"] = public_value(call["computed"])
    out["result"] = public_value(call["result"])
    out["formula"] = call["body"].span.text
    tables = _Tables(program.tables, program.table_display, program.bands)
    out["substituted"] = substitute(call["body"], args, tables)
    return out


def _band_text(band) -> str:
    name, lo, lo_in, hi, hi_in = band
    return (f"{'from' if lo_in else 'above'} {x.to_string(lo)} "
            f"{'to' if hi_in else 'below'} {x.to_string(hi)}")


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
        if e.name in env:
            return _show(env[e.name]), 9
        return e.name, 9
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
    if isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name in tables:
        try:
            value = tables[e.target.name][_eval_simple(e.key, env)]
        except KeyError:
            return e.span.text, 9
        return _show(value, tables.display.get(e.target.name, "number")), 9
    if isinstance(e, n.Call):
        args = ", ".join(_sub(a, env, tables)[0] for a in e.args)
        return f"{e.function}({args})", 9
    if isinstance(e, n.Blend):
        parts = ", ".join(f"{_sub(expr, env, tables)[0]} × {x.to_string(x.canonical(w * 100))}%"
                          for expr, w, _ in e.parts)
        return f"blend({parts})", 9
    if isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name in tables.bands:
        return e.span.text, 9
    return e.span.text, 9
