"""Large tables of plain rows are read beside Lark (parser/fast_tables.py): the same nodes, the
same spans, the same diagnostics and the same formatting as when Lark reads every row."""

from __future__ import annotations

import pytest

import kpirules
from kpirules import fmt
from kpirules import nodes as n
from kpirules.parser import fast_tables, parse_text


def _spans(tree) -> list:
    return [(type(x).__name__, x.span.start, x.span.end) for x in n.walk(tree) if hasattr(x, "span")]


def _both(text: str, monkeypatch):
    fast = parse_text(text, "t.rules")
    with monkeypatch.context() as m:
        m.setattr(fast_tables, "FAST_ROWS", 10**9)
        slow = parse_text(text, "t.rules")
    return fast, slow


def _row(i: int) -> str:
    key = [f"{i}", f'"k{i} \\"q\\""', f"{i}.25"][i % 3]
    value = [f"{i}", f"{i}.5%", f"{i}万", f"{i}元"][i % 4]
    comment = "  # note -> not a row" if i % 7 == 0 else ""
    return f"    {key} -> {value}{comment}\n"


POLICY = ('policy demo version "1"\n\n# a comment before\ntable t "表" (k) -> number:\n{rows}\n'
          'table small (k) -> percent:\n    1 -> 2%\n\nevaluation q:\n    fact k: integer\n    output r = t[k]\n')


@pytest.mark.parametrize("count", [fast_tables.FAST_ROWS, 500])
def test_the_same_nodes_and_spans_as_lark(count, monkeypatch):
    text = POLICY.format(rows="".join(_row(i) for i in range(count)))
    fast, slow = _both(text, monkeypatch)
    assert fast == slow
    assert _spans(fast) == _spans(slow)
    assert len(fast.tables[0].rows) == count


def test_the_same_formatting(monkeypatch):
    text = POLICY.format(rows="".join(_row(i) for i in range(300)))
    out = fmt.format_text(text, "t.rules")
    with monkeypatch.context() as m:
        m.setattr(fast_tables, "FAST_ROWS", 10**9)
        assert fmt.format_text(text, "t.rules") == out
    assert "# note -> not a row" in out and "# a comment before" in out


@pytest.mark.parametrize("bad, code", [("    7 -> 7 7\n", "E100"), ("    8 -> 1" + "1" * 50 + "\n", "E105"),
                                       ("    cite \"x\"\n    9 -> 9\n", None), ("    10 -> -5\n", None)])
def test_other_lines_leave_the_table_to_lark(bad, code, monkeypatch):
    rows = "".join(f"    {i} -> {i}\n" for i in range(300))
    text = POLICY.format(rows=rows + bad).replace("output r = t[k]", "output r = t[k] + 0")
    if code is None:
        fast, slow = _both(text, monkeypatch)
        assert fast == slow and _spans(fast) == _spans(slow)
        return
    with pytest.raises(kpirules.PolicyError) as info:
        kpirules.load_policy_text(text, "t.rules")
    d = info.value.diagnostics[0]
    assert d.code == code and d.span.line == text[:text.index(bad)].count("\n") + 1


def test_a_literal_too_long_in_a_fast_row_is_e105():
    rows = "".join(f"    {i} -> {i}\n" for i in range(300)) + "    300 -> 1" + "0" * 60 + "\n"
    with pytest.raises(kpirules.PolicyError) as info:
        kpirules.load_policy_text(POLICY.format(rows=rows), "t.rules")
    assert [d.code for d in info.value.diagnostics] == ["E105"]
    assert info.value.diagnostics[0].span.line == 4 + 301


def test_a_lookup_in_a_fast_table_is_explained_at_its_row():
    text = POLICY.format(rows="".join(f"    {i} -> {i * 2}\n" for i in range(300)))
    policy = kpirules.load_policy_text(text, "t.rules")
    result = policy.evaluate({"k": 250}, explain=True)
    assert result.values["r"] == 500
    assert "250" in str(result.to_json()["trace"])
