"""Weights pass: a scorecard's item weights add up to the total it declares."""

from __future__ import annotations

from decimal import Decimal

from .. import nodes as n
from .state import State, fmt

# Needs only the names pass (which scorecards each evaluation declares).


def run(st: State) -> None:
    for es in st.evaluations:
        for sc in es.local_defs:
            if isinstance(sc, n.Scorecard) and sc.total is not None:
                total = sum((item.weight for item in sc.items), Decimal(0))
                if total != sc.total:
                    st.err("E310", f"item weights of `{sc.name}` add up to {fmt(total)}, not the declared "
                           f"total {fmt(sc.total)}", sc.name_span,
                           "change a weight, or the `total` of the scorecard")
