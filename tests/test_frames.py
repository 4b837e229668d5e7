"""Many fact sets from Python: Policy.evaluate_many and Policy.evaluate_frame (pandas)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import kpirules
from kpirules import EvaluationError, FactError, Result, UsageError

ROOT = Path(__file__).resolve().parents[1]
POLICY = kpirules.load_policy(ROOT / "policies" / "u8_presales.rules")
BASE = json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8"))
pd = pytest.importorskip("pandas", reason="the tabular extra (pandas) is not installed")


def test_evaluate_many_yields_results_and_errors_in_order():
    rows = [BASE, {**BASE, "quarter": 9}, json.dumps({**BASE, "quarter": 3}), "{bad", BASE]
    got = list(POLICY.evaluate_many(rows, evaluation="quarterly"))
    assert [type(g) for g in got] == [Result, FactError, Result, FactError, Result]
    assert got[0].values["quarterly_bonus"] == Decimal("7488.00")
    assert got[0].values == POLICY.evaluate(BASE, "quarterly").values
    assert got[1].violations[0].code == "F110"


def test_evaluate_many_is_lazy_but_refuses_a_bad_evaluation_at_once():
    with pytest.raises(UsageError):
        POLICY.evaluate_many(iter([]), evaluation="nope")

    def endless():
        while True:
            yield BASE
    first = next(POLICY.evaluate_many(endless(), evaluation="quarterly"))
    assert isinstance(first, Result)


def test_an_evaluation_error_is_yielded():
    policy = kpirules.load_policy_text("policy p\nevaluation e:\n    fact a: number\n    fact b: number\n"
                                       "    output q = a / b\n")
    got = list(policy.evaluate_many([{"a": 1, "b": 0}, {"a": 1, "b": 4}]))
    assert isinstance(got[0], EvaluationError) and got[1].values["q"] == Decimal("0.25")


def frame_rows():
    rows = []
    for q in (1, 2, 9, 3):
        r = {k: v for k, v in BASE.items() if k != "rollout"}
        r["quarter"] = q
        r["base_salary"] = Decimal("36000.00")
        for k, v in BASE["rollout"].items():
            r[f"rollout.{k}"] = v
        rows.append(r)
    return rows


def test_evaluate_frame_gives_exact_values_and_an_error_column():
    df = pd.DataFrame(frame_rows(), index=["a", "b", "c", "d"])
    out = POLICY.evaluate_frame(df, evaluation="quarterly")
    assert list(out.index) == ["a", "b", "c", "d"]
    assert list(out["status"]) == ["ok", "ok", "error", "ok"]
    assert out.loc["b", "quarterly_bonus"] == Decimal("7488.00") and str(out.loc["b", "quarterly_bonus"]) == "7488.00"
    assert isinstance(out.loc["a", "quarterly_bonus"], Decimal)
    assert out.loc["c", "quarterly_bonus"] is None and out.loc["c", "error"].startswith("F110 at `quarter`: ")
    assert out.loc["a", "error"] is None
    for i, row in zip(out.index, frame_rows(), strict=True):
        if out.loc[i, "status"] == "ok":
            facts = {k: v for k, v in row.items() if "." not in k}
            facts["rollout"] = BASE["rollout"]
            want = POLICY.evaluate(facts, "quarterly").values
            assert all(out.loc[i, n] == want[n] for n in ("dept_target", "own_completion", "quarterly_bonus"))


def test_float_and_missing_cells():
    rows = frame_rows()[:2]
    df = pd.DataFrame(rows)
    df["base_salary"] = [36000.5, float("nan")]  # a float column, as pandas makes one; NaN is missing
    out = POLICY.evaluate_frame(df, evaluation="quarterly")
    assert out.loc[0, "status"] == "ok"
    assert out.loc[1, "status"] == "error" and "base_salary" in out.loc[1, "error"] and "F107" in out.loc[1, "error"]
    exact = dict(frame_rows()[0], base_salary=Decimal("36000.5"))
    facts = {k: v for k, v in exact.items() if "." not in k}
    facts["rollout"] = BASE["rollout"]
    assert out.loc[0, "quarterly_bonus"] == POLICY.evaluate(facts, "quarterly").values["quarterly_bonus"]


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 30), st.integers(0, 30)), max_size=12))
def test_evaluate_many_equals_evaluate_one_by_one(params):
    rows = [{**BASE, "quarter": q, "projects_supported": s, "projects_won": w} for q, s, w in params]
    got = list(POLICY.evaluate_many(rows, evaluation="quarterly"))
    assert len(got) == len(rows)
    for row, g in zip(rows, got, strict=True):
        try:
            want = POLICY.evaluate(row, "quarterly")
        except (FactError, EvaluationError) as exc:
            assert type(g) is type(exc) and str(g) == str(exc)
        else:
            assert isinstance(g, Result) and g.values == want.values
