"""Evaluator unit tests on small policies: each construct's semantics, computed by hand."""

from decimal import Decimal as D

import pytest

import kpirules


def policy(body: str, facts: str = "    fact r: number\n") -> kpirules.Policy:
    return kpirules.load_policy_text("policy t\nevaluation e:\n" + facts + body, "t.rules")


LADDER = """\
    scorecard s:
        item i weight 20:
            ladder r standard 85%, if none: standard
                minus 2 per {rule} 5% below
                plus 0.5 per {rule} 1% above
"""


@pytest.mark.parametrize("rate, rule, expected", [
    # 85% - 80% = 5% = exactly one full step -> 20 - 2 = 18
    ("0.80", "full", "18"),
    # 85% - 79.99% = 5.01% -> one full step (1.002 steps) -> 18
    ("0.7999", "full", "18"),
    # 85% - 80.01% = 4.99% -> no full step -> 20
    ("0.8001", "full", "20"),
    # started steps: 4.99% below is one started step -> 18; 5.01% is two -> 16
    ("0.8001", "started", "18"),
    ("0.7999", "started", "16"),
    # prorated: 2.5% below = half a step -> 20 - 2 * 0.5 = 19
    ("0.825", "prorated", "19"),
    # above: 100% - 85% = 15% = 15 full 1% steps -> 20 + 7.5 = 27.5
    ("1", "full", "27.5"),
    # exactly on the standard: no step either way
    ("0.85", "full", "20"),
    # 85.99%: 0.99% above -> no full step; started -> one
    ("0.8599", "full", "20"),
    ("0.8599", "started", "20.5"),
])
def test_ladder_partial_step_rules(rate, rule, expected):
    p = policy(LADDER.format(rule=rule))
    assert p.evaluate({"r": rate}).values["i"] == D(expected)


def test_ladder_with_no_data_uses_the_standard():
    p = policy("""\
    scorecard s:
        item i weight 20:
            ladder won / total standard 90%, if none: standard
                minus 2 per full 5% below
""", "    fact won: count\n    fact total: count\n")
    # 0 of 0: no rate; the standard is used -> no step -> 20
    assert p.evaluate({"won": 0, "total": 0}).values["i"] == D(20)


def test_ladder_without_a_none_rule_reports_the_division():
    p = policy("""\
    scorecard s:
        item i weight 20:
            ladder won / total standard 90%
                minus 2 per full 5% below
""", "    fact won: count\n    fact total: count\n")
    with pytest.raises(kpirules.EvaluationError) as exc:
        p.evaluate({"won": 0, "total": 0})
    assert "division by zero" in str(exc.value)
    # line 7: two header lines, two facts, scorecard, item, then the ladder
    assert "t.rules:7:20" in str(exc.value)


def test_floor_cap_and_round_apply_in_written_order_and_are_traced():
    p = policy("""\
    let v = r * 3
        cap 10
        floor 1
        round half even to 0.1
""")
    # 0.05 * 3 = 0.15 -> cap 10 does not bind -> floor 1 raises it to 1 -> 1.0
    r = p.evaluate({"r": "0.05"}, explain=True)
    assert r.values["v"] == D("1.0")
    events = [e["kind"] for e in r.node("v")["children"]]
    assert events == ["floor_applied", "rounding"]
    assert r.node("v")["children"][0]["reason"]["params"]["before"] == D("0.15")
    # 4 * 3 = 12 -> capped at 10 -> floor no-op -> 10.0
    r = p.evaluate({"r": 4}, explain=True)
    assert r.values["v"] == D("10.0")
    assert [e["kind"] for e in r.node("v")["children"]] == ["cap_applied", "rounding"]


def test_deductions_fixed_per_occurrence_and_conditional():
    p = policy("""\
    scorecard s:
        item i weight 10:
            minus 2 per missed
            minus 3 if late
            plus 1 if bonus
            floor 0
""", "    fact missed: count\n    fact late: boolean\n    fact bonus: boolean\n")
    # 10 - 2*2 - 3 + 1 = 4
    assert p.evaluate({"missed": 2, "late": True, "bonus": True}).values["i"] == D(4)
    # 10 - 2*4 = 2, not late, no bonus
    assert p.evaluate({"missed": 4, "late": False, "bonus": False}).values["i"] == D(2)
    # 10 - 2*6 = -2 -> floor 0
    assert p.evaluate({"missed": 6, "late": False, "bonus": False}).values["i"] == D(0)


def test_gate_excludes_items_with_reason():
    p = policy("""\
    scorecard s:
        item a weight 60, k:
            minus 0
        item b weight 40:
            minus 0
        gate k items: count only if ok.a else "not rolled out"
""", "    fact ok: record of boolean (a)\n")
    r = p.evaluate({"ok": {"a": False}}, explain=True)
    assert r.values["a"] == D(0)
    assert r.values["s"] == D(40)
    gate = [e for e in r.node("a")["children"] if e["kind"] == "gate_excluded"][0]
    assert gate["reason"]["params"]["reason"] == "not rolled out" and gate["reason"]["params"]["before"] == D(60)
    assert p.evaluate({"ok": {"a": True}}).values["s"] == D(100)


def test_aggregate_filters_and_rounds_each_line():
    p = policy("""\
    output total = sum over xs of amount * 1.5%
        only if amount >= 10万 else "too small"
        round each half up to 0.01
    output n = count over xs
        only if amount >= 10万
""", "    fact xs: list of (id: text, amount: money >= 0)\n")
    facts = {"xs": [{"id": "a", "amount": "100000"}, {"id": "b", "amount": "99999.99"},
                    {"id": "c", "amount": "100000.33"}]}
    # a: 100000 * 1.5% = 1500.00; b excluded (below 10万); c: 1500.00495 -> 1500.00
    r = p.evaluate(facts, explain=True)
    assert r.values["total"] == D("3000.00")
    assert r.values["n"] == D(2)
    lines = r.node("total")["children"]
    assert [ln["kind"] for ln in lines] == ["line", "filter_excluded", "line"]
    assert lines[1]["reason"]["params"]["reason"] == "too small"
    assert lines[2]["children"][0]["reason"]["params"]["before"] == D("1500.004950")


def test_table_lookup_by_enum_and_integer():
    p = kpirules.load_policy_text("""\
policy t
table coef (kind) -> number:
    开拓型 -> 1.3; 稳定型 -> 1.0; 复制型 -> 0.6
table split (q) -> percent:
    1 -> 15%; 2 -> 85%
evaluation e:
    fact kind: one of 开拓型, 稳定型, 复制型
    fact q: integer in 1..2
    output v = coef[kind] * split[q]
""")
    # 1.3 * 85% = 1.105
    assert p.evaluate({"kind": "开拓型", "q": 2}).values["v"] == D("1.105")


def test_conditional_and_functions():
    p = policy("""\
    let a = if r > 10 then max(r, 20) else min(r, 5)
    let b = abs(0 - r)
""")
    assert p.evaluate({"r": 11}).values["a"] == D(20)
    assert p.evaluate({"r": 7}).values["a"] == D(5)
    assert p.evaluate({"r": "-3.5"}).values["b"] == D("3.5")


def test_evaluation_selection():
    p = kpirules.load_policy_text("policy t\nevaluation a:\n    output x = 1\nevaluation b:\n    output y = 2\n")
    with pytest.raises(kpirules.UsageError, match="a, b"):
        p.evaluate({})
    assert p.evaluate({}, evaluation="b").values == {"y": D(2)}
    with pytest.raises(kpirules.UsageError, match="no evaluation `c`"):
        p.evaluate({}, evaluation="c")


def test_loading_once_and_evaluating_many_times_is_independent():
    p = policy("    output v = r * 2\n")
    assert [p.evaluate({"r": i}).values["v"] for i in range(3)] == [D(0), D(2), D(4)]
