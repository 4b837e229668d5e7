"""Result stage: the values of one evaluation, its trace, and their JSON form (a contract)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import attrs

from . import exact as x
from .source import Span


@attrs.frozen(kw_only=True)
class Result:
    """What `Policy.evaluate` returns.

    `values` maps every computed name (values, items, scorecards, outputs) to a Decimal, str or
    bool. `trace` is the explanation when asked for (the `kpirules.trace/1` document of
    trace.py, see docs/trace-schema.json), else None.
    """
    policy: dict
    evaluation: str
    values: dict
    outputs: tuple
    trace: list | None = None
    facts: dict = attrs.field(factory=dict, repr=False)
    warnings: tuple = ()

    def node(self, name: str) -> dict:
        """The trace node of value `name` (with explain=True), with its children."""
        if self.trace is None:
            raise ValueError("this result has no trace: evaluate with explain=True")
        for node in self.trace["nodes"]:
            if node["name"] == name:
                return node
        raise KeyError(name)

    def to_json(self, stamp: dict | None = None) -> dict:
        """The JSON form (a contract): policy, evaluation, values, [warnings], [stamp], [trace].

        `stamp` is the reproducibility stamp of stamp.py (`kpirules.stamp.make(result.policy,
        facts)`); the command line adds it to every JSON result.
        """
        out = {
            "policy": dict(self.policy),
            "evaluation": self.evaluation,
            "values": {k: jsonable(v) for k, v in self.values.items()},
        }
        if self.warnings:
            out["warnings"] = [w.as_json() for w in self.warnings]
        if stamp is not None:
            out["stamp"] = dict(stamp)
        if self.trace is not None:
            out["trace"] = jsonable(self.trace)
        return out


def jsonable(v):
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
        return {k: jsonable(val) for k, val in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(i) for i in v]
    return str(v)
