"""Dates, periods and effective-dated tables: the calendar module, the language, P9 and P10.

Expected values are worked out by hand in the comments (days counted with both ends included).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import kpirules
from kpirules import dates
from kpirules.cli import main

ROOT = Path(__file__).resolve().parent.parent
P9 = kpirules.load_policy(ROOT / "policies" / "year_end_bonus.rules")
P10 = kpirules.load_policy(ROOT / "policies" / "commission_dated.rules")


# ---- the calendar ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, problem", [
    ("2026-02-30", "February 2026 has 28 days"),
    ("2025-02-29", "February 2025 has 28 days"),
    ("2026-13-01", "there is no month 13"),
    ("2026/07/01", "write a date as YYYY-MM-DD, e.g. 2026-07-01"),
    ("20260701", "write a date as YYYY-MM-DD, e.g. 2026-07-01"),
    ("2026-7-1", "write a date as YYYY-MM-DD, e.g. 2026-07-01"),
    (" 2026-07-01", "write a date as YYYY-MM-DD, e.g. 2026-07-01"),
])
def test_a_date_is_an_existing_day_written_iso(text, problem):
    with pytest.raises(dates.DateProblem) as caught:
        dates.parse_date(text)
    assert str(caught.value) == problem


def test_leap_days_exist_only_in_leap_years():
    assert dates.parse_date("2024-02-29") == date(2024, 2, 29)   # 2024 is divisible by 4
    assert dates.parse_date("2000-02-29") == date(2000, 2, 29)   # 2000 by 400
    with pytest.raises(dates.DateProblem):
        dates.parse_date("1900-02-29")                           # 1900 by 100, not by 400


def test_days_count_both_ends_and_an_empty_span_is_zero():
    assert dates.days_between(date(2026, 1, 1), date(2026, 1, 1)) == 1
    assert dates.days_between(date(2026, 1, 1), date(2026, 12, 31)) == 365
    assert dates.days_between(date(2024, 1, 1), date(2024, 12, 31)) == 366
    assert dates.days_between(date(2026, 3, 16), date(2026, 12, 31)) == 16 + 275   # March 16..31, Apr..Dec
    assert dates.days_between(date(2026, 7, 2), date(2026, 7, 1)) == 0


@pytest.mark.parametrize("text, unit, first, last, days", [
    ("2026-Q1", "quarter", date(2026, 1, 1), date(2026, 3, 31), 31 + 28 + 31),
    ("2024-Q1", "quarter", date(2024, 1, 1), date(2024, 3, 31), 31 + 29 + 31),
    ("2026-Q4", "quarter", date(2026, 10, 1), date(2026, 12, 31), 31 + 30 + 31),
    ("2026-02", "month", date(2026, 2, 1), date(2026, 2, 28), 28),
    ("2026", "year", date(2026, 1, 1), date(2026, 12, 31), 365),
])
def test_periods_have_first_and_last_days(text, unit, first, last, days):
    p = dates.parse_period(text, unit)
    assert (p.first_day, p.last_day, p.days, str(p)) == (first, last, days, text)


@pytest.mark.parametrize("text, unit", [("2026-Q5", "quarter"), ("2026-13", "month"), ("26", "year"),
                                        ("2026-05", "quarter"), ("2026-Q2", "month")])
def test_a_period_of_the_wrong_form_is_refused(text, unit):
    with pytest.raises(dates.DateProblem):
        dates.parse_period(text, unit)


def test_calendar_functions():
    d = date(2026, 8, 15)
    assert dates.first_day_of_quarter(d) == date(2026, 7, 1)
    assert dates.last_day_of_quarter(d) == date(2026, 9, 30)
    assert dates.last_day_of_month(date(2024, 2, 10)) == date(2024, 2, 29)
    assert dates.last_day_of_year(D(2026)) == date(2026, 12, 31)
    assert (dates.year_of(d), dates.quarter_of(d), dates.month_of(d)) == (2026, 3, 8)
    assert dates.days_in_year(D(2024)) == 366 and dates.is_leap_year(D(2024)) is True
    with pytest.raises(dates.DateProblem):
        dates.date_of(D(2026), D(2), D(30))
    with pytest.raises(dates.DateProblem):
        dates.first_day_of_year(D("2026.5"))                     # a year must be a whole number


# ---- facts ---------------------------------------------------------------------------------------

BASE = {"year": 2026, "monthly_salary": "20000.00", "bonus_months": 2, "grade": "A",
        "hire_date": "2026-03-16", "last_day": "2099-12-31"}


def p9(**changes):
    return P9.evaluate({**BASE, **changes}, evaluation="annual").values


@pytest.mark.parametrize("value, message", [
    ("2026-02-30", "expected a date, got `\"2026-02-30\"`: February 2026 has 28 days"),
    ("2026/07/01", "expected a date, got `\"2026/07/01\"`: write a date as YYYY-MM-DD, e.g. 2026-07-01"),
    ("20260701", "expected a date, got `\"20260701\"`: write a date as YYYY-MM-DD, e.g. 2026-07-01"),
    (20260701, "expected a date written YYYY-MM-DD (e.g. \"2026-07-01\"), got `20260701`"),
])
def test_a_bad_date_fact_is_a_fact_error_naming_the_path(value, message):
    with pytest.raises(kpirules.FactError) as caught:
        p9(hire_date=value)
    assert [(v.code, v.path, v.message) for v in caught.value.violations] == [("F114", "hire_date", message)]


def test_a_python_date_is_accepted_and_a_datetime_is_not():
    from datetime import datetime
    assert p9(hire_date=date(2026, 3, 16))["days_employed"] == 291
    with pytest.raises(kpirules.FactError) as caught:
        p9(hire_date=datetime(2026, 3, 16, 9, 0))
    assert "a date and time (give the date alone)" in caught.value.violations[0].message


def test_a_broken_relation_names_both_facts_and_their_values():
    with pytest.raises(kpirules.FactError) as caught:
        p9(last_day="2026-01-31")
    v = caught.value.violations[0]
    assert (v.code, v.path) == ("F110", "last_day")
    assert v.message == ("must be >= `hire_date` (= 2026-03-16), got `2026-01-31` "
                         "(rule: `date >= hire_date`)")


def test_a_date_outside_its_range_is_refused_at_its_path():
    facts = {"projects": [{"id": "a", "amount": "1", "close_date": "2026-05-01"},
                          {"id": "b", "amount": "1", "close_date": "2027-01-01"}]}
    with pytest.raises(kpirules.FactError) as caught:
        P10.evaluate(facts)
    v = caught.value.violations[0]
    assert (v.code, v.path) == ("F110", "projects[1].close_date")
    assert "must be <= 2026-12-31, got `2027-01-01`" in v.message


# ---- P9, worked by hand ---------------------------------------------------------------------------

def test_p9_hired_mid_year():
    # 2026-03-16 .. 2026-12-31: March 16..31 is 16 days, April..December 275: 291 of 365 days.
    # 20000 x 2 x 1.2 (A) x 291 / 365 = 13968000 / 365 = 38268.49..., half up to the yuan: 38268
    v = p9()
    assert (v["days_employed"], v["days_in_year"], v["coefficient"], v["bonus"]) == (291, 365, D("1.2"), 38268)
    assert str(v["bonus"]) == "38268"


def test_p9_hired_before_the_year_and_left_mid_year():
    # 2026-01-01 .. 2026-06-30: 31 + 28 + 31 + 30 + 31 + 30 = 181 days.
    # 20000 x 2 x 0.6 (C) x 181 / 365 = 4344000 / 365 = 11901.369..., half up: 11901
    v = p9(grade="C", hire_date="2019-01-01", last_day="2026-06-30")
    assert (v["days_employed"], v["bonus"]) == (181, 11901)


def test_p9_leaving_on_31_december_counts_the_whole_year():
    # 365 of 365 days: 20000 x 2 x 1.5 (S) = 60000
    v = p9(grade="S", hire_date="2019-01-01", last_day="2026-12-31")
    assert (v["days_employed"], v["bonus"]) == (365, 60000)


def test_p9_leap_year_and_common_year():
    # 2024 has 366 days: July..December 2024 is 31 + 31 + 30 + 31 + 30 + 31 = 184 days.
    # 20000 x 2 x 1.0 (B) x 184 / 366 = 7360000 / 366 = 20109.289..., half up: 20109
    leap = p9(year=2024, grade="B", hire_date="2024-07-01", last_day="2024-12-31")
    assert (leap["days_in_year"], leap["days_employed"], leap["bonus"]) == (366, 184, 20109)
    # 2026 has 365: July..December 2026 is again 184 days: 7360000 / 365 = 20164.383..., 20164
    common = p9(year=2026, grade="B", hire_date="2026-07-01", last_day="2026-12-31")
    assert (common["days_in_year"], common["days_employed"], common["bonus"]) == (365, 184, 20164)


def test_p9_hired_after_the_year_counts_no_day():
    v = p9(hire_date="2027-01-04", last_day="2027-12-31")
    assert (v["days_employed"], v["bonus"]) == (0, 0)


def test_p9_explanation_shows_both_ends_of_the_day_count():
    node = P9.evaluate(BASE, evaluation="annual", explain=True).node("days_employed")
    assert node["working"] == "days from 2026-03-16 to 2026-12-31 = 291"


# ---- P10, worked by hand --------------------------------------------------------------------------

def p10(*lines):
    projects = [{"id": f"p{i}", "amount": amount, "close_date": day} for i, (amount, day) in enumerate(lines)]
    return P10.evaluate({"projects": projects}, evaluation="annual", explain=True)


def test_p10_the_rate_changes_on_1_july():
    # 30 June: 10000 x 1.5% = 150.00; 1 July: 10000 x 2% = 200.00; together 350.00
    r = p10(("10000", "2026-06-30"), ("10000", "2026-07-01"))
    assert (str(r.values["commission"]), r.values["projects_at_new_rate"]) == ("350.00", 1)


def test_p10_each_line_names_the_version_that_applied():
    r = p10(("10000", "2026-06-30"), ("10000", "2026-07-01"))
    lines = [c for c in r.node("commission")["children"] if c["kind"] == "line"]
    versions = [[g["reason"]["params"] for g in line["children"] if g["kind"] == "table_lookup"][0]
                for line in lines]
    assert [(v["key"], v["from"], v["value"]) for v in versions] == [
        ("2026-06-30", "2026-01-01", D("0.015")), ("2026-07-01", "2026-07-01", D("0.02"))]


def test_p10_rounds_each_project_half_up_to_cents():
    # 33333.33 x 1.5% = 499.99995 -> 500.00 (half up); 33333.33 x 2% = 666.6666 -> 666.67
    r = p10(("33333.33", "2026-06-30"), ("33333.33", "2026-07-01"))
    assert str(r.values["commission"]) == "1166.67"


# ---- properties ---------------------------------------------------------------------------------

days_2000s = st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=200, deadline=None)
@given(st.integers(2000, 2030), days_2000s, st.integers(0, 4000))
def test_days_employed_never_exceeds_days_in_year(year, hire, stay):
    v = p9(year=year, hire_date=hire.isoformat(), last_day=(hire + timedelta(days=stay)).isoformat())
    assert 0 <= v["days_employed"] <= v["days_in_year"]


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 30)), st.integers(1, 400),
       st.sampled_from("SABCD"), st.integers(2022, 2028))
def test_a_later_hire_never_raises_the_bonus(hire, later, grade, year):
    last = "2040-12-31"
    late = hire + timedelta(days=later)
    earlier = p9(year=year, grade=grade, hire_date=hire.isoformat(), last_day=last)["bonus"]
    assert p9(year=year, grade=grade, hire_date=late.isoformat(), last_day=last)["bonus"] <= earlier


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 30)), st.integers(1, 364))
def test_p10_commission_is_monotone_in_the_close_date(day, later):
    other = min(day + timedelta(days=later), date(2026, 12, 31))
    first = p10(("12345.67", day.isoformat())).values["commission"]
    second = p10(("12345.67", other.isoformat())).values["commission"]
    assert first <= second


# ---- the language ---------------------------------------------------------------------------------

def load(text: str):
    return kpirules.load_policy_text(text, "t.rules")


def codes(text: str) -> list:
    with pytest.raises(kpirules.PolicyError) as caught:
        load(text)
    return [(d.code, d.span.line, d.message) for d in caught.value.errors]


def test_a_date_literal_is_never_arithmetic():
    p = load("policy p\nevaluation e:\n    fact d: date\n    output late = d >= 2026-07-01\n")
    assert p.evaluate({"d": "2026-07-01"}).values["late"] is True
    assert p.evaluate({"d": "2026-06-30"}).values["late"] is False


def test_dates_do_not_mix_with_numbers():
    text = ("policy p\nevaluation e:\n    fact d: date\n    fact m: money\n    fact n: number\n"
            "    output a = d + m\n    output b = d < n\n    output c = days from d to n\n")
    assert codes(text) == [
        ("E301", 6, "cannot add date to money"),
        ("E301", 7, "`<` compares numbers or dates, not date and number"),
        ("E301", 8, "`days from ... to ...` counts the days between dates, not number"),
    ]


def test_a_date_that_does_not_exist_in_a_policy_is_e318():
    assert codes("policy p\nevaluation e:\n    fact d: date\n    output late = d > 2026-02-30\n") == [
        ("E318", 4, "`2026-02-30` is not a date: February 2026 has 28 days")]


def test_versions_that_overlap_or_leave_a_gap_are_e319():
    overlap = ("policy p\ntable r (d) -> percent:\n    from 2026-01-01 until 2026-07-31 -> 1%\n"
               "    from 2026-07-01 -> 2%\nevaluation e:\n    fact d: date\n    output x = r[d]\n")
    assert codes(overlap) == [("E319", 4, "versions of table `r` overlap: 2026-07-01 is in force in both")]
    gap = overlap.replace("2026-07-31", "2026-05-31")
    assert codes(gap) == [("E319", 4, "versions of table `r` leave a gap: no version is in force on 2026-06-01")]


def test_a_date_no_version_covers_is_an_evaluation_error_naming_the_versions():
    p = load("policy p\ntable r (d) -> percent:\n    from 2026-01-01 -> 1%\n    from 2026-07-01 -> 2%\n"
             "evaluation e:\n    fact d: date\n    output x = r[d]\n")
    with pytest.raises(kpirules.EvaluationError) as caught:
        p.evaluate({"d": "2025-12-31"})
    assert caught.value.message == ("no version of table `r` is in force on 2025-12-31; "
                                    "it has: from 2026-01-01, from 2026-07-01")


def test_an_effective_dated_table_is_looked_up_with_a_date():
    text = ("policy p\ntable r (d) -> percent:\n    from 2026-01-01 -> 1%\nevaluation e:\n"
            "    fact n: integer\n    output x = r[n]\n")
    assert codes(text) == [("E305", 6, "table `r` has versions by date; `n` is integer")]


# ---- as of a date -------------------------------------------------------------------------------

AS_OF = """policy a
table base_rate (day) -> percent:
    from 2026-01-01 -> 10%
    from 2026-07-01 -> 12%
evaluation monthly:
    fact sales: money >= 0
    output bonus = sales * base_rate[evaluation_date]
        round half up to 0.01
"""


def test_evaluation_date_follows_as_of():
    p = load(AS_OF)
    # 10000 x 10% = 1000.00 on 30 June; 10000 x 12% = 1200.00 from 1 July
    assert str(p.evaluate({"sales": "10000"}, as_of="2026-06-30").values["bonus"]) == "1000.00"
    assert str(p.evaluate({"sales": "10000"}, as_of=date(2026, 7, 1)).values["bonus"]) == "1200.00"
    with pytest.raises(kpirules.UsageError, match="reads `evaluation_date`"):
        p.evaluate({"sales": "10000"})
    with pytest.raises(kpirules.UsageError, match="there is no month 13"):
        p.evaluate({"sales": "10000"}, as_of="2026-13-01")


def test_as_of_is_stamped_and_verified(tmp_path, capsys):
    policy, facts, out = tmp_path / "a.rules", tmp_path / "f.json", tmp_path / "r.json"
    policy.write_text(AS_OF, encoding="utf-8")
    facts.write_text('{"sales": "10000"}', encoding="utf-8")
    assert main(["eval", str(policy), str(facts), "--as-of", "2026-07-01", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["as_of"], result["stamp"]["as_of"], result["values"]["bonus"]) == (
        "2026-07-01", "2026-07-01", "1200.00")
    out.write_text(json.dumps(result), encoding="utf-8")
    assert main(["verify", str(out), str(facts), str(policy)]) == 0
    capsys.readouterr()
    # Another as-of date picks another version: the stamp and the value no longer match.
    result["stamp"]["as_of"] = "2026-06-30"
    out.write_text(json.dumps(result), encoding="utf-8")
    assert main(["verify", str(out), str(facts), str(policy)]) == 1
    assert "bonus" in capsys.readouterr().out


# ---- versions of a whole evaluation --------------------------------------------------------------

VERSIONS = """policy v "v"

evaluation annual "年终奖" effective from 2026-01-01 until 2026-12-31:
    fact salary: money >= 0
    output bonus = salary * 2

evaluation annual "年终奖" effective from 2027-01-01:
    fact salary: money >= 0
    fact grade: one of A, B
    output bonus = salary * (if grade == "A" then 3 else 2)

example "2027, grade A" for annual:
    given evaluation_date = 2027-03-01
    given salary = 1000
    given grade = A
    expect bonus = 3000
"""


def test_the_version_in_force_on_the_as_of_date_runs():
    p = load(VERSIONS)
    assert p.evaluations == ("annual",)
    # 2026: two months (1000 x 2); 2027: three at grade A (1000 x 3)
    r2026 = p.evaluate({"salary": "1000"}, as_of="2026-12-31")
    r2027 = p.evaluate({"salary": "1000", "grade": "A"}, as_of="2027-01-01", explain=True)
    assert (r2026.values["bonus"], r2027.values["bonus"]) == (2000, 3000)
    assert r2026.to_json()["evaluation_version"] == {"from": "2026-01-01", "until": "2026-12-31"}
    assert r2027.trace["evaluation"]["version"] == {"from": "2027-01-01", "until": None}
    assert p.facts_of("annual", as_of="2027-06-01")[1][0] == "grade"


def test_a_versioned_evaluation_needs_a_date_a_version_covers():
    p = load(VERSIONS)
    with pytest.raises(kpirules.UsageError, match=r"has versions \(from 2026-01-01 until 2026-12-31, "
                                                  r"from 2027-01-01\): give the date"):
        p.evaluate({"salary": "1000"})
    with pytest.raises(kpirules.UsageError, match="no version of evaluation `annual` .* is in force on 2025-12-31"):
        p.evaluate({"salary": "1000"}, as_of="2025-12-31")


def test_an_example_gives_its_as_of_date_as_evaluation_date():
    from kpirules import examples
    assert [r.passed for r in examples.run(load(VERSIONS))] == [True]


def test_versions_of_an_evaluation_overlap_or_duplicate():
    overlap = VERSIONS.replace("until 2026-12-31", "until 2027-06-30")
    assert codes(overlap) == [("E319", 7, "versions of evaluation `annual` overlap: 2027-01-01 is in force in both")]
    undated = VERSIONS.replace(" effective from 2027-01-01", "")
    # The second is not a version: E202 (and the example's `grade` is then unknown, E214).
    assert [c[:2] for c in codes(undated)] == [("E202", 7), ("E214", 12)]


def test_statements_say_the_as_of_date_and_the_version_in_force():
    from kpirules.render import markdown, text
    data = load(VERSIONS).evaluate({"salary": "1000"}, as_of="2026-05-01", explain=True).to_json()
    assert text.render(data, lang="en").splitlines()[0] == (
        "policy v, evaluation annual, as of 2026-05-01 (version in force from 2026-01-01 until 2026-12-31)")
    md = markdown.render(data, explain=True, lang="zh")
    assert "- 考核基准日: 2026-05-01" in md and "- 适用版本: 自 2026-01-01 至 2026-12-31" in md
