"""Constructs for every scheme: bands, imports, shared ladders, functions, blends, list rules.

Expected values are worked by hand in each test; both evaluators (the generated fast path and
the exact one used for explanations) are checked where a value is computed.
"""

from decimal import Decimal as D
from pathlib import Path

import pytest

import kpirules


def load(src: str, path="t.rules"):
    return kpirules.load_policy_text(src, path)


def codes(src: str, path="t.rules"):
    with pytest.raises(kpirules.PolicyError) as exc:
        load(src, path)
    return [(d.code, d.span.line if d.span else None, d.message) for d in exc.value.diagnostics]


def both(policy, facts, evaluation=None):
    fast = policy.evaluate(facts, evaluation).values
    exact = policy.evaluate(facts, evaluation, explain=True).values
    assert fast == exact
    return fast


# ---- bands -------------------------------------------------------------------------------------

BANDS = 'policy p\nbands g "等级" in 0..100:\n{}\nevaluation e:\n    fact s: number in 0..100\n    output grade = g[s]\n'
FIVE = '    "优秀" from 91\n    "良好" from 81 below 91\n    "称职" from 71 below 81\n    "基本称职" from 60 below 71\n    "不称职" below 60'


@pytest.mark.parametrize("score, grade", [
    ("100", "优秀"), ("91", "优秀"), ("90.99", "良好"), ("90.5", "良好"), ("81", "良好"),
    ("80.999", "称职"), ("71", "称职"), ("70.5", "基本称职"), ("60", "基本称职"), ("59.99", "不称职"), ("0", "不称职"),
])
def test_band_edges(score, grade):
    assert both(load(BANDS.format(FIVE)), {"s": score})["grade"] == grade


@pytest.mark.parametrize("bands, message", [
    # the source's own bands: 81-90 then 91-100 leaves (90, 91) uncovered; 90.5 is in no band
    ('    "A" from 91\n    "B" from 81 to 90\n    "C" below 81', "bands `g` leave a gap: 90.5 falls in no band"),
    ('    "A" from 90\n    "B" from 81 to 90\n    "C" below 81', "bands `g` overlap: 90 falls in both `B` and `A`"),
    ('    "A" above 90\n    "B" from 81 below 90\n    "C" below 81', "bands `g` leave a gap: 90 falls in no band"),
    ('    "A" from 91 to 99\n    "B" below 91', "bands `g` leave a gap: 99.5 falls in no band"),
])
def test_band_gaps_and_overlaps_are_proved_with_a_witness(bands, message):
    found = codes(BANDS.format(bands))
    assert ("E315", message) in [(c, m) for c, _, m in found]


def test_bands_explained_with_the_chosen_band():
    r = load(BANDS.format(FIVE)).evaluate({"s": "85.5"}, explain=True)
    band = r.node("grade")["children"][0]
    assert band["kind"] == "band_chosen" and band["result"] == "良好"
    params = band["reason"]["params"]
    assert (params["low"], params["low_included"], params["high"], params["high_included"]) == (D(81), True, D(91), False)


def test_a_value_outside_the_bands_range_is_an_evaluation_error():
    p = load('policy p\nbands g in 0..100:\n    "A" from 50\n    "B" below 50\nevaluation e:\n'
             '    fact s: number\n    output grade = g[s]\n')
    with pytest.raises(kpirules.EvaluationError, match="outside the range 0..100"):
        p.evaluate({"s": 101})


# ---- imports -----------------------------------------------------------------------------------

def test_modules_are_found_in_ruleset_above_the_policy(tmp_path):
    (tmp_path / "ruleset").mkdir()
    (tmp_path / "ruleset" / "shared.rules").write_text(
        'module shared\nfunction double (x: number) = x * 2\n', encoding="utf-8")
    (tmp_path / "policies").mkdir()
    policy = tmp_path / "policies" / "p.rules"
    policy.write_text('policy p\nimport shared\nevaluation e:\n    fact a: number\n    output v = double(a)\n',
                      encoding="utf-8")
    # 21 * 2 = 42
    assert both(kpirules.load_policy(policy), {"a": 21})["v"] == D(42)


def test_missing_module_and_import_cycle(tmp_path):
    (tmp_path / "ruleset").mkdir()
    (tmp_path / "ruleset" / "a.rules").write_text("module a\nimport b\n", encoding="utf-8")
    (tmp_path / "ruleset" / "b.rules").write_text("module b\nimport a\n", encoding="utf-8")
    p = tmp_path / "p.rules"
    p.write_text("policy p\nimport nowhere\nevaluation e:\n    output v = 1\n", encoding="utf-8")
    with pytest.raises(kpirules.PolicyError) as exc:
        kpirules.load_policy(p)
    d = exc.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.column, d.message) == ("E208", 2, 1, "module `nowhere` not found")
    assert d.help
    p.write_text("policy p\nimport a\nevaluation e:\n    output v = 1\n", encoding="utf-8")
    with pytest.raises(kpirules.PolicyError) as exc:
        kpirules.load_policy(p)
    d = exc.value.diagnostics[0]
    assert d.code == "E213" and d.span.path.endswith("b.rules") and d.span.line == 2


def test_a_policy_cannot_be_imported_as_a_module(tmp_path):
    (tmp_path / "ruleset").mkdir()
    (tmp_path / "ruleset" / "x.rules").write_text("policy x\nevaluation e:\n    output v = 1\n", encoding="utf-8")
    p = tmp_path / "p.rules"
    p.write_text("policy p\nimport x\nevaluation e:\n    output v = 1\n", encoding="utf-8")
    with pytest.raises(kpirules.PolicyError, match="is a policy, not a module"):
        kpirules.load_policy(p)


def test_the_stamp_covers_imported_modules(tmp_path):
    (tmp_path / "ruleset").mkdir()
    module = tmp_path / "ruleset" / "m.rules"
    module.write_text("module m\nlet k = 2\n", encoding="utf-8")
    p = tmp_path / "p.rules"
    p.write_text("policy p\nimport m\nevaluation e:\n    output v = k\n", encoding="utf-8")
    before = kpirules.load_policy(p).sha256
    module.write_text("module m\nlet k = 3\n", encoding="utf-8")
    assert kpirules.load_policy(p).sha256 != before


# ---- shared ladders, functions, blends -----------------------------------------------------------

def test_shared_ladder_steps_with_using():
    p = load('policy p\nladder steps:\n    minus 2 per full 5% below\n    plus 0.5 per full 1% above\n'
             'evaluation e:\n    fact r: number\n    scorecard s:\n        item i weight 20:\n'
             '            ladder r standard 85% using steps\n')
    # 70%: 15% below = 3 full steps -> 20 - 6 = 14; 88%: 3 full steps above -> 20 + 1.5 = 21.5
    assert both(p, {"r": "0.70"})["i"] == D(14)
    assert both(p, {"r": "0.88"})["i"] == D("21.5")


def test_unknown_shared_ladder():
    found = codes('policy p\nevaluation e:\n    fact r: number\n    scorecard s:\n        item i weight 20:\n'
                  '            ladder r standard 85% using stpes\n')
    assert found[0][:2] == ("E216", 6)


def test_function_with_a_floor_is_traced_at_the_call():
    p = load('policy p\nfunction rate (actual: money, target: money) = (actual - target * 70%) / (target - target * 70%)\n'
             '    floor 0\nevaluation e:\n    fact a: money\n    fact t: money\n    output c = rate(a, t)\n')
    # (150 - 70) / (100 - 70) = 80 / 30 = 8/3; (50 - 70) / 30 < 0 -> floor 0
    assert both(p, {"a": 150, "t": 100})["c"] == D(8) / D(3)
    r = p.evaluate({"a": 50, "t": 100}, explain=True)
    assert r.values["c"] == D(0)
    call = r.node("c")["children"][0]
    assert call["kind"] == "function_call" and call["name"] == "rate"
    assert [e["kind"] for e in call["children"]] == ["floor_applied"]


def test_function_arguments_are_checked():
    src = ('policy p\nfunction f (x: money) = x * 2\nevaluation e:\n    fact a: number\n'
           '    output v = f({})\n')
    assert codes(src.format("a, a"))[0][0] == "E304"
    assert codes(src.format("a"))[0][0] == "E302"   # a plain number passed as money


def test_blend_weights_must_add_up_to_100_percent():
    src = 'policy p\nevaluation e:\n    fact a: number\n    fact b: number\n    output v = blend(a {}, b 50%)\n'
    assert codes(src.format("40%"))[0][:2] == ("E316", 5)
    # 80 * 50% + 90 * 50% = 85
    assert both(load(src.format("50%")), {"a": 80, "b": 90})["v"] == D(85)


# ---- list rules ------------------------------------------------------------------------------------

LISTS = ('policy p\nevaluation e:\n'
         '    fact daily: list of (name: text, points: number > 0) at least 1 with points adding up to 80\n'
         '    output n = count over daily\n')


def test_list_adding_up_and_at_least():
    p = load(LISTS)
    assert both(p, {"daily": [{"name": "a", "points": 50}, {"name": "b", "points": "30"}]})["n"] == D(2)
    with pytest.raises(kpirules.FactError) as exc:
        p.evaluate({"daily": [{"name": "a", "points": 50}, {"name": "b", "points": 25}]})
    v = exc.value.violations[0]
    assert (v.path, v.code) == ("daily", "F113") and "add up to 75" in v.message and "80" in v.message
    with pytest.raises(kpirules.FactError) as exc:
        p.evaluate({"daily": []})
    assert exc.value.violations[0].path == "daily" and "at least 1" in exc.value.violations[0].message


def test_list_total_must_name_a_number_field():
    found = codes(LISTS.replace("with points adding", "with name adding"))
    assert found[0][0] == "E317"


# ---- names and examples ------------------------------------------------------------------------------

def test_a_fact_named_like_an_expression_keyword_is_refused():
    found = codes('policy p\nevaluation e:\n    fact count: number\n    output v = 1\n')
    assert ("E215", 3) in [(c, line) for c, line, _ in found]


def test_examples_must_name_known_things():
    found = codes('policy p\nevaluation e:\n    fact a: number\n    output v = a\n'
                  'example "x" for f:\n    given a = 1\n    expect v = 1\n')
    assert found[0][0] == "E214" and "unknown evaluation `f`" in found[0][2]
    found = codes('policy p\nevaluation e:\n    fact a: number\n    output v = a\n'
                  'example "x":\n    given b = 1\n    expect v = 1\n')
    assert "unknown fact `b`" in found[0][2]


def test_record_of_numbers_with_a_range_per_key():
    p = load('policy p\nevaluation e:\n    fact r: record of number in 0..100 (self, peer, manager)\n'
             '    output v = blend(r.self 20%, r.peer 30%, r.manager 50%)\n')
    # 80 * 20% + 90 * 30% + 100 * 50% = 16 + 27 + 50 = 93
    assert both(p, {"r": {"self": 80, "peer": 90, "manager": 100}})["v"] == D(93)
    with pytest.raises(kpirules.FactError) as exc:
        p.evaluate({"r": {"self": 101, "peer": 90, "manager": -1}})
    assert [v.path for v in exc.value.violations] == ["r.self", "r.manager"]


def test_a_blend_may_read_values_defined_below_it():
    p = load('policy p\nevaluation e:\n    fact r: number\n    output a = blend(b 50%, c 50%)\n'
             '    let b = r * 2\n    let c = r + 1\n')
    # r = 3: b = 6, c = 4; 6 * 50% + 4 * 50% = 5
    assert both(p, {"r": 3})["a"] == D(5)
