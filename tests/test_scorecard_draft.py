"""Worked examples and properties of spec S7 (售前绩效考核方案(初稿), policies/scorecard_draft.rules).

Every expected value below is worked out by hand from the rules in shared/spec/policies.md S7,
with the arithmetic written next to it (as a comment or as an exact Decimal/Fraction expression).
None of them is copied from the engine's output.

The rules, as decided (company-set values marked *):
    rated(self, peer, manager)  = self x 20%* + peer x 30%* + manager x 50%*
    customer_satisfaction       = satisfaction_survey_score                  (measured*)
    proposal_quality            = rated(proposal_*_rating)                   (rated*)
    opportunity_conversion      = opportunities_won / opportunities x 100; 100 with no opportunities
    teamwork                    = rated(teamwork_*_rating)                   (rated*)
    growth                      = rated(growth_*_rating)                     (rated*)
    total_score = satisfaction 20% + proposal 30% + conversion 30% + teamwork 10% + growth 10%

Hypothesis properties run at most 100 examples each; facts are generated as ints, Decimals and
decimal strings only (the API refuses floats on purpose).
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpirules

ROOT = Path(__file__).resolve().parents[1]
POLICY_PATH = ROOT / "policies" / "scorecard_draft.rules"
EXAMPLE_PATH = ROOT / "examples" / "scorecard_draft.json"
SEED = ROOT.parent / "shared" / "seeds" / "000_826da148f5f82449.txt"

D = Decimal
RATED = ("proposal", "teamwork", "growth")
RATINGS = tuple(f"{ind}_{who}_rating" for ind in RATED for who in ("self", "peer", "manager"))
SCORES = ("satisfaction_survey_score",) + RATINGS           # every 0..100 fact
INDICATORS = ("customer_satisfaction", "proposal_quality", "opportunity_conversion", "teamwork", "growth")

POLICY = kpirules.load_policy(POLICY_PATH)
PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shown(q: Fraction) -> Decimal:
    """How the result shows an exact fraction: 28 significant digits (docs/api.md)."""
    return D(q.numerator) / D(q.denominator)


def facts(**overrides) -> dict:
    """Every score and rating 80, 8 of 10 opportunities won: every indicator 80, total 80."""
    base = {name: 80 for name in SCORES}
    base.update(opportunities=10, opportunities_won=8)
    base.update(overrides)
    return base


def values(**overrides) -> dict:
    return POLICY.evaluate(facts(**overrides)).values


# ---- the policy itself ---------------------------------------------------------------------------

def test_the_policy_loads_without_warnings_and_has_one_quarterly_evaluation():
    assert POLICY.name == "scorecard_draft"
    assert POLICY.evaluations == ("quarterly",)
    assert POLICY.diagnostics == ()


def test_outputs_are_the_five_indicators_and_the_total():
    assert POLICY.evaluate(facts()).outputs == INDICATORS + ("total_score",)


def test_the_baseline_facts():
    v = values()
    # every rated indicator: 80 x 0.2 + 80 x 0.3 + 80 x 0.5 = 16 + 24 + 40 = 80; conversion 8 / 10 x 100 = 80
    assert [v[i] for i in INDICATORS] == [D(80)] * 5
    assert v["total_score"] == D(80)


@pytest.mark.skipif(not SEED.exists(), reason="the source document is not next to the repository")
def test_every_citation_is_the_source_s_own_words():
    text = SEED.read_text(encoding="utf-8")
    cites = re.findall(r'cite "([^"]*)"', POLICY_PATH.read_text(encoding="utf-8"))
    assert len(cites) >= 7
    assert [c for c in cites if c not in text] == []


# ---- worked examples -----------------------------------------------------------------------------

def test_the_shipped_example_file():
    v = POLICY.evaluate(kpirules.read_facts(EXAMPLE_PATH)).values
    assert v["customer_satisfaction"] == D(88)
    assert v["proposal_quality"] == D(80)            # 85 x 0.2 + 80 x 0.3 + 78 x 0.5 = 17 + 24 + 39
    assert v["opportunity_conversion"] == D("37.5")  # 6 / 16 x 100
    assert v["teamwork"] == D("83.5")                # 90 x 0.2 + 85 x 0.3 + 80 x 0.5 = 18 + 25.5 + 40
    assert v["growth"] == D("76.5")                  # 70 x 0.2 + 75 x 0.3 + 80 x 0.5 = 14 + 22.5 + 40
    # 88 x 0.2 + 80 x 0.3 + 37.5 x 0.3 + 83.5 x 0.1 + 76.5 x 0.1 = 17.6 + 24 + 11.25 + 8.35 + 7.65
    assert v["total_score"] == D("68.85")


@pytest.mark.parametrize("indicator", RATED)
@pytest.mark.parametrize("who, share", [("self", 20), ("peer", 30), ("manager", 50)])
def test_each_rater_s_share_of_a_rated_indicator(indicator, who, share):
    # one rater gives 100, the two others 0: the indicator is that rater's weight in points
    ratings = {f"{indicator}_{w}_rating": (100 if w == who else 0) for w in ("self", "peer", "manager")}
    name = "proposal_quality" if indicator == "proposal" else indicator
    assert values(**ratings)[name] == D(share)


def test_a_rated_indicator_with_fractional_ratings():
    v = values(growth_self_rating="95.5", growth_peer_rating="70.25", growth_manager_rating="60.1")
    # 95.5 x 0.2 + 70.25 x 0.3 + 60.1 x 0.5 = 19.1 + 21.075 + 30.05 = 70.225
    assert v["growth"] == D("70.225")
    # total 16 + 24 + 24 + 8 + 7.0225 = 79.0225
    assert v["total_score"] == D("79.0225")


@pytest.mark.parametrize("won, opportunities, conversion", [
    (0, 0, Fraction(100)),           # no opportunities: 100
    (0, 1, Fraction(0)),
    (1, 1, Fraction(100)),
    (6, 16, Fraction(75, 2)),        # 37.5
    (1, 3, Fraction(100, 3)),        # 33.33...
    (2, 3, Fraction(200, 3)),        # 66.66...
    (7, 9, Fraction(700, 9)),        # 77.77...
])
def test_opportunity_conversion_is_won_over_opportunities_times_100(won, opportunities, conversion):
    v = values(opportunities=opportunities, opportunities_won=won)
    assert v["opportunity_conversion"] == shown(conversion)


def test_a_third_won_leaves_the_total_an_exact_fraction():
    v = values(opportunities=3, opportunities_won=1)
    # 16 + 24 + (100/3) x 0.3 + 8 + 8 = 56 + 10 = 66 exactly: the thirds cancel
    assert v["total_score"] == D(66)
    v = values(opportunities=9, opportunities_won=7)
    # 56 + (700/9) x 3/10 = 56 + 70/3 = 238/3 = 79.33...
    assert v["total_score"] == shown(Fraction(238, 3))


def test_no_opportunities_scores_100_but_one_lost_opportunity_scores_0():
    assert values(opportunities=0, opportunities_won=0)["total_score"] == D(86)   # 56 + 100 x 0.3
    assert values(opportunities=1, opportunities_won=0)["total_score"] == D(56)   # 56 + 0


def test_the_weights_20_30_30_10_10():
    # one indicator at 100, the others at 80: the total rises by 20 x its weight
    assert values(satisfaction_survey_score=100)["total_score"] == D(84)          # 80 + 20 x 0.2
    assert values(**{f"proposal_{w}_rating": 100 for w in ("self", "peer", "manager")})["total_score"] == D(86)
    assert values(opportunities_won=10)["total_score"] == D(86)                   # 80 + 20 x 0.3
    assert values(**{f"teamwork_{w}_rating": 100 for w in ("self", "peer", "manager")})["total_score"] == D(82)
    assert values(**{f"growth_{w}_rating": 100 for w in ("self", "peer", "manager")})["total_score"] == D(82)


def test_everything_at_100_and_everything_at_0():
    top = values(**{s: 100 for s in SCORES}, opportunities=4, opportunities_won=4)
    assert top["total_score"] == D(100)
    bottom = values(**{s: 0 for s in SCORES}, opportunities=4, opportunities_won=0)
    assert bottom["total_score"] == D(0)


def test_the_explanation_cites_the_source_for_each_indicator():
    result = POLICY.evaluate(facts(), explain=True).to_json()
    nodes = {n["name"]: n for n in result["trace"]["nodes"]}
    for name, words in [("customer_satisfaction", "1.客户满意度(20%)"), ("proposal_quality", "2.方案质量与及时性(30%)"),
                        ("opportunity_conversion", "3.商机转化率(30%)"), ("teamwork", "4.团队协作与知识分享(10%)"),
                        ("growth", "5.个人成长与学习(10%)")]:
        cites = " ".join(c if isinstance(c, str) else str(c) for c in nodes[name]["cites"])
        assert words in cites, name


# ---- fact rules: violations are named by their path ---------------------------------------------

@pytest.mark.parametrize("fact, bad", [
    ("teamwork_manager_rating", 101),       # 0..100
    ("proposal_self_rating", "100.5"),
    ("growth_peer_rating", -1),
    ("satisfaction_survey_score", 101),
    ("satisfaction_survey_score", -50),     # an NPS must be mapped to 0..100 first
    ("proposal_manager_rating", 85.0),      # a float is not exact: refused
    ("proposal_peer_rating", "85%"),
    ("opportunities", -1),                  # a count
    ("opportunities_won", 11),              # at most the opportunities (10)
    ("opportunities_won", "2.5"),
])
def test_a_bad_fact_is_refused_at_its_path(fact, bad):
    with pytest.raises(kpirules.FactError) as exc:
        POLICY.evaluate(facts(**{fact: bad}))
    assert [v.path for v in exc.value.violations] == [fact]


def test_every_bad_fact_is_reported_at_once():
    with pytest.raises(kpirules.FactError) as exc:
        POLICY.evaluate(facts(teamwork_manager_rating=101, growth_self_rating=-1, opportunities_won=12))
    assert {v.path for v in exc.value.violations} == {"teamwork_manager_rating", "growth_self_rating",
                                                       "opportunities_won"}


def test_a_missing_rating_is_refused_at_its_path():
    f = facts()
    del f["growth_manager_rating"]
    with pytest.raises(kpirules.FactError) as exc:
        POLICY.evaluate(f)
    assert [v.path for v in exc.value.violations] == ["growth_manager_rating"]


# ---- properties ---------------------------------------------------------------------------------

def _as(kind, d: Decimal):
    if kind == "int" and d == d.to_integral_value():
        return int(d)
    if kind == "str":
        return format(d, "f")
    return d


@st.composite
def scores(draw):
    """0..100 in hundredths, as an int, a Decimal or a decimal string."""
    d = D(draw(st.integers(min_value=0, max_value=10000))).scaleb(-2)
    return _as(draw(st.sampled_from(["int", "str", "dec"])), d)


@st.composite
def opportunity_counts(draw):
    opportunities = draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=30),
                                   st.integers(min_value=1, max_value=5000)))
    won = draw(st.integers(min_value=0, max_value=opportunities))
    return opportunities, won


@st.composite
def fact_sets(draw):
    f = {name: draw(scores()) for name in SCORES}
    f["opportunities"], f["opportunities_won"] = draw(opportunity_counts())
    return f


def reference_total(f) -> Fraction:
    """The spec's formula, written out independently of the policy, exactly."""
    q = {k: Fraction(str(v)) for k, v in f.items()}

    def rated(ind):
        return (q[f"{ind}_self_rating"] * Fraction(2, 10) + q[f"{ind}_peer_rating"] * Fraction(3, 10)
                + q[f"{ind}_manager_rating"] * Fraction(5, 10))
    conversion = (q["opportunities_won"] / q["opportunities"] * 100) if q["opportunities"] else Fraction(100)
    return (q["satisfaction_survey_score"] * Fraction(2, 10) + rated("proposal") * Fraction(3, 10)
            + conversion * Fraction(3, 10) + rated("teamwork") * Fraction(1, 10) + rated("growth") * Fraction(1, 10))


@PROPS
@given(fact_sets())
def test_the_total_is_within_0_and_100_and_matches_the_spec(f):
    v = POLICY.evaluate(f).values
    assert D(0) <= v["total_score"] <= D(100)
    for i in INDICATORS:
        assert D(0) <= v[i] <= D(100)
    assert v["total_score"] == shown(reference_total(f))


@PROPS
@given(fact_sets(), st.sampled_from(SCORES), scores(), scores())
def test_the_total_is_monotone_in_each_rating_and_score(f, name, a, b):
    lo, hi = sorted((a, b), key=lambda x: D(str(x)))
    t_lo = POLICY.evaluate({**f, name: lo}).values["total_score"]
    t_hi = POLICY.evaluate({**f, name: hi}).values["total_score"]
    assert t_lo <= t_hi
    if D(str(lo)) < D(str(hi)):       # every rating and score has a positive weight
        assert t_lo < t_hi


@PROPS
@given(opportunity_counts(), st.data())
def test_the_total_is_monotone_in_the_opportunities_won(counts, data):
    opportunities, won = counts
    more = data.draw(st.integers(min_value=won, max_value=opportunities))
    f = facts(opportunities=opportunities)
    t_won = POLICY.evaluate({**f, "opportunities_won": won}).values["total_score"]
    t_more = POLICY.evaluate({**f, "opportunities_won": more}).values["total_score"]
    assert t_won <= t_more
    v = POLICY.evaluate({**f, "opportunities_won": more}).values
    assert D(0) <= v["opportunity_conversion"] <= D(100)
