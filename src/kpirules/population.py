"""Firing statistics over a population (`kpirules run ... --stats STATS.json`).

For every decision point of the evaluation (coverage.py's sites: each ladder's sides, band,
table row, gate open/closed, cap and floor bit/not, conditional deduction, `only if` filter,
`if`), how many rows took each outcome; outcomes no row took are listed. A row counts once per
outcome of a site, however often the site is met in it (a filter over a list's lines).

A Counter is fed rows in workers and merged in the main process: its state is a plain dict
(`"site index|outcome" -> rows`), so that the journal of a run can carry it.
"""

from __future__ import annotations

import collections
from typing import Any

from . import coverage
from . import facts as fact_stage
from .runtime import AS_OF


class Counter:
    def __init__(self, program):
        found = coverage._Sites.__new__(coverage._Sites)
        policy = program.policy
        found.tables = {t.name: t for t in policy.tables}
        found.bands = {b.name: b for b in policy.bands}
        found.functions = {f.name: f for f in policy.functions}
        found.sites = {}
        found.by_rid = {}
        for v in program.evaluation.values:
            found._value(v)
        self.program = program
        self.found = found
        self.sites = found.ordered()
        self.index = {s.key: i for i, s in enumerate(self.sites)}
        self.counts: collections.Counter = collections.Counter()
        self.rows = 0

    def add(self, facts, as_of=None) -> None:
        """Count the outcomes one (valid) fact set takes."""
        from . import _as_of_date
        program = self.program
        valid, _ = fact_stage.validate(program.model, facts, program.check_facts)
        day = _as_of_date(as_of)
        if day is not None:
            valid = {**valid, AS_OF: day}
        _, records = program.traced(valid)
        seen = coverage._Seen(self.found)
        for record in records:
            seen.value(record)
        for key, outcomes in seen.seen.items():
            i = self.index.get(key)
            if i is None:
                continue
            for outcome in outcomes:
                self.counts[f"{i}|{outcome}"] += 1
        self.rows += 1

    def state(self) -> dict[str, Any]:
        return {"rows": self.rows, "counts": dict(self.counts)}

    def take(self) -> dict[str, Any]:
        """The state counted since the last take, and start again (what a worker sends back)."""
        out = self.state()
        self.counts = collections.Counter()
        self.rows = 0
        return out

    def merge(self, state: dict[str, Any]) -> None:
        self.rows += int(state.get("rows", 0))
        for k, n in (state.get("counts") or {}).items():
            self.counts[k] += int(n)

    def report(self) -> dict[str, Any]:
        ev = self.program.evaluation
        constructs = []
        never = []
        for i, site in enumerate(self.sites):
            outcomes = {str(o): self.counts.get(f"{i}|{o}", 0) for o in site.outcomes}
            constructs.append({"kind": site.kind, "what": site.head, "where": site.span.location(),
                               "rows": outcomes})
            for o in site.outcomes:
                if not outcomes[str(o)]:
                    never.append(f"{site.span.location()}: {site.message(o)}")
        return {"schema": "kpirules.stats/1", "evaluation": ev.name, "rows": self.rows,
                "constructs": constructs, "never_taken": never}
