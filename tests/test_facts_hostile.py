"""Facts stage under hostile input: the caller's decimal context, huge numbers, floats.

Each test is a named regression test for one fact bug. Expected values are worked out by hand
in the comments; none is copied from the engine's output.
"""

from __future__ import annotations

import decimal
import json
import time
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from pathlib import Path

import pytest

import kpirules
from kpirules import FactError
from kpirules import facts as F

ROOT = Path(__file__).resolve().parents[1]
D = Decimal
QUICK = 0.5  # seconds: a hostile number is refused in milliseconds; this leaves room for slow CI

RANGE = ("a fact's number may have at most 40 digits, and its size must lie between "
         "10^-40 and 10^40")

# ---- the caller's decimal context -------------------------------------------------------------

S8 = kpirules.load_policy(ROOT / "policies" / "hundred_point.rules")
S8_EVALUATION = S8._program(None).evaluation
S8_VALIDATOR = F.compile(S8_EVALUATION)


def _line(name, points, status="done") -> dict:
    return {"name": name, "points": points, "status": status}


def s8(daily) -> dict:
    return {"role": "staff", "weekly_reports_late": 0, "daily": daily, "exceptions": []}


# 40 + 4e-27 + 4e-27 + 39.999999999999999999999999992 = 80 exactly (8e-27 + 39.99…992 = 40).
# In 28 digits each 4e-27 is lost against 40 (40.000000000000000000000000004 has 29 digits), and
# 40 + 39.999999999999999999999999992 rounds to 79.99999999999999999999999999: refused.
EXACTLY_80_LOST_IN_28_DIGITS = [_line("A", D("40")), _line("B", D("0.000000000000000000000000004")),
                                _line("C", D("0.000000000000000000000000004")),
                                _line("D", D("39.999999999999999999999999992"))]
# The same with 5 digits: 40 + 0.0004 + 0.0004 + 39.9992 = 80 (0.0008 + 39.9992 = 40); in 5 digits
# 40.0004 is 40.000 twice, and 40 + 39.9992 = 79.9992 rounds to 79.999: refused.
EXACTLY_80_LOST_IN_5_DIGITS = [_line("A", D("40")), _line("B", D("0.0004")), _line("C", D("0.0004")),
                               _line("D", D("39.9992"))]
# 80 + 0.00000000000000000000000000005 = 80.00000000000000000000000000005 (31 digits), which 28
# digits round to 80: accepted, though the points do not add up to 80.
JUST_OVER_80 = [_line("A", D("80")), _line("B", D("0.00000000000000000000000000005"))]

CONTEXTS = {
    "prec=5": lambda: Context(prec=5),
    "prec=28": lambda: Context(prec=28),
    "traps Inexact": lambda: Context(traps=[Inexact, InvalidOperation]),
    "prec=3, tiny exponents, every trap": lambda: Context(
        prec=3, Emax=5, Emin=-5, traps=[Inexact, decimal.Rounded, decimal.Clamped, decimal.Subnormal,
                                        decimal.Underflow, decimal.Overflow, InvalidOperation]),
}


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("daily", [EXACTLY_80_LOST_IN_28_DIGITS, EXACTLY_80_LOST_IN_5_DIGITS],
                         ids=["lost-in-28-digits", "lost-in-5-digits"])
def test_s8_points_adding_up_to_exactly_80_are_accepted_in_any_caller_context(context, daily):
    with localcontext(CONTEXTS[context]()):
        valid, warnings = F.validate(S8_EVALUATION, s8(daily), S8_VALIDATOR)
    assert [line["points"] for line in valid["daily"]] == [line["points"] for line in daily]
    assert warnings == ()


@pytest.mark.parametrize("context", CONTEXTS)
def test_s8_points_adding_up_to_a_hair_over_80_are_refused_in_any_caller_context(context):
    with localcontext(CONTEXTS[context]()), pytest.raises(FactError) as info:
        F.validate(S8_EVALUATION, s8(JUST_OVER_80), S8_VALIDATOR)
    [v] = info.value.violations
    assert (v.path, v.code) == ("daily", "F113")
    assert v.message.startswith("the `points` of its entries add up to 80.00000000000000000000000000005; "
                                "they must add up to 80 (rule: `list of ")


def test_s8_exactly_80_evaluates_end_to_end():
    # Every daily item done: the daily score is the 80 points; no exception items: 20; total 100.
    values = S8.evaluate(s8(EXACTLY_80_LOST_IN_28_DIGITS)).values
    assert values["daily_score"] == 80
    assert values["total_score"] == 100


def test_validation_leaves_the_callers_context_untouched():
    with localcontext(Context(prec=5, traps=[])) as ctx:
        F.validate(S8_EVALUATION, s8(EXACTLY_80_LOST_IN_28_DIGITS), S8_VALIDATOR)
        with pytest.raises(FactError):
            F.validate(S8_EVALUATION, s8(JUST_OVER_80), S8_VALIDATOR)
        assert [s.__name__ for s, raised in ctx.flags.items() if raised] == []
        assert ctx.prec == 5


def test_messages_do_not_depend_on_the_callers_context():
    facts = dict(GOOD, amount=D("1e999999999"))
    with localcontext(Context(prec=5, capitals=0, traps=[Inexact])):
        [v] = refused(facts).violations
    assert v.message == f"`1E+999999999` is out of range: {RANGE}"


def test_reading_a_huge_exponent_does_not_depend_on_the_callers_traps():
    # Without InvalidOperation trapped, Decimal("1e99999999999999999999") is NaN; the reader must
    # still see a number too large for any fact, not a NaN.
    with localcontext(Context(traps=[])):
        facts = kpirules.read_facts('{"a": 1e99999999999999999999, "b": 2.50}', is_text=True)
    assert isinstance(facts["a"], F.Unrepresentable)
    assert facts["b"] == D("2.50") and str(facts["b"]) == "2.50"


# ---- the policy for number facts of every kind --------------------------------------------------

HOSTILE = kpirules.load_policy_text('''\
policy hostile version "1"

evaluation e:
    fact amount: money
    fact rate: percent
    fact n: integer
    fact c: count
    fact x: number
    fact counts: list of count
    fact lines: list of (amount: money, n: count)
    fact scores: record of integer (a, b)
    output o = amount * rate + n * 1元 + c * 1元 + x * 1元
''')

GOOD = {"amount": "3.50", "rate": "0.5", "n": 1, "c": 2, "x": 7, "counts": [1],
        "lines": [{"amount": 1, "n": 2}], "scores": {"a": 1, "b": 2}}


def test_the_hostile_policy_takes_good_facts():
    # 3.50 * 0.5 + 1 + 2 + 7 = 1.75 + 10 = 11.75
    assert HOSTILE.evaluate(dict(GOOD)).values["o"] == D("11.75")


def refused(facts) -> FactError:
    start = time.perf_counter()
    with pytest.raises(FactError) as info:
        HOSTILE.evaluate(facts)
    elapsed = time.perf_counter() - start
    assert elapsed < QUICK, f"took {elapsed:.2f} s to refuse"
    return info.value


def accepted(facts) -> dict:
    start = time.perf_counter()
    result = HOSTILE.evaluate(facts)
    elapsed = time.perf_counter() - start
    assert elapsed < QUICK, f"took {elapsed:.2f} s to accept"
    return result.facts


# ---- a 41-digit integer: one answer, whatever else is in the fact set ---------------------------

WITH_UNKNOWN = {"note": "an unknown fact; only a warning"}


@pytest.mark.parametrize("extra", [{}, WITH_UNKNOWN], ids=["alone", "with-unknown-fact"])
@pytest.mark.parametrize("fact", ["n", "c"])
def test_a_whole_number_written_with_41_digits_is_accepted_either_way(fact, extra):
    # 1234567890123456789012345678901234567890.0: 41 digits written, a 40-digit integer in
    # value, below 10^40: an integer or count of any written length within its range is fine.
    spelled = D("1234567890123456789012345678901234567890.0")
    valid = accepted(dict(GOOD, **{fact: spelled}, **extra))
    assert valid[fact] == D(1234567890123456789012345678901234567890)
    assert str(valid[fact]) == "1234567890123456789012345678901234567890"


@pytest.mark.parametrize("extra", [{}, WITH_UNKNOWN], ids=["alone", "with-unknown-fact"])
@pytest.mark.parametrize("value", [10**40, -10**40, D(10**40), D(-10**40), "-" + "1" + "0" * 40],
                         ids=["int", "negative-int", "decimal", "negative-decimal", "string"])
def test_a_41_digit_integer_is_refused_either_way(value, extra):
    # 10^40 has 41 digits: its size is not below 10^40, so it is out of range (F104), for an
    # integer fact as for any other, with or without an unknown fact beside it.
    err = refused(dict(GOOD, n=value, **extra))
    [v] = err.violations
    assert (v.path, v.code) == ("n", "F104")
    assert v.message.endswith(f"is out of range: {RANGE}")


def test_forty_nines_are_the_largest_integer():
    # 10^40 - 1 = 9999999999999999999999999999999999999999 (40 nines) is in range.
    valid = accepted(dict(GOOD, n=10**40 - 1, c=D(10**40 - 1), x=-(10**40) + 1))
    assert valid["n"] == valid["c"] == D("9" * 40)
    assert valid["x"] == D("-" + "9" * 40)


# ---- hostile numbers are refused before they cost anything ---------------------------------------

def at(path: str, value) -> dict:
    """GOOD with `value` at `path` (a fact, `counts[1]`, `lines[0].amount`, `scores.a`)."""
    facts = json.loads(json.dumps(GOOD))
    if path == "counts[1]":
        facts["counts"] = [1, value]
    elif path.startswith("lines[0]."):
        facts["lines"] = [{"amount": 1, "n": 2} | {path.split(".")[1]: value}]
    elif path == "scores.a":
        facts["scores"] = {"a": value, "b": 2}
    else:
        facts[path] = value
    return facts


PATHS = ["amount", "rate", "n", "c", "x", "counts[1]", "lines[0].amount", "lines[0].n", "scores.a"]

HUGE_JSON = {
    "1e999999": "`1E+999999`",                       # 9 bytes; was 38 s as a count
    "1e9999999": "`1E+9999999`",                     # was never finished as a count
    "1e999999999": "`1E+999999999`",
    "-1e999999999": "`-1E+999999999`",
    "1e-999999999": "`1E-999999999`",
    "-1e-999999999": "`-1E-999999999`",
    "1e99999999999999999999": "`1e99999999999999999999`",   # too large even for Decimal
    "1" * 100_000: "`" + "1" * 59 + "…`",
    "-" + "9" * 100_000: "`-" + "9" * 58 + "…`",
    json.dumps("1" * 100_000): '`"' + "1" * 58 + "…`",
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("text", HUGE_JSON, ids=lambda t: t if len(t) < 30 else f"{len(t)}-characters")
def test_a_huge_json_number_is_refused_in_milliseconds(path, text):
    facts_text = json.dumps(at(path, "@@")).replace('"@@"', text)
    start = time.perf_counter()
    facts = kpirules.read_facts(facts_text, is_text=True)
    assert time.perf_counter() - start < QUICK
    err = refused(facts)
    [v] = err.violations
    assert (v.path, v.code) == (path, "F104")
    assert v.message == f"{HUGE_JSON[text]} is out of range: {RANGE}"


HUGE_PYTHON = {
    "int-100000-digits": (10**100_000, "an integer of about 100,000 digits"),
    "negative-int": (-(10**100_000), "an integer of about 100,000 digits"),
    "decimal-1e999999999": (D("1e999999999"), "`1E+999999999`"),
    "decimal-minus-1e-999999999": (D("-1e-999999999"), "`-1E-999999999`"),
    "decimal-100000-digits": (D("7" * 100_000), "`" + "7" * 59 + "…`"),
    "decimal-max-exponent": (D("1e999999999999999999"), "`1E+999999999999999999`"),
    "unrepresentable": (F.Unrepresentable("1e99999999999999999999"), "`1e99999999999999999999`"),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", HUGE_PYTHON)
def test_a_huge_python_number_is_refused_in_milliseconds(path, case):
    value, shown = HUGE_PYTHON[case]
    err = refused(at(path, value))
    [v] = err.violations
    assert (v.path, v.code) == (path, "F104")
    assert v.message == f"{shown} is out of range: {RANGE}"


@pytest.mark.parametrize("path", ["amount", "rate", "x", "lines[0].amount"])
def test_too_many_written_digits_are_refused_for_amounts(path):
    # 0.1111… with 100,000 digits, and 5.000… with 100,000 zeros: in size, but more than 40
    # digits as written (a rate or amount keeps the digits it is given).
    for text in ["0." + "1" * 100_000, "5." + "0" * 100_000]:
        for value in (text, D(text)):
            [v] = refused(at(path, value)).violations
            assert (v.path, v.code) == (path, "F104")


@pytest.mark.parametrize("path", ["n", "c", "counts[1]", "lines[0].n", "scores.a"])
def test_whole_numbers_of_any_written_length_are_accepted_quickly(path):
    # 5.000… with 100,000 zeros is the integer 5.
    for value in ("5." + "0" * 100_000, D("5." + "0" * 100_000), D("5E+0"), "0005"):
        valid = accepted(at(path, value))
        got = {"counts[1]": lambda f: f["counts"][1], "lines[0].n": lambda f: f["lines"][0]["n"],
               "scores.a": lambda f: f["scores"]["a"]}.get(path, lambda f: f[path])(valid)
        assert got == 5 and str(got) == "5"


@pytest.mark.parametrize("path", ["n", "c", "counts[1]", "lines[0].n", "scores.a"])
def test_a_long_fraction_is_not_a_whole_number(path):
    [v] = refused(at(path, "0." + "1" * 100_000)).violations
    assert (v.path, v.code) == (path, "F105")
    assert len(v.message) < 200


@pytest.mark.parametrize("path", ["amount", "n", "c", "counts[1]", "scores.a"])
@pytest.mark.parametrize("text", ["0e999999999", "-0e-999999999", "0e99999999999999999"])
def test_a_zero_with_a_huge_exponent_is_plain_zero(path, text):
    # Zero has no size to check; written with an absurd exponent it is 0 (so no later step spells
    # out a billion zeros).
    facts = kpirules.read_facts(json.dumps(at(path, "@@")).replace('"@@"', text), is_text=True)
    valid = accepted(facts)
    got = {"counts[1]": lambda f: f["counts"][1], "scores.a": lambda f: f["scores"]["a"]}.get(
        path, lambda f: f[path])(valid)
    assert got == 0 and str(got) == "0"


def test_a_negative_huge_count_is_out_of_range_not_negative():
    # The size is checked first: -1e999999 is refused as out of range (F104), in milliseconds.
    [v] = refused(kpirules.read_facts(json.dumps(GOOD).replace('"c": 2', '"c": -1e999999'),
                                      is_text=True)).violations
    assert (v.path, v.code) == ("c", "F104")


def test_every_hostile_number_at_once_is_every_violation_in_order():
    facts = dict(GOOD, amount=D("1e999999999"), n=10**100_000, c="1" * 100_000,
                 counts=[1, D("-1e-999999999"), 2], scores={"a": F.Unrepresentable("9e99999999999999999999"), "b": 2})
    err = refused(facts)
    assert [(v.path, v.code) for v in err.violations] == [
        ("amount", "F104"), ("n", "F104"), ("c", "F104"), ("counts[1]", "F104"), ("scores.a", "F104")]


# ---- long texts -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["1," * 1_000_000 + "000", "x" * 10_000_000, "1_0" * 1_000_000])
def test_a_huge_text_for_a_number_is_refused_with_a_short_message(text):
    [v] = refused(dict(GOOD, amount=text)).violations
    assert (v.path, v.code) == ("amount", "F103")
    assert len(v.message) < 400


# ---- floats through the Python API ------------------------------------------------------------

class Money(float):
    """A float in disguise: still a float."""


FLOATS = {"float": 1.5, "integral-float": 2.0, "zero-float": 0.0, "nan": float("nan"),
          "infinity": float("inf"), "subclass": Money(3.0)}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", FLOATS)
def test_a_python_float_is_never_accepted_as_a_number(path, case):
    value = FLOATS[case]
    [v] = refused(at(path, value)).violations
    assert (v.path, v.code) == (path, "F102")
    assert f"got the float `{value}`" in v.message
    assert v.message.endswith("a float is not exact; pass an `int`, a `Decimal` or a decimal string")


def test_a_float_in_a_fact_another_fact_is_bounded_by():
    # proposals_excellent is bounded by proposals_total; a float total is refused, and the
    # bound naming it is not checked against it.
    u8 = kpirules.load_policy(ROOT / "policies" / "u8_presales.rules")
    facts = kpirules.read_facts(ROOT / "examples" / "u8_quarterly.json")
    with pytest.raises(FactError) as info:
        u8.evaluate(dict(facts, proposals_total=20.0), evaluation="quarterly")
    assert [(v.path, v.code) for v in info.value.violations] == [("proposals_total", "F102")]
