"""The shared scanner (kpirules.parser.scanner): quoted texts, comments and brackets, as the parser,
the recovery and `kpirules fmt` all read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpirules.parser import _lark
from kpirules.parser.scanner import (bad_escape, bracket_depth, brackets, code_tokens, comment_start,
                                     comments, has_code, is_comment_line, lines, skip_blank, unquote)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*ROOT.glob("policies/*.rules"), *ROOT.glob("ruleset/*.rules")])


@pytest.mark.parametrize("line, at", [
    ('let a = 1  # note', 11),
    ('let a = "x # y"  # note', 17),
    ('cite "a \\" # b" # c', 16),        # an escaped quote does not end the text
    ('cite "no end # here', 19),          # a text without its closing quote runs to the line's end
    ('# whole line', 0),
    ('let a = 1', 9),
    ('', 0),
])
def test_comment_start(line, at):
    assert comment_start(line) == at


@pytest.mark.parametrize("line, before, after", [
    ("x = max(a, (b", 0, 2),
    ("x = f(\"(\", [", 0, 2),            # a bracket in quoted text is text
    ("  b)  # ) in a comment", 2, 1),
    (")))", 1, 0),                        # never below zero
    ("{a: [1, 2]}", 0, 0),
])
def test_bracket_depth(line, before, after):
    assert bracket_depth(line, before) == after


def test_brackets_are_only_code():
    text = 'f(a) # (\ncite "[" [x]'
    assert [(t.text, t.start) for t in brackets(text)] == [("(", 1), (")", 3), ("[", 18), ("]", 20)]


def test_code_lines_and_comment_lines():
    assert has_code("  x = 1 # c") and not has_code("   # c") and not has_code(" \t\f")
    assert not has_code('  # "quoted" (bracket)')
    assert is_comment_line("\t  # c") and not is_comment_line("x # c")


def test_skip_blank_passes_blanks_and_comments():
    text = "a  \n  # one\n\n   # two\n  b"
    assert skip_blank(text, 1) == text.index("b")
    assert skip_blank(text, 0) == 0
    assert skip_blank("  # only", 0) == len("  # only")
    assert skip_blank("x", 5) == 5


def test_lines_keep_offsets_and_the_empty_last_line():
    assert list(lines("a\nbc\n")) == [(0, "a"), (2, "bc"), (5, "")]
    assert list(lines("")) == [(0, "")]


def test_bad_escape_and_unquote():
    assert bad_escape('cite "a\\qb"', 5) == 7
    assert bad_escape('cite "a\\"b\\\\"', 5) is None
    assert bad_escape('cite "end\\', 5) == 9       # a backslash with nothing after it
    assert unquote('"a\\"b\\\\c\\nd\\te"') == 'a"b\\c\nd\te'
    assert unquote('"plain"') == "plain"


def test_code_tokens_kinds():
    toks = [(t.kind, t.text) for t in code_tokens('let x = 10万 + "s" # c\n  .. -> >= ,')]
    assert toks == [("name", "let"), ("name", "x"), ("punct", "="), ("number", "10万"), ("punct", "+"),
                    ("string", '"s"'), ("punct", ".."), ("punct", "->"), ("punct", ">="), ("punct", ",")]


def test_comments_know_whether_they_stand_alone():
    text = 'policy p  # head\n    # own\nlet a = "#"\n'
    found = comments(text)
    assert [(c.text, c.start, c.own_line) for c in found] == [("# head", 10, False), ("# own", 21, True)]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_the_scanner_reads_quoted_texts_and_brackets_where_the_grammar_does(path):
    """On every shipped policy, the scanner's quoted texts and brackets are the lexer's tokens."""
    text = path.read_text(encoding="utf-8")
    lexed = list(_lark().lex(text, dont_ignore=True))
    strings = [(t.start_pos, str(t)) for t in lexed if t.type == "STRING"]
    parens = [(t.start_pos, str(t)) for t in lexed
              if t.type in ("LPAR", "RPAR", "LSQB", "RSQB", "LBRACE", "RBRACE")]
    assert strings and [(t.start, t.text) for t in code_tokens(text) if t.kind == "string"] == strings
    assert [(t.start, t.text) for t in brackets(text)] == parens
