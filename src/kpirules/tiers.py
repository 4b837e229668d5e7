"""Tier schedules: what `marginal` and `retroactive` compute from a checked `tiers` schedule.

The one statement of their meaning (generated code calls `apply` through runtime.tiers):

- the schedule's edges are in the value's own unit, or, with `of BASE`, fractions of BASE
  (`100%` of quota); the value must lie in the declared domain, both ends included;
- **marginal**: each tier earns its rate on the part of the value inside it,
  `max(0, min(value, high) - low) × rate`, so the amount is continuous in the value;
- **retroactive**: the tier holding the value (its edges as declared: `from`/`to` include,
  `above`/`below` exclude) earns its rate on the whole value; every other tier earns 0.

Exact: edges, parts and amounts are exact numbers (exact.py); nothing is rounded here.
"""

from __future__ import annotations

from . import exact as x


class OutsideDomain(ValueError):
    """The value lies outside the schedule's domain (or the base cannot scale it)."""


def holds(lo, lo_in: bool, hi, hi_in: bool, value) -> bool:
    return (value > lo or (lo_in and value == lo)) and (value < hi or (hi_in and value == hi))


def apply(schedule, mode: str, tier: str | None, value, base):
    """(amount, rows, reached): the schedule applied to `value` (scaled by `base` when given).

    rows: one (name, low, low_included, high, high_included, part, rate, amount) per tier, with
    low and high in the value's unit; reached: the name of the tier holding the value.
    """
    if base is not None and not base > 0:
        raise OutsideDomain(f"the base of tiers `{schedule.name}` is {x.to_string(x.canonical(base))}; "
                            "tiers written as percentages of a base need a base greater than zero")

    def scaled(edge):
        return edge if base is None else x.mul(edge, base)

    low, high = scaled(schedule.low), scaled(schedule.high)
    if value < low or value > high:
        if base is None:
            raise OutsideDomain(f"{_show(value)} is outside the domain {_show(low)}..{_show(high)} of tiers "
                                f"`{schedule.name}`")
        raise OutsideDomain(f"{_show(value)} is outside the domain {_pct(schedule.low)}..{_pct(schedule.high)} "
                            f"of tiers `{schedule.name}` ({_show(low)}..{_show(high)} with a base of {_show(base)})")
    rows = []
    reached = None
    total = x.ZERO
    for name, _label, lo, lo_in, hi, hi_in, rate in schedule.tiers:
        lo, hi = scaled(lo), scaled(hi)
        inside = holds(lo, lo_in, hi, hi_in, value)
        if inside and reached is None:
            reached = name
        if mode == "marginal":
            part = x.sub(min(value, hi), lo) if value > lo else x.ZERO
        else:
            part = value if inside and reached == name else x.ZERO
        amount = x.mul(part, rate)
        total = x.add(total, amount)
        rows.append((name, lo, lo_in, hi, hi_in, part, rate, amount))
    if tier is not None:
        amount = next(r[7] for r in rows if r[0] == tier)
    else:
        amount = total
    return amount, tuple(rows), reached


def _show(v) -> str:
    return x.to_string(x.canonical(v))


def _pct(v) -> str:
    return x.to_string(x.canonical(x.mul(v, x.Decimal(100)))) + "%"
