"""Evaluation stage: run a compiled program on validated facts; build the trace when asked.

Pure: no clock, no I/O, no module state. The trace is made of plain dicts holding exact values;
result.py turns them into JSON and renderers read only that.
"""

from __future__ import annotations

from decimal import Decimal

from . import exact as x
from . import model as m
from . import nodes as n
from .compile import Failure, Program
from .errors import EvaluationError


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
    for cv in program.values:
        d = cv.definition
        events: list = []
        try:
            value = cv.run(env, events)
        except Failure as f:
            raise EvaluationError(f.message, d.name, f.span) from None
        env[d.name] = value
        nodes.append(_node(d, value, events, env, program.evaluation))
    return env, nodes


# ---- trace nodes ------------------------------------------------------------------------------

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


def _node(d: m.ValueDef, value, events, env, ev: m.EvaluationModel) -> dict:
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
        "events": [_event(e) for e in events if e["kind"] != "line"],
    }
    if d.kind in ("let", "output"):
        expr = d.node.value
        node["formula"] = expr.span.text
        if isinstance(expr, n.Aggregate):
            node["lines"] = [_line(e) for e in events if e["kind"] == "line"]
            node["aggregate"] = expr.function
        else:
            node["substituted"] = substitute(expr, env)
            node["lookups"] = _lookups(expr, env)
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
        node["substituted"] = " + ".join(_show(env[i.name], "points") for i in sc.items)
    return node


def _input(name, env, ev: m.EvaluationModel) -> dict:
    for f in ev.facts:
        if f.name == name:
            return {"name": name, "label": f.label, "kind": "fact", "value": env[name],
                    "display": f.type.display}
    for d in ev.values:
        if d.name == name:
            return {"name": name, "label": d.label, "kind": d.kind, "value": env[name],
                    "display": d.type.display}
    return {"name": name, "label": None, "kind": "value", "value": env[name], "display": "number"}


def _event(e: dict) -> dict:
    out = {k: v for k, v in e.items()}
    return out


def _line(e: dict) -> dict:
    return dict(e)


def _lookups(expr, env) -> list:
    out = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name not in env:
            try:
                key = _eval_simple(e.key, env)
                out.append({"table": e.target.name, "key": key, "text": e.span.text})
            except KeyError:
                pass
        for attr in ("left", "right", "operand", "condition", "then", "otherwise", "target", "key"):
            child = getattr(e, attr, None)
            if child is not None and not isinstance(child, (str, Decimal)):
                stack.append(child)
        if isinstance(e, n.Call):
            stack.extend(e.args)
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


def substitute(expr, env, tables=None) -> str:
    """The formula with every name replaced by its value: the arithmetic an auditor re-does."""
    text, _ = _sub(expr, env)
    return text


def _show(v, display="number") -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if display == "percent":
        return x.to_string(x.mul(x.to_decimal(v) if not x.is_exact_decimal(v) else v, Decimal(100))) + "%"
    return x.to_string(v)


def _sub(e, env):
    if isinstance(e, n.Number):
        return e.span.text, 9
    if isinstance(e, (n.Text, n.Bool)):
        return e.span.text, 9
    if isinstance(e, n.Name):
        if e.name in env:
            return _show(env[e.name]), 9
        return e.name, 9
    if isinstance(e, n.Unary):
        inner, p = _sub(e.operand, env)
        if e.op == "not":
            return f"not {inner}", 3
        return f"-{inner}" if p >= 7 else f"-({inner})", 7
    if isinstance(e, (n.Binary, n.Compare)):
        prec = _PRECEDENCE["cmp"] if isinstance(e, n.Compare) else _PRECEDENCE[e.op]
        left, lp = _sub(e.left, env)
        right, rp = _sub(e.right, env)
        if lp < prec:
            left = f"({left})"
        if rp < prec or (rp == prec and e.op in ("-", "/")):
            right = f"({right})"
        op = {"*": "×", "/": "÷"}.get(e.op, e.op)
        return f"{left} {op} {right}", prec
    if isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name not in env:
        return e.span.text, 9
    if isinstance(e, n.Call):
        args = ", ".join(_sub(a, env)[0] for a in e.args)
        return f"{e.function}({args})", 9
    return e.span.text, 9
