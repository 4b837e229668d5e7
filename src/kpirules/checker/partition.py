"""Partitions: the ranges of a bands table or a tier schedule cover their domain exactly once.

Shared by the bands and tiers passes (checker/bands.py, checker/tiers.py): each reads its lines'
edges with `interval`, then `prove` walks the intervals up from the low end and reports the first
value of every gap or overlap (a witness), in the words of the construct (`Words`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs

from .state import State, fmt_any, literal


@attrs.frozen
class Words:
    """How a construct names itself in messages: `bands`/`band`/`range` or `tiers`/`tier`/`domain`."""
    code: str            # E315, E340
    many: str            # bands, tiers
    one: str             # band, tier
    whole: str           # range, domain
    overlap_help: str    # how to write two neighbours that do not overlap


def interval(st: State, w: Words, line, low: Decimal, high: Decimal):
    """(low, low included, high, high included) of a line with optional `low`/`high` edges (an
    open end is the domain's), or None after reporting an edge that is not a plain number or an
    empty interval."""
    lo = literal(line.low) if line.low is not None else None
    hi = literal(line.high) if line.high is not None else None
    if (line.low is not None and lo is None) or (line.high is not None and hi is None):
        st.err(w.code, f"{w.one} `{line.name}` needs plain numbers as its edges", line.span)
        return None
    lo, lo_in = (low, True) if lo is None else (lo, line.low_inclusive)
    hi, hi_in = (high, True) if hi is None else (hi, line.high_inclusive)
    if lo > hi or (lo == hi and not (lo_in and hi_in)):
        st.err(w.code, f"{w.one} `{line.name}` is empty", line.span, "its lower edge must be below its upper edge")
        return None
    return lo, lo_in, hi, hi_in


def prove(st: State, w: Words, owner, intervals: list, low: Decimal, high: Decimal,
          show: Callable[[Decimal], str] = fmt_any) -> list:
    """`intervals` ((lo, lo_in, hi, hi_in, line, ...) each) sorted by their low edges, after
    reporting every gap, overlap, line below the low end and uncovered top, each with a witness
    value (`show` writes it as the construct writes its edges)."""
    names = [i[4].name for i in intervals]
    for dup in sorted({x for x in names if names.count(x) > 1}):
        st.err("E202", f"{w.many} `{owner.name}` name `{dup}` twice", owner.span)
    ordered = sorted(intervals, key=lambda i: (i[0], not i[1]))
    # Walk up from the low end. Covered so far: [low, at] when at_in, else [low, at).
    at, at_in = low, False
    prev = None
    for lo, lo_in, hi, hi_in, line, *_ in ordered:
        if not (lo == at and lo_in != at_in):
            if lo > at or (lo == at and not lo_in and not at_in):
                witness = at if not at_in else (at + lo) / 2
                st.err(w.code, f"{w.many} `{owner.name}` leave a gap: {show(witness)} falls in no {w.one}",
                       line.span, f"make `{prev.name}` end exactly where `{line.name}` begins"
                       if prev else f"start `{line.name}` at the low end of the {w.whole}, {show(low)}")
            elif prev is None:
                # The first line reaches below the low end: nothing to overlap with, but outside.
                st.err(w.code, f"{w.one} `{line.name}` of `{owner.name}` starts below the {w.whole}'s low end "
                       f"{show(low)}", line.span, f"start `{line.name}` at the low end of the {w.whole}, {show(low)}")
            else:
                witness = at if lo == at else (lo + at) / 2
                st.err(w.code, f"{w.many} `{owner.name}` overlap: {show(witness)} falls in both "
                       f"`{prev.name}` and `{line.name}`", line.span, w.overlap_help)
        if hi > at or (hi == at and hi_in and not at_in):
            at, at_in, prev = hi, hi_in, line
    if ordered and (at < high or not at_in):
        witness = at if not at_in else (at + high) / 2
        st.err(w.code, f"{w.many} `{owner.name}` leave a gap: {show(witness)} falls in no {w.one}", owner.span,
               f"the {w.many} must reach the top of the {w.whole}, {show(high)}, included")
    return ordered
