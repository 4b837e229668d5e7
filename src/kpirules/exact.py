"""Exact arithmetic: the one module that owns how policy numbers are added, divided and rounded.

Values are `Decimal` while they have a finite decimal expansion and `Fraction` once a division
has none (7/9). Decimal operations run under a context that traps `Inexact`, so the moment a
result would be rounded we redo it as a fraction instead. Nothing is ever rounded except by
`round_to`, which the evaluator calls only where a policy declares a rounding.
"""

from __future__ import annotations

import math
from decimal import (ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN,
                     ROUND_HALF_UP, ROUND_UP, Context, Decimal, DivisionByZero, Inexact,
                     InvalidOperation, Overflow)
from fractions import Fraction

# Wide enough that money arithmetic never approaches it; Inexact is trapped, so nothing is lost.
EXACT = Context(prec=80, rounding=ROUND_HALF_EVEN, Emax=999999, Emin=-999999,
                traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
# Only for showing a value that has no finite decimal expansion (computation keeps the fraction).
DISPLAY_DIGITS = 28
_DISPLAY = Context(prec=DISPLAY_DIGITS, rounding=ROUND_HALF_EVEN)
# Declared roundings: the one place where dropping digits is intended.
_ROUNDING = Context(prec=80, Emax=999999, Emin=-999999, traps=[InvalidOperation, Overflow])

ROUNDING_MODES = {
    "half up": ROUND_HALF_UP,
    "half even": ROUND_HALF_EVEN,
    "half down": ROUND_HALF_DOWN,
    "up": ROUND_UP,
    "down": ROUND_DOWN,
    "ceiling": ROUND_CEILING,
    "floor": ROUND_FLOOR,
}

ZERO = Decimal(0)
ONE = Decimal(1)


class DivideByZero(ArithmeticError):
    """A policy divided by zero for these facts."""


def _frac(x) -> Fraction:
    return x if type(x) is Fraction else Fraction(x)


def settle(f: Fraction):
    """A fraction whose denominator has only the factors 2 and 5 goes back to an exact Decimal."""
    d = f.denominator
    if d == 1:
        return Decimal(f.numerator)
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return f
    try:
        return EXACT.divide(Decimal(f.numerator), Decimal(f.denominator))
    except Inexact:
        return f


def add(a, b):
    if type(a) is Decimal and type(b) is Decimal:
        try:
            return EXACT.add(a, b)
        except Inexact:
            pass
    return settle(_frac(a) + _frac(b))


def sub(a, b):
    if type(a) is Decimal and type(b) is Decimal:
        try:
            return EXACT.subtract(a, b)
        except Inexact:
            pass
    return settle(_frac(a) - _frac(b))


def mul(a, b):
    if type(a) is Decimal and type(b) is Decimal:
        try:
            return EXACT.multiply(a, b)
        except Inexact:
            pass
    return settle(_frac(a) * _frac(b))


def div(a, b):
    if not b:
        raise DivideByZero()
    if type(a) is Decimal and type(b) is Decimal:
        try:
            return EXACT.divide(a, b)
        except Inexact:
            pass
    return settle(_frac(a) / _frac(b))


def neg(a):
    return -a if type(a) is Fraction else EXACT.minus(a)


def compare(a, b) -> int:
    """-1, 0 or 1, exactly."""
    if type(a) is not type(b):
        a, b = _frac(a), _frac(b)
    return (a > b) - (a < b)


def is_integer(a) -> bool:
    if type(a) is Fraction:
        return a.denominator == 1
    return a == a.to_integral_value()


def floor_int(a) -> int:
    return math.floor(_frac(a))


def ceil_int(a) -> int:
    return math.ceil(_frac(a))


def to_exact(x):
    """An int or Decimal from outside, as an exact policy number."""
    return x if type(x) is Decimal else Decimal(x)


def round_to(value, quantum: Decimal, mode: str):
    """Round to a multiple of `quantum` (0.01, 1, 0.05, 10...) with a named mode, exactly."""
    rounding = ROUNDING_MODES[mode]
    if type(value) is Decimal and _is_power_of_ten(quantum):
        q = quantum.normalize()
        if q.as_tuple().exponent > 0:  # to 10, 100...: spell the result out, not 1.24E+3
            return value.quantize(q, rounding=rounding, context=_ROUNDING).quantize(ONE, context=_ROUNDING)
        return value.quantize(q, rounding=rounding, context=_ROUNDING)
    # General quantum or a fraction: count whole quanta, then round the remainder by the mode.
    units = _frac(value) / _frac(quantum)
    whole = _round_fraction(units, rounding)
    result = EXACT.multiply(Decimal(whole), quantum)
    return result.quantize(ONE, context=_ROUNDING) if result.as_tuple().exponent > 0 else result


def _is_power_of_ten(q: Decimal) -> bool:
    return q > 0 and q.normalize().as_tuple().digits == (1,)


def _round_fraction(f: Fraction, rounding: str) -> int:
    down = math.floor(f)
    rest = f - down
    if rest == 0:
        return down
    up = down + 1
    toward_zero = down if f > 0 else up
    away = up if f > 0 else down
    if rounding == ROUND_FLOOR:
        return down
    if rounding == ROUND_CEILING:
        return up
    if rounding == ROUND_DOWN:
        return toward_zero
    if rounding == ROUND_UP:
        return away
    half = Fraction(1, 2)
    if rest != half:
        return up if rest > half else down
    if rounding == ROUND_HALF_UP:
        return away
    if rounding == ROUND_HALF_DOWN:
        return toward_zero
    return down if down % 2 == 0 else up


def to_decimal(value) -> Decimal:
    """The value as a Decimal for people and JSON: exact when it terminates, else 28 digits."""
    if type(value) is Decimal:
        return value
    if type(value) is Fraction:
        return _DISPLAY.divide(Decimal(value.numerator), Decimal(value.denominator))
    return Decimal(value)


def is_exact_decimal(value) -> bool:
    return type(value) is not Fraction


def to_string(value) -> str:
    """Plain decimal notation, never exponent notation: `1740000.00`, `0.5747126436781609195402298851`."""
    d = to_decimal(value)
    if d == 0:
        d = abs(d)  # "-0" is confusing on a statement
    return format(d, "f")


def canonical(value) -> Decimal:
    """The value in its shortest plain form: `2030000`, not `2030000.000`; 28 digits if endless.

    Used for values the policy does not round; a declared rounding keeps its quantum's digits.
    """
    d = value if type(value) is Decimal else to_decimal(value)
    whole = d.to_integral_value()
    if d == whole:
        # Through int: exponent 0 whatever the input's (2030000.000 and 1E+3 alike).
        return Decimal(int(whole))
    return d.normalize(context=_ROUNDING)
