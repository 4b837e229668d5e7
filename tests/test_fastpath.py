"""The generated fast path and the fast fact validator agree with the exact evaluator.

Policy.evaluate uses generated code (codegen.py) and a specialised validator when no trace is
asked for; explain=True always runs the exact evaluator. Whatever the facts, both must give
the same values, digit for digit.
"""

from decimal import Decimal as D
from pathlib import Path

from hypothesis import given, settings, strategies as st

import kpirules
from kpirules import evaluate as E
from kpirules import facts as F

U8 = kpirules.load_policy(Path(__file__).resolve().parents[1] / "policies" / "u8_presales.rules")

money = st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False, allow_infinity=False)
money_text = money.map(str)
counts = st.integers(min_value=0, max_value=60)


@st.composite
def quarterly(draw):
    total, supported = draw(counts), draw(counts)
    return {
        "quarter": draw(st.integers(1, 4)), "role": draw(st.sampled_from(["senior", "assistant"])),
        "base_salary": draw(st.one_of(money, money_text)), "dept_revenue": draw(money),
        "own_revenue": draw(st.one_of(money, money_text)),
        "activities_planned": draw(counts), "activities_held": draw(counts),
        "sales_training_on_plan": draw(st.booleans()), "sales_process_updated": draw(st.booleans()),
        "comparison_updated": draw(st.booleans()), "competitor_analysis_delivered": draw(st.booleans()),
        "proposals_total": total, "proposals_excellent": draw(st.integers(0, total)),
        "projects_supported": supported, "projects_won": draw(st.integers(0, supported)),
        "attendance_violations": draw(st.lists(st.sampled_from([1, 2, D("1.5")]), max_size=4)),
        "rule_violations": draw(st.lists(st.integers(1, 10), max_size=3)),
        "rollout": {k: draw(st.booleans()) for k in ("market_activity", "sales_training", "sales_tools",
                                                     "competitor_analysis", "proposal_excellence")},
    }


def exact_values(policy, facts, evaluation):
    program = policy._programs[evaluation]
    valid, _ = F.validate(program.evaluation, facts)
    env, _ = E.run(program, valid, explain=False)
    return {name: convert(env[name]) for name, _, convert in E.output_plan(program)}


@settings(max_examples=150, deadline=None)
@given(quarterly())
def test_fast_path_equals_exact_path(facts):
    fast = U8.evaluate(facts, evaluation="quarterly").values
    exact = exact_values(U8, facts, "quarterly")
    assert {k: str(v) for k, v in fast.items()} == {k: str(v) for k, v in exact.items()}


@settings(max_examples=150, deadline=None)
@given(quarterly())
def test_fast_validator_equals_full_validator(facts):
    program = U8._programs["quarterly"]
    full, _ = F.validate(program.evaluation, facts)
    fast = program.check_facts(facts)
    if fast is not None:
        assert {k: repr(v) for k, v in fast.items()} == {k: repr(v) for k, v in full.items()}


def test_fast_path_falls_back_on_a_half_cent_reached_through_a_fraction():
    # 2/3 completion: dept_revenue = base + 2/3 of (target - base) in quarter 1:
    # target 1,740,000, base 1,218,000, 2/3 of 522,000 = 348,000 -> revenue 1,566,000.
    # bonus = salary * 40% * 2/3 * 100 / 100; with salary 0.01875 * 3 = 0.05625 yuan:
    # 0.05625 * 0.4 * 2/3 = 0.015 exactly -> half up -> 0.02 (a 60-digit approximation could
    # sit just below the tie; the fast path must prove it or hand over to exact arithmetic).
    facts = {
        "quarter": 1, "role": "senior", "base_salary": "0.05625", "dept_revenue": 1566000,
        "own_revenue": 0, "activities_planned": 0, "activities_held": 0,
        "sales_training_on_plan": True, "sales_process_updated": True, "comparison_updated": True,
        "competitor_analysis_delivered": True, "proposals_total": 0, "proposals_excellent": 0,
        "projects_supported": 0, "projects_won": 0, "attendance_violations": [], "rule_violations": [],
        "rollout": {k: True for k in ("market_activity", "sales_training", "sales_tools",
                                      "competitor_analysis", "proposal_excellence")},
    }
    assert U8.evaluate(facts, evaluation="quarterly").values["quarterly_bonus"] == D("0.02")
    assert exact_values(U8, facts, "quarterly")["quarterly_bonus"] == D("0.02")
