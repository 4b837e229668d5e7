"""Ladders pass: shared ladders' step lines, and each `ladder ... using NAME` given the shared lines."""

from __future__ import annotations

import attrs

from .. import nodes as n
from .expressions import points
from .state import Ctx, State

# Runs after names (the shared ladders are declared) and before dependencies and types: the
# types pass checks an item as `using` made it, with the shared ladder's step lines in it.


def run(st: State) -> None:
    for lad in st.ladders.values():
        # A shared ladder stands outside every evaluation: its lines may name nothing.
        steps(st, lad.steps, Ctx(scope={}))
    for es in st.evaluations:
        with st.within(es.index):
            for sc in es.local_defs:
                if isinstance(sc, n.Scorecard):
                    for item in sc.items:
                        es.items[id(item)] = _using(st, item)


def steps(st: State, lines, ctx: Ctx) -> None:
    """A ladder's step lines: one per direction, points and a step that are plain numbers."""
    directions = set()
    for step in lines:
        if not isinstance(step, n.LadderStep):
            continue
        if step.direction in directions:
            st.err("E313", f"the ladder has two `{step.direction}` lines", step.span,
                   "keep one line per direction")
        directions.add(step.direction)
        points(st, step.points, ctx, "a ladder's points")
        points(st, step.step, ctx, "a ladder's step")
        if isinstance(step.step, n.Number) and step.step.value <= 0:
            st.err("E314", "a ladder's step must be greater than zero", step.step.span,
                   "write the size of one step, e.g. `per full 5% below`")


def _using(st: State, item: n.Item) -> n.Item:
    """`ladder ... using NAME` takes the shared ladder's step lines (and its citations)."""
    body = []
    for s in item.body:
        if isinstance(s, n.Ladder) and s.using is not None:
            shared = st.ladders.get(s.using)
            if shared is None:
                st.err("E216", f"unknown ladder `{s.using}`", s.using_span,
                       st.did_you_mean(s.using, st.ladders) or f"declare it with `ladder {s.using}:` "
                       "at the top of the policy, or import the module that has it")
            elif s.steps:
                st.err("E216", f"the ladder uses `{s.using}` and also has its own step lines", s.span,
                       "keep one of the two")
            else:
                s = attrs.evolve(s, steps=shared.steps, cites=shared.cites + s.cites)
        body.append(s)
    return attrs.evolve(item, body=tuple(body))
