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
from .compile import CALLS, Failure, Program
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
        return {name: convert(codegen.shown(raw[i]) if i in inexact and type(raw[i]) is Decimal else raw[i])
                for name, i, convert in plan}
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
    """(env, records): env maps every name to its exact value; with explain, records holds for
    each value (definition, value, events, function calls), which trace.py turns into the trace."""
    env = dict(facts)
    if not explain:
        for cv in program.values:
            try:
                env[cv.definition.name] = cv.run(env, None)
            except Failure as f:
                raise EvaluationError(f.message, cv.definition.name, f.span) from None
        return env, None
    records = []
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
        records.append((d, value, events, calls))
    env.pop(CALLS, None)
    return env, records


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


