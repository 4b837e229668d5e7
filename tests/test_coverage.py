"""`kpirules test --coverage`: the branches a policy's examples take, counted by hand here.

Every small policy below lists its branches in a comment, with the ones its examples take, so
each count can be checked by reading. The shipped policies' current coverage is printed (not
asserted to be complete: the gaps are for the policy authors to close with examples).
"""

from decimal import Decimal as D
from pathlib import Path

import pytest

import kpirules
from kpirules import coverage
from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
POLICIES = sorted((ROOT / "policies").glob("*.rules"))


def measure(src: str, path="t.rules") -> coverage.Coverage:
    return coverage.measure(kpirules.load_policy_text(src, path))


def missed(cov) -> list:
    return [m.render() for m in cov.missed]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- ladders -----------------------------------------------------------------------------------

LADDER = '''policy p
evaluation e:
    fact won: count
    fact supported: count <= won + 100
    scorecard s:
        item success "项目成功率" weight 20:
            ladder won / supported standard 85%{none}
                minus 2 per full 5% below
                plus 0.5 per full 1% above
'''


def example(name, expect=None, **given):
    lines = [f'example "{name}":'] + [f"    given {k} = {v}" for k, v in given.items()]
    lines += [f"    expect {k} = {v}" for k, v in (expect or {}).items()]
    return "\n".join(lines) + "\n"


def test_a_ladder_seen_below_and_above_but_never_at_is_two_of_its_three_branches():
    src = LADDER.format(none="") + example("below", {"success": 18}, won=16, supported=20) \
        + example("above", {"success": "22.5"}, won=9, supported=10)
    cov = measure(src)
    assert (cov.covered, cov.total) == (2, 3)
    assert cov.percent == "66.7%"
    assert missed(cov) == ["t.rules:7:13: ladder `won / supported` of item success: never exactly on the standard"]


def test_a_ladder_with_if_none_has_a_fourth_branch_taken_only_without_a_rate():
    src = LADDER.format(none=", if none: standard") + example("no rate", {"success": 20}, won=0, supported=0) \
        + example("at", {"success": 20}, won=17, supported=20)
    cov = measure(src)
    # below, at, above, no rate: "no rate" lands on the standard but counts as no rate only
    assert (cov.covered, cov.total) == (2, 4)
    assert [m.outcome for m in cov.missed] == ["below", "above"]
    assert missed(cov)[1].endswith("never above the standard")


def test_a_ladder_side_without_a_step_line_scores_as_on_the_standard():
    # Branches: below (it has a line) and at; above has no line, so being above counts as `at`.
    src = ('policy p\nevaluation e:\n    fact r: number\n    scorecard s:\n        item i weight 10:\n'
           '            ladder r standard 5\n                minus 1 per full 1 below\n'
           + example("above, no line for it", {"i": 10}, r=7))
    cov = measure(src)
    assert (cov.covered, cov.total) == (1, 2)
    assert [m.outcome for m in cov.missed] == ["below"]


SHARED = '''policy p
ladder steps "阶梯":
    minus 2 per full 5% below
    plus 1 per full 5% above
evaluation e:
    fact a: number
    fact b: number
    scorecard s:
        item first weight 10:
            ladder a standard 50% using steps
        item second weight 10:
            ladder b standard 50% using steps
example "first below, second at":
    given a = 40%
    given b = 50%
    expect first = 6
    expect second = 10
'''


def test_a_shared_ladder_used_by_two_items_is_two_sets_of_branches():
    cov = measure(SHARED)
    # first: below seen; second: at seen. 2 of 6, though both step through the same lines.
    assert (cov.covered, cov.total) == (2, 6)
    assert missed(cov) == [
        "t.rules:10:13: ladder `a` of item first: never exactly on the standard",
        "t.rules:10:13: ladder `a` of item first: never above the standard",
        "t.rules:12:13: ladder `b` of item second: never below the standard",
        "t.rules:12:13: ladder `b` of item second: never above the standard",
    ]


# ---- items: deductions, scores, floors, caps, gates --------------------------------------------

ITEMS = '''policy p
evaluation e:
    fact trained: boolean
    fact delivered: boolean
    fact missed: count
    fact rollout: record of boolean (a, b)
    scorecard s total 20:
        item a weight 10, knowledge:
            minus 5 if not trained
            minus 3 per missed
            floor 0
        item b weight 10, knowledge:
            score 0 if not delivered
            cap 8
        gate knowledge items: count only if rollout[item] else "未推广"
'''


def test_items_conditional_lines_floors_caps_and_gates_by_hand():
    src = ITEMS + example("everything fine", {"a": 10, "b": 8}, trained="true", delivered="true", missed=0,
                          rollout="{a: true, b: true}") \
        + example("untrained, many missed", {"a": 0}, trained="false", delivered="true", missed=5,
                  rollout="{a: true, b: true}")
    cov = measure(src)
    # minus 5 if: applied + skipped (2/2); `minus 3 per` has no condition: no branch;
    # floor 0: bit (second) + not (first) (2/2); score 0 if: skipped only (1/2);
    # cap 8: bit in both (1/2); gate: open only (1/2). 7 of 10.
    assert (cov.covered, cov.total) == (7, 10)
    assert missed(cov) == [
        "t.rules:13:13: `score 0 if not delivered` in item b: never applied",
        "t.rules:14:13: cap 8 of item b: always bit (never seen leaving the value as it was)",
        "t.rules:15:9: gate knowledge: never closed",
    ]


def test_a_gate_closed_for_one_item_counts_once_for_the_gate():
    src = ITEMS + example("b not rolled out", {"b": 0}, trained="true", delivered="false", missed=0,
                          rollout="{a: true, b: false}")
    cov = measure(src)
    gate = [s for s in cov.sites if s.kind == "gate"]
    assert len(gate) == 1 and cov.seen[gate[0].key] == {"open", "closed"}


# ---- values: conditionals, filters, tables, bands, functions -----------------------------------

VALUES = '''policy p
table bonus "奖金" (level) -> number:
    1 -> 10
    2 -> 20
    3 -> 30
bands grade "等级" in 0..100:
    "A" from 80
    "B" from 60 below 80
    "C" below 60
function rate (actual: number, target: number) = if target > 0 then actual / target else 1
    floor 0.5
evaluation e:
    fact level: integer in 1..3
    fact flag: boolean
    fact score: number in 0..100
    fact a: number >= 0
    fact t: number >= 0
    fact lines: list of (v: number, k: integer in 1..3)
    let pick = if flag then bonus[level] else 0
    let total = sum over lines of v * bonus[k]
        only if v > 0 else "zero"
        only if k < 3 else "three"
    output g = grade[score]
    output r1 = rate(a, t)
    output r2 = rate(t, a)
'''
LINES = "[{v: 0, k: 1}, {v: 6, k: 2}, {v: 1, k: 3}]"


def test_values_by_hand():
    src = VALUES + example("one", {"g": '"A"'}, level=2, flag="false", score=85, a=1, t=4, lines=LINES) \
        + example("two", {"g": '"B"'}, level=2, flag="false", score=60, a=3, t=4, lines="[]")
    cov = measure(src)
    # pick: if then/else 1/2, its lookup never reached 0/3;
    # total: filter 1 included+excluded 2/2, filter 2 included+excluded 2/2, bonus[k] row 2 1/3;
    # g: bands A, B 2/3; r1 = rate(a, t): if then 1/2, floor bit (1/4) and not (3/4) 2/2;
    # r2 = rate(t, a): if then 1/2, floor not 1/2 (4/1, 4/3). 13 of 23.
    assert (cov.covered, cov.total) == (13, 23)
    assert missed(cov) == [
        "t.rules:19:16: `if flag` in value pick: never true (`then` never taken)",
        "t.rules:19:29: row 1 of table bonus (`bonus[level]` in value pick): never looked up",
        "t.rules:19:29: row 2 of table bonus (`bonus[level]` in value pick): never looked up",
        "t.rules:19:29: row 3 of table bonus (`bonus[level]` in value pick): never looked up",
        "t.rules:20:39: row 1 of table bonus (`bonus[k]` in value total): never looked up",
        "t.rules:20:39: row 3 of table bonus (`bonus[k]` in value total): never looked up",
        "t.rules:23:16: band C of grade (`grade[score]` in output g): never chosen",
        "t.rules:24:17: `if target > 0` (t.rules:10:50) in function rate called as `rate(a, t)`: "
        "never false (`else` never taken)",
        "t.rules:25:17: `if target > 0` (t.rules:10:50) in function rate called as `rate(t, a)`: "
        "never false (`else` never taken)",
        "t.rules:25:17: floor 0.5 (t.rules:11:5) of function rate called as `rate(t, a)`: never bit",
    ]
    assert not cov.notes


def test_a_lookup_in_a_branch_not_taken_is_neither_counted_nor_shown():
    policy = kpirules.load_policy_text(VALUES + example("x", {"g": '"C"'}, level=2, flag="false", score=1, a=1, t=1,
                                                        lines="[]"), "t.rules")
    r = policy.evaluate({"level": 2, "flag": False, "score": 1, "a": 1, "t": 1, "lines": []}, explain=True)
    # The trace records what the evaluation did: a lookup in the branch not taken did not happen.
    assert [c["kind"] for c in r.node("pick")["children"]] == []
    cov = coverage.measure(policy)
    row = next(s for s in cov.sites if s.kind == "row" and s.span.line == 19)
    assert cov.seen.get(row.key, set()) == set()


def test_examples_that_expect_a_fact_error_or_cannot_evaluate_exercise_nothing():
    src = ('policy p\nevaluation e:\n    fact a: number in 0..10\n    fact b: number\n'
           '    output r = if a > 5 then a / b else 0\n'
           + 'example "refused":\n    given a = 11\n    given b = 1\n    expect error at "a"\n'
           + 'example "divides by zero":\n    given a = 6\n    given b = 0\n    expect r = 0\n')
    cov = measure(src)
    assert (cov.covered, cov.total, cov.examples) == (0, 2, 0)


def test_a_policy_with_no_branch_is_complete():
    cov = measure('policy p\nevaluation e:\n    fact a: number\n    output r = a * 2\n')
    assert (cov.covered, cov.total, cov.percent) == (0, 0, "100%")
    assert cov.render() == "t.rules: 0/0 branches (100%)"


def test_a_value_defined_at_the_top_is_one_set_of_branches_for_every_evaluation():
    src = ('policy p\nlet k = 2\n'
           'let top = if k > 1 then 1 else 0\n'
           'evaluation e1:\n    fact a: number\n    output r = if a > k then top else 0\n'
           'evaluation e2:\n    fact a: number\n    output r = a + top\n'
           'example "one" for e1:\n    given a = 3\n    expect r = 1\n'
           'example "two" for e2:\n    given a = 3\n    expect r = 4\n')
    cov = measure(src)
    # `top` is computed in both evaluations but written once: one site (then seen twice)
    assert sorted(s.span.line for s in cov.sites if s.kind == "if") == [3, 6]
    assert (cov.covered, cov.total) == (2, 4)


# ---- the report and the command ----------------------------------------------------------------

def test_percentages_and_thresholds():
    assert [coverage.percent(c, t) for c, t in [(37, 40), (2, 3), (1, 3), (0, 5), (1999, 2000), (5, 5)]] == \
        ["92.5%", "66.7%", "33.3%", "0%", "99.9%", "100%"]
    assert coverage.parse_percent("90.5") == D("90.5") and coverage.parse_percent("100%") == D(100)
    for bad in ("abc", "101", "-1", "NaN"):
        with pytest.raises(ValueError):
            coverage.parse_percent(bad)
    cov = measure(LADDER.format(none="") + example("below", {"success": 18}, won=16, supported=20))
    assert cov.below(D(34)) and not cov.below(D("33.3")) and not cov.below(D(0))


def _write(tmp_path, name, src):
    path = tmp_path / name
    path.write_text(src, encoding="utf-8")
    return str(path)


def test_the_report_comes_after_the_examples_and_before_the_final_line(tmp_path, capsys):
    path = _write(tmp_path, "ladder.rules", LADDER.format(none="")
                  + example("below", {"success": 18}, won=16, supported=20)
                  + example("above", {"success": "22.5"}, won=9, supported=10))
    code, out, _ = run(capsys, "test", "--coverage", path)
    assert code == 0
    lines = out.rstrip("\n").splitlines()
    assert lines[0].startswith("PASS ") and lines[1].startswith("PASS ")
    assert lines[2:] == [
        "",
        "coverage of the examples:",
        f"{path}: 2/3 branches (66.7%)",
        f"    {path}:7:13: ladder `won / supported` of item success: never exactly on the standard",
        "2 passed, 0 failed",
    ]


def test_without_coverage_the_output_is_unchanged(tmp_path, capsys):
    path = _write(tmp_path, "ladder.rules", LADDER.format(none="") + example("below", {"success": 18}, won=16, supported=20))
    code, out, _ = run(capsys, "test", path)
    assert code == 0 and "coverage of the examples" not in out and "branches (" not in out


def test_min_coverage_exit_codes(tmp_path, capsys):
    full = _write(tmp_path, "full.rules", 'policy full\nevaluation e:\n    fact a: number\n'
                  '    output r = if a > 0 then 1 else 0\n'
                  + example("pos", {"r": 1}, a=1) + example("neg", {"r": 0}, a=-1))
    part = _write(tmp_path, "part.rules", LADDER.format(none="") + example("below", {"success": 18}, won=16, supported=20))
    code, out, _ = run(capsys, "test", "--min-coverage", "100", full)
    assert code == 0 and f"{full}: 2/2 branches (100%)" in out and "below" not in out
    code, out, _ = run(capsys, "test", "--min-coverage", "100", full, part)
    assert code == 1
    lines = out.rstrip("\n").splitlines()
    assert lines[-2:] == [f"coverage below 100%: {part} (1/3 branches, 33.3%)", "3 passed, 0 failed"]
    assert full not in lines[-2]
    code, out, _ = run(capsys, "test", "--min-coverage", "33", str(tmp_path))
    assert code == 0
    code, out, _ = run(capsys, "test", "--coverage", part)  # --coverage alone never fails the run
    assert code == 0 and f"{part}: 1/3 branches (33.3%)" in out
    code, _, err = run(capsys, "test", "--min-coverage", "120", part)
    assert code == 2 and "--min-coverage" in err


def test_a_failing_example_still_fails_the_run_with_coverage(tmp_path, capsys):
    path = _write(tmp_path, "f.rules", LADDER.format(none="") + example("wrong", {"success": 1}, won=16, supported=20))
    code, out, _ = run(capsys, "test", "--min-coverage", "0", path)
    assert code == 1 and out.rstrip("\n").splitlines()[-1] == "0 passed, 1 failed"
    assert f"{path}: 1/3 branches (33.3%)" in out  # a failing example's branches still count


# ---- the shipped policies ----------------------------------------------------------------------

@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_shipped_policy_coverage_is_measured_and_printed(path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    cov = coverage.measure(kpirules.load_policy(path.relative_to(ROOT)))
    assert not cov.notes, cov.notes  # every example's trace lined up with the policy
    assert cov.total > 0 and 0 < cov.covered <= cov.total
    with capsys.disabled():
        print("\n" + cov.render())


def test_kpirules_test_coverage_on_the_shipped_policies(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "test", "--coverage")
    assert code == 0
    lines = out.rstrip("\n").splitlines()
    assert lines[-1].endswith(" passed, 0 failed")
    for path in POLICIES:
        assert any(ln.startswith(f"policies/{path.name}: ") and " branches (" in ln for ln in lines)
