"""Worked examples and properties of spec S4 (售前绩效考核方案, policies/four_dimension.rules).

Every expected value below is worked out by hand from the rules in shared/spec/policies.md S4,
with the arithmetic written next to it (as a comment or as an exact Decimal expression). None of
them is copied from the engine's output.

The rules, as decided (company-set values marked *):
    rating points*            优秀 100, 达标 80, 待提高 50
    expertise                 = points(expertise_rating)
    sales_strategy            = points(sales_strategy_rating)
    customer_service          = points(customer_service_rating) x 50%* + survey_score x 50%*
    sharing_points            = sharing_sessions x 20*, at most 100*
    teamwork                  = points(teamwork_rating) x 50%* + sharing_points x 50%*
    total_score               = expertise 30% + sales_strategy 30% + customer_service 20% + teamwork 20%

Hypothesis properties run at most 100 examples each; facts are generated as ints, Decimals and
decimal strings only (the API refuses floats on purpose).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpirules

ROOT = Path(__file__).resolve().parents[1]
POLICY_PATH = ROOT / "policies" / "four_dimension.rules"
EXAMPLE_PATH = ROOT / "examples" / "four_dimension.json"
SEED = ROOT.parent / "shared" / "seeds" / "000_826da148f5f82449.txt"

D = Decimal
GRADES = ("待提高", "达标", "优秀")          # worst to best
POINTS = {"优秀": D(100), "达标": D(80), "待提高": D(50)}   # company-set (spec S4)
RATINGS = ("expertise_rating", "sales_strategy_rating", "customer_service_rating", "teamwork_rating")
DIMENSIONS = ("expertise", "sales_strategy", "customer_service", "teamwork")

POLICY = kpirules.load_policy(POLICY_PATH)
PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def facts(**overrides) -> dict:
    """All 达标, survey 80, two sessions: every dimension 80 except teamwork (80 x 50% + 40 x 50% = 60)."""
    base = {
        "expertise_rating": "达标",
        "sales_strategy_rating": "达标",
        "customer_service_rating": "达标",
        "teamwork_rating": "达标",
        "survey_score": 80,
        "sharing_sessions": 2,
    }
    base.update(overrides)
    return base


def values(**overrides) -> dict:
    return POLICY.evaluate(facts(**overrides)).values


# ---- the policy itself ---------------------------------------------------------------------------

def test_the_policy_loads_without_warnings_and_has_one_annual_evaluation():
    assert POLICY.name == "four_dimension"
    assert POLICY.evaluations == ("annual",)
    assert POLICY.diagnostics == ()


def test_outputs_are_the_dimensions_and_the_total():
    result = POLICY.evaluate(facts())
    assert result.outputs == ("expertise", "sales_strategy", "customer_service", "teamwork", "total_score")


def test_the_baseline_facts():
    v = values()
    # 达标 = 80 everywhere; sharing 2 x 20 = 40; teamwork 80 x 50% + 40 x 50% = 40 + 20 = 60
    # total 80 x 30% + 80 x 30% + 80 x 20% + 60 x 20% = 24 + 24 + 16 + 12 = 76
    assert v["expertise"] == D(80)
    assert v["sales_strategy"] == D(80)
    assert v["customer_service"] == D(80)        # 80 x 50% + 80 x 50%
    assert v["sharing_points"] == D(40)
    assert v["teamwork"] == D(60)
    assert v["total_score"] == D(76)


@pytest.mark.skipif(not SEED.exists(), reason="the source document is not next to the repository")
def test_every_citation_is_the_source_s_own_words():
    text = SEED.read_text(encoding="utf-8")
    cites = re.findall(r'cite "([^"]*)"', POLICY_PATH.read_text(encoding="utf-8"))
    assert len(cites) >= 10
    assert [c for c in cites if c not in text] == []


# ---- worked examples -----------------------------------------------------------------------------

def test_the_shipped_example_file():
    result = POLICY.evaluate(kpirules.read_facts(EXAMPLE_PATH))
    v = result.values
    # 优秀 / 达标 / 达标 / 优秀, survey 86.5, 3 sessions
    assert v["expertise"] == D(100)                              # 优秀
    assert v["sales_strategy"] == D(80)                          # 达标
    assert v["customer_service"] == D("83.25")                   # 80 x 0.5 + 86.5 x 0.5 = 40 + 43.25
    assert v["sharing_points"] == D(60)                          # 3 x 20
    assert v["teamwork"] == D(80)                                # 100 x 0.5 + 60 x 0.5 = 50 + 30
    assert v["total_score"] == D("86.65")                        # 30 + 24 + 16.65 + 16


@pytest.mark.parametrize("grade, points", [("优秀", 100), ("达标", 80), ("待提高", 50)])
@pytest.mark.parametrize("rating, dimension", [("expertise_rating", "expertise"),
                                               ("sales_strategy_rating", "sales_strategy")])
def test_a_rated_only_dimension_is_the_grade_s_points(rating, dimension, grade, points):
    assert values(**{rating: grade})[dimension] == D(points)


@pytest.mark.parametrize("grade, survey, expected", [
    ("优秀", 100, "100"),        # 100 x 0.5 + 100 x 0.5
    ("优秀", 0, "50"),           # 100 x 0.5 + 0
    ("达标", "90", "85"),        # 40 + 45
    ("待提高", 0, "25"),         # 25 + 0
    ("待提高", "72.25", "61.125"),  # 25 + 36.125
    ("达标", D("99.99"), "89.995"),  # 40 + 49.995
])
def test_customer_service_blends_the_rating_and_the_survey_half_each(grade, survey, expected):
    assert values(customer_service_rating=grade, survey_score=survey)["customer_service"] == D(expected)


@pytest.mark.parametrize("sessions, points", [
    (0, 0), (1, 20), (2, 40), (4, 80),
    (5, 100),       # exactly on the cap: 5 x 20 = 100
    (6, 100),       # 120 -> 100
    (8, 100),       # 160 -> 100
    (1000, 100),
])
def test_sharing_points_are_20_per_session_capped_at_100(sessions, points):
    assert values(sharing_sessions=sessions)["sharing_points"] == D(points)


@pytest.mark.parametrize("grade, sessions, expected", [
    ("优秀", 5, "100"),   # 50 + 50
    ("优秀", 9, "100"),   # sharing capped at 100: 50 + 50
    ("达标", 3, "70"),    # 40 + 30
    ("待提高", 0, "25"),  # 25 + 0
    ("待提高", 7, "75"),  # 25 + 50 (capped)
])
def test_teamwork_blends_the_rating_and_the_sharing_points_half_each(grade, sessions, expected):
    assert values(teamwork_rating=grade, sharing_sessions=sessions)["teamwork"] == D(expected)


def test_all_excellent_is_100():
    v = values(**{r: "优秀" for r in RATINGS}, survey_score=100, sharing_sessions=5)
    assert [v[d] for d in DIMENSIONS] == [D(100)] * 4
    assert v["total_score"] == D(100)        # 30 + 30 + 20 + 20


def test_all_to_improve_with_nothing_measured_is_the_lowest_total_40():
    v = values(**{r: "待提高" for r in RATINGS}, survey_score=0, sharing_sessions=0)
    # 50, 50, 50 x 0.5 + 0 = 25, 25; total 15 + 15 + 5 + 5 = 40
    assert [v[d] for d in DIMENSIONS] == [D(50), D(50), D(25), D(25)]
    assert v["total_score"] == D(40)


def test_the_weights_30_30_20_20():
    # Only expertise moves from 达标 to 优秀: +20 points x 30% = +6 on the baseline 76.
    assert values(expertise_rating="优秀")["total_score"] == D(82)
    # Only sales strategy moves to 待提高: -30 x 30% = -9.
    assert values(sales_strategy_rating="待提高")["total_score"] == D(67)
    # Customer service 达标 -> 优秀 moves the dimension by 20 x 50% = 10, the total by 10 x 20% = 2.
    assert values(customer_service_rating="优秀")["total_score"] == D(78)
    # Teamwork: 5 sessions instead of 2 -> sharing 100 instead of 40, teamwork 90 instead of 60,
    # the total by 30 x 20% = 6.
    assert values(sharing_sessions=5)["total_score"] == D(82)


def test_a_fractional_total_is_exact():
    # survey 33.33: customer service 40 + 16.665 = 56.665; total 24 + 24 + 11.333 + 12 = 71.333
    assert values(survey_score="33.33")["total_score"] == D("71.333")


def test_the_explanation_cites_the_source_for_the_total():
    result = POLICY.evaluate(facts(), explain=True).to_json()
    node = next(n for n in result["trace"]["nodes"] if n["name"] == "total_score")
    cites = " ".join(c if isinstance(c, str) else str(c) for c in node["cites"])
    assert "1.专业知识和技能(权重:30%)" in cites
    assert "4.合作精神(权重:20%)" in cites


# ---- fact rules: violations are named by their path ---------------------------------------------

@pytest.mark.parametrize("fact, bad", [
    ("survey_score", 101),                 # 0..100
    ("survey_score", "100.01"),
    ("survey_score", -1),
    ("survey_score", 86.5),                # a float is not exact: refused
    ("expertise_rating", "良好"),          # not one of the three grades
    ("sales_strategy_rating", "excellent"),
    ("customer_service_rating", ""),
    ("teamwork_rating", 100),              # the points, not the grade
    ("sharing_sessions", -1),              # a count
    ("sharing_sessions", "1.5"),
])
def test_a_bad_fact_is_refused_at_its_path(fact, bad):
    with pytest.raises(kpirules.FactError) as exc:
        POLICY.evaluate(facts(**{fact: bad}))
    assert [v.path for v in exc.value.violations] == [fact]


def test_every_bad_fact_is_reported_at_once():
    with pytest.raises(kpirules.FactError) as exc:
        POLICY.evaluate(facts(survey_score=101, expertise_rating="良好", sharing_sessions=-2))
    assert {v.path for v in exc.value.violations} == {"survey_score", "expertise_rating", "sharing_sessions"}


def test_a_missing_rating_is_refused_at_its_path():
    f = facts()
    del f["teamwork_rating"]
    with pytest.raises(kpirules.FactError) as exc:
        POLICY.evaluate(f)
    assert [v.path for v in exc.value.violations] == ["teamwork_rating"]


def test_the_boundaries_of_the_survey_are_accepted():
    assert values(survey_score=0)["customer_service"] == D(40)      # 40 + 0
    assert values(survey_score=100)["customer_service"] == D(90)    # 40 + 50


# ---- properties ---------------------------------------------------------------------------------

def _as(kind, d: Decimal):
    if kind == "int" and d == d.to_integral_value():
        return int(d)
    if kind == "str":
        return format(d, "f")
    return d


@st.composite
def survey_scores(draw):
    """0..100 in hundredths, as an int, a Decimal or a decimal string."""
    d = D(draw(st.integers(min_value=0, max_value=10000))).scaleb(-2)
    return _as(draw(st.sampled_from(["int", "str", "dec"])), d)


grades = st.sampled_from(GRADES)
sessions = st.integers(min_value=0, max_value=40)


@st.composite
def fact_sets(draw):
    return {
        "expertise_rating": draw(grades),
        "sales_strategy_rating": draw(grades),
        "customer_service_rating": draw(grades),
        "teamwork_rating": draw(grades),
        "survey_score": draw(survey_scores()),
        "sharing_sessions": draw(sessions),
    }


def reference_total(f) -> Decimal:
    """The spec's formula, written out independently of the policy."""
    survey = D(str(f["survey_score"]))
    sharing = min(D(20) * f["sharing_sessions"], D(100))
    customer = POINTS[f["customer_service_rating"]] / 2 + survey / 2
    teamwork = POINTS[f["teamwork_rating"]] / 2 + sharing / 2
    return (POINTS[f["expertise_rating"]] * D("0.3") + POINTS[f["sales_strategy_rating"]] * D("0.3")
            + customer * D("0.2") + teamwork * D("0.2"))


@PROPS
@given(fact_sets())
def test_the_total_is_within_0_and_100_and_matches_the_spec(f):
    v = POLICY.evaluate(f).values
    # 0..100; in fact at least 40 (all 待提高, survey 0, no sessions: 15 + 15 + 5 + 5)
    assert D(40) <= v["total_score"] <= D(100)
    for d in DIMENSIONS:
        assert 0 <= v[d] <= 100
    assert v["total_score"] == reference_total(f)


@PROPS
@given(fact_sets(), st.sampled_from(RATINGS))
def test_the_total_is_monotone_in_each_rating(f, rating):
    totals = [POLICY.evaluate({**f, rating: g}).values["total_score"] for g in GRADES]
    assert totals[0] < totals[1] < totals[2]      # 待提高 < 达标 < 优秀, strictly


@PROPS
@given(fact_sets(), survey_scores(), survey_scores())
def test_the_total_is_monotone_in_the_survey(f, a, b):
    lo, hi = sorted((a, b), key=lambda x: D(str(x)))
    t_lo = POLICY.evaluate({**f, "survey_score": lo}).values["total_score"]
    t_hi = POLICY.evaluate({**f, "survey_score": hi}).values["total_score"]
    assert t_lo <= t_hi


@PROPS
@given(fact_sets(), sessions, sessions)
def test_the_total_is_monotone_in_the_sessions_and_sharing_is_capped(f, a, b):
    lo, hi = sorted((a, b))
    v_lo = POLICY.evaluate({**f, "sharing_sessions": lo}).values
    v_hi = POLICY.evaluate({**f, "sharing_sessions": hi}).values
    assert v_lo["total_score"] <= v_hi["total_score"]
    for n, v in ((lo, v_lo), (hi, v_hi)):
        assert v["sharing_points"] == min(20 * n, 100)
        assert v["sharing_points"] <= 100
    if lo >= 5:          # both at or beyond the cap: more sessions change nothing
        assert v_lo["total_score"] == v_hi["total_score"]
