"""Worked examples of spec S1 (U8 售前支持部绩效考核办法, policies/u8_presales.rules).

Every expected value below is worked out by hand from the rules in shared/spec/policies.md S1,
with the arithmetic written next to it (as a comment or as an exact Decimal/Fraction
expression). None of them is copied from the engine's output.

The baseline fact set (`quarterly_facts()`) is a consultant who does everything by the book in
quarter 1: every item scores its full weight (KPI 100) and the department exactly meets its
target (completion 1), so each test changes only the facts it is about.
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from math import floor
from pathlib import Path

import pytest

import kpirules

ROOT = Path(__file__).resolve().parents[1]
POLICY_PATH = ROOT / "policies" / "u8_presales.rules"
EXAMPLES = ROOT / "examples"

D = Decimal
WAN = D(10000)  # 1万 = 10,000 yuan
CENT = D("0.01")
ITEMS = ("market_activity", "sales_training", "sales_tools", "competitor_analysis",
         "proposal_excellence", "project_success", "hr_compliance")
KNOWLEDGE_ITEMS = ("market_activity", "sales_training", "sales_tools", "competitor_analysis",
                   "proposal_excellence")


@pytest.fixture(scope="module")
def policy():
    return kpirules.load_policy(POLICY_PATH)


def quarterly_facts(**overrides) -> dict:
    """A valid quarterly fact set scoring KPI 100 with dept_completion 1; override any fact.

    `rollout` may be overridden partially: rollout={"sales_tools": False} keeps the other flags.
    """
    facts = {
        "quarter": 1,
        "role": "senior",
        "base_salary": "30000.00",
        "dept_revenue": "1740000",      # = Q1 target 174万 -> completion exactly 1
        "own_revenue": "300000",        # = senior Q1 target 30万
        "activities_planned": 4,
        "activities_held": 4,
        "sales_training_on_plan": True,
        "sales_process_updated": True,
        "comparison_updated": True,
        "competitor_analysis_delivered": True,
        "proposals_total": 10,
        "proposals_excellent": 9,       # 9/10 = 90% = the standard -> 20
        "projects_supported": 20,
        "projects_won": 17,             # 17/20 = 85% = the standard -> 20
        "attendance_violations": [],
        "rule_violations": [],
        "rollout": {k: True for k in KNOWLEDGE_ITEMS},
    }
    rollout = overrides.pop("rollout", None)
    facts.update(overrides)
    if rollout is not None:
        facts["rollout"] = {**facts["rollout"], **rollout}
    return copy.deepcopy(facts)


def quarterly(policy, explain=False, **overrides):
    return policy.evaluate(quarterly_facts(**overrides), "quarterly", explain=explain)


def monthly(policy, projects, month="2026-05", explain=False):
    return policy.evaluate({"month": month, "projects": projects}, "monthly", explain=explain)


def half_up_cents(value) -> Decimal:
    """Round an exact value (Decimal or Fraction) half up to 0.01 yuan, by hand."""
    f = Fraction(value)
    cents = f * 100
    whole = floor(cents)
    if cents - whole >= Fraction(1, 2):
        whole += 1
    return (D(whole) / 100).quantize(CENT)


def node(result, name):
    matches = [nd for nd in result.trace["nodes"] if nd["name"] == name]
    assert len(matches) == 1, name
    return matches[0]


# ---- the baseline ---------------------------------------------------------------------------

def test_baseline_scores_every_weight_and_full_bonus(policy):
    v = quarterly(policy).values
    # Every item at its weight: 10 + 20 + 10 + 10 + 20 + 20 + 10 = 100.
    assert [v[i] for i in ITEMS] == [D(10), D(20), D(10), D(10), D(20), D(20), D(10)]
    assert v["kpi_score"] == D(100)
    # dept_completion = (1,740,000 - 1,218,000) / (1,740,000 - 1,218,000) = 1
    assert v["dept_completion"] == D(1)
    # 30,000.00 x 40% x 1 x 100 / 100 = 12,000.00
    assert v["quarterly_bonus"] == D("30000.00") * D("0.40") * 1 * D(100) / D(100)
    assert str(v["quarterly_bonus"]) == "12000.00"


# ---- targets (一、任务目标) -------------------------------------------------------------------

# 1160万 x 15% / 25% / 30% / 30% = 174 / 290 / 348 / 348 万; base = 70% of that:
# 174 x 0.7 = 121.8; 290 x 0.7 = 203; 348 x 0.7 = 243.6.
DEPT_TARGETS_WAN = {1: (D("174"), D("121.8")), 2: (D("290"), D("203")),
                    3: (D("348"), D("243.6")), 4: (D("348"), D("243.6"))}
# senior 200万 x 15/25/30/30% = 30/50/60/60 万, bases 21/35/42/42 万;
# assistant 160万 x 15/25/30/30% = 24/40/48/48 万, bases 16.8/28/33.6/33.6 万.
OWN_TARGETS_WAN = {
    "senior": {1: (D("30"), D("21")), 2: (D("50"), D("35")),
               3: (D("60"), D("42")), 4: (D("60"), D("42"))},
    "assistant": {1: (D("24"), D("16.8")), 2: (D("40"), D("28")),
                  3: (D("48"), D("33.6")), 4: (D("48"), D("33.6"))},
}


@pytest.mark.parametrize("role", ["senior", "assistant"])
@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_target_tables_of_the_seed(policy, quarter, role):
    v = quarterly(policy, quarter=quarter, role=role).values
    dept_target, dept_base = DEPT_TARGETS_WAN[quarter]
    own_target, own_base = OWN_TARGETS_WAN[role][quarter]
    assert v["dept_target"] == dept_target * WAN
    assert v["dept_base"] == dept_base * WAN
    assert v["own_target"] == own_target * WAN
    assert v["own_base"] == own_base * WAN
    # The tables really are the split of the annual targets.
    split = {1: D("0.15"), 2: D("0.25"), 3: D("0.30"), 4: D("0.30")}[quarter]
    annual = {"senior": D(200), "assistant": D(160)}[role]
    assert dept_target == D(1160) * split and own_target == annual * split
    assert dept_base == dept_target * D("0.7") and own_base == own_target * D("0.7")


def test_dept_annual_target(policy):
    assert quarterly(policy).values["dept_annual_target"] == D(1160) * WAN


# ---- project_success: ladder against 85% ----------------------------------------------------

@pytest.mark.parametrize("won, supported, expected, why", [
    # 16/20 = 80%; 85% - 80% = 5% = exactly one full 5% step -> 20 - 2 = 18
    # (in binary floats 0.85 - 0.8 = 0.0499999... and the step would be lost).
    (16, 20, D(20) - 2 * 1, "exactly on the first step boundary"),
    # 4001/5000 = 80.02%; 85 - 80.02 = 4.98% < 5% -> 0 full steps -> 20
    (4001, 5000, D(20) - 2 * 0, "a hair above the first boundary"),
    # 3999/5000 = 79.98%; gap 5.02% -> 1 full step (2 need 10%) -> 18
    (3999, 5000, D(20) - 2 * 1, "a hair below the first boundary"),
    # 160/201 = 79.60...%; gap 5.39...% -> 1 full step -> 18
    (160, 201, D(20) - 2 * 1, "non-terminating rate below 80%"),
    # 161/201 = 80.099...%; gap 4.90...% -> 0 full steps -> 20
    (161, 201, D(20) - 2 * 0, "non-terminating rate above 80%"),
    # 15/20 = 75%; gap 10% = exactly 2 full steps -> 20 - 4 = 16
    (15, 20, D(20) - 2 * 2, "exactly on the second boundary"),
    # 2999/4000 = 74.975%; gap 10.025% -> 2 full steps -> 16
    (2999, 4000, D(20) - 2 * 2, "a hair below the second boundary"),
    # 8499/10000 = 84.99%; below the standard but by less than one step -> 20
    (8499, 10000, D(20), "a hair below the standard"),
    # 7/9 = 77.77...%; gap 7.22...% -> 1 full step -> 18
    (7, 9, D(20) - 2 * 1, "seven of nine"),
    # 3/4 = 75%; gap 10% -> 2 steps -> 16
    (3, 4, D(20) - 2 * 2, "three of four"),
    # 0/5 = 0%; gap 85% -> 17 full steps -> 20 - 34 = -14 -> floor 0
    (0, 5, D(0), "no wins: floored at 0"),
    # 10/20 = 50%; gap 35% -> 7 steps -> 20 - 14 = 6
    (10, 20, D(20) - 2 * 7, "half won"),
    # 17/20 = 85% = the standard -> 20
    (17, 20, D(20), "exactly the standard"),
    # 8599/10000 = 85.99%; surplus 0.99% < 1% -> 0 full 1% steps -> 20
    (8599, 10000, D(20), "a hair below the first surplus step"),
    # 86/100 = 86%; surplus exactly 1% -> one 1% step -> 20 + 0.5 = 20.5
    (86, 100, D(20) + D("0.5") * 1, "exactly one surplus step"),
    # 18/20 = 90%; surplus 5% -> 5 steps -> 20 + 2.5 = 22.5
    (18, 20, D(20) + D("0.5") * 5, "five surplus steps"),
    # 8/8 = 100%; surplus 15% -> 15 full 1% steps -> 20 + 7.5 = 27.5 (not capped)
    (8, 8, D(20) + D("0.5") * 15, "all won: surplus not capped"),
])
def test_project_success_ladder(policy, won, supported, expected, why):
    v = quarterly(policy, projects_won=won, projects_supported=supported).values
    assert v["project_success"] == expected, why
    # Every other item stays at its weight, so the KPI moves by exactly the same amount.
    assert v["kpi_score"] == D(80) + expected


def test_project_success_steps_from_exact_fractions():
    """The table above, re-derived from exact fractions (a check on the hand arithmetic)."""
    def by_hand(won, supported):
        rate = Fraction(won, supported)
        std = Fraction(85, 100)
        if rate < std:
            return max(Fraction(20) - 2 * floor((std - rate) / Fraction(5, 100)), 0)
        return Fraction(20) + Fraction(1, 2) * floor((rate - std) / Fraction(1, 100))
    assert by_hand(16, 20) == 18
    assert by_hand(3999, 5000) == 18
    assert by_hand(4001, 5000) == 20
    assert by_hand(8, 8) == Fraction(55, 2)


def test_no_supported_projects_scores_the_weight(policy):
    # 0 projects supported: there is no rate; the item scores its weight, 20.
    v = quarterly(policy, projects_won=0, projects_supported=0).values
    assert v["project_success"] == D(20)
    assert v["kpi_score"] == D(100)


# ---- proposal_excellence: ladder against 90% --------------------------------------------------

@pytest.mark.parametrize("excellent, total, expected", [
    (9, 10, D(20)),                       # 90% = standard -> 20
    (17, 20, D(20) - 2 * 1),              # 85%: gap 5% = one full step -> 18
    (8, 10, D(20) - 2 * 2),               # 80%: gap 10% = two full steps -> 16
    (89, 100, D(20)),                     # 89%: gap 1% < 5% -> 0 steps -> 20
    (171, 200, D(20) - 2 * 0),            # 85.5%: gap 4.5% -> 0 steps -> 20
    (169, 200, D(20) - 2 * 1),            # 84.5%: gap 5.5% -> 1 step -> 18
    (91, 100, D(20) + D("0.5") * 1),      # 91%: +1 step -> 20.5
    (19, 20, D(20) + D("0.5") * 5),       # 95%: +5 steps -> 22.5
    (10, 10, D(20) + D("0.5") * 10),      # 100%: +10 steps -> 25
    (0, 10, D(0)),                        # 0%: gap 90% -> 18 steps -> 20 - 36 < 0 -> floor 0
    (1, 2, D(20) - 2 * 8),                # 50%: gap 40% -> 8 steps -> 4
])
def test_proposal_excellence_ladder(policy, excellent, total, expected):
    v = quarterly(policy, proposals_excellent=excellent, proposals_total=total).values
    assert v["proposal_excellence"] == expected
    assert v["kpi_score"] == D(80) + expected


def test_no_proposals_scores_the_weight(policy):
    # proposals_total 0: no rate; the item scores its weight, 20.
    v = quarterly(policy, proposals_excellent=0, proposals_total=0).values
    assert v["proposal_excellence"] == D(20)
    assert v["kpi_score"] == D(100)


# ---- the other items ----------------------------------------------------------------------------

@pytest.mark.parametrize("planned, held, expected", [
    (4, 3, D(10) - 2 * 1),   # one short -> 8
    (4, 1, D(10) - 2 * 3),   # three short -> 4
    (7, 1, D(0)),            # six short: 10 - 12 = -2 -> floor 0
    (5, 0, D(0)),            # five short: 10 - 10 = 0
    (2, 6, D(10)),           # held more than planned: no deduction, no bonus -> 10
    (0, 0, D(10)),           # nothing planned -> 10
])
def test_market_activity(policy, planned, held, expected):
    v = quarterly(policy, activities_planned=planned, activities_held=held).values
    assert v["market_activity"] == expected


def test_sales_training_not_on_plan(policy):
    # 20 - 5 = 15
    assert quarterly(policy, sales_training_on_plan=False).values["sales_training"] == D(20) - 5


@pytest.mark.parametrize("process, comparison, expected", [
    (True, True, D(10)),
    (False, True, D(10) - 5),
    (True, False, D(10) - 5),
    (False, False, D(10) - 5 - 5),
])
def test_sales_tools(policy, process, comparison, expected):
    v = quarterly(policy, sales_process_updated=process, comparison_updated=comparison).values
    assert v["sales_tools"] == expected


def test_competitor_analysis_not_delivered(policy):
    assert quarterly(policy, competitor_analysis_delivered=False).values["competitor_analysis"] == D(0)


@pytest.mark.parametrize("attendance, rules, expected", [
    ([1, 2], [3], D(10) - (1 + 2 + 3)),                 # 10 - 6 = 4
    (["1.5"], [], D(10) - D("1.5")),                    # fractional points: 8.5
    ([2, 2, 2], [5], D(0)),                             # 6 + 5 = 11 > 10: 10 - 11 = -1 -> 0
    ([], [10], D(0)),                                   # exactly 10 -> 0
    ([2], [10, 10], D(0)),                              # 22 -> floored at 0
    ([1], [], D(9)),                                    # 10 - 1 = 9
])
def test_hr_compliance_and_its_floor(policy, attendance, rules, expected):
    v = quarterly(policy, attendance_violations=attendance, rule_violations=rules).values
    assert v["hr_compliance"] == expected
    assert v["hr_compliance"] >= 0


# ---- the knowledge gate ------------------------------------------------------------------------

@pytest.mark.parametrize("item, weight", [
    ("market_activity", 10), ("sales_training", 20), ("sales_tools", 10),
    ("competitor_analysis", 10), ("proposal_excellence", 20),
])
def test_knowledge_item_without_rollout_counts_zero(policy, item, weight):
    r = quarterly(policy, explain=True, rollout={item: False})
    # The item would score its full weight, but without rollout it counts 0: KPI 100 - weight.
    assert r.values[item] == D(0)
    assert r.values["kpi_score"] == D(100) - weight
    # The explanation says it was excluded, and why.
    gates = [e for e in node(r, item)["children"] if e["kind"].startswith("gate")]
    assert len(gates) == 1 and gates[0]["kind"] == "gate_excluded"
    assert gates[0]["reason"]["params"]["reason"] == "该项工作未经过培训推广环节"


def test_rollout_does_not_touch_non_knowledge_items(policy):
    # project_success and hr_compliance are 不纳入知识供献KPI: no rollout flag gates them.
    v = quarterly(policy, rollout={k: False for k in KNOWLEDGE_ITEMS},
                  projects_won=8, projects_supported=8, rule_violations=[3]).values
    assert v["project_success"] == D("27.5")       # 8/8 -> 20 + 15 x 0.5
    assert v["hr_compliance"] == D(10) - 3          # 7
    assert v["kpi_score"] == D("27.5") + 7          # 34.5: only the two non-knowledge items


# ---- kpi_score ----------------------------------------------------------------------------------

def test_kpi_score_may_exceed_100(policy):
    v = quarterly(policy, proposals_excellent=10, proposals_total=10,
                  projects_won=8, projects_supported=8).values
    # proposals 100%: 20 + 10 x 0.5 = 25; projects 100%: 20 + 15 x 0.5 = 27.5
    # 10 + 20 + 10 + 10 + 25 + 27.5 + 10 = 112.5
    assert v["kpi_score"] == D("112.5")
    # completion 1: 30,000 x 0.4 x 1 x 112.5 / 100 = 13,500.00
    assert str(v["quarterly_bonus"]) == "13500.00"


# ---- department completion and the bonus --------------------------------------------------------

@pytest.mark.parametrize("quarter, revenue", [
    (1, "1000000"),       # Q1 base 121.8万 = 1,218,000 > 1,000,000
    (1, "1217999.99"),    # a cent below the base
    (1, "1218000"),       # exactly the base: (1,218,000 - 1,218,000) / 522,000 = 0
    (2, "0"),             # nothing sold
    (3, "2436000.00"),    # Q3 base 243.6万 exactly
    (4, "100"),
])
def test_revenue_at_or_below_base_gives_no_bonus(policy, quarter, revenue):
    v = quarterly(policy, quarter=quarter, dept_revenue=revenue).values
    # Completion (revenue - base) / (target - base) <= 0 -> floored at 0 -> bonus 0.00
    assert v["dept_completion"] == D(0)
    assert v["quarterly_bonus"] == D(0)
    assert str(v["quarterly_bonus"]) == "0.00"


def test_dept_completion_not_capped(policy):
    # Q3: target 3,480,000, base 2,436,000, span 1,044,000.
    # revenue 4,000,000: (4,000,000 - 2,436,000) / 1,044,000 = 1,564,000 / 1,044,000 = 391/261
    v = quarterly(policy, quarter=3, dept_revenue=4000000).values
    expected = Fraction(4000000 - 2436000, 3480000 - 2436000)
    assert expected == Fraction(391, 261) and expected > 1
    assert abs(Fraction(v["dept_completion"]) - expected) < Fraction(1, 10**26)
    # bonus = 30,000 x 0.4 x 391/261 x 100 / 100 = 4,692,000 / 261 = 17,977.0114... -> 17,977.01
    assert v["quarterly_bonus"] == half_up_cents(Fraction(30000) * Fraction(2, 5) * expected)
    assert str(v["quarterly_bonus"]) == "17977.01"


def test_dept_completion_half(policy):
    # Q3: revenue 2,958,000: (2,958,000 - 2,436,000) / 1,044,000 = 522,000 / 1,044,000 = 0.5
    v = quarterly(policy, quarter=3, dept_revenue="2958000").values
    assert v["dept_completion"] == D("0.5")
    # 30,000 x 0.4 x 0.5 x 100 / 100 = 6,000.00
    assert str(v["quarterly_bonus"]) == "6000.00"


def test_own_completion_is_informational(policy):
    # Q4 assistant: own target 48万 = 480,000, base 336,000, span 144,000.
    # own_revenue 400,000: (400,000 - 336,000) / 144,000 = 64,000 / 144,000 = 4/9
    v = quarterly(policy, quarter=4, role="assistant", own_revenue=400000,
                  dept_revenue=3480000).values
    assert abs(Fraction(v["own_completion"]) - Fraction(4, 9)) < Fraction(1, 10**26)
    # own revenue below own base: floored at 0
    v0 = quarterly(policy, quarter=4, role="assistant", own_revenue=300000,
                   dept_revenue=3480000).values
    assert v0["own_completion"] == D(0)
    # The bonus uses the department's rate only: Q4 target 3,480,000 met -> completion 1,
    # 30,000 x 0.4 x 1 = 12,000.00 in both cases.
    assert v["quarterly_bonus"] == v0["quarterly_bonus"] == D("12000.00")


def test_full_quarterly_bonus_of_the_example_file(policy):
    """examples/u8_quarterly.json, by hand."""
    facts = kpirules.read_facts(EXAMPLES / "u8_quarterly.json")
    v = policy.evaluate(facts, "quarterly").values
    # Q2: target 1160万 x 25% = 2,900,000; base x 70% = 2,030,000; span 870,000.
    assert v["dept_target"] == D(2900000) and v["dept_base"] == D(2030000)
    # completion = (2,610,000 - 2,030,000) / 870,000 = 580,000 / 870,000 = 2/3
    completion = Fraction(2610000 - 2030000, 2900000 - 2030000)
    assert completion == Fraction(2, 3)
    # senior Q2: own target 50万 = 500,000, base 350,000; (452,000 - 350,000) / 150,000 = 0.68
    assert v["own_completion"] == D("0.68")
    expected_items = {
        "market_activity": D(10) - 2 * (4 - 3),      # one activity short -> 8
        "sales_training": D(20),                     # on plan
        "sales_tools": D(0),                         # 10 - 5 = 5, but rollout false -> counts 0
        "competitor_analysis": D(10),                # delivered
        "proposal_excellence": D(20) - 2 * 1,        # 17/20 = 85%: one full 5% step -> 18
        "project_success": D(20) - 2 * 1,            # 7/9 = 77.8%: gap 7.2% -> one step -> 18
        "hr_compliance": D(10) - (1 + 2 + 3),        # 4
    }
    for name, expected in expected_items.items():
        assert v[name] == expected, name
    kpi = sum(expected_items.values())
    assert kpi == D(78) and v["kpi_score"] == kpi
    # 36,000.00 x 40% x 2/3 x 78 / 100 = 14,400 x 2/3 x 0.78 = 9,600 x 0.78 = 7,488.00
    bonus = half_up_cents(Fraction(36000) * Fraction(2, 5) * completion * Fraction(78, 100))
    assert bonus == D("7488.00")
    assert v["quarterly_bonus"] == bonus
    assert str(v["quarterly_bonus"]) == "7488.00"


def test_full_quarterly_bonus_with_a_half_cent(policy):
    """A complete quarter by hand, whose bonus lands on exactly half a cent."""
    v = quarterly(
        policy,
        quarter=3, role="assistant", base_salary="25015.00",
        dept_revenue="2958000",                                 # completion 1/2 (see above)
        own_revenue="336000",                                   # = own base -> own completion 0
        activities_planned=5, activities_held=4,                # 10 - 2 = 8
        sales_training_on_plan=False,                           # 20 - 5 = 15
        comparison_updated=False,                               # 10 - 5 = 5
        proposals_total=20, proposals_excellent=19,             # 95%: 20 + 5 x 0.5 = 22.5
        projects_supported=8, projects_won=8,                   # 100%: 20 + 15 x 0.5 = 27.5
        attendance_violations=[1, "1.5"], rule_violations=[2],  # 10 - 4.5 = 5.5
    ).values
    assert v["dept_completion"] == D("0.5")
    assert v["own_completion"] == D(0)
    kpi = D(8) + 15 + 5 + 10 + D("22.5") + D("27.5") + D("5.5")
    assert kpi == D("93.5") and v["kpi_score"] == kpi
    # 25,015.00 x 0.4 x 0.5 x 93.5 / 100 = 25,015 x 0.187 = 4,677.805 (exactly half a cent)
    raw = D("25015.00") * D("0.4") * D("0.5") * kpi / 100
    assert raw == D("4677.805")
    # half up -> 4,677.81 (half even would give 4,677.80)
    assert raw.quantize(CENT, rounding=ROUND_HALF_UP) == D("4677.81")
    assert str(v["quarterly_bonus"]) == "4677.81"


# ---- monthly big-project bonus ------------------------------------------------------------------

def project(pid, contract, collected):
    return {"id": pid, "contract_amount": contract, "collected": collected}


@pytest.mark.parametrize("contract, included", [
    (100000, True),              # exactly 10万: "10万以上" includes it
    ("100000.00", True),
    (D("100000"), True),
    ("99999.99", False),         # a cent under: excluded
    ("100000.01", True),
    (0, False),
])
def test_monthly_threshold(policy, contract, included):
    r = monthly(policy, [project("P1", contract, "1000.00")], explain=True)
    # 1,000.00 x 1.5% = 15.00 when included, else nothing
    expected = D("1000.00") * D("0.015") if included else D(0)
    assert r.values["big_project_bonus"] == expected
    line = node(r, "big_project_bonus")["children"][0]
    assert line["kind"] == ("line" if included else "filter_excluded")
    if not included:
        assert line["reason"]["params"]["reason"] == "成交金额不足10万元"


def test_monthly_rounds_each_line_half_up(policy):
    # 3.00 x 1.5% = 0.045 -> half up 0.05 (half even would give 0.04)
    assert D(3) * D("0.015") == D("0.045")
    v = monthly(policy, [project("A", 100000, "3.00")]).values
    assert str(v["big_project_bonus"]) == "0.05"
    # 1,003.00 x 1.5% = 15.045 -> 15.05
    v = monthly(policy, [project("B", 100000, "1003.00")]).values
    assert str(v["big_project_bonus"]) == "15.05"
    # 1.00 x 1.5% = 0.015 -> 0.02
    v = monthly(policy, [project("C", 100000, "1.00")]).values
    assert str(v["big_project_bonus"]) == "0.02"


def test_monthly_rounds_per_project_not_the_sum(policy):
    # Two lines of 0.045 each: per line 0.05 + 0.05 = 0.10 (rounding the sum 0.09 would give 0.09).
    v = monthly(policy, [project("A", 100000, 3), project("B", 200000, 3)]).values
    assert v["big_project_bonus"] == D("0.05") + D("0.05")
    assert str(v["big_project_bonus"]) == "0.10"


def test_monthly_example_file_by_hand(policy):
    facts = kpirules.read_facts(EXAMPLES / "u8_monthly.json")
    r = policy.evaluate(facts, "monthly", explain=True)
    lines = [
        D("300000.00") * D("0.015"),   # 1,250,000 >= 10万: 4,500.00
        D("45678.90") * D("0.015"),    # exactly 10万: 685.1835 -> 685.18
        None,                          # 99,999.99 < 10万: excluded
        D("123456.78") * D("0.015"),   # 480,000 >= 10万: 1,851.8517 -> 1,851.85
    ]
    assert lines[0] == D("4500.00") and lines[1] == D("685.1835") and lines[3] == D("1851.8517")
    rounded = [ln.quantize(CENT, rounding=ROUND_HALF_UP) for ln in lines if ln is not None]
    assert rounded == [D("4500.00"), D("685.18"), D("1851.85")]
    total = sum(rounded)                # 4,500.00 + 685.18 + 1,851.85 = 7,037.03
    assert total == D("7037.03")
    assert r.values["big_project_bonus"] == total
    assert str(r.values["big_project_bonus"]) == "7037.03"
    assert r.values["period"] == "2026-05"
    shown = node(r, "big_project_bonus")["children"]
    assert [ln["kind"] == "line" for ln in shown] == [True, True, False, True]
    assert [ln["result"] for ln in shown if ln["kind"] == "line"] == rounded


def test_monthly_no_projects(policy):
    assert monthly(policy, []).values["big_project_bonus"] == D(0)


def test_monthly_only_small_projects(policy):
    v = monthly(policy, [project("A", "99999.99", "50000"), project("B", 5000, 5000)]).values
    assert v["big_project_bonus"] == D(0)


# ---- fact rules of S1 ---------------------------------------------------------------------------

@pytest.mark.parametrize("fact, bad", [
    ("base_salary", 30000.0),               # a float is not exact: refused
    ("sales_training_on_plan", "yes"),       # booleans must be true/false
    ("quarter", 5),                          # 1..4
    ("role", "junior"),
    ("dept_revenue", "-1"),                  # money >= 0
    ("proposals_excellent", 11),             # excellent <= total (10)
    ("projects_won", 21),                    # won <= supported (20)
    ("attendance_violations", [3]),          # each 1..2
    ("rule_violations", [11]),               # each 1..10
    ("activities_held", -1),                 # a count
])
def test_bad_fact_is_an_error_naming_it(policy, fact, bad):
    with pytest.raises(kpirules.FactError) as exc:
        policy.evaluate(quarterly_facts(**{fact: bad}), "quarterly")
    assert fact in str(exc.value)


def test_missing_fact_is_an_error_naming_it(policy):
    facts = quarterly_facts()
    del facts["dept_revenue"]
    with pytest.raises(kpirules.FactError) as exc:
        policy.evaluate(facts, "quarterly")
    assert "dept_revenue" in str(exc.value)
