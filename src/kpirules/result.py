"""Result stage: the values of one evaluation, its trace, and their JSON form (a contract)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, NotRequired, TypedDict

import attrs

from . import exact as x
from .errors import FactViolation
from .source import Span

Value = Decimal | str | bool


class TraceNode(TypedDict):
    """One node of the explanation: a fact (`input`), a computed value, or what shaped one.

    Numbers are exact (`Decimal`, or `fractions.Fraction` for a value with no finite decimal
    expansion); `result.to_json()` writes them as decimal strings. docs/trace-schema.json is
    the reference for every field.
    """
    id: str
    kind: str
    name: str
    label: str | None
    display: str
    formula: str | None
    working: str | None
    reads: list[dict[str, Any]]
    result: Any
    exact: str | None
    span: Span | None
    cites: list[str]
    notes: list[str]  # the author's own words (`note`), never the source's
    reason: dict[str, Any]
    children: list[TraceNode]
    # Items only (kind "item"):
    weight: NotRequired[Decimal]
    tags: NotRequired[list[str]]
    scorecard: NotRequired[str | None]  # always the item's scorecard (None only on other values)
    # Per-member values (`for each`) only: the list whose members they are; `result` is then an
    # object from each member's key to its value, in list order.
    per: NotRequired[str]


class Trace(TypedDict):
    """The `kpirules.trace/1` document of one evaluation (docs/trace-schema.json)."""
    schema: str
    policy: dict[str, Any]
    evaluation: dict[str, Any]
    inputs: list[TraceNode]
    nodes: list[TraceNode]


@attrs.frozen(kw_only=True)
class Result:
    """What `Policy.evaluate` returns.

    `values` maps every computed name (values, items, scorecards, outputs) to a Decimal, str or
    bool. `trace` is the explanation when asked for (the `kpirules.trace/1` document of
    trace.py, see docs/trace-schema.json), else None.
    """
    policy: dict[str, str | None]
    evaluation: str
    values: dict[str, Value]
    outputs: tuple[str, ...]
    trace: Trace | None = None
    facts: dict[str, Any] = attrs.field(factory=dict, repr=False)
    warnings: tuple[FactViolation, ...] = ()
    as_of: date | None = None  # the date the evaluation was made as of, when one was given
    version: tuple[date, date | None] | None = None  # the version of the evaluation that applied

    def node(self, name: str) -> TraceNode:
        """The trace node of value `name` (with explain=True), with its children."""
        if self.trace is None:
            raise ValueError("this result has no trace: evaluate with explain=True")
        for node in self.trace["nodes"]:
            if node["name"] == name:
                return node
        raise KeyError(name)

    def to_json(self, stamp: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON form (a contract): policy, evaluation, values, [warnings], [stamp], [trace].

        `stamp` is the reproducibility stamp of stamp.py (`kpirules.stamp.make(result.policy,
        facts)`); the command line adds it to every JSON result.
        """
        out: dict[str, Any] = {
            "policy": dict(self.policy),
            "evaluation": self.evaluation,
            "values": {k: jsonable(v) for k, v in self.values.items()},
        }
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        if self.version is not None:
            start, until = self.version
            out["evaluation_version"] = {"from": start.isoformat(), "until": until.isoformat() if until else None}
        if self.warnings:
            out["warnings"] = [w.as_json() for w in self.warnings]
        if stamp is not None:
            out["stamp"] = dict(stamp)
            if "explained" not in stamp:  # whether this result carries its trace (stamp.make)
                keys = list(stamp)
                at = keys.index("facts_sha256") + 1 if "facts_sha256" in keys else len(keys)
                items = list(stamp.items())
                out["stamp"] = dict(items[:at] + [("explained", self.trace is not None)] + items[at:])
        if self.trace is not None:
            out["trace"] = jsonable(self.trace)
        return out


def jsonable(v: Any) -> Any:
    """Exact values as decimal strings; spans as file/line/column; everything else as is."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (Decimal, Fraction)):
        return x.to_string(v)
    if isinstance(v, int):
        return v  # list indices and counts of the trace itself; policy numbers are Decimals
    if isinstance(v, Span):
        return v.as_json()
    if isinstance(v, dict):
        # A per-member value keyed by a whole number (`keyed by no`): JSON keys are texts.
        return {(k if isinstance(k, str) else x.to_string(k) if isinstance(k, Decimal) else k): jsonable(val)
                for k, val in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(i) for i in v]
    return str(v)
