"""Properties of the U8 policy (spec S1, policies/u8_presales.rules), checked with hypothesis.

Facts are generated as ints, Decimals and decimal strings only (never floats: the API refuses
them on purpose). Each property runs at most 100 examples so the suite stays fast.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpirules

POLICY = kpirules.load_policy(Path(__file__).resolve().parents[1] / "policies" / "u8_presales.rules")

D = Decimal
CENT = D("0.01")
SPLIT = {1: D("0.15"), 2: D("0.25"), 3: D("0.30"), 4: D("0.30")}
DEPT_ANNUAL = D(11600000)
FLOORED = ("market_activity", "proposal_excellence", "project_success", "hr_compliance")
ITEMS = ("market_activity", "sales_training", "sales_tools", "competitor_analysis",
         "proposal_excellence", "project_success", "hr_compliance")
KNOWLEDGE_ITEMS = ("market_activity", "sales_training", "sales_tools", "competitor_analysis",
                   "proposal_excellence")

PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- strategies ------------------------------------------------------------------------------

def _as(kind, d: Decimal):
    """One exact number, shown as an int (when whole), a Decimal or a decimal string."""
    if kind == "int" and d == d.to_integral_value():
        return int(d)
    if kind == "str":
        return format(d, "f")
    return d


@st.composite
def money(draw, max_cents=10**9, min_cents=0):
    cents = draw(st.integers(min_value=min_cents, max_value=max_cents))
    d = D(cents).scaleb(-2)
    return _as(draw(st.sampled_from(["int", "str", "dec"])), d)


@st.composite
def points(draw, lo, hi):
    """A violation's points: lo..hi in steps of 0.5."""
    halves = draw(st.integers(min_value=2 * lo, max_value=2 * hi))
    return _as(draw(st.sampled_from(["int", "str", "dec"])), D(halves) / 2)


counts = st.integers(min_value=0, max_value=60)


@st.composite
def ratio(draw):
    """(part, whole) with part <= whole; sometimes whole is 0 (no rate)."""
    whole = draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=40),
                           st.integers(min_value=1, max_value=10000)))
    part = draw(st.integers(min_value=0, max_value=whole))
    return part, whole


@st.composite
def quarterly_facts(draw, dept_revenue=None):
    quarter = draw(st.integers(min_value=1, max_value=4))
    target_cents = int(DEPT_ANNUAL * SPLIT[quarter] * 100)
    if dept_revenue is None:
        # Around the interesting range: below the base, between base and target, above.
        dept_revenue = draw(money(max_cents=target_cents * 2))
    else:
        dept_revenue = draw(dept_revenue(quarter))
    exc, total = draw(ratio())
    won, supported = draw(ratio())
    return {
        "quarter": draw(st.sampled_from([quarter, str(quarter), D(quarter)])),
        "role": draw(st.sampled_from(["senior", "assistant"])),
        "base_salary": draw(money(max_cents=10**7)),
        "dept_revenue": dept_revenue,
        "own_revenue": draw(money(max_cents=2 * 10**8)),
        "activities_planned": draw(counts),
        "activities_held": draw(counts),
        "sales_training_on_plan": draw(st.booleans()),
        "sales_process_updated": draw(st.booleans()),
        "comparison_updated": draw(st.booleans()),
        "competitor_analysis_delivered": draw(st.booleans()),
        "proposals_total": total,
        "proposals_excellent": exc,
        "projects_supported": supported,
        "projects_won": won,
        "attendance_violations": draw(st.lists(points(1, 2), max_size=6)),
        "rule_violations": draw(st.lists(points(1, 10), max_size=3)),
        "rollout": {k: draw(st.booleans()) for k in KNOWLEDGE_ITEMS},
    }


@st.composite
def monthly_facts(draw):
    threshold = D(100000)
    contract = st.one_of(
        st.sampled_from([threshold, threshold - CENT, threshold + CENT, D(0)]).map(
            lambda d: format(d, "f")),
        money(max_cents=10**9),
    )
    projects = draw(st.lists(
        st.builds(lambda i, c, col: {"id": f"P-{i}", "contract_amount": c, "collected": col},
                  st.integers(min_value=0, max_value=999), contract, money(max_cents=10**8)),
        max_size=8))
    year = draw(st.integers(min_value=2000, max_value=2099))
    month = draw(st.integers(min_value=1, max_value=12))
    return {"month": f"{year:04d}-{month:02d}", "projects": projects}


def quarterly(facts, explain=False):
    return POLICY.evaluate(facts, "quarterly", explain=explain)


def exact(v) -> Fraction:
    return Fraction(D(v) if not isinstance(v, int) else v)


# ---- properties ------------------------------------------------------------------------------

@PROPS
@given(quarterly_facts())
def test_quarterly_is_deterministic(facts):
    a = quarterly(facts, explain=True)
    b = quarterly(facts, explain=True)
    assert a.values == b.values
    assert {k: str(v) for k, v in a.values.items()} == {k: str(v) for k, v in b.values.items()}
    assert a.trace == b.trace
    assert a.to_json() == b.to_json()
    # Asking for the explanation does not change the values.
    assert quarterly(facts).values == a.values


@PROPS
@given(monthly_facts())
def test_monthly_is_deterministic(facts):
    a = POLICY.evaluate(facts, "monthly", explain=True)
    b = POLICY.evaluate(facts, "monthly", explain=True)
    assert a.values == b.values and a.trace == b.trace and a.to_json() == b.to_json()


@PROPS
@given(quarterly_facts(), st.data())
def test_more_wins_never_lower_project_success(facts, data):
    supported = facts["projects_supported"]
    lo = data.draw(st.integers(min_value=0, max_value=supported))
    hi = data.draw(st.integers(min_value=lo, max_value=supported))
    low = quarterly({**facts, "projects_won": lo}).values["project_success"]
    high = quarterly({**facts, "projects_won": hi}).values["project_success"]
    assert high >= low


@PROPS
@given(quarterly_facts())
def test_floored_items_never_negative_and_kpi_is_their_sum(facts):
    v = quarterly(facts).values
    for name in FLOORED:
        assert v[name] >= 0, name
    for name in ITEMS:
        assert v[name] >= 0, name
    assert v["kpi_score"] == sum(v[name] for name in ITEMS)
    # A knowledge item without rollout counts 0.
    for name in KNOWLEDGE_ITEMS:
        if not facts["rollout"][name]:
            assert v[name] == 0, name


@PROPS
@given(quarterly_facts())
def test_quarterly_bonus_has_at_most_two_decimals(facts):
    bonus = quarterly(facts).values["quarterly_bonus"]
    assert isinstance(bonus, Decimal)
    assert bonus >= 0
    assert -bonus.as_tuple().exponent <= 2
    assert bonus == bonus.quantize(CENT)


def _at_or_below_base(quarter):
    base_cents = int(DEPT_ANNUAL * SPLIT[quarter] * D("0.7") * 100)
    return money(max_cents=base_cents)


@PROPS
@given(quarterly_facts(dept_revenue=_at_or_below_base))
def test_no_bonus_at_or_below_seventy_percent_of_target(facts):
    q = int(facts["quarter"])
    assert exact(facts["dept_revenue"]) <= exact(DEPT_ANNUAL * SPLIT[q] * D("0.7"))
    v = quarterly(facts).values
    assert v["dept_completion"] == 0
    assert v["quarterly_bonus"] == 0


@PROPS
@given(quarterly_facts())
def test_quarterly_bonus_follows_the_formula(facts):
    """quarterly_bonus = round_half_up(base_salary x 40% x dept_completion x kpi_score / 100)."""
    v = quarterly(facts).values
    q = int(facts["quarter"])
    target = exact(DEPT_ANNUAL * SPLIT[q])
    base = target * Fraction(7, 10)
    completion = max((exact(facts["dept_revenue"]) - base) / (target - base), Fraction(0))
    raw = exact(facts["base_salary"]) * Fraction(2, 5) * completion * exact(v["kpi_score"]) / 100
    cents = raw * 100
    whole = cents.numerator // cents.denominator
    if cents - whole >= Fraction(1, 2):
        whole += 1
    assert v["quarterly_bonus"] == D(whole).scaleb(-2)


@PROPS
@given(quarterly_facts())
def test_trace_results_equal_returned_values(facts):
    r = quarterly(facts, explain=True)
    names = [nd["name"] for nd in r.trace["nodes"]]
    assert sorted(names) == sorted(r.values)
    for nd in r.trace["nodes"]:
        assert str(nd["result"]) == str(r.values[nd["name"]]), nd["name"]
        assert nd["result"] == r.values[nd["name"]], nd["name"]


@PROPS
@given(monthly_facts())
def test_monthly_trace_results_equal_returned_values(facts):
    r = POLICY.evaluate(facts, "monthly", explain=True)
    assert sorted(nd["name"] for nd in r.trace["nodes"]) == sorted(r.values)
    for nd in r.trace["nodes"]:
        assert str(nd["result"]) == str(r.values[nd["name"]]), nd["name"]


@PROPS
@given(monthly_facts())
def test_big_project_bonus_is_sum_of_rounded_lines(facts):
    expected = D(0)
    for p in facts["projects"]:
        if D(p["contract_amount"]) >= D(100000):
            expected += (D(p["collected"]) * D("0.015")).quantize(CENT, rounding=ROUND_HALF_UP)
    v = POLICY.evaluate(facts, "monthly").values
    assert v["big_project_bonus"] == expected
    assert -v["big_project_bonus"].as_tuple().exponent <= 2
    assert v["period"] == facts["month"]
