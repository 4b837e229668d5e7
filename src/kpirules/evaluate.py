"""Evaluation stage: run a program's generated code on validated facts.

Pure: no clock, no I/O, no module state. Plain and traced runs are the same generated code
(codegen.py); the traced one also returns its records, which trace.py turns into the document.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from . import exact as x
from . import ir
from .dates import Period
from .errors import AssertionFailed, EvaluationError
from .program import Program
from .runtime import Failure


def run(program: Program, facts: dict, explain: bool = False):
    """(values, records): the exact value of every name of the evaluation, in its order; with
    explain, one (value, events, calls, x) record per value, else None."""
    try:
        if explain:
            values, records = program.traced(facts)
        else:
            values, records = program.plain(facts), None
    except Failure as f:
        at = program.evaluation.values[f.at].name if f.at >= 0 else program.evaluation.name
        if f.at >= 0 and program.evaluation.values[f.at].kind == "assert":
            raise AssertionFailed(f.message, at, f.span) from None
        raise EvaluationError(f.message, at, f.span, code=f.code) from None
    return values, records


def output_plan(evaluation: ir.Evaluation) -> tuple:
    """(name, index, converter, per) for each value, in written order; built once per evaluation.
    `per` is (list, key field) for a per-member value (`for each`), else None."""
    index = {v.name: i for i, v in enumerate(evaluation.values)}
    order = sorted(evaluation.values, key=lambda v: (v.span.end if v.kind == "scorecard" else v.span.start))
    plan = []
    for v in order:
        if v.kind == "assert":
            continue  # an assertion holds or stops the evaluation: it is no value of the result
        convert: Callable[[Any], Any]
        if v.type.kind != "number":
            convert = public_value
        elif v.keeps_digits:
            convert = x.to_decimal
        else:
            convert = x.canonical
        per = (v.per, v.key) if v.per is not None else None
        plan.append((v.name, index[v.name], convert, per))
    return tuple(plan)


def values_of(plan: tuple, raw: tuple, facts: dict) -> dict:
    """The values as the API returns them; a per-member value as a dict from each member's key
    to its value, in list order."""
    out = {}
    for name, i, convert, per in plan:
        if per is None:
            out[name] = convert(raw[i])
        else:
            lines, key = facts[per[0]], per[1]
            out[name] = {line[key]: convert(v) for line, v in zip(lines, raw[i], strict=True)}
    return out


def public_value(v, keep_digits=False):
    """A computed value as the API returns it: Decimal (see Value.keeps_digits), str, bool."""
    if isinstance(v, (bool, str, date, Period)):
        return v
    if isinstance(v, list):
        return [public_value(i) for i in v]
    if isinstance(v, dict):
        return {k: public_value(i) for k, i in v.items()}
    return x.to_decimal(v) if keep_digits else x.canonical(v)
