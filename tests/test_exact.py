"""Unit tests of exact arithmetic: no value is ever rounded unless asked, roundings are exact."""

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from kpirules import exact as x


def test_terminating_division_stays_decimal():
    assert x.div(D(1), D(8)) == D("0.125")
    assert type(x.div(D(1), D(8))) is D


def test_non_terminating_division_is_an_exact_fraction():
    v = x.div(D(7), D(9))
    assert v == Fraction(7, 9)
    # 7/9 * 9 is exactly 7 again, not 6.999...
    assert x.mul(v, D(9)) == D(7)
    assert type(x.mul(v, D(9))) is D


def test_half_up_on_an_exact_tie_that_a_28_digit_decimal_would_miss():
    # 1234.565 reached through a repeating intermediate: (1234.565 * 3) / 3.
    tie = x.div(x.mul(D("1234.565"), D(3)), D(3))
    assert x.round_to(tie, D("0.01"), "half up") == D("1234.57")
    # 1/3 of 3703.695 is 1234.565 exactly; a 28-digit decimal division would give ...5649999 or so.
    assert x.round_to(x.div(D("3703.695"), D(3)), D("0.01"), "half up") == D("1234.57")


@pytest.mark.parametrize("value, mode, expected", [
    ("2.5", "half up", "3"), ("2.5", "half even", "2"), ("3.5", "half even", "4"),
    ("2.5", "half down", "2"), ("2.1", "up", "3"), ("2.9", "down", "2"),
    ("-2.5", "half up", "-3"), ("-2.1", "ceiling", "-2"), ("-2.1", "floor", "-3"),
    ("-2.9", "down", "-2"), ("-2.1", "up", "-3"),
])
def test_rounding_modes_to_units(value, mode, expected):
    assert x.round_to(D(value), D(1), mode) == D(expected)


def test_rounding_to_a_quantum_that_is_not_a_power_of_ten():
    # 0.37 / 0.05 = 7.4 quanta -> 7 -> 0.35; 0.375 / 0.05 = 7.5 -> half up 8 -> 0.40
    assert x.round_to(D("0.37"), D("0.05"), "half up") == D("0.35")
    assert x.round_to(D("0.375"), D("0.05"), "half up") == D("0.40")
    # to tens: 1234 -> 1230; 1235 half even -> 1240 (123.5 -> 124)
    assert x.round_to(D(1234), D(10), "half up") == D(1230)
    assert x.round_to(D(1235), D(10), "half even") == D(1240)


def test_rounding_keeps_the_quantum_digits():
    assert str(x.round_to(D(7488), D("0.01"), "half up")) == "7488.00"


def test_division_by_zero_is_reported_not_infinite():
    with pytest.raises(x.DivideByZero):
        x.div(D(1), D(0))


def test_to_string_never_uses_exponent_notation():
    assert x.to_string(D("1.74E+6")) == "1740000"
    assert x.to_string(D("-0")) == "0"
    assert x.to_string(x.div(D(2), D(3))) == "0.6666666666666666666666666667"


def test_canonical_drops_trailing_zeros_only():
    assert str(x.canonical(D("2030000.000"))) == "2030000"
    assert str(x.canonical(D("0.680"))) == "0.68"


decimals = st.decimals(min_value=-10**9, max_value=10**9, places=4, allow_nan=False, allow_infinity=False)


@given(decimals, decimals, decimals)
def test_arithmetic_is_exact_and_associative(a, b, c):
    assert x.add(x.add(a, b), c) == x.add(a, x.add(b, c))
    assert x.mul(x.mul(a, b), c) == Fraction(a) * Fraction(b) * Fraction(c)


@given(decimals, decimals.filter(lambda d: d != 0))
def test_division_is_exact(a, b):
    assert Fraction(x.div(a, b)) == Fraction(a) / Fraction(b)


@given(decimals, st.sampled_from(sorted(x.ROUNDING_MODES)))
def test_rounding_lands_on_the_quantum_within_one_step(value, mode):
    r = x.round_to(value, D("0.01"), mode)
    assert r == r.quantize(D("0.01"))
    assert abs(r - value) < D("0.01")
