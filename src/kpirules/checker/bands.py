"""Bands pass: each bands table covers its declared range exactly once, no gap, no overlap."""

from __future__ import annotations

from decimal import Decimal

from .. import model as m
from .. import nodes as n
from . import partition
from .state import State, literal

_WORDS = partition.Words(code="E315", many="bands", one="band", whole="range",
                         overlap_help="each value must fall in exactly one band: end one with `below X` "
                                      "and start the next with `from X`")

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
        edges = partition.interval(st, _WORDS, band, low, high)
        if edges is not None:
            intervals.append((*edges, band))
    ordered = partition.prove(st, _WORDS, b, intervals, low, high)
    return m.BandsModel(name=b.name, label=b.label, low=low, high=high,
                        bands=tuple((band.name, lo, lo_in, hi, hi_in) for lo, lo_in, hi, hi_in, band in ordered),
                        span=b.span)
