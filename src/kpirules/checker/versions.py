"""Versions: effective dates of a table's rows or of an evaluation, in force one at a time.

Shared by the tables pass (rows `from DATE -> value`) and the names pass (`evaluation NAME
effective from DATE:`). A version is in force from its date to its `until`, or else to the day
before the next version. Versions may not overlap, nor leave a day uncovered after an `until`
(E319, with a witness date); a date that does not exist is E318.
"""

from __future__ import annotations

from datetime import date, timedelta

from .. import dates
from .. import nodes as n
from .state import State


def effective(st: State, v: n.Version) -> tuple[date, date | None] | None:
    """(from, until or None) of a version, or None after reporting a date that does not exist."""
    try:
        start = dates.parse_date(v.start.text)
        until = dates.parse_date(v.until.text) if v.until is not None else None
    except dates.DateProblem as problem:
        st.err("E318", f"`{v.span.text}` is not a date: {problem}", v.span, "write an existing day as YYYY-MM-DD")
        return None
    return start, until


def in_order(st: State, what: str, items: list) -> list:
    """`items` ((from, until), node) of one table or evaluation, checked and sorted by date; those
    that are not reported as broken."""
    kept = []
    for (start, until), node in items:
        if until is not None and until < start:
            st.err("E319", f"the version of {what} from {start} ends before it starts ({until})", node.span,
                   "write an `until` on or after the `from` date")
            continue
        kept.append(((start, until), node))
    kept.sort(key=lambda item: item[0][0])
    for i in range(1, len(kept)):
        (start, _), node = kept[i]
        (p_start, p_until), p_node = kept[i - 1]
        if start == p_start or (p_until is not None and start <= p_until):
            st.err("E319", f"versions of {what} overlap: {start} is in force in both", node.span,
                   f"the other is at line {p_node.span.line}; end it with `until` the day before")
        elif p_until is not None and start > p_until + timedelta(days=1):
            st.err("E319", f"versions of {what} leave a gap: no version is in force on "
                   f"{p_until + timedelta(days=1)}", node.span,
                   f"start this version on {p_until + timedelta(days=1)}, or end the one at line "
                   f"{p_node.span.line} on {start - timedelta(days=1)}")
    return kept


def in_force(versions, day: date):
    """The item of `versions` (((from, until), x) in date order) in force on `day`, or None."""
    found = None
    for item in versions:
        if item[0][0] <= day:
            found = item
    if found is not None and (found[0][1] is None or day <= found[0][1]):
        return found
    return None


def listing(versions) -> str:
    """`from 2026-01-01, from 2026-07-01 until 2026-12-31`: the versions there are, for messages."""
    return ", ".join(f"from {start.isoformat()}" + (f" until {until.isoformat()}" if until else "")
                     for (start, until), _ in versions)
