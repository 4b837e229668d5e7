"""Checker: names, types and units, dependencies, policy lints. Each case asserts the code, where
the diagnostic points (line:column) and its message, and the help where the help is the point.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import kpirules

from kpirules import PolicyError, load_policy_text

ROOT = Path(__file__).resolve().parents[1]
U8_TEXT = (ROOT / "policies" / "u8_presales.rules").read_text(encoding="utf-8")


def check(text: str):
    """Every diagnostic of a policy, errors and warnings, in the order they are reported."""
    try:
        policy = load_policy_text(text, "c.rules")
    except PolicyError as exc:
        return list(exc.diagnostics)
    return list(policy.diagnostics)


def errors(text: str):
    return [d for d in check(text) if d.is_error]


def only(text: str, code: str):
    """The one diagnostic of `text`, which must have `code`."""
    diags = check(text)
    assert [d.code for d in diags] == [code], "\n".join(d.render() for d in diags)
    return diags[0]


def at(d) -> tuple:
    return (d.code, d.span.line, d.span.column, d.message)


def _sub(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based line and column of the n-th occurrence of `needle`."""
    offset = -1
    for _ in range(occurrence):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


HEAD = 'policy demo version "1"\n\nevaluation quarterly:\n'


def policy(*lines: str) -> str:
    """A policy whose evaluation holds `lines` (indented four spaces); line 4 is the first one."""
    return HEAD + "".join(f"    {line}\n" for line in lines)


# ---- names --------------------------------------------------------------------------------------

def test_unknown_name_in_the_shipped_policy_suggests_the_close_one():
    text = _sub(U8_TEXT, "ladder projects_won / projects_supported", "ladder projets_won / projects_supported")
    d = only(text, "E201")
    assert at(d) == ("E201", *position(text, "projets_won"), "unknown name `projets_won`")
    assert d.help == "did you mean `projects_won`?"
    assert d.span.text == "projets_won"


def test_the_fact_a_misspelling_was_meant_for_is_not_reported_unused():
    d = only(policy("fact projects_won: count", "output n = projets_won"), "E201")
    assert d.help == "did you mean `projects_won`?"


def test_unknown_name_without_a_close_one_has_no_help():
    d = only(policy("fact sales: money", "output bonus = sales * rate"), "E201")
    assert at(d) == ("E201", 5, 28, "unknown name `rate`") and d.help is None


def test_unknown_list_in_sum_over():
    d = only(policy("fact projects: list of (amount: money)", "output total = sum over project of amount"),
             "E201")
    assert at(d) == ("E201", 5, 29, "unknown list `project`") and d.help == "did you mean `projects`?"


@pytest.mark.parametrize("lines,line,col,message,help", [
    (("fact sales: money", "let bonus = sales * 1%", "output bonus = sales * 2%"),
     6, 12, "duplicate name `bonus`", "`bonus` is already defined at line 5"),
    (("fact sales: money", "fact sales: money", "output bonus = sales"),
     5, 5, "duplicate name `sales`", "`sales` is already defined at line 4"),
    (("fact sales: money", "let sales = 1元", "output bonus = sales"),
     5, 9, "duplicate name `sales`", "`sales` is already defined at line 4"),
    (("fact errors: count", "scorecard score:", "    item score weight 10:", "        minus 1 per errors",
      "output result = score"),
     6, 14, "duplicate name `score`", "`score` is already defined at line 5"),
    (("fact role: one of senior, senior", "output r = if role == \"senior\" then 1 else 0"),
     4, 16, "an enum value is listed twice", None),
    (("fact lines: list of (id: text, id: text)", "output n = count over lines"),
     4, 36, "duplicate field `id`", None),
])
def test_duplicate_names(lines, line, col, message, help):
    d = only(policy(*lines), "E202")
    assert at(d) == ("E202", line, col, message) and d.help == help


def test_duplicate_evaluation_and_table():
    text = ('policy demo version "1"\n'
            "table t (k) -> percent:\n    1 -> 1%\n"
            "table t (k) -> percent:\n    1 -> 2%\n"
            "evaluation e:\n    fact k: integer in 1..1\n    output x = t[k]\n"
            "evaluation e:\n    fact k: integer in 1..1\n    output x = t[k]\n")
    found = [at(d) + (d.help,) for d in check(text)]
    assert found == [("E202", 4, 1, "duplicate table `t`", "the first is at line 2"),
                     ("E202", 9, 1, "duplicate evaluation `e`", "the first is at line 6; to keep both as "
                      "versions, give each `effective from DATE`")]


def test_unknown_enum_value_in_a_comparison():
    d = only(policy("fact role: one of senior, assistant", "output r = if role == \"senoir\" then 1 else 0"),
             "E203")
    assert at(d) == ("E203", 5, 27, "`senoir` is not one of `senior` and `assistant`")
    assert d.help == "did you mean `senior`?"


def test_table_row_that_is_not_an_enum_value():
    text = ('policy demo version "1"\n'
            "table target (role) -> money:\n    senior -> 200万\n    asistant -> 160万\n"
            "evaluation e:\n    fact role: one of senior, assistant\n    output t = target[role]\n")
    found = [at(d) + (d.help,) for d in check(text)]
    assert found == [
        ("E307", 2, 1, "table `target` has no row for `assistant`", "add a row `assistant -> ...`"),
        ("E203", 4, 5, "table `target` has a row `asistant` that is not one of `senior` and `assistant`",
         "did you mean `assistant`?")]


def test_unknown_function():
    d = only(policy("fact sales: money", "output bonus = maxx(sales, 1元)"), "E204")
    assert at(d) == ("E204", 5, 20, "unknown function `maxx`") and d.help == "did you mean `max`?"
    d = only(policy("fact sales: money", "output bonus = total(sales)"), "E204")
    assert d.help == ("the functions are `abs`, `count`, `max`, `min` or `sum` (and, for dates, the calendar "
                      "functions of docs/language.md)")


def test_record_key_missing():
    d = only(policy("fact rollout: record of boolean (sales_tools)", "fact s: money",
                    "output b = if rollout.sales_tool then s else 0元"), "E205")
    assert at(d) == ("E205", 6, 19, "record `rollout` has no key `sales_tool`")
    assert d.help == "did you mean `sales_tools`?"
    d = only(policy("fact rollout: record of boolean (a, b)", "fact s: money",
                    "output x = if rollout.zzz then s else 0元"), "E205")
    assert d.help == "its keys are `a` and `b`"


def test_gate_tag_with_no_items():
    text = _sub(U8_TEXT, "gate knowledge items", "gate knowlege items")
    d = only(text, "E206")
    assert at(d) == ("E206", *position(text, "gate knowlege"),
                     "no item of scorecard `kpi_score` is tagged `knowlege`")
    assert d.help == "did you mean `knowledge`?"


def test_record_key_missing_for_a_gated_item():
    text = _sub(U8_TEXT, "sales_tools, competitor_analysis, proposal_excellence)",
                "sales_tools, competitor_analysis)")
    d = only(text, "E205")
    assert at(d) == ("E205", *position(text, "rollout[item]"),
                     "record `rollout` has no key `proposal_excellence` for item `proposal_excellence`")
    assert d.help == "add `proposal_excellence` to the keys of `rollout`"


def test_item_outside_a_gate():
    d = only(policy("fact s: money", "output b = if item then s else 0元"), "E207")
    assert at(d) == ("E207", 5, 19, "`item` can only be used in a gate")


def test_missing_import_and_top_level_output_and_no_evaluation():
    # Imports are resolved by the loader before checking: a missing module stops the load (E208).
    with pytest.raises(kpirules.PolicyError) as exc:
        kpirules.load_policy_text('policy demo\nimport common.rates\nlet r = 1%\n', "/nonexistent/demo.rules")
    assert [at(d) for d in exc.value.diagnostics] == [("E208", 2, 1, "module `common.rates` not found")]
    assert [at(d) for d in check('policy demo\nlet r = 1%\n')] == [
        ("E211", 1, 1, "the policy has no evaluation")]
    d = errors('policy demo\noutput r = 1%\nevaluation e:\n    fact s: money\n    output b = s * r\n')[0]
    assert at(d) == ("E209", 2, 8, "output `r` must be inside an evaluation")


# ---- dependencies -------------------------------------------------------------------------------

def test_cycle_of_two_values():
    d = only(policy("fact s: money", "let a = b + s", "let b = a - s", "output x = a"), "E210")
    assert at(d) == ("E210", 5, 9, "`a` depends on itself: `a` -> `b` -> `a`")
    assert d.help == "break the cycle: one of these values must not read the other"


def test_value_that_reads_itself():
    d = only(policy("fact s: money", "output x = x + s"), "E210")
    assert at(d) == ("E210", 5, 12, "`x` depends on itself: `x` -> `x`")


def test_fact_bounded_by_itself():
    d = only(policy("fact s: money <= s", "output x = s"), "E210")
    assert at(d) == ("E210", 4, 22, "fact `s` is bounded by itself")


def test_fact_bounded_by_a_computed_value():
    d = only(policy("fact sales: money", "let target = sales * 2", "fact refunds: money <= target",
                    "output b = (sales - refunds) * 1%"), "E212")
    assert at(d) == ("E212", 6, 28, "the bound of fact `refunds` reads `target`, which is computed; a bound "
                     "may use only literals and other facts")


def test_fact_bounded_by_another_fact_is_fine():
    # No error; the only finding is the lint that `total` may be 0 (W408).
    assert [d.code for d in check(policy("fact total: count", "fact good: count <= total",
                                         "output r = good / total"))] == ["W408"]


# ---- types and units ----------------------------------------------------------------------------

@pytest.mark.parametrize("lines,code,line,col,message", [
    (("fact base: money", "fact on_plan: boolean", "output b = base + on_plan"),
     "E301", 6, 16, "cannot add boolean to money"),
    (("fact base: money", "fact on_plan: boolean", "output b = on_plan + base"),
     "E301", 6, 16, "cannot add boolean to money"),
    (("fact base: money", "fact on_plan: boolean", "output b = base * on_plan"),
     "E301", 6, 23, "cannot multiply boolean"),
    (("fact rate: percent", "fact sales: money", "output b = if rate > sales then 1 else 0"),
     "E302", 6, 19, "cannot compare percent with money"),
    (("fact sales: money", "fact n: count", "output b = sales + n"),
     "E302", 6, 16, "cannot add money with count"),
    (("fact sales: money", "fact name: text", "output b = if sales > name then 1 else 0"),
     "E301", 6, 19, "`>` compares numbers, not money and text"),
    (("fact sales: money", "output b = if sales then 1 else 0"),
     "E303", 5, 19, "`if` needs a condition (true or false), not money"),
    (("fact sales: money", "output b = not sales"), "E303", 5, 20, "`not` needs a condition, not money"),
    (("fact a: boolean", "fact n: count", "output b = a and n"), "E303", 6, 22, "`and` needs conditions, not count"),
    (("fact sales: money", "fact flag: boolean", "output b = if flag then sales else \"none\""),
     "E301", 6, 16, "the branches of `if` differ: money and text"),
    (("fact sales: money", "output b = -\"x\" + sales"), "E301", 5, 16, "cannot negate text"),
    (("fact sales: money", "fact cost: money", "output b = abs(sales, cost)"),
     "E304", 6, 16, "`abs` takes one argument, not 2"),
    (("fact sales: money", "output b = max(sales)"), "E304", 5, 16, "`max` takes two or more arguments, not 1"),
    (("fact sales: money", "fact n: count", "output b = max(sales, n)"), "E302", 6, 27, "cannot compare money with count"),
    (("fact name: text >= 1", "output b = name"), "E301", 4, 21, "a text fact cannot have a range"),
    (("fact n: count matching \"[0-9]+\"", "output b = n"), "E301", 4, 19, "`matching` applies to text facts, not count"),
    (("fact s: money", "output b = s", "    floor true"), "E301", 6, 15, "cannot compare money with boolean"),
    (("fact s: text", "output b = s", "    round half up to 0.01"), "E301", 6, 9, "`round` applies to numbers, not text"),
    (("fact s: money", "output b = count over s"), "E301", 5, 27, "`s` is not a list fact"),
    (("fact p: list of (a: money)", "output b = sum over p"), "E301", 5, 16,
     "`sum over` a list of records needs `of` and the value of each line"),
    (("fact p: list of (a: money)", "output b = count over p of a"), "E301", 5, 32,
     "`count over` counts lines; it takes no `of` expression"),
    (("fact p: list of (a: text)", "output b = sum over p of a"), "E301", 5, 16, "`sum over` adds numbers, not text"),
    (("fact p: list of (a: money)", "output b = sum(p)"), "E301", 5, 16,
     "`sum` of a list of records needs `sum over LIST of FIELD`"),
    (("fact s: money", "output b = sum(s)"), "E301", 5, 20, "`sum` needs a list, not money"),
    (("fact s: money", "fact r: record of boolean (a)", "output b = r[s]"), "E301", 6, 18,
     "a record is read with a key name, e.g. `rollout.sales_tools`"),
    (("fact s: money", "output b = s.x"), "E301", 5, 16, "money has no fields"),
])
def test_type_and_unit_errors(lines, code, line, col, message):
    found = [at(d) for d in errors(policy(*lines))]
    assert found == [(code, line, col, message)]


def test_adding_a_boolean_to_money_explains_the_fix():
    d = errors(policy("fact base: money", "fact on_plan: boolean", "output b = base + on_plan"))[0]
    assert d.help == "a condition is not a number: write `if CONDITION then AMOUNT else 0`"


def test_money_in_a_ladder():
    text = _sub(U8_TEXT, "ladder projects_won / projects_supported",
                "ladder projects_won * own_revenue / projects_supported")
    d = only(text, "E302")
    assert at(d) == ("E302", *position(text, "projects_won * own_revenue"),
                     "a ladder's rate needs points or a plain number, not money")
    assert d.help == "divide money by money to get a rate"


def test_money_as_points_of_a_deduction():
    d = errors(policy("fact s: money", "scorecard sc:", "    item i weight 10:", "        minus s",
                      "output b = sc"))[0]
    assert at(d) == ("E302", 7, 19, "`minus` needs points or a plain number, not money")


# ---- tables -------------------------------------------------------------------------------------

def table_policy(rows: str, key_fact: str, value_type: str = "percent") -> str:
    return ('policy demo version "1"\n\n'
            f"table split (key) -> {value_type}:\n{rows}\n"
            "evaluation quarterly:\n"
            f"    fact key: {key_fact}\n"
            "    fact target: money\n"
            "    output part = target * split[key]\n")


def test_table_missing_an_enum_key():
    d = only(table_policy("    senior -> 60%", "one of senior, assistant"), "E307")
    assert at(d) == ("E307", 3, 1, "table `split` has no row for `assistant`")
    assert d.help == "add a row `assistant -> ...`"


def test_table_missing_integer_keys_of_the_declared_range():
    d = only(table_policy("    1 -> 15%; 2 -> 25%", "integer in 1..4"), "E307")
    assert at(d) == ("E307", 3, 1, "table `split` has no row for `3`, `4` (`key` may be any of 1..4)")
    assert d.help == "add a row `3 -> ...`"


def test_the_shipped_quarter_table_missing_a_quarter():
    text = _sub(U8_TEXT, "    3 -> 30%\n", "")
    d = only(text, "E307")
    assert at(d) == ("E307", *position(text, "table quarter_split"),
                     "table `quarter_split` has no row for `3` (`quarter` may be any of 1..4)")


def test_integer_keys_cover_the_range_is_fine():
    assert check(table_policy("    1 -> 15%; 2 -> 25%", "integer in 1..2")) == []


@pytest.mark.parametrize("rows,key_fact,value_type,code,line,col,message", [
    ("    1 -> 15%; 2 -> 85%", "one of a, b", "percent", "E305", 8, 34,
     "table `split` has number keys; `key` is one of `a`, `b`"),
    ("    a -> 15%; b -> 85%", "integer in 1..2", "percent", "E305", 8, 34,
     "table `split` has text keys; `key` is a number"),
    ("    1 -> 15%; a -> 85%", "integer in 1..2", "percent", "E305", 3, 1,
     "table `split` mixes number keys and text keys"),
    ("    1 -> 15%; 2 -> 20万", "integer in 1..2", "percent", "E306", 4, 20,
     "table `split` holds percent, not money"),
    ("    1 -> 15%; 2 -> 20%", "integer in 1..2", "money", "E306", 4, 10,
     "table `split` holds money, not a percentage"),
    ("    1 -> 15%; 2 -> 1% + 2%", "integer in 1..2", "percent", "E306", 4, 20,
     "table `split` holds percent; this cell must be a literal of that type"),
    ("    1 -> 15%; 1 -> 25%", "integer in 1..1", "percent", "E311", 4, 15,
     "table `split` has two rows for key `1`"),
])
def test_table_errors(rows, key_fact, value_type, code, line, col, message):
    found = [at(d) for d in errors(table_policy(rows, key_fact, value_type))]
    assert found[0] == (code, line, col, message), found


# ---- scorecards and ladders ---------------------------------------------------------------------

def test_weights_not_adding_up_to_the_declared_total():
    text = _sub(U8_TEXT, '"人力资源考核" weight 10', '"人力资源考核" weight 15')
    d = only(text, "E310")
    assert at(d) == ("E310", *position(text, "kpi_score"),
                     "item weights of `kpi_score` add up to 105, not the declared total 100")
    assert d.help == "change a weight, or the `total` of the scorecard"


def ladder_policy(steps: list[str]) -> str:
    return policy("fact won: count", "fact supported: count", "scorecard score total 20:",
                  "    item success weight 20:", "        ladder won / supported standard 85%",
                  *[f"            {s}" for s in steps], "output result = score")


def test_ladder_with_two_lines_for_one_direction():
    d = only(ladder_policy(["minus 2 per full 5% below", "minus 1 per full 1% below"]), "E313")
    assert at(d) == ("E313", 10, 17, "the ladder has two `below` lines")


def test_ladder_step_of_zero():
    d = only(ladder_policy(["minus 2 per full 0% below"]), "E314")
    assert at(d) == ("E314", 9, 34, "a ladder's step must be greater than zero")


def test_ladder_of_the_shipped_policy_is_fine():
    # No error; without `if none` the lint notes that `supported` may be 0 (W408).
    assert [d.code for d in check(ladder_policy(["minus 2 per full 5% below", "plus 0.5 per full 1% above"]))] \
        == ["W408"]


# ---- clauses ------------------------------------------------------------------------------------

def test_only_if_on_a_value_that_is_not_a_sum_over():
    d = only(policy("fact sales: money", "output bonus = sales * 1.5%", "    only if sales >= 10万"), "E309")
    assert at(d) == ("E309", 6, 9, "`only if` applies only to `sum over` or `count over` values")
    assert d.help == "move it under a definition of the form `= sum over LIST of ...`"


def test_round_each_on_a_count_over():
    d = only(policy("fact p: list of (a: money)", "output n = count over p", "    round each half up to 1"),
             "E309")
    assert at(d) == ("E309", 6, 9, "`round each` applies only to `sum over`")


def test_rounding_quantum_zero():
    text = _sub(U8_TEXT, "round half up to 0.01\n        cite \"季度奖金",
                "round half up to 0\n        cite \"季度奖金")
    d = only(text, "E308")
    assert at(d) == ("E308", *position(text, "round half up to 0\n"), "rounding quantum must be greater than zero")
    assert d.help == "write e.g. `round half up to 0.01`"


def test_invalid_pattern():
    d = only(policy('fact month: text matching "(0[1-9]"', "output m = month"), "E312")
    assert at(d) == ("E312", 4, 22, "invalid pattern `(0[1-9]`: missing )")


# ---- lints --------------------------------------------------------------------------------------

def test_unused_fact_is_a_warning_and_the_policy_still_loads():
    text = _sub(U8_TEXT, '    fact rollout "', '    fact region "地区": text\n    fact rollout "')
    policy_ = load_policy_text(text, "c.rules")
    [d] = policy_.diagnostics
    assert (d.code, d.severity) == ("W401", "warning")
    assert at(d) == ("W401", *position(text, "fact region"), "fact `region` is declared but never used")
    assert d.help == "remove it, or use it in a value"


def test_the_shipped_policy_has_no_diagnostics():
    assert check(U8_TEXT) == []


# ---- every problem in one run -------------------------------------------------------------------

def test_all_problems_are_reported_at_once_in_source_order():
    text = policy("fact sales: money", "fact unused: count", "let a = nope", "let b = sales + true",
                  "output c = sales", "    round half up to 0")
    assert [(d.code, d.span.line) for d in check(text)] == [("W401", 5), ("E201", 6), ("E301", 7), ("E308", 9)]


def test_arguments_of_an_unknown_function_are_still_checked():
    found = [at(d) for d in check(policy("fact sales: money", "output b = maxx(sales, nope)"))]
    assert found == [("E204", 5, 16, "unknown function `maxx`"), ("E201", 5, 28, "unknown name `nope`")]
