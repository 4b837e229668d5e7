"""Facts stage: exact reading of fact files and validation against the U8 policy's declarations.

Every bad input must be a FactError whose violations name the fact's path exactly and the rule
broken, in a message a person understands (lowercase, user text in backticks).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import kpirules
from kpirules import FactError

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "u8_presales.rules"
QUARTERLY = ROOT / "examples" / "u8_quarterly.json"
MONTHLY = ROOT / "examples" / "u8_monthly.json"

RAW = "@@RAW@@"


@pytest.fixture(scope="module")
def policy():
    return kpirules.load_policy(POLICY)


def quarterly(**changes) -> dict:
    """The quarterly example as plain JSON values, with some facts replaced."""
    facts = json.loads(QUARTERLY.read_text(encoding="utf-8"), parse_float=Decimal)
    facts.update(changes)
    return facts


def monthly() -> dict:
    return json.loads(MONTHLY.read_text(encoding="utf-8"), parse_float=Decimal)


def as_text(facts: dict, raw: str | None = None) -> str:
    """JSON text of `facts`; a value equal to RAW is replaced by `raw` written verbatim.

    Decimals (the examples' fractional numbers) are written as decimal strings.
    """
    text = json.dumps(facts, ensure_ascii=False, default=str)
    return text.replace(json.dumps(RAW), raw) if raw is not None else text


def fails(policy, text: str, evaluation="quarterly") -> FactError:
    """The FactError for fact text (raised while reading or while evaluating)."""
    with pytest.raises(FactError) as info:
        policy.evaluate(kpirules.read_facts(text, is_text=True), evaluation=evaluation)
    return info.value


def fails_api(policy, facts, evaluation="quarterly") -> FactError:
    with pytest.raises(FactError) as info:
        policy.evaluate(facts, evaluation=evaluation)
    return info.value


def only(err: FactError, path: str, code: str | None = None):
    """The single violation of `err`, which must be at `path`."""
    assert [v.path for v in err.violations] == [path], err.render()
    v = err.violations[0]
    if code is not None:
        assert v.code == code, v.render()
    assert v.severity == "error"
    assert v.message[:1] == v.message[:1].lower(), v.message
    return v


# ---- the examples are valid ------------------------------------------------------------------

def test_examples_evaluate(policy):
    q = policy.evaluate(kpirules.read_facts(QUARTERLY), evaluation="quarterly")
    assert q.values["quarterly_bonus"] == Decimal("7488.00")
    assert q.warnings == ()
    mo = policy.evaluate(kpirules.read_facts(MONTHLY), evaluation="monthly")
    assert mo.values["big_project_bonus"] == Decimal("7037.03")


# ---- numbers are read exactly ----------------------------------------------------------------

def test_read_facts_keeps_json_numbers_exact():
    facts = kpirules.read_facts('{"a": 0.1, "b": "0.1", "c": 123456789012345678901234567890, '
                                '"d": 1.10, "e": 2}', is_text=True)
    assert type(facts["a"]) is Decimal and facts["a"] == Decimal("0.1")
    assert str(facts["a"]) == "0.1"
    assert facts["b"] == "0.1"  # a string stays a string until a declaration reads it
    assert facts["c"] == Decimal("123456789012345678901234567890")
    assert str(facts["d"]) == "1.10"  # the digits as written
    assert facts["e"] == Decimal(2)


@pytest.mark.parametrize("raw", ["0.1", '"0.1"'])
def test_money_point_one_stays_exact(policy, raw):
    text = as_text(quarterly(base_salary=RAW), raw)
    result = policy.evaluate(kpirules.read_facts(text, is_text=True), evaluation="quarterly")
    value = result.facts["base_salary"]
    assert type(value) is Decimal and value == Decimal("0.1") and str(value) == "0.1"


@pytest.mark.parametrize("raw", ["123456789012345678901234567890", '"123456789012345678901234567890"',
                                 "1234567890123456789012345678.90", '"0.123456789012345678901234567890"'])
def test_thirty_digit_numbers_are_exact(policy, raw):
    text = as_text(quarterly(own_revenue=RAW), raw)
    result = policy.evaluate(kpirules.read_facts(text, is_text=True), evaluation="quarterly")
    assert result.facts["own_revenue"] == Decimal(raw.strip('"'))
    assert str(result.facts["own_revenue"]) == raw.strip('"')


def test_python_ints_and_decimals_are_accepted(policy):
    facts = quarterly(base_salary=Decimal("36000.10"), dept_revenue=2610000, quarter=2)
    result = policy.evaluate(facts, evaluation="quarterly")
    assert result.facts["base_salary"] == Decimal("36000.10")
    assert result.facts["dept_revenue"] == Decimal(2610000)


# ---- not numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_json(policy, raw):
    v = only(fails(policy, as_text(quarterly(base_salary=RAW), raw)), "base_salary", "F102")
    assert f"`{raw}`" in v.message
    assert "not a finite number" in v.message


def test_nan_inside_a_list_names_the_element(policy):
    err = fails(policy, as_text(quarterly(rule_violations=[3, RAW]), "NaN"))
    only(err, "rule_violations[1]", "F102")


@pytest.mark.parametrize("raw", ["1e999999", "-1e999999", "1e-999999",
                                 "1e99999999999999999999999", "1234567890123456789012345678901234567890123"])
def test_json_number_out_of_range(policy, raw):
    v = only(fails(policy, as_text(quarterly(base_salary=RAW), raw)), "base_salary", "F104")
    assert "out of range" in v.message
    assert "40 digits" in v.message


def test_decimal_nan_via_api_is_refused(policy):
    only(fails_api(policy, quarterly(base_salary=Decimal("NaN"))), "base_salary", "F102")


# ---- wrong types ----------------------------------------------------------------------------

@pytest.mark.parametrize("fact,raw", [("quarter", "true"), ("base_salary", "false"),
                                      ("activities_held", "true"), ("proposals_total", "false")])
def test_boolean_where_a_number_is_declared(policy, fact, raw):
    v = only(fails(policy, as_text(quarterly(**{fact: RAW}), raw)), fact, "F101")
    assert f"got `{raw}`" in v.message
    assert v.message.startswith("expected ")


def test_boolean_in_a_list_of_numbers(policy):
    v = only(fails(policy, as_text(quarterly(attendance_violations=[1, True]))), "attendance_violations[1]")
    assert "expected a number, got `true`" in v.message


@pytest.mark.parametrize("raw", ["1", "0", "1.0"])
def test_number_where_a_boolean_is_declared(policy, raw):
    v = only(fails(policy, as_text(quarterly(sales_training_on_plan=RAW), raw)),
             "sales_training_on_plan", "F101")
    assert "expected `true` or `false`" in v.message
    assert f"got `{raw}`" in v.message


@pytest.mark.parametrize("word", ["yes", "true", "no"])
def test_string_for_a_boolean(policy, word):
    v = only(fails(policy, as_text(quarterly(comparison_updated=word))), "comparison_updated", "F101")
    assert f'got `"{word}"`' in v.message
    assert "without quotes" in v.message


def test_number_in_a_record_of_booleans(policy):
    rollout = quarterly()["rollout"] | {"sales_tools": 1}
    v = only(fails(policy, as_text(quarterly(rollout=rollout))), "rollout.sales_tools", "F101")
    assert "expected `true` or `false`" in v.message


@pytest.mark.parametrize("text,reason", [
    ("1,234", "thousands separators are not allowed; write `1234`"),
    (" 12 ", "spaces are not allowed"),
    ("1_000", "underscores are not allowed"),
    ("1e999999", "exponent notation is not allowed"),
    ("12%", "percent sign is not allowed"),
    ("", "empty"),
    ("12,5", "a comma is not allowed"),
    ("+5", "leading `+`"),
    ("abc", "not a decimal number"),
    ("NaN", "not a number"),
])
def test_bad_money_strings(policy, text, reason):
    v = only(fails(policy, as_text(quarterly(base_salary=text))), "base_salary", "F103")
    assert v.message.startswith("expected an amount of money")
    assert f"got `{json.dumps(text)}`" in v.message
    assert reason in v.message


def test_text_fact_given_a_number(policy):
    facts = monthly()
    facts["month"] = 202605
    v = only(fails(policy, as_text(facts), "monthly"), "month", "F101")
    assert "expected a text, got `202605`" in v.message


# ---- duplicate keys --------------------------------------------------------------------------

def test_duplicate_key_at_top_level(policy):
    text = QUARTERLY.read_text(encoding="utf-8").replace('"quarter": 2,', '"quarter": 2, "quarter": 3,')
    v = only(fails(policy, text), "quarter", "F109")
    assert "`quarter` appears twice" in v.message


def test_duplicate_key_three_times_is_one_violation(policy):
    text = QUARTERLY.read_text(encoding="utf-8").replace('"role": "senior",',
                                                         '"role": "senior", "role": "senior", "role": "x",')
    err = fails(policy, text)
    dup = [v for v in err.violations if v.code == "F109"]
    assert [v.path for v in dup] == ["role"]
    assert "3 times" in dup[0].message


def test_duplicate_key_inside_rollout(policy):
    text = QUARTERLY.read_text(encoding="utf-8").replace(
        '"sales_tools": false,', '"sales_tools": false, "sales_tools": true,')
    v = only(fails(policy, text), "rollout.sales_tools", "F109")
    assert "appears twice" in v.message


def test_duplicate_key_inside_a_project_line(policy):
    text = MONTHLY.read_text(encoding="utf-8").replace(
        '"collected": "123456.78"', '"collected": "123456.78", "collected": "1"')
    v = only(fails(policy, text, "monthly"), "projects[3].collected", "F109")
    assert "`collected` appears twice" in v.message


# ---- enums, missing facts and keys ---------------------------------------------------------

def test_unknown_enum_value(policy):
    v = only(fails(policy, as_text(quarterly(role="manager"))), "role", "F106")
    assert "expected one of `senior`, `assistant`" in v.message
    assert 'got `"manager"`' in v.message


def test_enum_typo_gets_a_suggestion(policy):
    v = only(fails(policy, as_text(quarterly(role="senor"))), "role", "F106")
    assert "did you mean `senior`?" in v.message


def test_missing_fact(policy):
    facts = quarterly()
    del facts["quarter"]
    v = only(fails(policy, as_text(facts)), "quarter", "F107")
    assert "missing" in v.message
    assert "`integer in 1..4`" in v.message


def test_missing_record_key(policy):
    facts = quarterly()
    del facts["rollout"]["sales_tools"]
    v = only(fails(policy, as_text(facts)), "rollout.sales_tools", "F107")
    assert "missing key `sales_tools`" in v.message


def test_missing_line_field(policy):
    facts = monthly()
    del facts["projects"][1]["contract_amount"]
    v = only(fails(policy, as_text(facts), "monthly"), "projects[1].contract_amount", "F107")
    assert "missing field `contract_amount`" in v.message


# ---- ranges and relations ------------------------------------------------------------------

@pytest.mark.parametrize("quarter", [5, 0, -1])
def test_quarter_out_of_range(policy, quarter):
    v = only(fails(policy, as_text(quarterly(quarter=quarter))), "quarter", "F110")
    assert "1..4" in v.message
    assert f"got `{quarter}`" in v.message


def test_list_element_out_of_range(policy):
    v = only(fails(policy, as_text(quarterly(attendance_violations=[1, 3]))), "attendance_violations[1]", "F110")
    assert "must be <= 2" in v.message
    assert "1..2" in v.message
    assert "got `3`" in v.message


def test_every_bad_list_element_is_reported(policy):
    err = fails(policy, as_text(quarterly(attendance_violations=[0.5, 1, "x", 3])))
    assert [v.path for v in err.violations] == [
        "attendance_violations[0]", "attendance_violations[2]", "attendance_violations[3]"]


def test_relation_names_both_facts(policy):
    v = only(fails(policy, as_text(quarterly(proposals_excellent=21, proposals_total=20))),
             "proposals_excellent", "F110")
    assert "`proposals_total`" in v.message
    assert "must be <= `proposals_total` (= 20)" in v.message
    assert "got `21`" in v.message
    assert "`count <= proposals_total`" in v.message


def test_relation_with_invalid_other_fact_reports_only_that_fact(policy):
    err = fails(policy, as_text(quarterly(projects_won=5, projects_supported="many")))
    only(err, "projects_supported", "F103")


@pytest.mark.parametrize("value,code", [("-5", "F110"), ("abc", "F103"), (True, "F101"), ("1,000.50", "F103")])
def test_project_line_field(policy, value, code):
    facts = monthly()
    facts["projects"][3]["collected"] = value
    v = only(fails(policy, as_text(facts), "monthly"), "projects[3].collected", code)
    if code == "F110":
        assert ">= 0" in v.message
        assert "got `-5`" in v.message


@pytest.mark.parametrize("month", ["2026-13", "2026-5", "2026-00", "May 2026", "2026-05-01", ""])
def test_month_must_be_yyyy_mm(policy, month):
    facts = monthly()
    facts["month"] = month
    v = only(fails(policy, as_text(facts), "monthly"), "month", "F111")
    assert "must match the pattern `[0-9]{4}-(0[1-9]|1[0-2])`" in v.message
    assert f"got `{json.dumps(month)}`" in v.message


def test_integer_given_a_fraction(policy):
    for raw in ["2.5", '"2.5"']:
        v = only(fails(policy, as_text(quarterly(quarter=RAW), raw)), "quarter", "F105")
        assert "expected an integer" in v.message
        assert f"got `{raw}`" in v.message


def test_integer_written_with_zero_decimals_is_accepted(policy):
    result = policy.evaluate(quarterly(quarter="2.0"), evaluation="quarterly")
    assert result.facts["quarter"] == 2


def test_count_given_minus_one(policy):
    v = only(fails(policy, as_text(quarterly(activities_held=-1))), "activities_held", "F110")
    assert ">= 0" in v.message
    assert "got `-1`" in v.message


def test_count_given_a_fraction(policy):
    v = only(fails(policy, as_text(quarterly(proposals_total=RAW), "2.5")), "proposals_total", "F105")
    assert "whole number >= 0" in v.message


# ---- the Python API ------------------------------------------------------------------------

def test_python_float_is_refused(policy):
    v = only(fails_api(policy, quarterly(base_salary=36000.5)), "base_salary", "F102")
    assert "float" in v.message and "`36000.5`" in v.message
    assert "`Decimal`" in v.message


def test_python_float_in_a_line_is_refused(policy):
    facts = monthly()
    facts["projects"][0]["collected"] = 0.1
    only(fails_api(policy, facts, "monthly"), "projects[0].collected", "F102")


def test_python_float_even_when_integral_is_refused(policy):
    only(fails_api(policy, quarterly(quarter=2.0)), "quarter", "F102")


def test_tuples_are_lists_for_the_api(policy):
    result = policy.evaluate(quarterly(attendance_violations=(1, 2)), evaluation="quarterly")
    assert result.facts["attendance_violations"] == [Decimal(1), Decimal(2)]


# ---- all violations, and warnings ----------------------------------------------------------

def test_several_violations_are_all_reported_in_declaration_order(policy):
    facts = quarterly(quarter=5, role="manager", base_salary="1,234", sales_training_on_plan="yes",
                      proposals_excellent=25, attendance_violations=[3])
    del facts["own_revenue"]
    del facts["rollout"]["sales_tools"]
    err = fails(policy, as_text(facts))
    assert len(err.violations) == 8
    assert [v.path for v in err.violations] == [
        "quarter", "role", "base_salary", "own_revenue", "sales_training_on_plan",
        "proposals_excellent", "attendance_violations[0]", "rollout.sales_tools"]
    assert err.path == "quarter"
    rendered = err.render().splitlines()
    assert len(rendered) == 8
    assert rendered[0].startswith("facts: error[F110]: `quarter`: ")


def test_unknown_fact_is_a_warning_and_evaluation_succeeds(policy):
    result = policy.evaluate(quarterly(bonus_note="ok", projets_won=7), evaluation="quarterly")
    assert result.values["quarterly_bonus"] == Decimal("7488.00")
    paths = [w.path for w in result.warnings]
    assert paths == ["bonus_note", "projets_won"]
    assert all(w.severity == "warning" for w in result.warnings)
    assert "unknown fact, ignored" in result.warnings[0].message
    assert "`quarterly`" in result.warnings[0].message
    assert result.to_json()["warnings"][0]["path"] == "bonus_note"


def test_unknown_fact_warning_suggests_a_missing_fact(policy):
    facts = quarterly(projets_won=7)
    del facts["projects_won"]
    err = fails_api(policy, facts)
    only(err, "projects_won", "F107")
    assert [w.path for w in err.warnings] == ["projets_won"]
    assert "did you mean `projects_won`?" in err.warnings[0].message


def test_unknown_record_key_and_line_field_are_warnings(policy):
    rollout = quarterly()["rollout"] | {"extra": True}
    result = policy.evaluate(quarterly(rollout=rollout), evaluation="quarterly")
    assert [w.path for w in result.warnings] == ["rollout.extra"]
    facts = monthly()
    facts["projects"][2]["note"] = "late"
    result = policy.evaluate(facts, evaluation="monthly")
    assert [w.path for w in result.warnings] == ["projects[2].note"]


# ---- the shape of the file -----------------------------------------------------------------

@pytest.mark.parametrize("text,shown", [("[]", "a list"), ("[1, 2]", "a list"), ("1", "`1`"),
                                        ('"facts"', '`"facts"`'), ("null", "`null`"), ("true", "`true`")])
def test_top_level_must_be_an_object(text, shown):
    with pytest.raises(FactError) as info:
        kpirules.read_facts(text, is_text=True)
    v = only(info.value, "$", "F101")
    assert "expected a JSON object of facts" in v.message
    assert v.message.endswith(f"got {shown}")


def test_top_level_not_a_mapping_via_api(policy):
    only(fails_api(policy, [("quarter", 2)]), "$", "F101")


def test_invalid_json_gives_line_and_column():
    text = '{\n  "quarter": 2,\n  "role": }\n'
    with pytest.raises(FactError) as info:
        kpirules.read_facts(text, is_text=True)
    v = only(info.value, "$", "F001")
    assert "not valid JSON at line 3 column 11" in v.message
    assert '(near `"role": }`)' in v.message


def test_invalid_json_on_one_long_line_shows_the_place():
    text = "{" + ", ".join(f'"fact_{i}": {i}' for i in range(100)) + ", oops}"
    with pytest.raises(FactError) as info:
        kpirules.read_facts(text, is_text=True)
    v = only(info.value, "$", "F001")
    assert "line 1 column" in v.message
    assert "oops}`)" in v.message


def test_trailing_comma_is_invalid_json():
    with pytest.raises(FactError) as info:
        kpirules.read_facts('{"quarter": 2,\n}', is_text=True)
    assert "line 2 column 1" in only(info.value, "$", "F001").message


def test_empty_text_is_reported():
    with pytest.raises(FactError) as info:
        kpirules.read_facts("  \n", is_text=True)
    assert "empty" in only(info.value, "$", "F001").message


def test_byte_order_mark_is_accepted(tmp_path, policy):
    path = tmp_path / "facts.json"
    path.write_bytes(b"\xef\xbb\xbf" + QUARTERLY.read_bytes())
    result = policy.evaluate(kpirules.read_facts(path), evaluation="quarterly")
    assert result.values["quarterly_bonus"] == Decimal("7488.00")


def test_missing_file(tmp_path):
    with pytest.raises(FactError) as info:
        kpirules.read_facts(tmp_path / "nope.json")
    assert "does not exist" in only(info.value, "$", "F002").message


def test_odd_keys_get_a_readable_path(policy):
    result = policy.evaluate(quarterly(**{"odd key": 1}), evaluation="quarterly")
    assert [w.path for w in result.warnings] == ['["odd key"]']


def test_long_values_are_clipped_in_messages(policy):
    v = only(fails(policy, as_text(quarterly(role="x" * 5000))), "role")
    assert len(v.message) < 200


def test_every_message_is_lowercase_with_no_python_names(policy):
    facts = quarterly(quarter=True, role=1, base_salary="1,234", dept_revenue=None, own_revenue=[1],
                      activities_planned=-1, sales_training_on_plan="yes", rollout=[],
                      attendance_violations={"a": 1}, rule_violations=[11])
    err = fails(policy, as_text(facts))
    assert len(err.violations) == 10
    for v in err.violations:
        assert v.message[0].islower(), v.message
        for word in ("Decimal(", "NoneType", "dict", "RawNumber", "Traceback"):
            assert word not in v.message, v.message


# ---- one validator, built once per evaluation ----------------------------------------------

def test_the_validator_is_built_once_per_evaluation(policy):
    from kpirules import facts as F
    program = policy._program("quarterly")
    assert isinstance(program.check_facts, F.FactValidator)
    assert F.compile_fast is F.compile  # the former name, until its callers move
    facts = kpirules.read_facts(QUARTERLY)
    built = F.compile(program.evaluation)
    for compiled in (built, program.check_facts, None):
        valid, warnings = F.validate(program.evaluation, facts, compiled)
        assert valid["quarter"] == 2 and valid["base_salary"] == Decimal("36000.00")
        assert list(valid) == [d.name for d in program.evaluation.facts]
        assert warnings == ()
    # Calling the validator keeps the former fast validator's contract: the facts or None.
    assert built(facts) == valid
    assert built(quarterly(quarter=5)) is None


def test_an_arithmetic_bound_is_read_from_the_validated_facts():
    draft = kpirules.load_policy(ROOT / "policies" / "presales_draft.rules")
    facts = kpirules.read_facts(ROOT / "examples" / "presales_draft.json")
    # 10 reviews received, 8 positive: at most 10 - 8 = 2 negative.
    draft.evaluate(dict(facts, reviews_negative=2), evaluation="quarterly")
    with pytest.raises(FactError) as info:
        draft.evaluate(dict(facts, reviews_negative=3), evaluation="quarterly")
    v = only(info.value, "reviews_negative", "F110")
    assert v.message == ("must be <= `reviews_received - reviews_positive` (= 2), got `3` "
                         "(rule: `count <= reviews_received - reviews_positive`)")
    # When a fact the bound reads is itself invalid, only that fact is reported.
    with pytest.raises(FactError) as info:
        draft.evaluate(dict(facts, reviews_negative=3, reviews_positive="many"), evaluation="quarterly")
    only(info.value, "reviews_positive", "F103")


def test_a_record_reports_its_type_violations_before_its_bound_violations():
    policy = kpirules.load_policy_text(
        'policy r version "1"\n\nevaluation e:\n    fact scores: record of number in 0..100 (a, b, c)\n'
        '    output o = scores.a + scores.b + scores.c\n')
    with pytest.raises(FactError) as info:
        policy.evaluate({"scores": {"a": 101, "b": -1, "c": 5}})
    assert [(v.path, v.code) for v in info.value.violations] == [("scores.a", "F110"), ("scores.b", "F110")]
    # A record with a value of the wrong type is not checked against its bounds at all.
    with pytest.raises(FactError) as info:
        policy.evaluate({"scores": {"a": 101, "b": "x", "c": 5}})
    assert [(v.path, v.code) for v in info.value.violations] == [("scores.b", "F103")]
