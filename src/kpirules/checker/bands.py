"""Bands pass: each bands table covers its declared range exactly once, no gap, no overlap."""

from __future__ import annotations

from decimal import Decimal

from .. import model as m
from .. import nodes as n
from .state import State, fmt_any, literal

# Runs after names: only the first bands table of each name is checked (a second is E202).


def run(st: State) -> None:
    for name, b in st.band_nodes.items():
        st.bands[name] = _bands(st, b)


def _bands(st: State, b: n.Bands) -> m.BandsModel:
    """Bands must cover their declared range exactly once: no gap, no overlap, at exact edges."""
    low, high = literal(b.low), literal(b.high)
    if low is None or high is None or low > high:
        st.err("E315", f"bands `{b.name}` need a range of two numbers, low first", b.span,
               "write e.g. `bands grades in 0..100:`")
        return m.BandsModel(name=b.name, label=b.label, low=low or Decimal(0), high=high or Decimal(0),
                            bands=(), span=b.span)
    intervals = []
    for band in b.bands:
        lo = literal(band.low) if band.low is not None else None
        hi = literal(band.high) if band.high is not None else None
        if (band.low is not None and lo is None) or (band.high is not None and hi is None):
            st.err("E315", f"band `{band.name}` needs plain numbers as its edges", band.span)
            continue
        lo, lo_in = (low, True) if lo is None else (lo, band.low_inclusive)
        hi, hi_in = (high, True) if hi is None else (hi, band.high_inclusive)
        if lo > hi or (lo == hi and not (lo_in and hi_in)):
            st.err("E315", f"band `{band.name}` is empty", band.span, "its lower edge must be below its upper edge")
            continue
        intervals.append((lo, lo_in, hi, hi_in, band))
    names = [i[4].name for i in intervals]
    for dup in {x for x in names if names.count(x) > 1}:
        st.err("E202", f"bands `{b.name}` name `{dup}` twice", b.span)
    ordered = sorted(intervals, key=lambda i: (i[0], not i[1]))
    # Walk up from the range's low end. Covered so far: [low, at] when at_in, else [low, at).
    at, at_in = low, False
    prev: n.Band | None = None
    for lo, lo_in, hi, hi_in, band in ordered:
        if not (lo == at and lo_in != at_in):
            if lo > at or (lo == at and not lo_in and not at_in):
                witness = at if not at_in else (at + lo) / 2
                st.err("E315", f"bands `{b.name}` leave a gap: {fmt_any(witness)} falls in no band",
                       band.span, f"make `{prev.name}` end exactly where `{band.name}` begins"
                       if prev else f"start `{band.name}` at the low end of the range, {fmt_any(low)}")
            elif prev is None:
                # The first band reaches below the range: nothing to overlap with, but out of range.
                st.err("E315", f"band `{band.name}` of `{b.name}` starts below the range's low end "
                       f"{fmt_any(low)}", band.span,
                       f"start `{band.name}` at the low end of the range, {fmt_any(low)}")
            else:
                witness = at if lo == at else (lo + at) / 2
                st.err("E315", f"bands `{b.name}` overlap: {fmt_any(witness)} falls in both "
                       f"`{prev.name}` and `{band.name}`", band.span,
                       "each value must fall in exactly one band: end one with `below X` "
                       "and start the next with `from X`")
        if hi > at or (hi == at and hi_in and not at_in):
            at, at_in, prev = hi, hi_in, band
    if ordered and (at < high or not at_in):
        witness = at if not at_in else (at + high) / 2
        st.err("E315", f"bands `{b.name}` leave a gap: {fmt_any(witness)} falls in no band", b.span,
               f"the bands must reach the top of the range, {fmt_any(high)}, included")
    return m.BandsModel(name=b.name, label=b.label, low=low, high=high,
                        bands=tuple((band.name, lo, lo_in, hi, hi_in) for lo, lo_in, hi, hi_in, band in ordered),
                        span=b.span)
