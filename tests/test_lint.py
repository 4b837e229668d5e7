"""Lints: a valid policy that is probably wrong gets a warning; `check --strict` makes it an error."""

from pathlib import Path

import pytest

import kpirules
from kpirules.cli import main
from kpirules.parser import MAX_LITERAL_DIGITS


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


# ---- W410: a rate written without its percent sign ------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
MONEY_FACTS = ('    fact sales "销售额": money >= 0\n'
               '    fact cost: money >= 0\n'
               '    fact months: count\n'
               '    fact bonus_months: number >= 0\n'
               '    fact monthly_salary "月工资": money >= 0\n'
               '    fact standard: money >= 0\n'
               '    fact standard_bonus: money >= 0\n'
               '    fact commission_rate: percent\n'
               '    fact big: boolean\n')
FACT_LINES = MONEY_FACTS.count("\n")


def rate_lints(body: str, facts: str = MONEY_FACTS, top: str = ""):
    """W410s of a policy: (path:line:col, message, help)."""
    p = kpirules.load_policy_text("policy p\n" + top + "evaluation e:\n" + facts + body, "l.rules")
    return [(d.span.location(), d.message, d.help) for d in p.diagnostics if d.code == "W410"]


def at(col: int, line: int = FACT_LINES + 3) -> str:
    return f"l.rules:{line}:{col}"


def help_right(k: str) -> str:
    return f"did you mean `{k}%`? `* {k}` pays {k} times the amount; `* {k}%` pays {k} in a hundred"


def help_left(k: str) -> str:
    return f"did you mean `{k}%`? `{k} *` pays {k} times the amount; `{k}% *` pays {k} in a hundred"


def test_w410_a_commission_by_its_name():
    assert rate_lints("    output commission = sales * 3\n") == [(
        at(25), "`sales * 3` pays 3 times `sales` into output `commission`, named as a commission or bonus",
        help_right("3"))]


def test_w410_a_bonus_by_its_label_with_the_literal_first():
    # the label says 提成; the name says nothing
    assert rate_lints('    let payout "销售提成" = 1.5 * sales\n    output total = payout\n') == [(
        at(25), "`1.5 * sales` pays 1.5 times `sales` into let `payout`, named as a commission or bonus",
        help_left("1.5"))]


@pytest.mark.parametrize("name", ["bonus", "q3_bonus", "sales_commissions", "incentive",
                                  'p "季度奖金"', 'p "年终奖"', 'p "佣金"'])
def test_w410_each_commission_word(name):
    assert len(rate_lints(f"    output {name} = sales * 2\n")) == 1


def test_w410_inside_sums_branches_and_max():
    body = "    output bonus = 1000元 + (if big then (sales - 10万) * 2 else max(cost * 3, 0元))\n"
    assert rate_lints(body) == [
        (at(41), "`(sales - 10万) * 2` pays 2 times `sales - 10万` into output `bonus`, named as a commission "
                 "or bonus", help_right("2")),
        (at(68), "`cost * 3` pays 3 times `cost` into output `bonus`, named as a commission or bonus",
         help_right("3"))]


def test_w410_in_the_body_of_a_sum_over_a_list():
    facts = '    fact projects: list of (name: text, collected "回款": money >= 0)\n'
    assert rate_lints('    output commission "项目提成" = sum over projects of collected * 2\n', facts) == [(
        "l.rules:4:53", "`collected * 2` pays 2 times `collected` into output `commission`, named as a "
                        "commission or bonus", help_right("2"))]


def test_w410_in_a_function_named_as_a_commission():
    top = "function commission_of(amount: money) = amount * 3\n"
    assert rate_lints("    output v = commission_of(sales)\n", top=top) == [(
        "l.rules:2:41", "`amount * 3` pays 3 times `amount` into function `commission_of`, named as a "
                        "commission or bonus", help_right("3"))]


@pytest.mark.parametrize("body, col, beside", [
    ("    output payout = if sales > 100万 then sales * 3 else sales * 2%\n", 42, "sales * 2%"),
    ("    output payout = if big then sales * 3 else if sales > 0元 then sales*1% else 0元\n", 33, "sales*1%"),
    ("    output payout = max(sales * 1%, sales * 3)\n", 37, "sales * 1%"),
    ("    output payout = min(sales * 5%, sales * 3)\n", 37, "sales * 5%"),
    ("    output payout = if sales * 3 > sales * 2% then 1元 else 0元\n", 24, "sales * 2%"),
    # the rate is the product of the literals: 2 * 1% is 2%, and 3 is within ten times of it
    ("    output payout = if big then sales * 3 else sales * 2 * 1%\n", 33, "sales * 2 * 1%"),
])
def test_w410_b_a_rate_of_the_same_money_beside_it(body, col, beside):
    assert rate_lints(body) == [(
        at(col), f"`sales * 3` pays 3 times `sales` while `{beside}` beside it pays a rate of it", help_right("3"))]


@pytest.mark.parametrize("k, fires", [
    ("5", True),                                   # 10 * 50%
    ("4.99999999999999999999999999999", False),    # just below
    ("500", True),                                 # 1000 * 50%
    ("500.000000000000000000000000001", False),    # just above
    ("2", False),                                  # `standard * 2` beside `standard * 50%`: a multiple
])
def test_w410_b_only_when_the_literal_read_as_a_percent_is_near_the_rate(k, fires):
    found = rate_lints(f"    output payout = if big then sales * {k} else sales * 50%\n")
    assert [m for _, m, _ in found] == ([f"`sales * {k}` pays {k} times `sales` while `sales * 50%` "
                                          "beside it pays a rate of it"] if fires else [])


def test_w410_compares_the_literal_exactly():
    just_above = "1." + "0" * (MAX_LITERAL_DIGITS - 2) + "1"    # 1 + 10^-39, as long as a literal may be
    just_below = "0." + "9" * (MAX_LITERAL_DIGITS - 1)
    assert rate_lints(f"    output bonus = sales * {just_above}\n") == [(
        at(20), f"`sales * {just_above}` pays {just_above} times `sales` into output `bonus`, named as a "
                "commission or bonus", help_right(just_above))]
    assert rate_lints(f"    output bonus = sales * {just_below}\n") == []
    assert rate_lints("    output bonus = sales * 1\n") == []
    assert rate_lints("    output bonus = sales * 1.000\n") == []


@pytest.mark.parametrize("body", [
    "    output bonus = months * monthly_salary\n",                 # a count times money
    "    output bonus = bonus_months * standard\n",                 # a multiplier that is a fact
    "    output double_pay = sales * 2\n",                          # the name says no commission
    "    output year_end_bonus = monthly_salary * 2\n",             # 年终双薪: money named as salary
    "    output bonus = standard_bonus * 1.5\n",                    # a multiple of a bonus
    "    output bonus = sales * 3 / 100\n",                         # the rate written out
    "    output bonus = sales / 100 * 3\n",
    "    output bonus = sales * 3 * 1%\n",                          # a rate is in the product
    "    output bonus = sales * commission_rate * 2\n",
    "    output bonus = sales * 3 * 0.01\n",                        # a scale is in the product
    "    output bonus = 3 * 500元\n",                               # an amount written out
    "    output bonus = if sales * 2 > 100万 then sales * 3% else 0元\n",   # a test, not a payment
    "    output bonus = sales * 3%\n        cap sales * 3\n",       # a cap pays nothing
    "    output payout = min(sales * 5%, monthly_salary * 3)\n",   # capped at 3 months' salary
    "    output payout = min(sales * 5%, cost * 3)\n",             # another money beside the rate
    "    output payout = if big then standard * 2 else standard * 50%\n",
    "    output payout = if big then sales * 3 else sales * commission_rate\n",  # a rate with no value
    "    output commission = sales * 3%\n",                         # the fix
    "    let multiple = 3\n    output commission = sales * multiple\n",   # a named multiple
])
def test_w410_does_not_fire_on_legitimate_multiples(body):
    assert rate_lints(body) == []


def test_w410_a_rate_from_a_percent_table_is_a_rate():
    top = "table split (quarter) -> percent:\n    1 -> 15%; 2 -> 25%; 3 -> 30%; 4 -> 30%\n"
    facts = MONEY_FACTS + "    fact quarter: integer in 1..4\n"
    assert rate_lints("    output bonus = sales * split[quarter] * 4\n", facts, top) == []
    assert rate_lints("    output bonus = split[quarter] * 4 * sales\n", facts, top) == []


def test_w410_reported_once_for_a_top_level_value_read_by_two_evaluations():
    text = ("policy p\nlet base_amount = 100元\nlet commission = base_amount * 3\n"
            "evaluation a:\n    output v = commission\n"
            "evaluation b:\n    output w = commission\n")
    found = [d for d in kpirules.load_policy_text(text, "l.rules").diagnostics if d.code == "W410"]
    assert [(d.span.location(), d.message) for d in found] == [(
        "l.rules:3:18", "`base_amount * 3` pays 3 times `base_amount` into let `commission`, named as a "
                        "commission or bonus")]


def test_w410_rendered_with_its_position_and_strict_fails(tmp_path, capsys):
    path = tmp_path / "l.rules"
    path.write_text("policy p\nevaluation e:\n    fact sales: money >= 0\n    output bonus = sales * 3\n",
                    encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert main(["check", "--strict", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4:20: warning[W410]: `sales * 3` pays 3 times `sales` into output `bonus`, named as a " \
           "commission or bonus\n" in err
    assert "   help: did you mean `3%`? `* 3` pays 3 times the amount; `* 3%` pays 3 in a hundred\n" in err


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix() for p in
                                        [*ROOT.glob("policies/*.rules"), *ROOT.glob("ruleset/*.rules")]))
def test_w410_no_shipped_policy_triggers_it(path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["check", "--strict", path]) == 0
    assert "W410" not in capsys.readouterr().err
