"""How engine results are compared: plain with traced, and both with the reference.

`agrees()` is the ONE rule for "this Decimal is that exact value"; tighten it there when the
engine starts showing endless decimals exactly (today it shows them with 28 significant digits,
docs/api.md "Result"). `outcome()` runs the engine in one mode and reduces what happened to
something comparable; `check()` asserts the three agree, and explains any difference with the
policy text and the facts, so that a failure is a ready-made bug report.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

import kpirules

from .reference import terminates

# For endless decimals the engine shows a display value: it must be this close, relatively.
ENDLESS_TOLERANCE = Fraction(1, 10 ** 20)


def agrees(d: Decimal, f: Fraction) -> bool:
    """Whether the engine's number `d` stands for the exact value `f`.

    A value that ends must be shown exactly, every digit; one that never ends (2/3) may be shown
    by a decimal within ENDLESS_TOLERANCE (relative) of it.
    """
    if not isinstance(d, Decimal) or not d.is_finite():
        return False
    got = Fraction(d)
    if terminates(f):
        return got == f
    return abs(got - f) <= ENDLESS_TOLERANCE * abs(f)


def shown_28(f: Fraction) -> Decimal:
    """`f` rounded to 28 significant digits, half even (how an endless value is shown)."""
    ctx = Context(prec=28, rounding=ROUND_HALF_EVEN)
    return ctx.divide(Decimal(f.numerator), Decimal(f.denominator))


def significant_digits(f: Fraction) -> int:
    """How many significant digits the ending decimal `f` has (trailing zeros not counted)."""
    scale = 0
    while (f * 10 ** scale).denominator != 1:
        scale += 1
    digits = str(abs((f * 10 ** scale).numerator)).rstrip("0")
    return len(digits)


def outcome(policy, facts, explain: bool):
    """("ok", values) or (error class name, exception) for one mode."""
    try:
        result = policy.evaluate(facts, explain=explain)
    except kpirules.EvaluationError as exc:
        return ("EvaluationError", exc)
    except kpirules.FactError as exc:
        return ("FactError", exc)
    except Exception as exc:   # noqa: BLE001 - any other exception is an engine crash, reported as such
        return ("crash", exc)
    return ("ok", result.values)


def same_values(a: dict, b: dict) -> list:
    """Differences between two `Result.values` dicts, digit for digit (empty when equal)."""
    problems = []
    if list(a) != list(b):
        problems.append(f"names differ: {list(a)} vs {list(b)}")
    for name in a:
        if name not in b:
            continue
        x, y = a[name], b[name]
        if type(x) is not type(y) or x != y or str(x) != str(y):
            problems.append(f"`{name}`: {x!r} vs {y!r}")
    return problems


def long_exact_cut(got, want: Fraction, digits: int) -> bool:
    """Whether `got` is the ending value `want`, of more than `digits` significant digits, shown
    with 28 digits as if it never ended (known bugs `digits_28` and `digits_80`)."""
    return (isinstance(got, Decimal) and terminates(want) and significant_digits(want) > digits
            and Fraction(got) == Fraction(shown_28(want)))


def vs_reference(values: dict, ref: dict, waive_digits: int | None = None, waived: list | None = None) -> list:
    """Differences between engine values and the reference's. With `waive_digits`, an exact value
    of more than that many digits shown with 28 is recorded in `waived` instead."""
    problems = []
    if list(values) != list(ref):
        problems.append(f"names differ: engine {list(values)} vs reference {list(ref)}")
    for name, want in ref.items():
        got = values.get(name)
        if isinstance(want, Fraction):
            if not agrees(got, want):
                if waive_digits is not None and long_exact_cut(got, want, waive_digits):
                    waived.append(f"digits_{waive_digits}")
                    continue
                problems.append(f"`{name}`: engine {got!r}, reference {want} (= {float(want)!r})")
        elif got != want or type(got) is not type(want):
            problems.append(f"`{name}`: engine {got!r}, reference {want!r}")
    return problems


def report(text: str, facts, lines) -> str:
    return "\n".join(["engine and reference disagree:", *lines, "--- policy ---", text,
                      "--- facts ---", repr(facts)])


# ---- the whole comparison of one case -------------------------------------------------------------

def _waived_value(name, plain, traced, ref, policy_tree) -> str | None:
    """The known bug (issue 8) that explains a plain/traced difference of one value, or None."""
    from .tree import Aggregate, Value
    want = ref.get(name) if ref is not None else None
    if isinstance(plain, Decimal) and isinstance(traced, Decimal) and isinstance(want, Fraction):
        # Known bug `digits_28`: an exact value of more than 28 significant digits is cut to 28 on
        # the plain path (test_regressions.py::test_long_exact_total_is_not_cut_to_28_digits).
        if long_exact_cut(plain, want, 28) and (agrees(traced, want) or long_exact_cut(traced, want, 80)):
            return "digits_28"
        # Known bug `empty_round_each`: `0.00` plain, `0` traced for a `round each` sum of no lines.
        if plain == traced == 0 and str(plain) != str(traced):
            for v in policy_tree.values:
                if isinstance(v, Value) and v.name == name and isinstance(v.expr, Aggregate) and v.expr.each:
                    return "empty_round_each"
            # Known bug `negative_zero` (found by these tests): a negative endless value rounded to
            # zero is `-0` plain and `0` traced
            # (test_regressions.py::test_negative_endless_value_rounded_to_zero).
            if plain.is_signed() != traced.is_signed():
                return "negative_zero"
    return None


def check_case(policy_tree, text, facts, passed, *, waive: bool = True) -> list:
    """Load `text`, evaluate `passed` plain and traced, compare with the reference on `facts`.

    Returns the known bugs that were waived (empty when none); raises AssertionError with a
    report for any other difference.
    """
    from . import reference
    try:
        policy = kpirules.load_policy_text(text)
    except kpirules.PolicyError as exc:
        raise AssertionError("generator bug: the checker refuses a generated policy\n"
                             + exc.render() + "\n" + text) from None
    except decimal.InvalidOperation:
        # Known bug `lint_long_number`: a lint message about a number of more than 28 digits
        # crashes the loader (test_regressions.py::test_lint_of_a_long_number_does_not_crash).
        if waive:
            return ["lint_long_number"]
        raise
    except Exception as exc:   # noqa: BLE001
        raise AssertionError(f"engine crash while loading: {exc!r}\n{text}") from exc
    plain = outcome(policy, passed, explain=False)
    traced = outcome(policy, passed, explain=True)
    ref, ref_error = reference.evaluate(policy_tree, facts)
    waived = []
    problems = []
    if plain[0] != traced[0]:
        negative_step = any(isinstance(v, Decimal) and v < 0 and k.startswith("step") for k, v in facts.items())
        if waive and negative_step and "ok" in (plain[0], traced[0]):
            return ["negative_step"]
        problems.append(f"plain gives {plain[0]}: {plain[1]!s:.300}; traced gives {traced[0]}: {traced[1]!s:.300}")
    elif plain[0] == "ok":
        for line in same_values(plain[1], traced[1]):
            name = line.split("`")[1] if line.startswith("`") else None
            why = _waived_value(name, plain[1].get(name), traced[1].get(name), ref, policy_tree) if name and waive \
                else None
            if why:
                waived.append(why)
            else:
                problems.append("plain vs traced: " + line)
    if "crash" in (plain[0], traced[0]):
        problems.append(f"engine crash: plain {plain[1]!r:.300}, traced {traced[1]!r:.300}")
    if plain[0] == "FactError" or traced[0] == "FactError":
        problems.append(f"the facts were refused, but the generator made them valid: {plain[1] or traced[1]}")
    if ref_error is not None:
        if traced[0] != "EvaluationError":
            problems.append(f"the reference stops ({ref_error}), the engine gives {traced[0]}")
    elif traced[0] != "ok":
        problems.append(f"the reference computes {ref}, the engine stops: {traced[1]!s:.500}")
    else:
        # Known bug `digits_80` (both modes): an ending value of more than 80 digits is kept as a
        # fraction and shown with 28 digits. Known bug `digits_28` (plain): more than 28.
        problems.extend("traced vs reference: " + line
                        for line in vs_reference(traced[1], ref, 80 if waive else None, waived))
        if plain[0] == "ok":
            problems.extend("plain vs reference: " + line
                            for line in vs_reference(plain[1], ref, 28 if waive else None, waived))
    if problems:
        raise AssertionError(report(text, facts, problems))
    return waived
