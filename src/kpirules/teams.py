"""Team arithmetic for generated code: allocation by the largest-remainder method, and ranking.

Both work on a whole column (one value per member, in list order) and return one result per
member plus what the explanation shows. Every number is exact (exact.py): shares are fractions
until they are cut to the quantum, and ranks compare values exactly.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from . import exact as x


class TeamProblem(ValueError):
    """A column that cannot be allocated or ranked (runtime turns it into an evaluation error)."""


def _fraction(v) -> Fraction:
    # A plain Fraction, never exact.py's Ratio: a Ratio's product that ends is a Decimal, and
    # `Decimal / Fraction` has no meaning (an amount of 0.5元 / 7 on a weight of 0 crashed).
    return v if type(v) is Fraction else Fraction(v)


def allocate(amount, weights: list, quantum: Decimal, ties: str) -> tuple[list, dict]:
    """(paid part of each member, details): `amount` split in proportion to `weights`.

    Each member's exact share is amount x weight / (sum of weights). It is cut down to a
    multiple of `quantum`; the quanta left over (amount - sum of the cut shares, in whole
    quanta) go one each to the members with the largest remainders, equal remainders to the
    member listed first (`ties` "first") or last ("last"). So the parts add up to the amount,
    less what is below one quantum, and no part differs from its exact share by a quantum or
    more. All weights 0: every part is 0 and nothing is allocated. A negative weight or amount
    is refused: a share of it has no meaning.
    """
    if amount < 0:
        raise TeamProblem(f"the amount to allocate is negative ({x.to_string(x.settle(amount))})")
    for i, w in enumerate(weights):
        if w < 0:
            raise TeamProblem(f"the weight of member {i + 1} is negative ({x.to_string(x.settle(w))})")
    q = Fraction(quantum)
    whole = _fraction(amount)
    total = sum((_fraction(w) for w in weights), Fraction(0))
    zero = quantum * 0  # a zero with the quantum's digits: `0.00`
    n = len(weights)
    if total == 0:
        members = [{"weight": x.settle(w), "share": x.ZERO, "cut": zero, "remainder": x.ZERO,
                    "leftover": False, "paid": zero} for w in weights]
        return [zero] * n, {"total_weight": x.ZERO, "leftover": 0, "unallocated": x.settle(whole),
                            "members": members, "quantum": quantum, "ties": ties}
    shares = [whole * _fraction(w) / total for w in weights]
    units = [s.numerator * q.denominator // (s.denominator * q.numerator) for s in shares]  # floor(s / q)
    remainders = [s - u * q for s, u in zip(shares, units, strict=True)]
    left = int((whole - sum(units) * q) // q)  # < n: each remainder is below one quantum
    sign = 1 if ties == "first" else -1  # equal remainders: the member listed first (or last) first
    order = sorted(range(n), key=lambda i: (-remainders[i], sign * i))
    extra = set(order[:left])
    paid = [_quanta(units[i] + (1 if i in extra else 0), quantum) for i in range(n)]
    members = [{"weight": x.settle(weights[i]), "share": x.settle(shares[i]), "cut": _quanta(units[i], quantum),
                "remainder": x.settle(remainders[i]), "leftover": i in extra, "paid": paid[i]} for i in range(n)]
    allocated = sum(units) * q + left * q
    return paid, {"total_weight": x.settle(total), "leftover": left, "unallocated": x.settle(whole - allocated),
                  "members": members, "quantum": quantum, "ties": ties}


def _quanta(count: int, quantum: Decimal) -> Decimal:
    """count x quantum, exactly, with the quantum's digits (`1234.50`)."""
    sign, digits, exponent = quantum.as_tuple()
    assert isinstance(exponent, int)  # a checked quantum is finite
    unit = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    return Decimal(count * unit).scaleb(exponent)


def rank(values: list, kind: str, order: str) -> tuple[list, dict]:
    """(place of each member, details), comparing `values` exactly.

    kind "rank": 1 + how many are better (equal values share a place, the next skips: 1, 2, 2, 4);
    "dense": 1 + how many distinct better values (1, 2, 2, 3); "ordinal": equal values in list
    order (1, 2, 3, 4); "percentile": the share of the others whose value is lower (SQL's
    PERCENT_RANK: (rank from the lowest - 1) / (n - 1), 0 for a single member). `order` says
    whether the highest or the lowest value comes first (percentiles always count lower values).
    """
    n = len(values)
    if kind == "percentile":
        ascending = sorted(range(n), key=lambda i: values[i])
        lower = _better_counts(values, ascending, lambda a, b: a < b)
        places = [x.ZERO if n == 1 else x.settle(Fraction(lower[i], n - 1)) for i in range(n)]
        return places, {"kind": kind, "order": "lowest", "count": n, "lower": lower}
    highest = order == "highest"
    ranked = sorted(range(n), key=lambda i: values[i], reverse=highest)
    # sorted(reverse=True) keeps equal values in list order too (the sort is stable): "ordinal".
    better = (lambda a, b: a > b) if highest else (lambda a, b: a < b)
    if kind == "ordinal":
        places_int = [0] * n
        for place, i in enumerate(ranked, start=1):
            places_int[i] = place
    elif kind == "dense":
        places_int = [0] * n
        place, prev = 0, None
        for i in ranked:
            if prev is None or better(values[prev], values[i]):
                place += 1
            places_int[i] = place
            prev = i
    else:
        counts = _better_counts(values, ranked, better)
        places_int = [c + 1 for c in counts]
    tied: dict = {}
    for i in range(n):
        tied[values[i]] = tied.get(values[i], 0) + 1
    return [Decimal(p) for p in places_int], {"kind": kind, "order": order, "count": n,
                                              "tied": [tied[v] for v in values]}


def _better_counts(values: list, ordered: list, better) -> list[int]:
    """For each member, how many members have a better value; `ordered` is best first."""
    out = [0] * len(values)
    prev = None
    start = 0
    for k, i in enumerate(ordered):
        if prev is None or better(values[prev], values[i]):
            start = k
        out[i] = start
        prev = i
    return out
