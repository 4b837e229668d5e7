"""Worked examples and properties of the three framework schemes (spec "S2, S3, S6"):

- policies/presales_framework.rules (S2 售前绩效考核制度),
- policies/presales_draft.rules (S3 售前绩效考核方案初稿),
- policies/presales_work.rules (S6 售前工作绩效考核制度).

The source leaves every number of these schemes open; the numbers used here are the
company-set values written (and marked) in the policy files. Every expected value below is
worked out by hand from those rules, with the arithmetic written next to it as exact Fraction
or Decimal expressions. None of them is copied from the engine's output.

Both evaluators are checked where a value is compared: the generated fast path (no
explanation) and the exact one used for explanations must agree.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction as F
from math import floor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpirules

ROOT = Path(__file__).resolve().parents[1]
D = Decimal
CENT = D("0.01")
PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load(name):
    return kpirules.load_policy(ROOT / "policies" / f"{name}.rules")


FRAMEWORK = load("presales_framework")
DRAFT = load("presales_draft")
WORK = load("presales_work")


def example_facts(name) -> dict:
    return kpirules.read_facts(ROOT / "examples" / f"{name}.json")


def run(policy, facts) -> dict:
    """Evaluate with both evaluators; they must agree. Returns the values."""
    fast = policy.evaluate(copy.deepcopy(facts)).values
    exact = policy.evaluate(copy.deepcopy(facts), explain=True).values
    assert fast == exact
    return fast


def half_up_cents(value) -> Decimal:
    """Round an exact value (Fraction, Decimal or int) half up to 0.01, by hand."""
    cents = F(value) * 100
    whole = floor(cents)
    if cents - whole >= F(1, 2):
        whole += 1
    return (D(whole) / 100).quantize(CENT)


def same(actual, expected) -> bool:
    """An engine value (a Decimal, 28 significant digits for an endless fraction) against an
    exact hand value: equal when exact, else equal to 28 significant digits."""
    expected = F(expected)
    if F(actual) == expected:
        return True
    return D(expected.numerator) / D(expected.denominator) == actual


def fact_error(policy, facts) -> list:
    with pytest.raises(kpirules.FactError) as exc:
        policy.evaluate(facts)
    return [v.path for v in exc.value.violations]


# =============================================================================================
# S2 售前绩效考核制度 -> presales_framework.rules
# Targets per quarter: senior 150万 / 6 orders, consultant 100万 / 4 orders; a half-year is two
# quarters. Learning points: training 10, product study 15, knowledge base 5, +5 with a result;
# 40 required per quarter. Total = 30% / 25% / 15% / 15% / 15%, rounded half up to 0.01.
# =============================================================================================

def framework_facts(**overrides) -> dict:
    facts = example_facts("presales_framework")
    facts.update(overrides)
    return facts


def test_framework_shipped_example():
    v = run(FRAMEWORK, framework_facts())
    # 业务目标: 860,000 / 1,000,000 = 0.86; orders 5 / 4 = 1.25, capped at 1.
    assert v["sales_target"] == 1000000 and v["order_target"] == 4
    assert v["sales_achievement"] == D("0.86") and v["order_achievement"] == 1
    business = (F(86, 100) * F(70, 100) + 1 * F(30, 100)) * 100          # 60.2 + 30 = 90.2
    assert same(v["business_target"], business) and business == F(902, 10)
    # 业务质量: 85*0.3 + 80*0.3 + 90*0.2 + 88*0.2 = 25.5 + 24 + 18 + 17.6 = 85.1; - 5*1 = 80.1
    quality = F(85) * F(3, 10) + 80 * F(3, 10) + 90 * F(2, 10) + 88 * F(2, 10) - 5
    assert same(v["business_quality"], quality) and quality == F(801, 10)
    # 协作能力: (90 + 80 + 85) / 3 = 85; 85*0.6 + 90*0.4 = 51 + 36 = 87
    assert v["collaboration_points"] == 255 and v["collaboration_average"] == 85
    assert v["collaboration"] == 87
    # 客户满意度: (5+4+4+5+3)/5 = 4.2; (4.2 - 1) * 25 = 80
    assert v["customer_satisfaction"] == 80
    # 自我提升: (10 + 5) + 15 + 5 = 35 of 40 -> 35/40*100 = 87.5
    assert v["learning_points"] == 35 and v["learning_required"] == 40
    assert v["self_improvement"] == D("87.5")
    # total: 90.2*0.3 + 80.1*0.25 + 87*0.15 + 80*0.15 + 87.5*0.15
    #      = 27.06 + 20.025 + 13.05 + 12 + 13.125 = 85.26
    total = business * F(3, 10) + quality * F(1, 4) + (87 + 80 + F(175, 2)) * F(15, 100)
    assert total == F(8526, 100)
    assert v["total_score"] == half_up_cents(total) == D("85.26")
    assert str(v["total_score"]) == "85.26"
    assert v["grade"] == "良好"   # 81 <= 85.26 < 91


def test_framework_half_year_senior():
    learning = [
        {"title": "t1", "achieved": True, "kind": "training"},          # 10 + 5
        {"title": "t2", "achieved": False, "kind": "training"},         # 10
        {"title": "t3", "achieved": False, "kind": "training"},         # 10
        {"title": "p1", "achieved": True, "kind": "product_study"},     # 15 + 5
        {"title": "k1", "achieved": True, "kind": "knowledge_base"},    # 5 + 5
    ]                                                                   # = 65
    v = run(FRAMEWORK, framework_facts(period="half_year", role="senior", sales_amount="2500000",
                                       orders=9, learning=learning))
    # targets: 150万 x 2 = 300万, 6 x 2 = 12 orders
    assert v["quarters"] == 2 and v["sales_target"] == 3000000 and v["order_target"] == 12
    # 250/300 = 5/6, 9/12 = 3/4: (5/6*0.7 + 3/4*0.3)*100 = (7/12 + 9/40)*100 = 97/120*100 = 485/6
    business = (F(5, 6) * F(7, 10) + F(3, 4) * F(3, 10)) * 100
    assert business == F(485, 6)
    assert same(v["business_target"], business)
    # learning: 65 of 80 -> 81.25
    assert v["learning_required"] == 80 and v["learning_points"] == 65
    assert v["self_improvement"] == D("81.25")
    # total: 485/6*0.3 + 80.1*0.25 + 87*0.15 + 80*0.15 + 81.25*0.15
    #      = 24.25 + 20.025 + 13.05 + 12 + 12.1875 = 81.5125 -> 81.51
    total = business * F(3, 10) + F(801, 10) / 4 + (87 + 80 + F(8125, 100)) * F(15, 100)
    assert total == F(815125, 10000)
    assert v["total_score"] == half_up_cents(total) == D("81.51")
    assert v["grade"] == "良好"


def test_framework_learning_points_are_capped_at_the_requirement():
    learning = [{"title": f"x{i}", "achieved": True, "kind": "product_study"} for i in range(3)]
    v = run(FRAMEWORK, framework_facts(learning=learning))
    # 3 x (15 + 5) = 60, capped at 40 -> 100
    assert v["learning_points"] == 40 and v["self_improvement"] == 100
    # exactly on the requirement: 2 x 20 = 40 -> 100, no cap needed
    v = run(FRAMEWORK, framework_facts(learning=learning[:2]))
    assert v["learning_points"] == 40 and v["self_improvement"] == 100
    # nothing learnt: 0
    v = run(FRAMEWORK, framework_facts(learning=[]))
    assert v["learning_points"] == 0 and v["self_improvement"] == 0


def test_framework_customer_satisfaction_scale():
    # no survey returned: the average counts as 4 (company-set): (4 - 1) * 25 = 75
    v = run(FRAMEWORK, framework_facts(survey_scores=[]))
    assert v["survey_average"] == 4 and v["customer_satisfaction"] == (4 - 1) * 25 == 75
    # [5, 4, 4]: average 13/3; (13/3 - 1) * 25 = 10/3 * 25 = 250/3
    v = run(FRAMEWORK, framework_facts(survey_scores=[5, 4, 4]))
    assert same(v["customer_satisfaction"], (F(13, 3) - 1) * 25)
    # all 1s: 0; all 5s: 100; a half point: (4.5 - 1) * 25 = 87.5
    assert run(FRAMEWORK, framework_facts(survey_scores=[1, 1]))["customer_satisfaction"] == 0
    assert run(FRAMEWORK, framework_facts(survey_scores=[5]))["customer_satisfaction"] == 100
    assert run(FRAMEWORK, framework_facts(survey_scores=["4.5"]))["customer_satisfaction"] == D("87.5")


def test_framework_quality_floor_and_extremes():
    # 85.1 - 5*17 = 0.1 (still above the floor); 85.1 - 5*18 = -4.9 -> 0
    assert run(FRAMEWORK, framework_facts(proposal_complaints=17))["business_quality"] == D("0.1")
    assert run(FRAMEWORK, framework_facts(proposal_complaints=18))["business_quality"] == 0
    best = framework_facts(sales_amount="1000000", orders=4, proposal_quality=100, requirement_accuracy=100,
                           demo_effect=100, support_rating=100, proposal_complaints=0,
                           collaboration_ratings=[{"rating": 100, "team": "sales"}], collaboration_attitude=100,
                           survey_scores=[5], learning=[{"title": "a", "achieved": True, "kind": "product_study"},
                                                        {"title": "b", "achieved": True, "kind": "product_study"}])
    v = run(FRAMEWORK, best)
    # every indicator 100: total 100.00, 优秀
    assert [v[k] for k in ("business_target", "business_quality", "collaboration", "customer_satisfaction",
                           "self_improvement")] == [100] * 5
    assert str(v["total_score"]) == "100.00" and v["grade"] == "优秀"
    worst = framework_facts(sales_amount=0, orders=0, proposal_quality=0, requirement_accuracy=0, demo_effect=0,
                            support_rating=0, proposal_complaints=0,
                            collaboration_ratings=[{"rating": 0, "team": "other"}], collaboration_attitude=0,
                            survey_scores=[1], learning=[])
    v = run(FRAMEWORK, worst)
    assert str(v["total_score"]) == "0.00" and v["grade"] == "不称职"


def test_framework_fact_violations_name_their_path():
    bad = framework_facts(collaboration_ratings=[{"rating": 90, "team": "sales"}, {"rating": 101, "team": "product"}])
    assert fact_error(FRAMEWORK, bad) == ["collaboration_ratings[1].rating"]
    bad = framework_facts(learning=[{"title": "x", "achieved": True, "kind": "reading"}])
    assert fact_error(FRAMEWORK, bad) == ["learning[0].kind"]
    assert fact_error(FRAMEWORK, framework_facts(collaboration_ratings=[])) == ["collaboration_ratings"]
    assert fact_error(FRAMEWORK, framework_facts(period="year")) == ["period"]


# ---- S2 property ------------------------------------------------------------------------------

def _num(d: Decimal):
    """An exact number as an int when whole, else a decimal string (never a float)."""
    return int(d) if d == d.to_integral_value() else format(d, "f")


def rating():
    return st.integers(min_value=0, max_value=200).map(lambda h: _num(D(h) / 2))   # 0..100 by 0.5


def money_upto(yuan):
    return st.integers(min_value=0, max_value=yuan * 100).map(lambda c: _num(D(c) / 100))


@st.composite
def framework_case(draw):
    return {
        "period": draw(st.sampled_from(["quarter", "half_year"])),
        "role": draw(st.sampled_from(["senior", "consultant"])),
        "sales_amount": draw(money_upto(4000000)),
        "orders": draw(st.integers(min_value=0, max_value=20)),
        "proposal_quality": draw(rating()),
        "requirement_accuracy": draw(rating()),
        "demo_effect": draw(rating()),
        "support_rating": draw(rating()),
        "proposal_complaints": draw(st.integers(min_value=0, max_value=25)),
        "collaboration_ratings": draw(st.lists(
            st.builds(lambda r, t: {"rating": r, "team": t}, rating(), st.sampled_from(["sales", "product", "other"])),
            min_size=1, max_size=5)),
        "collaboration_attitude": draw(rating()),
        "survey_scores": draw(st.lists(st.integers(min_value=2, max_value=10).map(lambda h: _num(D(h) / 2)),
                                       max_size=6)),
        "learning": draw(st.lists(
            st.builds(lambda a, k: {"title": "x", "achieved": a, "kind": k}, st.booleans(),
                      st.sampled_from(["training", "product_study", "knowledge_base"])),
            max_size=10)),
    }


@PROPS
@given(framework_case(), money_upto(2000000))
def test_framework_total_in_range_and_monotone_in_sales(facts, extra):
    low = FRAMEWORK.evaluate(facts).values
    more = {**facts, "sales_amount": _num(D(str(facts["sales_amount"])) + D(str(extra)))}
    high = FRAMEWORK.evaluate(more).values
    for v in (low, high):
        assert 0 <= v["total_score"] <= 100
        for k in ("business_target", "business_quality", "collaboration", "customer_satisfaction",
                  "self_improvement"):
            assert 0 <= v[k] <= 100, k
    # more sales never lower the business-target score nor the total
    assert high["business_target"] >= low["business_target"]
    assert high["total_score"] >= low["total_score"]


# =============================================================================================
# S3 售前绩效考核方案初稿 -> presales_draft.rules
# support_delivery: 100 - 10 per missed demo, answered-in-time share vs 90% (-5 per started 5%);
# activity_completion: on-time share vs 95% (-5 per started 5%) - 5 per missed activity;
# business_expansion: 10 per opportunity + 10 per accepted one, cap 100; customer_satisfaction:
# 100 - 1 per 1% of non-positive reviews (prorated) - 10 per negative one; floors 0.
# Total = 30 / 30 / 20 / 10 / 10, rounded half up to 0.01; bonus = base x total / 100, to cents.
# =============================================================================================

def draft_facts(**overrides) -> dict:
    facts = example_facts("presales_draft")
    facts.update(overrides)
    return facts


def activities(on_time, late=0, missed=0):
    return ([{"name": f"o{i}", "status": "on_time"} for i in range(on_time)]
            + [{"name": f"l{i}", "status": "late"} for i in range(late)]
            + [{"name": f"m{i}", "status": "missed"} for i in range(missed)])


def test_draft_shipped_example():
    v = run(DRAFT, draft_facts())
    # demos 8 requested, 7 delivered: -10; questions 35/40 = 87.5%, 2.5% below 90% -> 1 started step -5
    assert v["support_delivery"] == 100 - 10 - 5 == 85
    # 85*0.6 + 88*0.4 = 51 + 35.2 = 86.2
    assert v["sales_support"] == D("86.2")
    # 12 activities: 10 on time, 1 late, 1 missed; 10/12 = 5/6 is 95% - 5/6 = 7/60 (11.67%) below
    # -> 3 started 5% steps (7/60 / 1/20 = 2.33) -> -15; 1 missed -5: 80
    assert (v["activities_due"], v["activities_on_time"], v["activities_missed"]) == (12, 10, 1)
    assert v["activity_completion"] == 100 - 15 - 5 == 80
    # 3*10 + 2*10 = 50
    assert v["business_expansion"] == 50
    # 8/10 = 80%: 20 prorated 1% steps -> -20; 1 negative -10: 70
    assert v["customer_satisfaction"] == 70
    # 90*0.6 + 80*0.4 = 54 + 32 = 86
    assert v["team_collaboration"] == 86
    # 86.2*0.3 + 80*0.3 + 50*0.2 + 70*0.1 + 86*0.1 = 25.86 + 24 + 10 + 7 + 8.6 = 75.46
    total = F(862, 10) * F(3, 10) + 80 * F(3, 10) + 50 * F(2, 10) + 70 * F(1, 10) + 86 * F(1, 10)
    assert total == F(7546, 100)
    assert v["total_score"] == half_up_cents(total) and str(v["total_score"]) == "75.46"
    # bonus: 6000.00 * 75.46 / 100 = 4527.60
    assert str(v["performance_bonus"]) == "4527.60"
    # the check figure of the scorecard: 85 + 80 + 70
    assert v["deduction_sheets"] == 235


def test_draft_nothing_to_measure():
    v = run(DRAFT, draft_facts(questions_received=0, questions_answered=0, activities=[],
                               reviews_received=0, reviews_positive=0, reviews_negative=0))
    # no question: no ladder step, only the missed demo -10
    assert v["support_delivery"] == 90
    # no activity due: 100; no review: 100
    assert v["activity_completion"] == 100
    assert v["customer_satisfaction"] == 100


@pytest.mark.parametrize("answered, expected", [
    (40, 90),   # 100%: above the standard, no step; 1 missed demo: 90
    (36, 90),   # exactly 90%: on the standard
    (35, 85),   # 87.5%: 2.5% below, 1 started step
    (34, 85),   # 85%: exactly 5% below, 1 step
    (33, 80),   # 82.5%: 7.5% below, 2 started steps
    (0, 0),     # 0%: 90% below = 18 steps, -90; -10 for the demo: 0 (exactly at the floor)
])
def test_draft_answer_ladder(answered, expected):
    assert run(DRAFT, draft_facts(questions_answered=answered))["support_delivery"] == expected


@pytest.mark.parametrize("on_time, late, missed, expected", [
    (19, 1, 0, 100),   # 95% exactly: no step
    (18, 2, 0, 95),    # 90%: exactly one 5% step
    (17, 2, 1, 85),    # 85%: two steps -10, one missed -5
    (1, 0, 19, 0),     # 5%: 90% below = 18 steps -90, 19 missed -95: floor 0
    (3, 0, 0, 100),    # 100%
])
def test_draft_activity_ladder(on_time, late, missed, expected):
    v = run(DRAFT, draft_facts(activities=activities(on_time, late, missed)))
    assert v["activity_completion"] == expected


def test_draft_caps_and_floors():
    # 10 * 7 + 10 * 5 = 120 -> 100; 10 * 6 + 10 * 4 = 100 exactly; 10 * 5 + 10 * 4 = 90
    assert run(DRAFT, draft_facts(new_opportunities=7, opportunities_accepted=5))["business_expansion"] == 100
    assert run(DRAFT, draft_facts(new_opportunities=6, opportunities_accepted=4))["business_expansion"] == 100
    assert run(DRAFT, draft_facts(new_opportunities=5, opportunities_accepted=4))["business_expansion"] == 90
    # 0 of 5 positive: -100; 5 negative: -50 -> floor 0
    v = run(DRAFT, draft_facts(reviews_received=5, reviews_positive=0, reviews_negative=5))
    assert v["customer_satisfaction"] == 0
    # 2 of 3 positive: 1/3 below 100% = 100/3 prorated points; no negative: 100 - 100/3 = 200/3
    v = run(DRAFT, draft_facts(reviews_received=3, reviews_positive=2, reviews_negative=0))
    assert same(v["customer_satisfaction"], F(200, 3))


def test_draft_bonus_is_rounded_half_up_to_cents():
    v = run(DRAFT, draft_facts(bonus_base="6000.10"))
    # 6000.10 * 75.46 / 100 = 4527.67546 -> 4527.68
    assert D("6000.10") * D("75.46") / 100 == D("4527.67546")
    assert str(v["performance_bonus"]) == "4527.68"
    assert v["performance_bonus"] == half_up_cents(F(600010, 100) * F(7546, 100) / 100)
    assert run(DRAFT, draft_facts(bonus_base=0))["performance_bonus"] == 0


def test_draft_fact_violations_name_their_path():
    # 10 received, 8 positive: at most 2 negative
    assert fact_error(DRAFT, draft_facts(reviews_negative=3)) == ["reviews_negative"]
    assert fact_error(DRAFT, draft_facts(demos_delivered=9)) == ["demos_delivered"]
    bad = draft_facts(activities=[{"name": "x", "status": "on_time"}, {"name": "y", "status": "cancelled"}])
    assert fact_error(DRAFT, bad) == ["activities[1].status"]


# ---- S3 property ------------------------------------------------------------------------------

@st.composite
def part_of(draw, hi=60):
    whole = draw(st.integers(min_value=0, max_value=hi))
    return draw(st.integers(min_value=0, max_value=whole)), whole


@st.composite
def draft_case(draw):
    delivered, requested = draw(part_of(15))
    answered, received = draw(part_of())
    found = draw(st.integers(min_value=0, max_value=12))
    positive, reviews = draw(part_of(30))
    negative = draw(st.integers(min_value=0, max_value=reviews - positive))
    return {
        "demos_requested": requested, "demos_delivered": delivered,
        "questions_received": received, "questions_answered": answered,
        "sales_support_survey": draw(rating()),
        "activities": draw(st.lists(st.builds(lambda s: {"name": "a", "status": s},
                                              st.sampled_from(["on_time", "late", "missed"])), max_size=25)),
        "new_opportunities": found,
        "opportunities_accepted": draw(st.integers(min_value=0, max_value=found)),
        "reviews_received": reviews, "reviews_positive": positive, "reviews_negative": negative,
        "sales_collaboration_survey": draw(rating()),
        "department_collaboration": draw(rating()),
        "bonus_base": draw(money_upto(50000)),
    }


@PROPS
@given(draft_case(), st.integers(min_value=0, max_value=10))
def test_draft_total_in_range_and_monotone_in_new_opportunities(facts, extra):
    low = DRAFT.evaluate(facts).values
    high = DRAFT.evaluate({**facts, "new_opportunities": facts["new_opportunities"] + extra}).values
    for v in (low, high):
        assert 0 <= v["total_score"] <= 100
        for k in ("sales_support", "activity_completion", "business_expansion", "customer_satisfaction",
                  "team_collaboration"):
            assert 0 <= v[k] <= 100, k
        assert 0 <= v["performance_bonus"] <= D(str(facts["bonus_base"]))
    assert high["business_expansion"] >= low["business_expansion"]
    assert high["total_score"] >= low["total_score"]


# =============================================================================================
# S6 售前工作绩效考核制度 -> presales_work.rules
# response_time: average hours vs 4, -10 per started 4 hours above; accuracy: accurate share vs
# 95%, -2 per 1% below (prorated); volume: handled / 30 * 100, cap 100; collaboration: 50% the
# share of requests met (100 without requests), 50% the sales rating; sales_target_help: revenue
# / target vs 100%, -5 per full 5% below; customer_satisfaction: satisfied share vs 90%, -10 per
# started 5% below; floors 0. Total = 15/20/15/15/20/15, rounded half up to 0.01.
# =============================================================================================

def work_facts(**overrides) -> dict:
    facts = example_facts("presales_work")
    facts.update(overrides)
    return facts


def inquiries(*hours, inaccurate=0):
    """One inquiry per response time; the first `inaccurate` ones needed a correction."""
    return [{"id": f"Q-{i}", "response_hours": h, "accurate": i >= inaccurate} for i, h in enumerate(hours)]


def test_work_shipped_example():
    v = run(WORK, work_facts())
    # 24 inquiries, 108 hours -> average 4.5: 0.5 above 4 = 1 started 4-hour step: 90
    assert v["inquiries_handled"] == 24 and v["total_response_hours"] == 108
    assert v["response_time"] == 90
    # 20 of 24 accurate = 5/6: (95% - 5/6) = 7/60 below = 35/3 points of 1%; x 2 = 70/3; 100 - 70/3
    accuracy = 100 - 2 * ((F(95, 100) - F(20, 24)) * 100)
    assert accuracy == F(230, 3)
    assert v["accurate_answers"] == 20 and same(v["accuracy"], accuracy)
    # 24 / 30 * 100 = 80
    assert v["volume"] == 80
    # requests 9/10 -> 90; (90 + 85) / 2 = 87.5
    assert v["requests_met_score"] == 90 and v["collaboration"] == D("87.5")
    # 840,000 / 1,000,000 = 84%: 16% below = 3 full 5% steps: 85
    assert v["sales_target_help"] == 85
    # 17/20 = 85%: 5% below 90% = exactly 1 started step: 90
    assert v["customer_satisfaction"] == 90
    # 90*0.15 + 230/3*0.2 + 80*0.15 + 87.5*0.15 + 85*0.2 + 90*0.15
    # = 13.5 + 46/3 + 12 + 13.125 + 17 + 13.5 = 2027/24 = 84.458.. -> 84.46
    total = (90 * F(15, 100) + accuracy * F(20, 100) + 80 * F(15, 100) + F(875, 10) * F(15, 100)
             + 85 * F(20, 100) + 90 * F(15, 100))
    assert total == F(2027, 24)
    assert v["total_score"] == half_up_cents(total) and str(v["total_score"]) == "84.46"
    assert v["grade"] == "良好"


@pytest.mark.parametrize("hours, expected", [
    (["0"], 100),        # at once
    (["4"], 100),        # on the standard
    (["4.01"], 90),      # 0.01 above: one started step
    (["8"], 90),         # exactly one step above
    (["8.01"], 80),      # 4.01 above: two started steps
    (["2", "7"], 90),    # average 4.5
    (["40"], 10),        # 36 above = 9 steps
    (["40.5"], 0),       # 36.5 above = 10 started steps
    (["60", "40"], 0),   # average 50: 46 above = 12 started steps, -120, floor 0
])
def test_work_response_time_ladder(hours, expected):
    assert run(WORK, work_facts(inquiries=inquiries(*hours)))["response_time"] == expected


@pytest.mark.parametrize("accurate, handled, expected", [
    (19, 20, 100),                          # 95% on the standard
    (20, 20, 100),                          # above: no addition
    (18, 20, 90),                           # 90%: 5 points below x 2
    (37, 40, 95),                           # 92.5%: 2.5 below x 2 = 5
    (11, 20, 20),                           # 55%: 40 below x 2 = 80
    (1, 3, 0),                              # 33.3%: 61.67 below x 2 = 123.3 -> floor 0
])
def test_work_accuracy_is_prorated(accurate, handled, expected):
    v = run(WORK, work_facts(inquiries=inquiries(*(["1"] * handled), inaccurate=handled - accurate)))
    assert v["accurate_answers"] == accurate
    assert v["accuracy"] == expected


def test_work_zero_denominators():
    v = run(WORK, work_facts(inquiries=[], sales_requests=0, sales_requests_met=0, assisted_target=0,
                             survey_responses=0, survey_satisfied=0))
    # no inquiry: no average and no share -> 100 each; volume 0 / 30 -> 0
    assert (v["response_time"], v["accuracy"], v["volume"]) == (100, 100, 0)
    # no request: 100; (100 + 85) / 2 = 92.5
    assert v["collaboration"] == D("92.5")
    # no target, no survey answer: nothing to deduct
    assert v["sales_target_help"] == 100 and v["customer_satisfaction"] == 100
    # total: 100*0.15 + 100*0.2 + 0 + 92.5*0.15 + 100*0.2 + 100*0.15 = 15 + 20 + 13.875 + 20 + 15 = 83.875
    # -> 83.88 (half up)
    total = 15 + 20 + 0 + F(925, 10) * F(15, 100) + 20 + 15
    assert total == F(83875, 1000)
    assert str(v["total_score"]) == "83.88" == str(half_up_cents(total))
    assert v["grade"] == "良好"


def test_work_volume_cap_and_sales_target_steps():
    # 31 handled of 30 -> capped at 100; 15 -> 50
    assert run(WORK, work_facts(inquiries=inquiries(*(["1"] * 31))))["volume"] == 100
    assert run(WORK, work_facts(inquiries=inquiries(*(["1"] * 15))))["volume"] == 50
    # revenue / target: 95% -> 1 full step 95; 94.99% -> still 1 full step; 90% -> 90; 120% -> 100; 0 -> 0
    for revenue, expected in (("950000", 95), ("949900", 95), ("900000", 90), ("1200000", 100), (0, 0)):
        assert run(WORK, work_facts(assisted_revenue=revenue))["sales_target_help"] == expected, revenue
    # satisfaction (20 answers): 18 = 90% -> 100; 16 = 80%: 10% below = 2 steps -> 80;
    # 1 = 5%: 85% below = 17 steps, -170 -> floor 0
    for satisfied, expected in ((18, 100), (16, 80), (1, 0)):
        assert run(WORK, work_facts(survey_satisfied=satisfied))["customer_satisfaction"] == expected


def test_work_fact_violations_name_their_path():
    bad = work_facts(inquiries=inquiries("3", "-1"))
    assert fact_error(WORK, bad) == ["inquiries[1].response_hours"]
    assert fact_error(WORK, work_facts(survey_satisfied=21)) == ["survey_satisfied"]
    assert fact_error(WORK, work_facts(sales_rating=101)) == ["sales_rating"]


# ---- S6 property ------------------------------------------------------------------------------

@st.composite
def work_case(draw):
    hours = st.integers(min_value=0, max_value=200).map(lambda q: _num(D(q) / 4))   # 0..50 by 0.25
    met, requests = draw(part_of(20))
    satisfied, responses = draw(part_of(40))
    return {
        "inquiries": draw(st.lists(st.builds(lambda h, a: {"id": "Q", "response_hours": h, "accurate": a},
                                             hours, st.booleans()), max_size=40)),
        "sales_requests": requests, "sales_requests_met": met,
        "sales_rating": draw(rating()),
        "assisted_target": draw(money_upto(3000000)),
        "assisted_revenue": draw(money_upto(3000000)),
        "survey_responses": responses, "survey_satisfied": satisfied,
    }


@PROPS
@given(work_case(), money_upto(1000000))
def test_work_total_in_range_and_monotone_in_assisted_revenue(facts, extra):
    low = WORK.evaluate(facts).values
    more = {**facts, "assisted_revenue": _num(D(str(facts["assisted_revenue"])) + D(str(extra)))}
    high = WORK.evaluate(more).values
    for v in (low, high):
        assert 0 <= v["total_score"] <= 100
        for k in ("response_time", "accuracy", "volume", "collaboration", "sales_target_help",
                  "customer_satisfaction"):
            assert 0 <= v[k] <= 100, k
    assert high["sales_target_help"] >= low["sales_target_help"]
    assert high["total_score"] >= low["total_score"]
