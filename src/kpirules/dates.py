"""Calendar: the one module that owns how policy dates and periods are read, counted and shown.

Dates are `datetime.date` values (proleptic Gregorian calendar); they are read only from ISO 8601
calendar dates written `YYYY-MM-DD` (nothing else: not `2026/07/01`, not `20260701`). A period is a
quarter (`2026-Q2`), a month (`2026-05`) or a year (`2026`): a `Period`, with its first and last
day. Day counts include both ends: from 2026-01-01 to 2026-01-01 is 1 day; an empty span (the end
before the start) is 0 days. Everything here is exact and reads no clock.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

# The built-in name of the date an evaluation is made as of (`kpirules eval --as-of DATE`,
# `Policy.evaluate(..., as_of=...)`): effective-dated tables looked up with it follow that date.
EVALUATION_DATE = "evaluation_date"
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"(\d{4})")
PERIOD_UNITS = ("quarter", "month", "year")
PERIOD_FORMS = {"quarter": "`2026-Q2`", "month": "`2026-05`", "year": "`2026`"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


class DateProblem(ValueError):
    """Text that is not a date (or period) of the expected form; the message says why, for people."""


def parse_date(text: str) -> date:
    """`2026-07-01` as a date; DateProblem for another form or a day that does not exist."""
    m = _ISO.fullmatch(text)
    if m is None:
        raise DateProblem("write a date as YYYY-MM-DD, e.g. 2026-07-01")
    year, month, day = (int(g) for g in m.groups())
    if not 1 <= month <= 12:
        raise DateProblem(f"there is no month {month:02d}")
    last = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if year < 1:
        raise DateProblem("the year must be 0001 or later")
    if not 1 <= day <= last:
        raise DateProblem(f"{_MONTHS[month - 1]} {year} has {last} days")
    return date(year, month, day)


@attrs.frozen
class Period:
    """A quarter, a month or a year of the calendar."""
    unit: str      # quarter, month or year
    year: int
    index: int     # the quarter 1..4, the month 1..12, or 1 for a year

    @property
    def first_day(self) -> date:
        if self.unit == "year":
            return date(self.year, 1, 1)
        month = self.index if self.unit == "month" else 3 * self.index - 2
        return date(self.year, month, 1)

    @property
    def last_day(self) -> date:
        if self.unit == "year":
            return date(self.year, 12, 31)
        month = self.index if self.unit == "month" else 3 * self.index
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def days(self) -> Decimal:
        return Decimal((self.last_day - self.first_day).days + 1)

    def __str__(self) -> str:
        if self.unit == "year":
            return f"{self.year:04d}"
        if self.unit == "quarter":
            return f"{self.year:04d}-Q{self.index}"
        return f"{self.year:04d}-{self.index:02d}"


def parse_period(text: str, unit: str) -> Period:
    """`2026-Q2`, `2026-05` or `2026` as the period of `unit`; DateProblem otherwise."""
    pattern = {"quarter": _QUARTER, "month": _MONTH, "year": _YEAR}[unit]
    m = pattern.fullmatch(text)
    if m is None:
        raise DateProblem(f"write a {unit} as {PERIOD_FORMS[unit]}")
    year = int(m.group(1))
    if year < 1:
        raise DateProblem("the year must be 0001 or later")
    index = int(m.group(2)) if unit != "year" else 1
    if unit == "month" and not 1 <= index <= 12:
        raise DateProblem(f"there is no month {index:02d}")
    return Period(unit, year, index)


# ---- what formulas can ask of dates (checker.expressions types them, runtime calls them) --------

def days_between(start: date, end: date) -> Decimal:
    """Days from `start` to `end`, both included; 0 when `end` is before `start`."""
    return Decimal(max((end - start).days + 1, 0))


def _whole(v, what: str) -> int:
    """A whole number given to a calendar function (a Decimal from the policy's arithmetic)."""
    if abs(v) > 10**9:  # compared before any conversion whose cost grows with the number
        raise DateProblem(f"{what} must be a whole number of at most 9 digits")
    if v != int(v):
        raise DateProblem(f"{what} must be a whole number, not {v}")
    return int(v)


def _year_of(v) -> int:
    """A year given as a date or as a whole number (`2026`)."""
    if isinstance(v, date):
        return v.year
    year = _whole(v, "a year")
    if not 1 <= year <= 9999:
        raise DateProblem(f"there is no year {year} in the calendar (1 to 9999)")
    return year


def is_leap_year(v) -> bool:
    return calendar.isleap(_year_of(v))


def days_in_year(v) -> Decimal:
    return Decimal(366 if calendar.isleap(_year_of(v)) else 365)


def first_day_of_year(v) -> date:
    return date(_year_of(v), 1, 1)


def last_day_of_year(v) -> date:
    return date(_year_of(v), 12, 31)


def first_day_of_quarter(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def last_day_of_quarter(d: date) -> date:
    month = 3 * ((d.month - 1) // 3) + 3
    return date(d.year, month, calendar.monthrange(d.year, month)[1])


def first_day_of_month(d: date) -> date:
    return date(d.year, d.month, 1)


def last_day_of_month(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def year_of(d: date) -> Decimal:
    return Decimal(d.year)


def quarter_of(d: date) -> Decimal:
    return Decimal((d.month - 1) // 3 + 1)


def month_of(d: date) -> Decimal:
    return Decimal(d.month)


def first_day_of(p: Period) -> date:
    return p.first_day


def last_day_of(p: Period) -> date:
    return p.last_day


def days_in(p: Period) -> Decimal:
    return p.days


def date_of(year, month, day) -> date:
    """`date_of(year, 7, 1)`: a date from numbers (an evaluation error if the day does not exist)."""
    y, mo, d = _whole(year, "a year"), _whole(month, "a month"), _whole(day, "a day")
    if not (1 <= y <= 9999 and 1 <= mo <= 12 and 1 <= d <= 31):
        raise DateProblem(f"{y}-{mo}-{d} is not a date")
    return parse_date(f"{y:04d}-{mo:02d}-{d:02d}")


# name -> (function, argument kinds, result kind); a kind "year" accepts a date or a whole number.
FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[str, ...], str]] = {
    "year_of": (year_of, ("date",), "integer"),
    "quarter_of": (quarter_of, ("date",), "integer"),
    "month_of": (month_of, ("date",), "integer"),
    "first_day_of_year": (first_day_of_year, ("year",), "date"),
    "last_day_of_year": (last_day_of_year, ("year",), "date"),
    "first_day_of_quarter": (first_day_of_quarter, ("date",), "date"),
    "last_day_of_quarter": (last_day_of_quarter, ("date",), "date"),
    "first_day_of_month": (first_day_of_month, ("date",), "date"),
    "last_day_of_month": (last_day_of_month, ("date",), "date"),
    "days_in_year": (days_in_year, ("year",), "count"),
    "is_leap_year": (is_leap_year, ("year",), "boolean"),
    "first_day_of": (first_day_of, ("period",), "date"),
    "last_day_of": (last_day_of, ("period",), "date"),
    "days_in": (days_in, ("period",), "count"),
    "date_of": (date_of, ("integer", "integer", "integer"), "date"),
}


def show(v) -> str:
    """A date or a period as written: `2026-07-01`, `2026-Q2`."""
    return v.isoformat() if isinstance(v, date) else str(v)


__all__ = ["DateProblem", "Period", "parse_date", "parse_period", "days_between", "FUNCTIONS", "show"]
