"""Exact arithmetic: the one module that owns how policy numbers are added, divided, rounded, shown.

A policy number is a `Decimal` while it has a finite decimal expansion and a `Ratio` (an exact
fraction, a subclass of `fractions.Fraction`) once it has none (7/9). Every operation here is
exact and independent of the caller's `decimal` context: Decimal operations run under EXACT,
which traps `Inexact`, and an operation whose result would be rounded is redone on integer
numerators and denominators instead. A result whose denominator has only the factors 2 and 5
goes back to an exact Decimal of whatever length it needs: no exact value is ever cut to a
number of digits. Nothing is rounded except by `round_to`, which the generated code calls only
where a policy declares a rounding.

`Ratio` implements the operators itself (with Decimals and ints on either side), so generated
code that meets an endless value keeps using plain operators: `Decimal + Ratio` is answered by
`Ratio.__radd__`, without the cost of `fractions.Fraction`'s generic machinery.

How a value is shown is decided here too (`to_string`, `canonical`, `approximate`).
"""

from __future__ import annotations

import functools
import math
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction

# Decimal results up to 80 digits stay Decimal without a detour; longer exact results are built
# from integers (`_make`). Inexact is trapped, so nothing is ever lost to this precision.
EXACT = Context(prec=80, rounding=ROUND_HALF_EVEN, Emax=999999, Emin=-999999,
                traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
# Only for showing a value that has no finite decimal expansion (computation keeps the ratio).
DISPLAY_DIGITS = 28
_DISPLAY = Context(prec=DISPLAY_DIGITS, rounding=ROUND_HALF_EVEN, Emax=999999, Emin=-999999)

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
_gcd = math.gcd
_new = object.__new__


class DivideByZero(ArithmeticError):
    """A policy divided by zero for these facts."""


def _pair(v):
    """(numerator, denominator) of an exact number, or None for anything else."""
    t = type(v)
    if t is Decimal:
        return v.as_integer_ratio()
    if t is Ratio or t is Fraction:
        return v._numerator, v._denominator
    if t is int:
        return v, 1
    return None


def _decimal_of(n: int, d: int) -> Decimal | None:
    """n/d as an exact Decimal when d (> 0, coprime with n) has only the factors 2 and 5."""
    if pow(10, d.bit_length(), d):
        return None  # d divides no power of ten: a prime other than 2 and 5 (one C call decides)
    twos = (d & -d).bit_length() - 1
    rest = d >> twos
    fives = 0
    while rest > 1:
        rest //= 5
        fives += 1
    k = max(twos, fives)
    return Decimal(f"{n * (10 ** k // d)}E-{k}") if k else Decimal(n)


def _make(n: int, d: int):
    """The exact number n/d (d != 0) in its canonical type: Decimal if it terminates, else Ratio."""
    if d < 0:
        n, d = -n, -d
    g = _gcd(n, d)
    if g != 1:
        n //= g
        d //= g
    if d == 1:
        return Decimal(n)
    as_decimal = _decimal_of(n, d)
    if as_decimal is not None:
        return as_decimal
    r = _new(Ratio)
    r._numerator = n
    r._denominator = d
    return r


class Ratio(Fraction):
    """An exact fraction with no finite decimal expansion (its denominator has a prime other
    than 2 and 5). Made only by `_make`; arithmetic with Decimals, ints and Ratios is exact and
    returns a Decimal whenever the result terminates."""

    __slots__ = ()
    _numerator: int  # Fraction's own slots, which its stubs do not declare
    _denominator: int

    def __add__(self, other):
        p = _pair(other)
        if p is None:
            return NotImplemented
        return _make(self._numerator * p[1] + p[0] * self._denominator, self._denominator * p[1])

    __radd__ = __add__

    def __sub__(self, other):
        p = _pair(other)
        if p is None:
            return NotImplemented
        return _make(self._numerator * p[1] - p[0] * self._denominator, self._denominator * p[1])

    def __rsub__(self, other):
        p = _pair(other)
        if p is None:
            return NotImplemented
        return _make(p[0] * self._denominator - self._numerator * p[1], self._denominator * p[1])

    def __mul__(self, other):
        p = _pair(other)
        if p is None:
            return NotImplemented
        return _make(self._numerator * p[0], self._denominator * p[1])

    __rmul__ = __mul__

    def __truediv__(self, other):
        p = _pair(other)
        if p is None:
            return NotImplemented
        if not p[0]:
            raise ZeroDivisionError("division by zero")
        return _make(self._numerator * p[1], self._denominator * p[0])

    def __rtruediv__(self, other):
        p = _pair(other)
        if p is None:
            return NotImplemented
        return _make(p[0] * self._denominator, p[1] * self._numerator)

    def __neg__(self):
        return _make(-self._numerator, self._denominator)

    def __pos__(self):
        return self

    def __abs__(self):
        return self if self._numerator >= 0 else -self

    def _cmp(self, other):
        p = _pair(other)
        if p is None:
            return None
        a, b = self._numerator * p[1], p[0] * self._denominator
        return (a > b) - (a < b)

    def __lt__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c < 0

    def __le__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c <= 0

    def __gt__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c > 0

    def __ge__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c >= 0

    def __eq__(self, other):
        if type(other) is bool or isinstance(other, str):
            return False
        c = self._cmp(other)
        return NotImplemented if c is None else c == 0

    __hash__ = Fraction.__hash__

    def __bool__(self):
        return self._numerator != 0

    def __floor__(self):
        return self._numerator // self._denominator

    def __ceil__(self):
        return -(-self._numerator // self._denominator)

    def __repr__(self):
        return f"Ratio({self._numerator}, {self._denominator})"

    def __reduce__(self):
        return (_make, (self._numerator, self._denominator))


def settle(v):
    """Any exact number (int, Fraction, Ratio, Decimal) in its canonical type."""
    t = type(v)
    if t is Decimal or t is Ratio:
        return v
    p = _pair(v)
    if p is None:
        if isinstance(v, Fraction):
            return _make(v.numerator, v.denominator)
        return v
    return _make(*p)


def _exact(op, a, b, pairs):
    if type(a) is Decimal and type(b) is Decimal:
        try:
            return op(a, b)
        except Inexact:
            pass
    pa, pb = _pair(a), _pair(b)
    if pa is None or pb is None:
        pa, pb = _pair(settle(a)), _pair(settle(b))
    return pairs(pa, pb)


def add(a, b):
    return _exact(EXACT.add, a, b, lambda p, q: _make(p[0] * q[1] + q[0] * p[1], p[1] * q[1]))


def sub(a, b):
    return _exact(EXACT.subtract, a, b, lambda p, q: _make(p[0] * q[1] - q[0] * p[1], p[1] * q[1]))


def mul(a, b):
    return _exact(EXACT.multiply, a, b, lambda p, q: _make(p[0] * q[0], p[1] * q[1]))


def div(a, b):
    if not b:
        raise DivideByZero()
    return _exact(EXACT.divide, a, b, lambda p, q: _make(p[0] * q[1], p[1] * q[0]))


def quotient(a, b):
    """a / b exactly, without trying a Decimal division first: for divisors known only at run
    time, whose quotients are often endless (7/9), this is cheaper than a trapped Inexact."""
    if type(a) is Decimal and type(b) is Decimal:
        na, da = a.as_integer_ratio()
        nb, db = b.as_integer_ratio()
    else:
        pa, pb = _pair(settle(a)), _pair(settle(b))
        if pa is None or pb is None:
            raise TypeError(f"cannot divide {type(a).__name__} by {type(b).__name__}")
        (na, da), (nb, db) = pa, pb
    if not nb:
        raise DivideByZero()
    return _make(na * db, da * nb)


def neg(a):
    return a.copy_negate() if type(a) is Decimal else -a


def compare(a, b) -> int:
    """-1, 0 or 1, exactly (Python compares Decimals, ints and fractions exactly)."""
    return (a > b) - (a < b)


def is_integer(a) -> bool:
    if isinstance(a, Fraction):
        return a.denominator == 1
    return a == a.to_integral_value()


def floor_int(a) -> int:
    return math.floor(a)


def ceil_int(a) -> int:
    return math.ceil(a)


def to_exact(x):
    """An int or Decimal from outside, as an exact policy number."""
    return x if type(x) is Decimal else Decimal(x)


_WIDE = Context(prec=80, Emax=999999, Emin=-999999, traps=[InvalidOperation, Overflow])


def _wide(digits: int) -> Context:
    """A context that holds `digits` digits without rounding (for quantize and normalize)."""
    if digits <= 80:
        return _WIDE
    return Context(prec=digits, Emax=999999, Emin=-999999, traps=[InvalidOperation, Overflow])


@functools.lru_cache(maxsize=256)
def _quantum(quantum: Decimal) -> tuple:
    """(is a power of ten, the quantum normalized, its exponent), once per quantum."""
    q = quantum.normalize(_wide(len(quantum.as_tuple().digits)))
    exponent = q.as_tuple().exponent
    return quantum > 0 and q.as_tuple().digits == (1,), q, exponent


def round_to(value, quantum: Decimal, mode: str):
    """Round to a multiple of `quantum` (0.01, 1, 0.05, 10...) with a named mode, exactly.

    A negative value that rounds to zero is zero (`0.00`, never `-0.00` on a statement)."""
    out = _round_to(value, quantum, mode)
    return out.copy_abs() if not out else out


def _round_to(value, quantum: Decimal, mode: str):
    rounding = ROUNDING_MODES[mode]
    power_of_ten, q, exponent = _quantum(quantum)
    if type(value) is Decimal and power_of_ten:
        # Enough digits for the whole result, however large the value: quantize never cuts it.
        ctx = _wide(max(value.adjusted(), 0) - exponent + 2)
        out = value.quantize(q, rounding=rounding, context=ctx)
        if exponent > 0:  # to 10, 100...: spell the result out, not 1.24E+3
            return out.quantize(ONE, context=ctx)
        return out
    # General quantum or a fraction: count whole quanta, then round the remainder by the mode.
    p, q = _pair(settle(value)), quantum.as_integer_ratio()
    whole = _round_ratio(p[0] * q[1], p[1] * q[0], rounding)
    ctx = _wide(len(str(abs(whole))) + len(quantum.as_tuple().digits) + 2)
    result = ctx.multiply(Decimal(whole), quantum)  # the quantum's digits: 0.05 x 10 is 0.50
    # A finite Decimal's exponent is an int (the stubs also allow 'n', 'N', 'F').
    return result.quantize(ONE, context=ctx) if result.as_tuple().exponent > 0 else result  # type: ignore[operator]


def _round_ratio(num: int, den: int, rounding: str) -> int:
    """num/den (den > 0) rounded to a whole number by a decimal rounding mode, in integers."""
    down, rest = divmod(num, den)  # floor, and 0 <= rest < den
    if rest == 0:
        return down
    up = down + 1
    positive = num > 0
    if rounding == ROUND_FLOOR:
        return down
    if rounding == ROUND_CEILING:
        return up
    if rounding == ROUND_DOWN:
        return down if positive else up
    if rounding == ROUND_UP:
        return up if positive else down
    twice = 2 * rest
    if twice != den:
        return up if twice > den else down
    if rounding == ROUND_HALF_UP:
        return up if positive else down
    if rounding == ROUND_HALF_DOWN:
        return down if positive else up
    return down if down % 2 == 0 else up


# ---- how values are shown --------------------------------------------------------------------

def to_decimal(value) -> Decimal:
    """The value as a Decimal for people and JSON: exact when it terminates (any length), else
    its first 28 significant digits (the exact fraction stays available to who needs it)."""
    if type(value) is Decimal:
        return value
    if isinstance(value, Fraction):
        settled = settle(value)
        if type(settled) is Decimal:
            return settled
        return _DISPLAY.divide(Decimal(value.numerator), Decimal(value.denominator))
    return Decimal(value)


def is_exact_decimal(value) -> bool:
    return not isinstance(value, Fraction) or type(settle(value)) is Decimal


def to_string(value) -> str:
    """Plain decimal notation, never exponent notation: `1740000.00`, `0.5747126436781609195402298851`."""
    d = to_decimal(value)
    if d == 0:
        d = abs(d)  # "-0" is confusing on a statement
    return format(d, "f")


_CANONICAL: dict = {}


def canonical(value) -> Decimal:
    """The value in its shortest plain form: `2030000`, not `2030000.000`; 28 digits if endless.

    Used for values the policy does not round; a declared rounding keeps its quantum's digits.
    The form depends only on the number, so recent answers are remembered (a bounded memo:
    populations repeat the same scores and rates).
    """
    if type(value) is Decimal:
        # Most values are already in shortest form (`2900000`, `0.68`): their text says so.
        text = str(value)
        if "E" not in text:
            if "." in text:
                if text[-1] != "0":
                    return value
            elif text != "-0":
                return value
        out = _CANONICAL.get(value)
        if out is not None:
            return out
    d = value if type(value) is Decimal else to_decimal(value)
    whole = d.to_integral_value()
    if d == whole:
        # Through int: exponent 0 whatever the input's (2030000.000 and 1E+3 alike).
        out = Decimal(int(whole))
    else:
        out = d.normalize(context=_wide(len(d.as_tuple().digits)))
    if type(value) is Decimal:  # a fraction's hash costs more than its display
        if len(_CANONICAL) >= 4096:
            _CANONICAL.clear()
        _CANONICAL[value] = out
    return out


def approximate(value, digits: int = 6) -> str:
    """An endless value for people: `≈0.666667 (exactly 2/3)`; a terminating one as it is."""
    if not isinstance(value, Fraction) or type(settle(value)) is Decimal:
        return to_string(value)
    shown = to_decimal(value).quantize(Decimal(1).scaleb(-digits), context=_wide(DISPLAY_DIGITS + 2))
    return f"≈{format(shown, 'f')} (exactly {value.numerator}/{value.denominator})"
