"""How engine results are compared: plain with traced, and both with the reference.

`agrees()` is the ONE rule for "this Decimal is that exact value": a value that ends is shown
with every digit, one that never ends with its first 28 significant digits, rounded half even
(docs/api.md "Result"). `outcome()` runs the engine in one mode and reduces what happened to
something comparable; `check_case()` asserts the three agree, and explains any difference with
the policy text and the facts, so that a failure is a ready-made bug report.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

import kpirules

from .reference import RefFactError, Shown, terminates


def agrees(d: Decimal, f: Fraction) -> bool:
    """Whether the engine's number `d` stands for the exact value `f`.

    A value that ends must be shown exactly, every digit; one that never ends (2/3) is shown by
    its first 28 significant digits, rounded half even, and by nothing else.
    """
    if not isinstance(d, Decimal) or not d.is_finite():
        return False
    if terminates(f):
        return Fraction(d) == f
    return d == shown_28(f)


def shown_28(f: Fraction) -> Decimal:
    """`f` rounded to 28 significant digits, half even (how an endless value is shown)."""
    ctx = Context(prec=28, rounding=ROUND_HALF_EVEN)
    return ctx.divide(Decimal(f.numerator), Decimal(f.denominator))


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


def vs_reference(values: dict, ref: dict) -> list:
    """Differences between engine values and the reference's (a per-member value is a dict from
    key to value in list order, compared member by member)."""
    problems = []
    if list(values) != list(ref):
        problems.append(f"names differ: engine {list(values)} vs reference {list(ref)}")
    for name, want in ref.items():
        got = values.get(name)
        if isinstance(want, dict):
            if not isinstance(got, dict) or list(got) != list(want):
                problems.append(f"`{name}`: engine {got!r}, reference {want!r} (members differ)")
                continue
            for key, w in want.items():
                problems.extend(one_value(f"{name}[{key!r}]", got[key], w))
        else:
            problems.extend(one_value(name, got, want))
    return problems


def one_value(name: str, got, want) -> list:
    if isinstance(want, Fraction):
        if not agrees(got, want):
            return [f"`{name}`: engine {got!r}, reference {want} (= {float(want)!r})"]
        if isinstance(want, Shown) and got.as_tuple().exponent != -want.places:
            return [f"`{name}`: engine {got!r} has not {want.places} decimal places"]
        return []
    if got != want or type(got) is not type(want):
        return [f"`{name}`: engine {got!r}, reference {want!r}"]
    return []


def report(text: str, facts, lines) -> str:
    return "\n".join(["engine and reference disagree:", *lines, "--- policy ---", text,
                      "--- facts ---", repr(facts)])


# ---- the whole comparison of one case -------------------------------------------------------------

def check_case(policy_tree, text, facts, passed) -> None:
    """Load `text`, evaluate `passed` plain and traced, compare with the reference on `facts`.

    Raises AssertionError with a report for any difference: plain and traced must give the same
    outcome and the same digits, and both must equal the reference.
    """
    from . import reference
    try:
        policy = kpirules.load_policy_text(text)
    except kpirules.PolicyError as exc:
        raise AssertionError("generator bug: the checker refuses a generated policy\n"
                             + exc.render() + "\n" + text) from None
    except Exception as exc:   # noqa: BLE001
        raise AssertionError(f"engine crash while loading: {exc!r}\n{text}") from exc
    plain = outcome(policy, passed, explain=False)
    traced = outcome(policy, passed, explain=True)
    ref, ref_error = reference.evaluate(policy_tree, facts)
    problems = []
    if plain[0] != traced[0]:
        problems.append(f"plain gives {plain[0]}: {plain[1]!s:.300}; traced gives {traced[0]}: {traced[1]!s:.300}")
    elif plain[0] == "ok":
        problems.extend("plain vs traced: " + line for line in same_values(plain[1], traced[1]))
    if "crash" in (plain[0], traced[0]):
        problems.append(f"engine crash: plain {plain[1]!r:.300}, traced {traced[1]!r:.300}")
    if isinstance(ref_error, RefFactError):
        # Refused facts (a repeated key): both modes refuse them, with exactly these violations.
        for mode, (kind, exc) in (("plain", plain), ("traced", traced)):
            got = [(v.code, v.path) for v in exc.violations] if kind == "FactError" else None
            if got != ref_error.violations:
                problems.append(f"{mode}: the reference refuses the facts ({ref_error}), the engine gives "
                                f"{kind}: {got or exc!s:.300}")
    elif plain[0] == "FactError" or traced[0] == "FactError":
        problems.append(f"the facts were refused, but the generator made them valid: {plain[1] or traced[1]}")
    elif ref_error is not None:
        if traced[0] != "EvaluationError":
            problems.append(f"the reference stops ({ref_error}), the engine gives {traced[0]}")
    elif traced[0] != "ok":
        problems.append(f"the reference computes {ref}, the engine stops: {traced[1]!s:.500}")
    else:
        problems.extend("traced vs reference: " + line for line in vs_reference(traced[1], ref))
        if plain[0] == "ok":
            problems.extend("plain vs reference: " + line for line in vs_reference(plain[1], ref))
    if problems:
        raise AssertionError(report(text, facts, problems))
