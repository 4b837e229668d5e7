"""Policy examples: run the `example` blocks written in policy files (`kpirules test`).

An example gives facts (optionally on top of a JSON fact file) and the values, or the fact
errors, it expects. A failing example reports expected against actual and the explanation of
each value that differs, so a policy author sees why without reading Python.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import attrs

from . import nodes as n
from .dates import EVALUATION_DATE
from .errors import EvaluationError, FactError, KpiRulesError, UsageError
from .render import text as text_renderer
from .result import jsonable


@attrs.frozen(kw_only=True)
class Mismatch:
    name: str
    expected: object
    actual: object
    explanation: str


@attrs.frozen(kw_only=True)
class CaseResult:
    path: str
    name: str
    evaluation: str
    line: int
    passed: bool
    mismatches: tuple = ()
    problem: str | None = None  # an error that stopped the example

    def render(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        head = f"{verdict} {self.path}:{self.line}: example \u201c{self.name}\u201d ({self.evaluation})"
        if self.passed:
            return head
        lines = [head]
        if self.problem:
            lines.extend("    " + ln for ln in self.problem.splitlines())
        for mm in self.mismatches:
            lines.append(f"    `{mm.name}`: expected {_show(mm.expected)}, got {_show(mm.actual)}")
            lines.extend("      " + ln for ln in mm.explanation.splitlines())
        return "\n".join(lines)


def _show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if v is None:
        return "nothing"
    if isinstance(v, dict):  # a per-member value: {E01: 2694.78, E02: 2987.70}
        return "{" + ", ".join(f"{k}: {_show(i)}" for k, i in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_show(i) for i in v) + "]"
    return str(v)


def facts_of(example: n.Example, policy_path: str) -> dict:
    """The example's fact set: its base file (relative to the policy), then each `given`."""
    facts: dict = {}
    if example.base is not None:
        from . import read_facts
        base = Path(policy_path).parent / example.base
        facts = read_facts(base)
    facts = copy.deepcopy(dict(facts))
    for path, value in example.given:
        target = facts
        for key in path[:-1]:
            nxt = target.get(key)
            if not isinstance(nxt, dict):
                nxt = {}
                target[key] = nxt
            target = nxt
        target[path[-1]] = _fact_value(value)
    return facts


def _fact_value(value):
    """Example literals are exact already; lists and records are copied as plain containers."""
    if isinstance(value, list):
        return [_fact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _fact_value(v) for k, v in value.items()}
    return value


def _equal(expected, actual) -> bool:
    if isinstance(expected, Decimal) and isinstance(actual, Decimal):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


def run(policy) -> list:
    """Every example of a loaded policy, as CaseResults (in written order)."""
    out = []
    path = policy.path
    for ex in policy._model.examples:
        evaluation = ex.evaluation or policy.evaluations[0]
        line = ex.span.line
        try:
            facts = facts_of(ex, path)
        except KpiRulesError as exc:
            out.append(CaseResult(path=path, name=ex.name, evaluation=evaluation, line=line, passed=False,
                                  problem=f"cannot read the example's facts: {exc}"))
            continue
        out.append(_run_one(policy, ex, evaluation, facts, path, line))
    return out


def _as_of(policy, evaluation: str, facts: dict):
    """(facts, as-of date): `given evaluation_date = 2026-07-01` in an example is the date it is
    evaluated as of, unless the evaluation declares a fact of that name."""
    declares = any(f.name == EVALUATION_DATE for ev in policy._model.evaluations if ev.name == evaluation
                   for f in ev.facts)
    if declares or EVALUATION_DATE not in facts:
        return facts, None
    rest = dict(facts)
    return rest, rest.pop(EVALUATION_DATE)


def _run_one(policy, ex: n.Example, evaluation, facts, path, line) -> CaseResult:
    def result(passed, mismatches=(), problem=None):
        return CaseResult(path=path, name=ex.name, evaluation=evaluation, line=line, passed=passed,
                          mismatches=tuple(mismatches), problem=problem)
    facts, as_of = _as_of(policy, evaluation, facts)
    try:
        res = policy.evaluate(facts, evaluation=evaluation, as_of=as_of)
    except FactError as exc:
        if not ex.errors:
            return result(False, problem="the facts were refused:\n" + exc.render())
        paths = [v.path for v in exc.violations]
        missing = [p for p, _span in ex.errors if not any(_under(v, p) for v in paths)]
        if missing:
            return result(False, problem="expected an error at " + ", ".join(f"`{p}`" for p in missing)
                          + "; the facts were refused for:\n" + exc.render())
        return result(True)
    except EvaluationError as exc:
        return result(False, problem=exc.render())
    except UsageError as exc:
        return result(False, problem=str(exc))
    if ex.errors:
        return result(False, problem="expected the facts to be refused at "
                      + ", ".join(f"`{p}`" for p, _ in ex.errors) + "; they were accepted")
    differing = [(name, expected) for name, expected, _span in ex.expect
                 if not _equal(expected, res.values.get(name))]
    if not differing:
        return result(True)
    explained = policy.evaluate(facts, evaluation=evaluation, explain=True, as_of=as_of).to_json()
    nodes = {node["name"]: node for node in explained["trace"]["nodes"]}
    mismatches = []
    for name, expected in differing:
        node = nodes.get(name)
        explanation = text_renderer.visible_lines(text_renderer.render_node(node)) if node is not None else ""
        mismatches.append(Mismatch(name=name, expected=expected, actual=res.values.get(name),
                                   explanation=explanation))
    return result(False, mismatches)


def _under(violation_path: str, expected: str) -> bool:
    return violation_path == expected or violation_path.startswith((expected + ".", expected + "["))


__all__ = ["run", "CaseResult", "Mismatch", "facts_of", "jsonable"]
