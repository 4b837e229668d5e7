"""Worked examples and properties of spec S8 (售前绩效考核制度1, policies/hundred_point.rules).

Every expected value is worked out by hand from shared/spec/policies.md S8, with the arithmetic
written next to it; none is copied from the engine's output. The rules, in brief:

    daily item: keeps its points when done; loses 80% unfinished, 50% off_spec, 20% late
    exception item (n of them, at most 4): 20 / n, minus 3 / 2 / 1 by status, never below 0;
        no exception items: 20
    head: minus 2 per late weekly report (staff: nothing)
    total_score = daily + exception - late, kept within 0..100
    grade: 优秀 >= 91; 良好 >= 81; 称职 >= 71; 基本称职 >= 60; 不称职 below 60
"""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpirules

ROOT = Path(__file__).resolve().parents[1]
POLICY_PATH = ROOT / "policies" / "hundred_point.rules"
EXAMPLE = ROOT / "examples" / "hundred_point.json"

D = Decimal
STATUSES = ("done", "unfinished", "off_spec", "late")
DAILY_KEPT = {"done": Fraction(1), "unfinished": Fraction(1, 5), "off_spec": Fraction(1, 2),
              "late": Fraction(4, 5)}           # 1 - 0%, 1 - 80%, 1 - 50%, 1 - 20%
EXCEPTION_LOSS = {"done": 0, "unfinished": 3, "off_spec": 2, "late": 1}

POLICY = kpirules.load_policy(POLICY_PATH)
PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def grade_by_hand(total) -> str:
    if total >= 91:
        return "优秀"
    if total >= 81:
        return "良好"
    if total >= 71:
        return "称职"
    if total >= 60:
        return "基本称职"
    return "不称职"


def item(name, points, status="done") -> dict:
    return {"name": name, "points": points, "status": status}


def facts(**overrides) -> dict:
    base = {"role": "staff", "weekly_reports_late": 0, "daily": [item("岗位职责", 80)], "exceptions": []}
    base.update(overrides)
    return copy.deepcopy(base)


def evaluate(**overrides):
    return POLICY.evaluate(facts(**overrides)).values


def violation_paths(fact_set) -> list:
    with pytest.raises(kpirules.FactError) as exc:
        POLICY.evaluate(fact_set)
    return [v.path for v in exc.value.violations]


def exc(*statuses) -> list:
    return [{"name": f"例外{i}", "status": s} for i, s in enumerate(statuses)]


# ---- the shipped example ----------------------------------------------------------------------------

def test_shipped_example_by_hand():
    v = POLICY.evaluate(kpirules.read_facts(EXAMPLE)).values
    # daily: 30 done -> 30; 20 late -> 20 x 0.8 = 16; 15 done -> 15; 10 off spec -> 10 x 0.5 = 5;
    #        5 unfinished -> 5 x 0.2 = 1;   30 + 16 + 15 + 5 + 1 = 67
    assert v["daily_score"] == 30 + 16 + 15 + 5 + 1 == 67
    # exceptions: 3 items of 20/3: done 20/3, late 20/3 - 1, off spec 20/3 - 2 -> 20 - 3 = 17
    assert v["exception_score"] == Fraction(20, 3) * 3 - 1 - 2 == 17
    # a head with 1 late weekly report: 2 x 1 = 2
    assert v["late_report_deduction"] == 2
    # 67 + 17 - 2 = 82 -> 良好 (81 <= 82 < 91)
    assert v["total_score"] == 82
    assert v["grade"] == "良好"


# ---- daily work ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("status, expected", [
    ("done", D(80)),                  # 80 kept
    ("unfinished", D(80) - D(64)),    # 80 - 80 x 80% = 16
    ("off_spec", D(80) - D(40)),      # 80 - 80 x 50% = 40
    ("late", D(80) - D(16)),          # 80 - 80 x 20% = 64
])
def test_one_daily_item_per_status(status, expected):
    v = evaluate(daily=[item("A", 80, status)])
    assert v["daily_score"] == expected
    assert v["exception_score"] == 20
    assert v["total_score"] == expected + 20


def test_four_daily_items_one_per_status():
    # 20 + 20 x 0.2 + 20 x 0.5 + 20 x 0.8 = 20 + 4 + 10 + 16 = 50; + 20 = 70 -> 基本称职
    v = evaluate(daily=[item(s, 20, s) for s in STATUSES])
    assert v["daily_score"] == 50
    assert v["total_score"] == 70
    assert v["grade"] == "基本称职"


def test_fractional_daily_points():
    # 12.5 late -> 12.5 x 0.8 = 10; 67.5 off spec -> 33.75; 10 + 33.75 = 43.75; + 20 = 63.75
    v = evaluate(daily=[item("A", "12.5", "late"), item("B", "67.5", "off_spec")])
    assert v["daily_score"] == D("43.75")
    assert v["total_score"] == D("63.75")


# ---- exception work -----------------------------------------------------------------------------------

@pytest.mark.parametrize("statuses, expected", [
    ((), D(20)),                                                 # none: 20
    (("done",), D(20)),                                          # 20
    (("unfinished",), D(20 - 3)),                                # 17
    (("off_spec",), D(20 - 2)),                                  # 18
    (("late",), D(20 - 1)),                                      # 19
    (("done", "unfinished"), D(10) + D(10 - 3)),                 # 10 + 7 = 17
    (("late", "late", "late"), 3 * (Fraction(20, 3) - 1)),       # 20 - 3 = 17
    (("unfinished",) * 3, 3 * (Fraction(20, 3) - 3)),            # 20/3 - 3 = 11/3 each: 11
    (("done", "unfinished", "off_spec", "late"), D(5 + 2 + 3 + 4)),  # 14
    (("unfinished",) * 4, 4 * D(5 - 3)),                         # 2 each: 8
])
def test_exception_items_share_20(statuses, expected):
    v = evaluate(exceptions=exc(*statuses))
    assert v["exception_score"] == expected
    assert v["total_score"] == 80 + expected


# ---- late weekly reports --------------------------------------------------------------------------------

def test_only_a_head_loses_points_for_late_weekly_reports():
    assert evaluate(role="staff", weekly_reports_late=5)["total_score"] == 100
    # head: 100 - 2 x 5 = 90 -> 良好
    v = evaluate(role="head", weekly_reports_late=5)
    assert v["late_report_deduction"] == 2 * 5
    assert v["total_score"] == 90
    assert v["grade"] == "良好"


def test_total_is_floored_at_0():
    # daily 80 unfinished -> 16; exceptions 4 unfinished -> 8; head with 13 late -> 26
    # 16 + 8 - 26 = -2 -> 0
    v = evaluate(role="head", weekly_reports_late=13, daily=[item("A", 80, "unfinished")],
                 exceptions=exc(*["unfinished"] * 4))
    assert v["daily_score"] + v["exception_score"] - v["late_report_deduction"] == 16 + 8 - 26
    assert v["total_score"] == 0
    assert v["grade"] == "不称职"


def test_a_perfect_month_is_exactly_100():
    # 80 + 20 = 100: the cap at 100 is the top of the scale (nothing can exceed it)
    v = evaluate()
    assert v["total_score"] == 100
    assert v["grade"] == "优秀"


# ---- grade bands at every edge -----------------------------------------------------------------------------

def facts_for_total(total: Decimal) -> dict:
    """A staff fact set whose total is `total` (36..100): item A done, item B unfinished.

    total = 20 + a + (80 - a) x 0.2 = 36 + 0.8a, so a = (total - 36) / 0.8 = 1.25 x (total - 36).
    """
    a = (total - 36) * D("1.25")
    return facts(daily=[item("A", str(a), "done"), item("B", str(80 - a), "unfinished")])


@pytest.mark.parametrize("total, grade", [
    (D("91"), "优秀"), (D("90.99"), "良好"), (D("90.5"), "良好"),
    (D("81"), "良好"), (D("80.99"), "称职"), (D("80.5"), "称职"),
    (D("71"), "称职"), (D("70.99"), "基本称职"), (D("70.5"), "基本称职"),
    (D("60"), "基本称职"), (D("59.99"), "不称职"), (D("59.5"), "不称职"), (D("59"), "不称职"),
    (D("100"), "优秀"), (D("36"), "不称职"),
])
def test_grade_at_every_band_edge(total, grade):
    assert grade_by_hand(total) == grade          # the spec's bands, as read by hand
    v = POLICY.evaluate(facts_for_total(total)).values
    assert v["total_score"] == total
    assert v["grade"] == grade


def test_grade_below_36_via_late_reports():
    # a head: 100 - 2 x 30 = 40 -> 不称职; 100 - 2 x 50 = 0 (floored exactly at 0)
    assert evaluate(role="head", weekly_reports_late=30)["grade"] == "不称职"
    assert evaluate(role="head", weekly_reports_late=50)["total_score"] == 0


# ---- fact rules ---------------------------------------------------------------------------------------------

def test_daily_points_adding_up_to_75_is_a_daily_error():
    assert violation_paths(facts(daily=[item("A", 40), item("B", 35)])) == ["daily"]


def test_daily_points_adding_up_to_85_is_a_daily_error():
    assert violation_paths(facts(daily=[item("A", 40), item("B", 45)])) == ["daily"]


def test_no_daily_items_is_a_daily_error():
    # nothing adds up to 0, not 80
    assert violation_paths(facts(daily=[])) == ["daily"]


def test_a_fifth_exception_item_is_an_exceptions_error():
    assert violation_paths(facts(exceptions=exc(*["done"] * 5))) == ["exceptions"]


@pytest.mark.parametrize("overrides, path", [
    ({"role": "manager"}, "role"),
    ({"weekly_reports_late": -1}, "weekly_reports_late"),
    ({"daily": [item("A", 80, "skipped")]}, "daily[0].status"),
    ({"exceptions": [{"name": "x", "status": "done"}, {"name": "y", "status": "cancelled"}]}, "exceptions[1].status"),
])
def test_bad_fact_is_named_by_path(overrides, path):
    assert path in violation_paths(facts(**overrides))


# ---- properties ---------------------------------------------------------------------------------------------

@st.composite
def daily_items(draw):
    """1..6 items whose points (multiples of 0.5, possibly 0) add up to exactly 80."""
    n = draw(st.integers(1, 6))
    cuts = sorted(draw(st.lists(st.integers(0, 160), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, 160]
    halves = [hi - lo for lo, hi in zip(bounds, bounds[1:])]
    kinds = draw(st.lists(st.sampled_from(["int", "str", "dec"]), min_size=n, max_size=n))
    out = []
    for i, (h, kind) in enumerate(zip(halves, kinds)):
        d = D(h) / 2
        points = int(d) if kind == "int" and d == int(d) else (format(d, "f") if kind == "str" else d)
        out.append(item(f"日常{i}", points, draw(st.sampled_from(STATUSES))))
    return out


fact_sets = st.builds(
    lambda role, late, daily, statuses: facts(role=role, weekly_reports_late=late, daily=daily,
                                               exceptions=exc(*statuses)),
    st.sampled_from(["staff", "head"]), st.integers(0, 60), daily_items(),
    st.lists(st.sampled_from(STATUSES), max_size=4))


def total_by_hand(fs) -> Fraction:
    daily = sum(Fraction(D(i["points"])) * DAILY_KEPT[i["status"]] for i in fs["daily"])
    n = len(fs["exceptions"])
    exception = (sum(max(Fraction(20, n) - EXCEPTION_LOSS[e["status"]], 0) for e in fs["exceptions"])
                 if n else Fraction(20))
    late = 2 * fs["weekly_reports_late"] if fs["role"] == "head" else 0
    return min(max(daily + exception - late, Fraction(0)), Fraction(100))


@PROPS
@given(fact_sets)
def test_total_within_0_100_and_grade_follows_bands(fs):
    v = POLICY.evaluate(fs).values
    assert 0 <= v["total_score"] <= 100
    assert v["grade"] == grade_by_hand(v["total_score"])
    assert Fraction(v["total_score"]) == total_by_hand(fs)
    assert 0 <= v["daily_score"] <= 80
    assert 0 <= v["exception_score"] <= 20
