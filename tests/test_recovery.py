"""Several syntax errors per file: after a broken statement the parser goes on with the next one.

The contract (docs/diagnostics.md, "Several syntax errors in one run"): every syntax error
reported after the first is one the author would also get with that line alone broken, at the
same place and in the same words; when the parser cannot be sure of that, it reports no more.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kpirules import PolicyError, load_policy_text
from kpirules.parser import MAX_SYNTAX_ERRORS, ParseFailure, _comment_start, parse
from kpirules.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]

BASE = '''\
policy demo version "1"

table rates (grade) -> percent:
    1 -> 10%
    2 -> 20%

evaluation quarterly:
    fact sales: money >= 0
    fact errors: count
    fact grade: integer in 1..2
    let rate = rates[grade]
    scorecard score total 10:
        item accuracy weight 6:
            minus 1 per errors
            floor 0
        item speed weight 4:
            plus 1 if sales > 10万
            cap 4
    output bonus = sales * rate * score / 10
        round half up to 0.01
        cite "奖金 = 销售额 × 比例 × 得分 / 10"
'''


def lines_of(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def with_lines(text: str, changes: dict) -> str:
    """`text` with some of its lines (numbered from 1) replaced."""
    lines = lines_of(text)
    for number, line in changes.items():
        lines[number - 1] = line if line.endswith("\n") or not line else line + "\n"
    return "".join(lines)


def diagnostics(text: str, path: str = "p.rules") -> list:
    try:
        parse(SourceFile(path=path, text=text))
    except ParseFailure as failure:
        return list(failure.diagnostics)
    return []


def rendered(text: str) -> list[str]:
    return [d.render() for d in diagnostics(text)]


def test_the_base_policy_is_valid():
    load_policy_text(BASE, "p.rules")


# ---- three independent broken lines, three diagnostics ------------------------------------------

BROKEN = {
    11: "    let rate = rates[grade] +",                      # E100: the line ends too early
    14: "            minus 1 per errors ＋ 1",                 # E101: a full-width plus
    21: '        cite "奖金 = 销售额 × 比例 × 得分 / 10',         # E107: the quote is never closed
}


def test_three_broken_lines_give_three_diagnostics_where_they_are():
    found = diagnostics(with_lines(BASE, BROKEN))
    assert [(d.code, d.span.line, d.span.column) for d in found] == [
        ("E100", 11, 30), ("E101", 14, 32), ("E107", 21, 14)]
    with pytest.raises(PolicyError) as exc:
        load_policy_text(with_lines(BASE, BROKEN), "p.rules")
    assert [d.code for d in exc.value.diagnostics] == ["E100", "E101", "E107"]


def test_each_diagnostic_is_the_one_its_line_alone_gives():
    found = rendered(with_lines(BASE, BROKEN))
    alone = [rendered(with_lines(BASE, {number: line}))[0] for number, line in BROKEN.items()]
    assert found == alone
    assert all(len(rendered(with_lines(BASE, {number: line}))) == 1 for number, line in BROKEN.items())


def test_the_command_line_shows_every_one(tmp_path, capsys):
    from kpirules.cli import main
    path = tmp_path / "p.rules"
    path.write_text(with_lines(BASE, BROKEN), encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert [line.split(": ")[1] for line in err.splitlines() if line.startswith(str(path))] == [
        "error[E100]", "error[E101]", "error[E107]"]


# ---- where the parser goes on, and how -----------------------------------------------------------

def test_a_broken_line_that_was_the_only_one_of_its_block_is_stood_in_for():
    """The deduction is the item's only line: left out, the item would have no body (an error the
    author did not make); a stand-in statement keeps the block, and the next item's error is found."""
    text = with_lines(BASE, {14: "            minsu 1 per errors", 15: "            # no floor",
                             17: "            plus 1 if sales >"})
    assert [(d.code, d.span.line, d.message) for d in diagnostics(text)] == [
        ("E100", 14, "unexpected `minsu`"), ("E100", 17, "unexpected end of line")]


def test_a_broken_block_header_takes_its_block_with_it():
    """The lines under a broken `item` line are not read: their errors, if any, come next run."""
    text = with_lines(BASE, {13: "        item accuracy weigth 6:", 14: "            minus 1 per per errors",
                             19: "    output bonus = sales * rate * score / 10 +"})
    assert [(d.code, d.span.line) for d in diagnostics(text)] == [("E100", 13), ("E100", 19)]


def test_a_statement_continued_in_brackets_is_one_statement():
    text = with_lines(BASE, {11: "    let rate = max(rates[grade],", 12: "        0%,) +"})
    text = text.replace("    scorecard score", "    let more = (rate\n        * 2)\n    scorecard score", 1)
    text = with_lines(text, {21: "    output bonus = sales * rate * score / 10 *"})
    assert [(d.code, d.span.line) for d in diagnostics(text)] == [("E100", 12), ("E100", 21)]


def test_a_broken_first_line_is_stood_in_for_by_a_header():
    text = with_lines(BASE, {1: 'polcy demo version "1"', 11: "    let rate = rates[grade] +"})
    assert [(d.code, d.span.line) for d in diagnostics(text)] == [("E100", 1), ("E100", 11)]


@pytest.mark.parametrize("name, changes, expected", [
    # The item's lines are not indented: the parser expects the item's block and cannot tell
    # where it is; the next lines are not the author's second mistake.
    ("body not indented", {14: "        minus 1 per errors", 15: "        floor 0"}, [("E100", 14)]),
    # The line right after a broken one is broken from its first word: it may be, or the first
    # broken line may have been meant to go on there. Not reported.
    ("two broken lines in a row", {8: "    fatc sales: money >= 0", 9: "    fatc errors: count"},
     [("E100", 8)]),
    # A bracket never closed swallows the lines after it: nothing after it can be trusted.
    ("bracket never closed", {11: "    let rate = max(rates[grade], 0%", 19: "    output bonus = +"},
     [("E108", 11)]),
    # Indentation errors are about the structure of the whole block.
    ("over-indented line", {9: "        fact errors: count", 19: "    output bonus = +"}, [("E103", 9)]),
    ("dedent to no block", {15: "          floor 0", 19: "    output bonus = +"}, [("E103", 15)]),
    # A block that ends before its statement is complete (the item's lines deleted, the line
    # after them less indented): the structure is in doubt.
    ("block ends too early", {17: "", 18: "", 21: '        cite "x'}, [("E100", 17)]),
])
def test_where_recovery_is_not_safe_only_the_first_error_is_reported(name, changes, expected):
    assert [(d.code, d.span.line) for d in diagnostics(with_lines(BASE, changes))] == expected, name


def test_the_end_of_the_file_ends_recovery():
    text = with_lines(BASE, {11: "    let rate = rates[grade] +"}) + "output late = (1 +\n"
    assert [(d.code, d.span.line) for d in diagnostics(text)] == [("E100", 11), ("E108", 22)]


def test_at_most_max_syntax_errors_are_reported():
    text = BASE + "".join(f"let extra_{i} = {i} +\n" for i in range(MAX_SYNTAX_ERRORS + 5))
    found = diagnostics(text)
    assert len(found) == MAX_SYNTAX_ERRORS
    assert [d.span.line for d in found] == list(range(22, 22 + MAX_SYNTAX_ERRORS))


def test_a_file_without_a_final_line_break_keeps_its_positions():
    text = with_lines(BASE, {11: "    let rate = rates[grade] +"}) + "output last = 1 +"
    found = diagnostics(text)
    assert [(d.span.line, d.span.column) for d in found] == [(11, 30), (22, 18)]
    assert all(d.span.end <= len(text) for d in found)


# ---- no follow-on error: damaged shipped policies --------------------------------------------------

SHIPPED = sorted([*ROOT.glob("policies/*.rules"), *ROOT.glob("ruleset/*.rules")])
TEXTS = {p: p.read_text(encoding="utf-8") for p in SHIPPED}
_JUNK = ["＋", "“", "(", ")", ":", ",", "=", "per", "if", "weight", '"', "9" * 50, "minsu", "%"]


def code_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(lines_of(text), 1)
            if line.strip() and not line.lstrip().startswith("#")]


def break_line(line: str, kind: str, i: float, j: float, junk: str) -> str:
    """One line damaged in one place: a word deleted, doubled, swapped with the next, or junk inserted."""
    body = line.rstrip("\n")
    words = [(k, k + len(w)) for k, w in _words(body)]
    if not words:
        return line
    a, b = words[int(i * len(words))]
    if kind == "delete":
        body = body[:a] + body[b:]
    elif kind == "duplicate":
        body = body[:b] + " " + body[a:b] + body[b:]
    elif kind == "swap" and len(words) > 1:
        k = min(int(i * len(words)), len(words) - 2)
        (a, b), (c, d) = words[k], words[k + 1]
        body = body[:a] + body[c:d] + body[b:c] + body[a:b] + body[d:]
    else:
        at = a + int(j * (len(body) - a))
        body = body[:at] + junk + body[at:]
    return body + "\n"


def _words(body: str):
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[^\s"]+', body[:_comment_start(body)]):
        yield m.start(), m.group()


DAMAGE = st.tuples(
    st.sampled_from(SHIPPED),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(["delete", "duplicate", "swap", "junk"]),
                       st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True), st.sampled_from(_JUNK)),
             min_size=2, max_size=4))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(DAMAGE)
def test_every_error_reported_is_one_its_line_alone_gives(damage):
    """Break several lines of a shipped policy: each diagnostic reported is the first diagnostic of
    the policy with one of those lines broken alone (same place, same words), in source order."""
    check_no_follow_on_errors(*damage)


def check_no_follow_on_errors(path, breaks) -> None:
    text = TEXTS[path]
    candidates = code_lines(text)
    changes = {}
    for where, kind, i, j, junk in breaks:
        number = candidates[int(where * len(candidates))]
        changes[number] = break_line(lines_of(text)[number - 1], kind, i, j, junk)
    found = rendered(with_lines(text, changes))
    alone = set()
    for number, line in changes.items():
        single = rendered(with_lines(text, {number: line}))
        if single:
            alone.add(single[0])
    assert len(found) <= len(changes)
    for d in found:
        assert d in alone, f"{path.name}: a diagnostic no broken line gives alone:\n{d}\n" + "\n".join(
            f"line {k}: {v!r}" for k, v in sorted(changes.items()))
    lines = [diagnostics(with_lines(text, changes))[k].span.line for k in range(len(found))]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
