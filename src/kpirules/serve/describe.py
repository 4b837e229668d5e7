"""What a loaded policy offers, as JSON: its evaluations, their facts (types, labels, ranges) and
its example fact sets. Read by `GET /v1/policies` and by the playground's form; computes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .. import Policy
from .. import exact as x
from .. import model as m
from .. import nodes as n
from ..dates import EVALUATION_DATE
from ..errors import KpiRulesError
from ..result import jsonable


def summary(policy: Policy) -> dict[str, Any]:
    """`GET /v1/policies` entry: name, label, version, sha256, evaluations with their facts."""
    evaluations = []
    seen = set()
    for ev in policy._model.evaluations:
        if ev.name in seen:  # an evaluation with versions: its first version's facts stand for it
            continue
        seen.add(ev.name)
        evaluations.append(evaluation(policy, ev))
    return {"name": policy.name, "label": policy.label, "version": policy.version, "sha256": policy.sha256,
            "evaluations": evaluations}


def evaluation(policy: Policy, ev: m.EvaluationModel) -> dict[str, Any]:
    versions = [p.effective for p in policy._versions.get(ev.name, ()) if p.effective is not None]
    out: dict[str, Any] = {"name": ev.name, "label": ev.label, "facts": [fact(f) for f in ev.facts],
                           "outputs": [v.name for v in ev.values if v.kind == "output"]}
    if versions:
        out["versions"] = [{"from": a.isoformat(), "until": b.isoformat() if b else None} for a, b in versions]
    return out


def fact(f: m.FactDecl) -> dict[str, Any]:
    """One fact declaration: `type` says what the form shows (number, integer, count, money,
    percent, points, boolean, text, enum, date, period, list, record)."""
    out: dict[str, Any] = {"name": f.name, "label": f.label, "rule": f.rule, **type_of(f.type)}
    if f.type.kind == "list":
        if f.type.fields:
            bounds = dict(f.field_bounds)
            out["fields"] = [{"name": name, "label": label, **type_of(t), **_bounds(bounds.get(name, ()))}
                             for name, t, label in f.type.fields]
        else:
            out["element"] = {**type_of(f.type.element), **_bounds(f.bounds)} if f.type.element else {}
        if f.limit is not None:
            out["at_most"] = f.limit
        if f.minimum is not None:
            out["at_least"] = f.minimum
        if f.total is not None:
            out["total"] = {"field": f.total[0], "value": x.to_string(f.total[1])}
    elif f.type.kind == "record":
        out["keys"] = list(f.type.keys)
        out["element"] = type_of(f.type.element) if f.type.element else {}
    else:
        out.update(_bounds(f.bounds))
    if f.cites:
        out["cites"] = list(f.cites)
    return out


def type_of(t: m.Type | None) -> dict[str, Any]:
    if t is None:
        return {"type": "number"}
    if t.kind == "number":
        return {"type": t.describe() if t.money in (0, 1, None) else "number"}
    if t.kind == "enum":
        return {"type": "enum", "values": list(t.values)}
    if t.kind == "period":
        return {"type": "period", "unit": t.values[0]}
    return {"type": t.kind}


def _bounds(bounds) -> dict[str, Any]:
    """`in 1..4` as {"min": "1", "max": "4"}; a bound that names a fact as {"max_fact": name}."""
    out: dict[str, Any] = {}
    names = {">=": "min", ">": "above", "<=": "max", "<": "below", "==": "equal", "!=": "not_equal"}
    for b in bounds:
        if b.op == "matching":
            out["pattern"] = b.value
            continue
        key = names.get(b.op)
        if key is None:
            continue
        value = b.value
        if isinstance(value, n.Number):
            out[key] = x.to_string(value.value)
        elif isinstance(value, n.DateLit):
            out[key] = value.text
        elif isinstance(value, n.Name):
            out[key + "_fact"] = value.name
    return out


def examples(policy: Policy) -> list[dict[str, Any]]:
    """The policy's examples with their fact sets (the `from` file and the `given` lines), as the
    JSON body an evaluation takes; an example whose facts cannot be read says why."""
    from .. import examples as ex_module
    out = []
    for ex in policy._model.examples:
        evaluation_name = ex.evaluation or policy.evaluations[0]
        entry: dict[str, Any] = {"name": ex.name, "evaluation": evaluation_name, "line": ex.span.line,
                                 "expects_errors": bool(ex.errors)}
        if ex.base is not None:
            entry["from"] = ex.base
        try:
            facts = ex_module.facts_of(ex, policy.path)
        except KpiRulesError as exc:
            entry["problem"] = str(exc)
            out.append(entry)
            continue
        declares = any(f.name == EVALUATION_DATE for ev in policy._model.evaluations if ev.name == evaluation_name
                       for f in ev.facts)
        if not declares and EVALUATION_DATE in facts:
            facts = dict(facts)
            entry["as_of"] = jsonable(facts.pop(EVALUATION_DATE))
        entry["facts"] = plain(facts)
        out.append(entry)
    return out


def plain(v):
    """Facts as JSON: numbers as exact decimal strings (which the fact reader takes as numbers)."""
    if isinstance(v, Decimal):
        return x.to_string(v) if v.is_finite() else str(v)
    if isinstance(v, dict):
        return {k: plain(val) for k, val in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(i) for i in v]
    return jsonable(v)
