"""Tiers, assertions and chained comparisons (issue 10), and P12 `policies/tiered_commission.rules`.

Expected values are worked out by hand in the comments: a marginal tier earns its rate on the part
of the value inside it, `max(0, min(value, high) - low) x rate`; a retroactive schedule earns the
rate of the tier holding the value on the whole value.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import kpirules
from kpirules import coverage
from kpirules.errors import AssertionFailed, EvaluationError, PolicyError

ROOT = Path(__file__).resolve().parent.parent
P12 = kpirules.load_policy(ROOT / "policies" / "tiered_commission.rules")


def p12(quota, sales) -> dict:
    return P12.evaluate({"quota": D(quota), "sales": D(sales)}).values


# ---- P12 by hand --------------------------------------------------------------------------------

def test_p12_the_shipped_example():
    values = P12.evaluate(kpirules.read_facts(ROOT / "examples" / "tiered_commission.json")).values
    # quota 800000: the tiers are 0..800000 at 3%, 800000..1200000 at 5%, 1200000..1600000 at 8%.
    # 1234567.89 / 800000 = 1.5432098625
    assert values["attainment"] == D("1.5432098625")
    assert values["credited_sales"] == D("1234567.89")
    assert values["tier_1"] == D("24000")              # 800000 x 3%
    assert values["tier_2"] == D("20000")              # 400000 x 5%
    assert values["tier_3"] == D("2765.4312")          # (1234567.89 - 1200000) = 34567.89 x 8%
    assert values["commission"] == D("46765.43")       # 46765.4312 half up to cents
    assert str(values["commission"]) == "46765.43"


@pytest.mark.parametrize("sales, t1, t2, t3, commission", [
    ("0", "0", "0", "0", "0.00"),                        # no sales
    ("50000", "1500", "0", "0", "1500.00"),              # 50000 x 3%
    ("100000", "3000", "0", "0", "3000.00"),             # on the 100% edge: all in tier_1
    ("100000.01", "3000", "0.0005", "0", "3000.00"),     # 0.01 x 5% = 0.0005; 3000.0005 -> 3000.00
    ("150000", "3000", "2500", "0", "5500.00"),          # 50000 x 5% on the 150% edge
    ("180000", "3000", "2500", "2400", "7900.00"),       # 30000 x 8%
    ("200000", "3000", "2500", "4000", "9500.00"),       # on the cap: 50000 x 8%
    ("1000000", "3000", "2500", "4000", "9500.00"),      # above the cap: credited 200000
])
def test_p12_by_hand(sales, t1, t2, t3, commission):
    values = p12("100000", sales)
    assert (values["tier_1"], values["tier_2"], values["tier_3"]) == (D(t1), D(t2), D(t3))
    assert str(values["commission"]) == commission


def test_p12_credited_sales_stop_at_twice_the_quota():
    values = p12("100000", "250000")
    assert values["attainment"] == D("2.5")               # 250000 / 100000, uncapped
    assert values["credited_sales"] == D("200000")        # min(250000, 200% x 100000)


def test_p12_an_endless_attainment_stays_exact():
    values = p12("300000", "100000")
    # 100000 / 300000 = 1/3 exactly; tier_1: 100000 x 3% = 3000
    assert str(values["attainment"]).startswith("0.33333333")
    assert values["tier_1"] == D("3000")


def test_p12_explanation_lists_each_tier():
    result = P12.evaluate({"quota": D("100000"), "sales": D("180000")}, explain=True)
    node = next(n for n in result.trace["nodes"] if n["name"] == "tier_2")
    applied = node["children"][0]
    assert applied["kind"] == "tiers_applied"
    assert applied["reason"]["params"]["reached"] == "tier_3"
    rows = [(c["name"], c["reason"]["params"]["low"], c["reason"]["params"]["high"],
             c["reason"]["params"]["part"], c["reason"]["params"]["amount"], c["reason"]["params"]["declared"])
            for c in applied["children"]]
    assert rows == [
        ("tier_1", D("0"), D("100000"), D("100000"), D("3000"), "from 0% to 100%"),
        ("tier_2", D("100000"), D("150000"), D("50000"), D("2500"), "above 100% to 150%"),
        ("tier_3", D("150000"), D("200000"), D("30000"), D("2400"), "above 150% to 200%"),
    ]


def test_p12_coverage_counts_every_tier_and_both_sides_of_the_cap(monkeypatch):
    monkeypatch.chdir(ROOT)
    cov = coverage.measure(kpirules.load_policy("policies/tiered_commission.rules"))
    # three tier sites (tier_1, tier_2, tier_3) of three tiers each, and the cap's two sides
    assert (cov.covered, cov.total) == (11, 11)


# ---- the language: tiers ------------------------------------------------------------------------

MONEY_TIERS = """policy t version "1"

tiers rates "阶梯" in 0元..10万:
    low "低" from 0元 to 5万 -> 1%
    high "高" above 5万 to 10万 -> 2%

evaluation e:
    fact sales: money >= 0
    output marginal_total = marginal rates on sales
    output retro_total = retroactive rates on sales
    output retro_low = retroactive rates.low on sales
    output retro_high = retroactive rates.high on sales
"""


@pytest.mark.parametrize("sales, marginal, retro, low, high", [
    ("0", "0", "0", "0", "0"),
    ("50000", "500", "500", "500", "0"),         # on the edge: `to 5万` holds it, 50000 x 1%
    ("50001", "500.02", "1000.02", "0", "1000.02"),  # 500 + 1 x 2%; retroactive 50001 x 2%
    ("100000", "1500", "2000", "0", "2000"),     # 500 + 50000 x 2%; 100000 x 2%
])
def test_money_tiers_marginal_and_retroactive(sales, marginal, retro, low, high):
    values = kpirules.load_policy_text(MONEY_TIERS).evaluate({"sales": D(sales)}).values
    assert values["marginal_total"] == D(marginal)
    assert values["retro_total"] == D(retro)
    assert (values["retro_low"], values["retro_high"]) == (D(low), D(high))


def test_a_value_outside_the_domain_is_an_evaluation_error_naming_both():
    policy = kpirules.load_policy_text(MONEY_TIERS, "t.rules")
    with pytest.raises(EvaluationError) as caught:
        policy.evaluate({"sales": D("100000.01")})
    text = caught.value.render()
    assert "100000.01 is outside the domain 0..100000 of tiers `rates`" in text
    assert text.startswith("t.rules:9:29: error[R001]: cannot compute `marginal_total`")


def test_a_percent_schedule_names_its_base_when_the_value_is_outside():
    with pytest.raises(EvaluationError) as caught:
        kpirules.load_policy_text(PERCENT_OUTSIDE).evaluate({"quota": D("100"), "sales": D("300")})
    assert "300 is outside the domain 0%..200% of tiers `r` (0..200 with a base of 100)" in caught.value.message


PERCENT_OUTSIDE = """policy t version "1"

tiers r in 0%..200%:
    a to 100% -> 1%
    b above 100% -> 2%

evaluation e:
    fact quota: money > 0
    fact sales: money >= 0
    output c = marginal r on sales of quota
"""


@pytest.mark.parametrize("lines, message", [
    ("    a from 0% below 100% -> 3%\n    b above 100% to 200% -> 5%\n",
     "tiers `r` leave a gap: 100% falls in no tier"),
    ("    a from 0% to 120% -> 3%\n    b above 100% to 200% -> 5%\n",
     "tiers `r` overlap: 110% falls in both `a` and `b`"),
    ("    a from 0% to 100% -> 3%\n    b above 100% to 150% -> 5%\n",
     "tiers `r` leave a gap: 175% falls in no tier"),
    ("    a from 0% to 100% -> 3元\n    b above 100% to 200% -> 5%\n",
     "the rate of tier `a` must be a plain number or a percentage, not `3元`"),
])
def test_schedules_are_proven_with_a_witness(lines, message):
    text = ('policy t version "1"\n\ntiers r in 0%..200%:\n' + lines
            + "\nevaluation e:\n    fact q: money > 0\n    fact s: money >= 0\n"
              "    output c = marginal r on s of q\n")
    with pytest.raises(PolicyError) as caught:
        kpirules.load_policy_text(text)
    assert {d.code for d in caught.value.errors} == {"E340"}
    assert caught.value.errors[0].message == message


@pytest.mark.parametrize("formula, code, message", [
    ("marginal r on s", "E341", "tiers `r` are written in percentages; `s` is money"),
    ("marginal r.z on s of q", "E341", "tiers `r` have no tier `z`"),
    ("marginal rr on s of q", "E201", "unknown tiers `rr`"),
    ("r", "E301", "`r` is a tier schedule, not a value"),
])
def test_applications_that_do_not_fit(formula, code, message):
    text = ('policy t version "1"\n\ntiers r in 0%..200%:\n    a to 100% -> 3%\n    b above 100% -> 5%\n'
            "\nevaluation e:\n    fact q: money > 0\n    fact s: money >= 0\n"
            f"    output c = {formula}\n")
    with pytest.raises(PolicyError) as caught:
        kpirules.load_policy_text(text)
    assert [(d.code, d.message) for d in caught.value.errors] == [(code, message)]


# ---- marginal commission is continuous and non-decreasing in sales ------------------------------

_money = st.decimals(min_value=0, max_value=400000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(a=_money, b=_money)
def test_marginal_commission_is_non_decreasing_in_sales(a, b):
    low, high = sorted((a, b))
    vlow, vhigh = p12("100000", low), p12("100000", high)
    exact_low = vlow["tier_1"] + vlow["tier_2"] + vlow["tier_3"]
    exact_high = vhigh["tier_1"] + vhigh["tier_2"] + vhigh["tier_3"]
    assert exact_low <= exact_high
    assert vlow["commission"] <= vhigh["commission"]


@settings(max_examples=150, deadline=None)
@given(sales=st.decimals(min_value=0, max_value=199999, places=2, allow_nan=False, allow_infinity=False))
def test_marginal_commission_is_continuous_in_sales(sales):
    # One cent more sales earns at most one cent times the highest rate, 8%: no jump at an edge.
    cent = D("0.01")
    before, after = p12("100000", sales), p12("100000", sales + cent)
    total = lambda v: v["tier_1"] + v["tier_2"] + v["tier_3"]  # noqa: E731
    assert 0 <= total(after) - total(before) <= cent * D("0.08")


@pytest.mark.parametrize("edge", ["100000", "150000"])
def test_marginal_commission_has_no_jump_at_an_edge(edge):
    # exactly on an edge, and a hundredth of a cent either side: the amounts differ by that much x rate
    at = p12("100000", edge)
    below, above = p12("100000", D(edge) - D("0.0001")), p12("100000", D(edge) + D("0.0001"))
    total = lambda v: v["tier_1"] + v["tier_2"] + v["tier_3"]  # noqa: E731
    assert total(at) - total(below) <= D("0.0001") * D("0.05")
    assert total(above) - total(at) <= D("0.0001") * D("0.08")


# ---- assertions ---------------------------------------------------------------------------------

ASSERTING = """policy t version "1"

evaluation e:
    fact sales: money >= 0
    fact budget: money >= 0
    output commission = sales * 5%
    assert commission <= budget else "the commission must fit in the budget"
"""


def test_an_assertion_that_holds_is_shown_and_is_no_value():
    result = kpirules.load_policy_text(ASSERTING).evaluate({"sales": D(1000), "budget": D(100)}, explain=True)
    assert result.values == {"commission": D(50)}
    node = next(n for n in result.trace["nodes"] if n["kind"] == "assertion")
    assert node["reason"]["code"] == "assert.held" and node["working"] == "50 <= 100"
    assert node["label"] == "the commission must fit in the budget"


def test_a_false_assertion_stops_the_evaluation_with_its_message_span_and_values():
    policy = kpirules.load_policy_text(ASSERTING, "t.rules")
    with pytest.raises(AssertionFailed) as caught:
        policy.evaluate({"sales": D(1000), "budget": D(10)})
    assert caught.value.render().splitlines()[:2] == [
        "t.rules:7:5: error[R001]: assertion failed: the commission must fit in the budget "
        "(`commission <= budget` is false; commission = 50, budget = 10)",
        '   7 |     assert commission <= budget else "the commission must fit in the budget"']
    assert isinstance(caught.value, EvaluationError)


def test_an_assertion_needs_a_condition():
    with pytest.raises(PolicyError) as caught:
        kpirules.load_policy_text(ASSERTING.replace("commission <= budget else", "commission else"))
    assert [d.code for d in caught.value.errors] == ["E303"]


# ---- chained comparisons ------------------------------------------------------------------------

CHAIN = """policy t version "1"

evaluation e:
    fact attainment: percent
    output on_target = 60% <= attainment <= 100%
    output falling = 100% > attainment >= 60%
"""


@pytest.mark.parametrize("attainment, expected", [("0.59", False), ("0.6", True), ("1", True), ("1.01", False)])
def test_a_chained_comparison_is_both_comparisons(attainment, expected):
    values = kpirules.load_policy_text(CHAIN).evaluate({"attainment": D(attainment)}).values
    assert values["on_target"] is expected
    assert values["falling"] is (expected and attainment != "1")


def test_a_chained_comparison_is_explained_as_both_comparisons():
    result = kpirules.load_policy_text(CHAIN).evaluate({"attainment": D("0.8")}, explain=True)
    node = next(n for n in result.trace["nodes"] if n["name"] == "on_target")
    assert node["working"] == "60% <= 0.8 and 0.8 <= 100% = true"


# ---- coverage of min/max sides and of tiers, and traces inside list lines ------------------------

def test_coverage_names_a_side_of_min_never_chosen_and_a_tier_never_reached(tmp_path, monkeypatch):
    path = tmp_path / "c.rules"
    path.write_text(MONEY_TIERS.replace("    output retro_high = retroactive rates.high on sales\n",
                                        "    output retro_high = retroactive rates.high on sales\n"
                                        "    output capped = min(sales, 8万)\n")
                    + '\nexample "low":\n    given sales = 1000\n    expect capped = 1000\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cov = coverage.measure(kpirules.load_policy("c.rules"))
    missed = [m.site.message(m.outcome) for m in cov.missed]
    assert "`min(sales, 8万)` in output capped: `8万` never the smallest" in missed
    assert "tier high of tiers rates (`marginal rates on sales` in output marginal_total): never reached" in missed
    # four tier sites of two tiers, one reached each; min: one side of two
    assert (cov.covered, cov.total) == (5, 10)


def test_a_schedule_applied_in_list_lines_is_explained_per_line():
    import json

    from jsonschema import Draft202012Validator
    schema = json.loads((ROOT / "docs" / "trace-schema.json").read_text(encoding="utf-8"))
    text = MONEY_TIERS.replace("    fact sales: money >= 0\n",
                               "    fact sales: money >= 0\n    fact deals: list of (id: text, amount: money in 0..10万)\n")
    text += "    output per_deal = sum over deals of marginal rates on amount\n"
    result = kpirules.load_policy_text(text).evaluate(
        {"sales": D(0), "deals": [{"id": "a", "amount": D(60000)}, {"id": "b", "amount": D(1000)}]}, explain=True)
    # a: 50000 x 1% + 10000 x 2% = 700; b: 1000 x 1% = 10
    assert result.values["per_deal"] == D(710)
    doc = result.to_json()["trace"]
    assert list(Draft202012Validator(schema).iter_errors(doc)) == []
    node = next(n for n in doc["nodes"] if n["name"] == "per_deal")
    assert [c["children"][0]["kind"] for c in node["children"]] == ["tiers_applied", "tiers_applied"]


@pytest.mark.parametrize("block, message, help_part", [
    ('tiers r in 0%..200%:\n    "第一档" from 0% to 100% -> 3%\n    b above 100% -> 5%\n',
     "a tier is named by a name, not by a quoted text", 'tier_1 "第一档" from 0% to 100% -> 3%'),
    ('bands r in 0%..200%:\n    "低" from 0% to 100% -> 3%\n    "高" above 100%\n',
     "a band has no rate: bands only name the range a value falls in", "write a `tiers` schedule"),
])
def test_a_tier_written_like_a_band_and_a_band_with_a_rate(block, message, help_part):
    text = 'policy t version "1"\n\n' + block + "\nevaluation e:\n    fact x: percent\n    output y = x\n"
    with pytest.raises(PolicyError) as caught:
        kpirules.load_policy_text(text)
    first = caught.value.errors[0]
    assert (first.code, first.message) == ("E100", message) and help_part in first.help


def test_a_base_of_zero_is_an_evaluation_error():
    policy = kpirules.load_policy_text(PERCENT_OUTSIDE.replace("fact quota: money > 0", "fact quota: money >= 0"))
    with pytest.raises(EvaluationError) as caught:
        policy.evaluate({"quota": D(0), "sales": D(0)})
    assert "the base of tiers `r` is 0; tiers written as percentages of a base need a base greater than zero" \
        in caught.value.message
