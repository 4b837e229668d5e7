"""Runtime of generated code: the engine's decimal context and the exact fallbacks it calls.

Generated code (codegen.py) computes with plain Decimal operators under ENGINE, a context that
traps `Inexact`: a result that fits is exact, and one that would be rounded (2/3, a product of
two 50-digit numbers) raises instead. Each operation catches that (and the TypeError of mixing a
Decimal with a Fraction) and calls the fallback here, which computes the same operation exactly
with fractions (exact.py). So every value is exact, decided per operation, whatever the caller's
own `decimal` context says; nothing is ever cut to a number of digits except by a declared
rounding.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow, localcontext

from . import dates, teams
from . import exact as x
from . import tiers as _tiers
from .limits import MAX_COMPUTE_EXPONENT, MAX_ROUND_EXPONENT

# Operations whose exact result fits in PRECISION digits stay Decimal; the others become
# fractions (exact.py settles a fraction back to a Decimal when its expansion terminates).
PRECISION = 80
ENGINE = Context(prec=PRECISION, rounding=ROUND_HALF_EVEN, Emax=999999, Emin=-999999,
                 traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
# Where the evaluation's as-of date travels in the facts given to generated code (no fact can
# have this name).
AS_OF = "\0as_of"
ZERO = Decimal(0)
ONE = Decimal(1)
D = Decimal

__all__ = ["ENGINE", "localcontext", "Failure"]


class Failure(Exception):
    """A value cannot be computed for these facts; `span` says which part of the policy.

    `at` is the index of the value being computed, filled in by the generated function.
    """

    def __init__(self, message: str, span, code: str = "R001"):
        super().__init__(message)
        self.message = message
        self.span = span
        self.code = code
        self.at = -1


def _too_large(span) -> Failure:
    return Failure(f"a number in `{span.text}` is too large to compute with (more than 10^999999)", span)


settle = x.settle  # a computed number in its canonical type: Decimal, or Ratio when endless


def _exact(fn, a, b, span):
    # The exact fallback's cost grows with the square of its operands' digits: past
    # MAX_COMPUTE_EXPONENT (limits.py) an operand is refused (R003) before anything is computed.
    if _huge(a) or _huge(b):
        raise Failure(f"a number in `{span.text}` has more than {MAX_COMPUTE_EXPONENT} digits; values are "
                      f"limited to smaller ones (check the facts and the formula)", span, code="R003")
    try:
        return fn(a, b)
    except x.DivideByZero:
        raise Failure(f"division by zero in `{span.text}`", span) from None
    except (Overflow, InvalidOperation, OverflowError):
        raise _too_large(span) from None


def add(a, b, span):
    return _exact(x.add, a, b, span)


def sub(a, b, span):
    return _exact(x.sub, a, b, span)


def mul(a, b, span):
    return _exact(x.mul, a, b, span)


def div(a, b, span):
    return _exact(x.div, a, b, span)


def quotient(a, b, span):
    """A division by a value known only at run time (see exact.quotient)."""
    try:
        return x.quotient(a, b)
    except x.DivideByZero:
        raise Failure(f"division by zero in `{span.text}`", span) from None


def neg(a, span):
    return x.neg(a)


def absolute(a, span):
    return a if a >= 0 else neg(a, span)


def total(values, span):
    """`sum(list)`: exact, in the list's order."""
    acc = ZERO
    for v in values:
        try:
            acc = acc + v
        except (ArithmeticError, TypeError):
            acc = add(acc, v, span)
    return acc


def floor_steps(q) -> Decimal:
    return Decimal(math.floor(q))


def ceil_steps(q) -> Decimal:
    return Decimal(math.ceil(q))


def round_to(v, quantum: Decimal, mode: str, span):
    if _too_large_to_round(v):
        raise Failure(f"the value reaching `{span.text}` is 10^{MAX_ROUND_EXPONENT} or more; rounding is "
                      f"limited to smaller values (check the facts and the formula)", span, code="R002")
    try:
        return x.round_to(v, quantum, mode)
    except (Overflow, InvalidOperation, OverflowError):
        raise _too_large(span) from None


_ROUND_LIMIT = 10**MAX_ROUND_EXPONENT
_COMPUTE_BITS = int(MAX_COMPUTE_EXPONENT * 3.3219280948873626) + 1  # log2(10)


def _huge(v) -> bool:
    """Whether an operand is past MAX_COMPUTE_EXPONENT digits (on its exponent or its integers'
    bit lengths: nothing is computed with it)."""
    if type(v) is Decimal:
        return v.is_finite() and bool(v) and abs(v.adjusted()) > MAX_COMPUTE_EXPONENT
    try:
        return v.numerator.bit_length() + v.denominator.bit_length() > _COMPUTE_BITS
    except AttributeError:
        return False


def _too_large_to_round(v) -> bool:
    """Whether |v| >= 10^MAX_ROUND_EXPONENT (R002): checked on the exponent or the integers,
    never by computing with the value."""
    if type(v) is Decimal:
        return v.is_finite() and bool(v) and v.adjusted() >= MAX_ROUND_EXPONENT
    try:
        num, den = v.numerator, v.denominator
    except AttributeError:
        return False
    return abs(num) >= _ROUND_LIMIT * den


def no_row(table: str, key, span):
    shown = key if isinstance(key, str) else x.to_string(key)
    return Failure(f"table `{table}` has no row for `{shown}`", span)


def band(bands, value, span):
    """The row (name, low, low_included, high, high_included) of the band that holds `value`."""
    for row in bands.bands:
        _, lo, lo_in, hi, hi_in = row
        if (value > lo or (lo_in and value == lo)) and (value < hi or (hi_in and value == hi)):
            return row
    raise Failure(f"{x.to_string(value)} is outside the range {x.to_string(bands.low)}.."
                  f"{x.to_string(bands.high)} of bands `{bands.name}`", span)


def version(table, day, span):
    """The (from, until) key and value of the version of an effective-dated table in force on `day`."""
    found = None
    for row in table.rows:
        (start, until), _ = row
        if start <= day:
            found = row
    if found is not None and (found[0][1] is None or day <= found[0][1]):
        return found
    starts = ", ".join(f"from {start.isoformat()}" + (f" until {until.isoformat()}" if until else "")
                       for (start, until), _ in table.rows)
    raise Failure(f"no version of table `{table.name}` is in force on {day.isoformat()}; it has: {starts}", span)


def date_fn(name: str, args: tuple, span):
    """A calendar function of dates.FUNCTIONS; a day that does not exist is an evaluation error."""
    try:
        return dates.FUNCTIONS[name][0](*args)
    except (dates.DateProblem, ValueError, OverflowError) as problem:
        raise Failure(f"`{span.text}`: {problem}", span) from None


def bad_step(span):
    return Failure("a ladder's step must be greater than zero", span)


def in_function(f: Failure, name: str, span) -> Failure:
    """A failure inside a function call is reported at the call, naming the function."""
    out = Failure(f"in `{name}`: {f.message}", span, f.code)
    return out


def allocate(amount, weights, quantum, ties, span):
    """`allocate ... by ... to ...` over the whole team: (parts, details), see teams.allocate."""
    try:
        return teams.allocate(amount, weights, quantum, ties)
    except teams.TeamProblem as problem:
        raise Failure(f"cannot allocate in `{span.text}`: {problem}", span) from None


def rank(values, kind, order, span):
    """`rank of ...` over the whole team: (places, details), see teams.rank."""
    try:
        return teams.rank(values, kind, order)
    except TypeError:  # values that do not compare (cannot happen for a checked policy)
        raise Failure(f"cannot order the values of `{span.text}`", span) from None


def _shown_key(key) -> str:
    return f'"{key}"' if isinstance(key, str) else x.to_string(key)


def line_index(lines, key_field: str, key, list_name: str, span) -> int:
    """The index of the line of a keyed list whose key is `key`; none is an evaluation error."""
    for i, line in enumerate(lines):
        if line[key_field] == key:
            return i
    raise Failure(f"no line of `{list_name}` has the {key_field} {_shown_key(key)}", span)


def line(lines, key_field: str, key, list_name: str, span):
    """`members["E01"]`: the line itself."""
    return lines[line_index(lines, key_field, key, list_name, span)]


NAMESPACE = {
    "localcontext": localcontext, "ENGINE": ENGINE, "Failure": Failure, "D": D,
    "ZERO": ZERO, "ONE": ONE, "SETTLE": settle, "ADD": add, "SUB": sub, "MUL": mul, "DIV": div, "QUOT": quotient,
    "NEG": neg, "ABS": absolute, "SUM": total, "FLOOR_STEPS": floor_steps, "CEIL_STEPS": ceil_steps,
    "ROUND": round_to, "NO_ROW": no_row, "BAND": band, "BAD_STEP": bad_step, "IN_FUNCTION": in_function,
    "AS_OF": AS_OF, "DAYS": dates.days_between, "DATE_FN": date_fn, "VERSION": version,
    "ALLOCATE": allocate, "RANK": rank, "LINE": line, "LINE_INDEX": line_index,
}


# ---- tiers and assertions (issue 10) -----------------------------------------------------------

def tiers(schedule, mode, tier, value, base, span):
    """`marginal` / `retroactive`: (amount, rows, tier reached), as tiers.py states them."""
    try:
        return _tiers.apply(schedule, mode, tier, value, base)
    except _tiers.OutsideDomain as problem:
        raise Failure(f"`{span.text}`: {problem}", span) from None
    except (Overflow, InvalidOperation, OverflowError):
        raise _too_large(span) from None


def assertion_failed(message: str, span, reads: dict) -> Failure:
    """A false `assert`: its message, its condition and the values the condition read."""
    shown = ", ".join(f"{name} = {_shown(v)}" for name, v in reads.items())
    condition = span.text.removeprefix("assert").strip().rsplit(" else ", 1)[0].strip()
    return Failure(f"assertion failed: {message} (`{condition}` is false" + (f"; {shown}" if shown else "") + ")",
                   span)


def _shown(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (Decimal, x.Ratio)):
        return x.to_string(x.canonical(v))
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return f"a list of {len(v)}"
    return dates.show(v) if isinstance(v, (date, dates.Period)) else str(v)


NAMESPACE.update({"TIERS": tiers, "ASSERT_FAILED": assertion_failed})
