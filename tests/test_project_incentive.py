"""Worked examples and properties of spec S5 (XXX售前绩效考核制度, policies/project_incentive.rules).

Every expected value is worked out by hand from shared/spec/policies.md S5, with the arithmetic
written next to it; none is copied from the engine's output. The rules, in brief:

    S (per project) = amount x 0.5% x C[type] x quality_score / 100 x E[difficulty], half up to cents
    C: 开拓型 1.3, 稳定型 1.0, 复制型 0.6          E: 高 1.2, 中 1.0, 低 0.8 (company-set)
    bid_fees = bids x 800 (company-set)
    pool_share = pool x my_hours / team_hours, half up to cents; 0 when team_hours is 0
    total_bonus = project_commission + bid_fees + pool_share
"""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from math import floor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpirules

ROOT = Path(__file__).resolve().parents[1]
POLICY_PATH = ROOT / "policies" / "project_incentive.rules"
EXAMPLE = ROOT / "examples" / "project_incentive.json"

D = Decimal
CENT = D("0.01")
TYPE_C = {"开拓型": D("1.3"), "稳定型": D("1.0"), "复制型": D("0.6")}
DIFFICULTY_E = {"高": D("1.2"), "中": D("1.0"), "低": D("0.8")}

POLICY = kpirules.load_policy(POLICY_PATH)
PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def half_up_cents(value) -> Decimal:
    """Round an exact value (Decimal or Fraction) half up to 0.01 yuan, by hand."""
    cents = Fraction(value) * 100
    whole = floor(cents)
    if cents - whole >= Fraction(1, 2):
        whole += 1
    return (D(whole) / 100).quantize(CENT)


def project(id_="P", amount="100000", type_="稳定型", quality_score=100, difficulty="中") -> dict:
    return {"id": id_, "amount": amount, "type": type_, "quality_score": quality_score,
            "difficulty": difficulty}


def facts(**overrides) -> dict:
    base = {"projects": [], "bids": 0, "pool": "0", "my_hours": 0, "team_hours": 0}
    base.update(overrides)
    return copy.deepcopy(base)


def evaluate(**overrides):
    return POLICY.evaluate(facts(**overrides)).values


def violation_paths(fact_set) -> list:
    with pytest.raises(kpirules.FactError) as exc:
        POLICY.evaluate(fact_set)
    return [v.path for v in exc.value.violations]


# ---- the shipped example ---------------------------------------------------------------------

def test_shipped_example_by_hand():
    v = POLICY.evaluate(kpirules.read_facts(EXAMPLE)).values
    # P-2026-011 开拓型/高, 1,280,000 at 86: 1,280,000 x 0.005 = 6,400; x 1.3 = 8,320;
    #   x 0.86 = 7,155.20; x 1.2 = 8,586.24 (already in cents)
    p1 = D("8586.24")
    # P-2026-027 稳定型/中, 356,789.00 at 75: 356,789 x 0.005 = 1,783.945; x 1.0; x 0.75 = 1,337.95875;
    #   x 1.0 -> half up to cents: 1,337.96
    p2 = D("1337.96")
    # P-2026-034 复制型/低, 600,000 at 92: 3,000 x 0.6 = 1,800; x 0.92 = 1,656; x 0.8 = 1,324.80
    p3 = D("1324.80")
    # P-2026-058 开拓型/中, 98,000 at 60: 490 x 1.3 = 637; x 0.6 = 382.20; x 1.0 = 382.20
    p4 = D("382.20")
    assert v["project_commission"] == p1 + p2 + p3 + p4 == D("11631.20")
    assert str(v["project_commission"]) == "11631.20"
    # 7 bids x 800 = 5,600
    assert v["bid_fees"] == 7 * 800 == D(5600)
    # 150,000.00 x 412.5 / 2,750 = 150,000 x 0.15 = 22,500.00
    assert v["pool_share"] == D("22500.00")
    assert str(v["pool_share"]) == "22500.00"
    # 11,631.20 + 5,600 + 22,500.00 = 39,731.20
    assert v["total_bonus"] == D("39731.20")
    assert v["bid_fee_per_bid"] == D(800)


# ---- project commission ------------------------------------------------------------------------

@pytest.mark.parametrize("type_, difficulty, expected", [
    # 100,000 x 0.5% = 500 = B; quality 100 -> D = 1
    ("开拓型", "高", D(500) * D("1.3") * D("1.2")),   # 500 x 1.3 x 1.2 = 780
    ("开拓型", "中", D(500) * D("1.3") * D("1.0")),   # 650
    ("开拓型", "低", D(500) * D("1.3") * D("0.8")),   # 520
    ("稳定型", "高", D(500) * D("1.0") * D("1.2")),   # 600
    ("稳定型", "中", D(500) * D("1.0") * D("1.0")),   # 500
    ("稳定型", "低", D(500) * D("1.0") * D("0.8")),   # 400
    ("复制型", "高", D(500) * D("0.6") * D("1.2")),   # 360
    ("复制型", "中", D(500) * D("0.6") * D("1.0")),   # 300
    ("复制型", "低", D(500) * D("0.6") * D("0.8")),   # 240
])
def test_each_type_and_difficulty(type_, difficulty, expected):
    v = evaluate(projects=[project(type_=type_, difficulty=difficulty)])
    assert v["project_commission"] == expected
    assert v["total_bonus"] == expected


def test_the_nine_combinations_hand_values():
    # The table above, written out: a check on the parametrised products.
    assert [D(500) * c * e for c in TYPE_C.values() for e in DIFFICULTY_E.values()] == \
        [780, 650, 520, 600, 500, 400, 360, 300, 240]


def test_quality_score_scales_linearly():
    # 稳定型/中, 200,000 at 73: 200,000 x 0.005 = 1,000; x 1.0 x 0.73 x 1.0 = 730.00
    assert evaluate(projects=[project(amount=200000, quality_score=73)])["project_commission"] == D(730)
    # a quality score of 0 earns nothing: 1,000 x 0 = 0
    assert evaluate(projects=[project(amount=200000, quality_score=0)])["project_commission"] == 0
    # a fractional score: 1,000 x 0.855 = 855.00
    assert evaluate(projects=[project(amount=200000, quality_score="85.5")])["project_commission"] == D(855)


def test_half_a_cent_rounds_up_on_each_line_before_adding():
    # 1,001 x 0.5% = 5.005 -> 5.01 on each line; two lines 10.02.
    # (Rounding the total instead would give 10.01: the lines are rounded first.)
    v = evaluate(projects=[project("X1", amount=1001), project("X2", amount=1001)])
    assert v["project_commission"] == D("5.01") + D("5.01") == D("10.02")


def test_just_under_half_a_cent_rounds_down():
    # 1,000.99 x 0.5% = 5.00495 -> 5.00
    assert evaluate(projects=[project(amount="1000.99")])["project_commission"] == D("5.00")
    # 复制型/低 at 51: 1,234.56 x 0.005 = 6.1728; x 0.6 = 3.70368; x 0.51 = 1.8888768;
    # x 0.8 = 1.51110144 -> 1.51
    v = evaluate(projects=[project(amount="1234.56", type_="复制型", quality_score=51, difficulty="低")])
    assert v["project_commission"] == D("1.51")


def test_amount_zero_and_no_projects():
    assert evaluate(projects=[project(amount=0)])["project_commission"] == 0
    assert evaluate(projects=[])["project_commission"] == 0


# ---- bid fees ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bids, expected", [(0, 0), (1, 800), (12, 12 * 800)])  # 12 x 800 = 9,600
def test_bid_fees(bids, expected):
    v = evaluate(bids=bids)
    assert v["bid_fees"] == expected
    assert v["total_bonus"] == expected


# ---- pool share -----------------------------------------------------------------------------------

def test_pool_share_is_zero_without_team_hours():
    # team_hours 0 (and so my_hours 0): no division, no share.
    v = evaluate(pool=500000, my_hours=0, team_hours=0)
    assert v["pool_share"] == 0
    assert v["total_bonus"] == 0


def test_pool_share_by_hours():
    # 100,000 x 1 / 3 = 33,333.333... -> 33,333.33
    assert evaluate(pool=100000, my_hours=1, team_hours=3)["pool_share"] == D("33333.33")
    # 100,000 x 2 / 3 = 66,666.666... -> 66,666.67
    assert evaluate(pool=100000, my_hours=2, team_hours=3)["pool_share"] == D("66666.67")
    # 1,000.01 x 1 / 2 = 500.005 -> half up: 500.01
    assert evaluate(pool="1000.01", my_hours=1, team_hours=2)["pool_share"] == D("500.01")
    # all the hours: the whole pool, 88,888.88
    assert evaluate(pool="88888.88", my_hours="120.5", team_hours="120.5")["pool_share"] == D("88888.88")
    # no hours of my own: 0
    assert evaluate(pool=100000, my_hours=0, team_hours=40)["pool_share"] == 0


# ---- fact rules -------------------------------------------------------------------------------------

def test_unknown_project_type_is_named_by_path():
    projects = [project("A"), project("B", type_="定制型")]
    assert violation_paths(facts(projects=projects)) == ["projects[1].type"]


def test_quality_score_above_100_is_named_by_path():
    projects = [project("A"), project("B"), project("C", quality_score=101)]
    assert violation_paths(facts(projects=projects)) == ["projects[2].quality_score"]


def test_negative_quality_score_and_unknown_difficulty():
    projects = [project("A", quality_score=-1), project("B", difficulty="极高")]
    assert violation_paths(facts(projects=projects)) == ["projects[0].quality_score", "projects[1].difficulty"]


def test_negative_amount_is_named_by_path():
    assert violation_paths(facts(projects=[project(amount="-0.01")])) == ["projects[0].amount"]


def test_my_hours_above_team_hours_is_named():
    assert violation_paths(facts(my_hours="40.5", team_hours=40)) == ["my_hours"]


@pytest.mark.parametrize("fact, bad", [
    ("bids", -1),            # a count
    ("bids", "1.5"),
    ("pool", "-1"),          # money >= 0
    ("team_hours", -1),      # >= 0
    ("pool", 1000.0),        # a float is not exact: refused
])
def test_bad_scalar_fact_is_named(fact, bad):
    assert fact in violation_paths(facts(**{fact: bad}))


def test_missing_fact_is_named():
    fact_set = facts()
    del fact_set["pool"]
    assert violation_paths(fact_set) == ["pool"]


# ---- properties -----------------------------------------------------------------------------------

def _as(kind, d: Decimal):
    if kind == "int" and d == d.to_integral_value():
        return int(d)
    if kind == "str":
        return format(d, "f")
    return d


@st.composite
def money(draw, max_cents=10**10):
    d = D(draw(st.integers(min_value=0, max_value=max_cents))).scaleb(-2)
    return _as(draw(st.sampled_from(["int", "str", "dec"])), d)


@st.composite
def score(draw):
    """0..100 in steps of 0.1."""
    return _as(draw(st.sampled_from(["int", "str", "dec"])), D(draw(st.integers(0, 1000))) / 10)


@st.composite
def projects(draw, max_size=6):
    n = draw(st.integers(0, max_size))
    return [project(f"P{i}", draw(money()), draw(st.sampled_from(sorted(TYPE_C))), draw(score()),
                    draw(st.sampled_from(sorted(DIFFICULTY_E)))) for i in range(n)]


@st.composite
def fact_sets(draw):
    team = D(draw(st.integers(0, 100000))) / 4
    mine = D(draw(st.integers(0, int(team * 4)))) / 4
    return facts(projects=draw(projects()), bids=draw(st.integers(0, 200)), pool=draw(money()),
                 my_hours=_as("str", mine), team_hours=_as("dec", team))


def commission_by_hand(lines) -> Decimal:
    return sum((half_up_cents(D(p["amount"]) * D("0.005") * TYPE_C[p["type"]] * D(p["quality_score"]) / 100
                             * DIFFICULTY_E[p["difficulty"]]) for p in lines), D(0))


@PROPS
@given(fact_sets())
def test_total_is_the_sum_of_its_three_parts(fs):
    v = POLICY.evaluate(fs).values
    assert v["total_bonus"] == v["project_commission"] + v["bid_fees"] + v["pool_share"]
    # and each part is what the spec says
    assert v["project_commission"] == commission_by_hand(fs["projects"])
    assert v["bid_fees"] == fs["bids"] * 800
    team, mine = Fraction(D(fs["team_hours"])), Fraction(D(fs["my_hours"]))
    assert v["pool_share"] == (half_up_cents(Fraction(D(fs["pool"])) * mine / team) if team else 0)


@PROPS
@given(projects(max_size=4).filter(bool), st.data())
def test_commission_is_monotone_in_quality_score(lines, data):
    i = data.draw(st.integers(0, len(lines) - 1))
    low = data.draw(st.integers(0, 1000))
    high = data.draw(st.integers(low, 1000))
    lower, higher = copy.deepcopy(lines), copy.deepcopy(lines)
    lower[i]["quality_score"] = str(D(low) / 10)
    higher[i]["quality_score"] = str(D(high) / 10)
    c_low = POLICY.evaluate(facts(projects=lower)).values["project_commission"]
    c_high = POLICY.evaluate(facts(projects=higher)).values["project_commission"]
    assert c_low <= c_high
