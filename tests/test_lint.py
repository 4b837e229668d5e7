"""Lints: a valid policy that is probably wrong gets a warning; `check --strict` makes it an error."""

import pytest

import kpirules
from kpirules.cli import main


def lints(body: str, facts: str = "    fact r: number in 0..10\n", top: str = ""):
    p = kpirules.load_policy_text("policy p\n" + top + "evaluation e:\n" + facts + body, "l.rules")
    return [(d.code, d.span.line, d.message) for d in p.diagnostics]


def test_cap_that_can_never_bind():
    # r in 0..10, r * 2 is at most 20: a cap of 50 never binds
    assert lints("    output v = r * 2\n        cap 50\n") == [
        ("W406", 5, "`cap 50` never binds: `v` is at most 20 for the declared fact ranges")]


def test_floor_that_can_never_bind_and_one_that_can():
    assert lints("    output v = r + 1\n        floor 0\n")[0][0] == "W406"   # r + 1 >= 1
    assert lints("    output v = r - 1\n        floor 0\n") == []                # r - 1 may be -1


def test_floor_above_cap():
    found = lints("    output v = r * 100\n        floor 50\n        cap 20\n")
    assert ("W405", 5, "the floor 50 is above the cap 20") in found


def test_condition_always_true_with_a_witness():
    found = lints("    output v = if r >= 0 then 1 else 2\n")
    assert found == [("W407", 4, "`r >= 0` is always true for the declared fact ranges "
                                 "(`r` is at least 0 and at most 10; `0` is 0)")]


def test_division_by_zero_with_a_witness_fact_set():
    found = lints("    output v = 100 / n\n", "    fact n: count\n")
    assert found == [("W408", 4, "`100 / n` divides by zero for some allowed facts, e.g. `n = 0`")]


@pytest.mark.parametrize("body, facts", [
    ("    output v = if n > 0 then 100 / n else 0\n", "    fact n: count\n"),        # guarded
    ("    output v = 100 / n\n", "    fact n: count >= 1\n"),                        # declared above zero
    ("    output v = 100 / n\n", "    fact n: number in 1..5\n"),
])
def test_guarded_divisions_are_fine(body, facts):
    assert lints(body, facts) == []


def test_rounding_twice():
    found = lints("    output v = r / 3\n        round half up to 0.01\n        round half up to 0.1\n")
    assert [c for c, _, _ in found] == ["W409"]


def test_unused_table_and_value():
    found = lints("    let unused = r * 2\n    output v = r\n", top="table t (k) -> number:\n    1 -> 2\n")
    assert {c for c, _, _ in found} == {"W402", "W403"}


def test_unused_import(tmp_path):
    (tmp_path / "ruleset").mkdir()
    (tmp_path / "ruleset" / "m.rules").write_text("module m\nlet k = 2\n", encoding="utf-8")
    p = tmp_path / "p.rules"
    p.write_text("policy p\nimport m\nevaluation e:\n    fact r: number\n    output v = r\n", encoding="utf-8")
    assert [d.code for d in kpirules.load_policy(p).diagnostics] == ["W404"]


def test_check_strict_turns_warnings_into_errors(tmp_path, capsys):
    bad = tmp_path / "l.rules"
    bad.write_text("policy p\nevaluation e:\n    fact n: count\n    output v = 100 / n\n", encoding="utf-8")
    assert main(["check", str(bad)]) == 0
    assert main(["check", "--strict", str(bad)]) == 2
    assert "warning[W408]" in capsys.readouterr().err


def test_shipped_policies_pass_strict(capsys, monkeypatch):
    from pathlib import Path
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    assert main(["check", "--strict", "policies", "ruleset"]) == 0


@pytest.mark.parametrize("body, facts", [
    ("    output v = 100 / n\n", "    fact n: number > 0\n"),
    ("    output v = 100 / n\n", "    fact n: number != 0\n"),
    ("    output v = n > 0 and 100 / n >= 5\n", "    fact n: count\n"),
])
def test_divisors_declared_nonzero_or_tested_first_are_fine(body, facts):
    assert lints(body, facts) == []


def test_a_function_may_call_one_declared_below():
    p = kpirules.load_policy_text("policy p\nfunction a (x: number) = b(x) + 1\nfunction b (x: number) = x * 2\n"
                                  "evaluation e:\n    fact r: number\n    output v = a(r)\n")
    # a(3) = b(3) + 1 = 3 * 2 + 1 = 7
    assert str(p.evaluate({"r": 3}).values["v"]) == "7"


def test_a_module_imported_twice_is_merged_once(tmp_path):
    (tmp_path / "ruleset").mkdir()
    (tmp_path / "ruleset" / "base.rules").write_text("module base\nlet k = 2\n", encoding="utf-8")
    (tmp_path / "ruleset" / "more.rules").write_text("module more\nimport base\nlet j = k * 3\n", encoding="utf-8")
    p = tmp_path / "p.rules"
    p.write_text("policy p\nimport base\nimport more\nevaluation e:\n    output v = j + k\n", encoding="utf-8")
    # j + k = 2 * 3 + 2 = 8
    assert str(kpirules.load_policy(p).evaluate({}).values["v"]) == "8"
