"""Parser robustness: whatever text an author saves, loading it either succeeds or raises
`kpirules.PolicyError` whose every diagnostic has a position (`file:line:col`); never another
exception.

Three kinds of input, each a hypothesis strategy:

- `TEXTS`: arbitrary text (any character, control characters and CJK included) and soups of
  pieces that matter to the lexer: quotes, brackets, indentation, keywords, look-alike characters;
- `PROGRAMS`: programs derived from the grammar itself (`hypothesis.extra.lark.from_lark` on
  src/kpirules/grammar.lark): every terminal is drawn by our own strategy followed by a separator,
  and the indenter's `_NL`, `_INDENT` and `_DEDENT` by markers that `render_program` turns into
  line breaks and indentation, so the programs reach the checker, the lints and the compiler;
- `MUTANTS`: the shipped policies and modules with tokens deleted, duplicated or swapped (and a few
  lines deleted, duplicated or re-indented).

The examples are few so the suite stays fast; `python tests/fuzz/fuzz_parser.py` runs the same
checks (the `check_*` functions and strategies of this module) with many more.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings, strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

import kpirules
from kpirules.diagnostics import MAX_DIAGNOSTICS
from kpirules.parser import ParseFailure, _grammar, parse_text

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*ROOT.glob("policies/*.rules"), *ROOT.glob("ruleset/*.rules")])
SHIPPED_TEXT = {p: p.read_text(encoding="utf-8") for p in SHIPPED}

# Few examples here; tests/fuzz/fuzz_parser.py runs many.
FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

_LOCATION = re.compile(r"^.+:\d+:\d+$")


# ---- the property ----------------------------------------------------------------------------

def check_loads_or_reports(text: str, path: str = "fuzz.rules") -> None:
    """Load `text`: success, or a PolicyError whose every diagnostic has a position in its file.

    The one diagnostic without a position is E001, the count of diagnostics past the first
    MAX_DIAGNOSTICS (docs/diagnostics.md: "It has no position")."""
    try:
        policy = kpirules.load_policy_text(text, path)
    except kpirules.PolicyError as exc:
        assert exc.diagnostics, "a PolicyError without a diagnostic"
        assert any(d.is_error for d in exc.diagnostics)
        for i, d in enumerate(exc.diagnostics):
            if d.code == "E001":
                assert i == MAX_DIAGNOSTICS and i == len(exc.diagnostics) - 1, d
                continue
            _check_positioned(d)
        str(exc)
        return
    for d in policy.diagnostics:  # the warnings of a policy that loads
        _check_positioned(d)


def _check_positioned(d) -> None:
    assert d.span is not None, f"{d.code} without a position: {d.message}"
    assert _LOCATION.match(d.span.location()), d.span.location()
    assert 0 <= d.span.start <= d.span.end <= len(d.span.source.text), (d.code, d.span)
    rendered = d.render()
    assert rendered.startswith(d.span.location() + ": "), rendered


# ---- arbitrary text --------------------------------------------------------------------------

_PIECES = st.sampled_from([
    "\n", "\n", "    ", "        ", "\t", " ", "\r\n", "\r", '"', '\\"', "\\", "(", ")", "[", "]", "{",
    "}", ":", ",", ";", ".", "..", "->", "=", ">=", "%", "#", "# 注释\n", "万", "元", "-", "*", "/",
    "policy ", "module ", "evaluation ", "fact ", "let ", "output ", "scorecard ", "item ",
    "weight ", "ladder ", "standard ", "per ", "full ", "below", "above", "minus ", "plus ", "if ",
    "then ", "else ", "table ", "bands ", "function ", "example ", "given ", "expect ", "cite ",
    "floor ", "cap ", "round half up to 0.01", "only if ", "sum over ", "one of ", "list of ",
    "record of ", "count", "money", "number", "import ", "gate ", "items: count only if ",
    "x", "a1", "项目", "季度奖金", "85%", "10万", "800元", "1.5", "0", "9" * 45, '"text"', '"季度"',
    "“", "”", "：", "（", "）", "％", "８", "，", "–", "\u00a0", "\u3000", "\u200b", "\u202e",
    "\ufeff", "\x00", "\x07", "\x1b", "\u2028", "\ud7ff", "😀",
])
_HEADER = 'policy p version "1"\n\nevaluation e:\n    fact x: number\n'

TEXTS = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60).map(lambda s: _HEADER + s),
    st.lists(_PIECES | st.text(max_size=2), max_size=50).map("".join),
    st.lists(_PIECES, max_size=50).map(lambda parts: _HEADER + "".join(parts)),
)


@FAST
@given(TEXTS)
def test_arbitrary_text_loads_or_reports_with_a_position(text):
    check_loads_or_reports(text)


# ---- programs derived from the grammar --------------------------------------------------------

_SEP, _NL_MARK, _INDENT_MARK, _DEDENT_MARK, _COMMENT_MARK = "\x1f", "\x1e", "\x1d", "\x1c", "\x1b"

_NAMES = ["a", "b", "x", "rate", "total", "sales", "q1", "项目", "完成率", "_y"]
_NUMBERS = st.one_of(st.sampled_from(["0", "1", "2", "5", "10", "85", "100", "0.5", "0.01", "2.25"]),
                     st.integers(min_value=0, max_value=10**7).map(str),
                     st.just("9" * 45))
_STRINGS = st.sampled_from(['""', '"a"', '"b"', '"项目 A"', '"[0-9]+"', '"x\\"y\\\\z"', '"不足10万元"'])
_REGEX_TERMINALS = {
    "NAME": st.sampled_from(_NAMES),
    "NUMBER": _NUMBERS,
    "PERCENT": _NUMBERS.map(lambda s: s + "%"),
    "WAN": _NUMBERS.map(lambda s: s + "万"),
    "YUAN": _NUMBERS.map(lambda s: s + "元"),
    "STRING": _STRINGS,
    # Dates, existing or not (the checker reports a day that does not exist).
    "DATE": st.sampled_from(["2026-07-01", "2024-02-29", "2026-02-30", "2026-13-01", "0000-01-01"]),
    # `rank` and `percentile` are keywords only before `of` (the grammar writes that `of` itself).
    "RANK_OF": st.just("rank"),
    "PERCENTILE_OF": st.just("percentile"),
}


# Rules a program is assembled from (a whole policy is mostly a header alone: few reach the checker).
_PARTS = ("evaluation", "table", "definition", "function", "bands", "ladder_def", "example", "import_stmt")
_EVALUATION_PARTS = ("fact", "definition", "scorecard", "for_each")


def _grammar_strategy():
    """`from_lark` on the project's grammar, each terminal drawn by a strategy of ours: whole
    policies, and policies assembled from a header, top-level parts and an evaluation of facts,
    values and scorecards."""
    starts = ["start", "header", *_PARTS, *_EVALUATION_PARTS]
    grammar = Lark(_grammar(), parser="lalr", lexer="contextual", start=starts)

    def rule(name):
        # from_lark refuses a strategy for a terminal the rule cannot reach: one set per rule.
        terminals, rules, ignore_names = grammar.grammar.compile([name], ())
        reached = {t.name for r in rules for t in r.expansion if t.is_term}
        explicit = {}
        for term in terminals:
            if term.name in ignore_names:  # whitespace adds nothing; a comment goes at the line's end
                explicit[term.name] = st.just(_COMMENT_MARK + _SEP if term.name == "COMMENT" else "")
            elif term.name == "_NL":
                explicit[term.name] = st.just(_NL_MARK + _SEP)
            elif term.pattern.type == "str":
                explicit[term.name] = st.just(term.pattern.value + _SEP)
            else:
                explicit[term.name] = _REGEX_TERMINALS[term.name].map(lambda s: s + _SEP)
        for name_, mark in (("_INDENT", _INDENT_MARK), ("_DEDENT", _DEDENT_MARK)):
            if name_ in reached:
                explicit[name_] = st.just(mark + _SEP)
        return from_lark(grammar, start=name, explicit=explicit).map(render_program)

    def indented(text):
        return "".join("    " + line if line.strip() else line for line in text.splitlines(keepends=True))

    parts = st.lists(st.one_of(*(rule(name) for name in _PARTS)), max_size=4).map("".join)
    body = st.lists(st.one_of(*(rule(name) for name in _EVALUATION_PARTS)), min_size=1, max_size=5)
    evaluation = body.map(lambda stmts: "evaluation main:\n" + "".join(indented(s) for s in stmts))
    assembled = st.tuples(rule("header"), parts, evaluation, parts).map("".join)
    return st.one_of(rule("start"), assembled)


def render_program(drawn: str) -> str:
    """Tokens and markers as drawn by `from_lark` to the text of a policy: tokens joined by spaces,
    `_NL` a line break, `_INDENT`/`_DEDENT` one level (4 spaces) more or less for the next line."""
    lines: list[str] = []
    words: list[str] = []
    level = line_level = 0
    comment = False

    def end_line(blank_if_empty: bool) -> None:
        nonlocal words, comment
        if words or comment:
            lines.append("    " * line_level + " ".join(words) + ("  # 注释" if comment else ""))
        elif blank_if_empty:
            lines.append("")
        words, comment = [], False

    for piece in drawn.split(_SEP):
        if piece == _NL_MARK:
            end_line(True)
        elif piece == _INDENT_MARK:
            end_line(False)
            level += 1
        elif piece == _DEDENT_MARK:
            end_line(False)
            level = max(0, level - 1)
        elif piece == _COMMENT_MARK:
            comment = True
        elif piece:
            if not words:
                line_level = level
            words.append(piece)
    end_line(False)
    return "\n".join(lines) + "\n"


PROGRAMS = _grammar_strategy()


def test_rendering_turns_markers_into_lines_and_indentation():
    drawn = _SEP.join(["let", "x", "=", "1", _COMMENT_MARK, _NL_MARK, _INDENT_MARK, "floor", "0", _NL_MARK,
                       _DEDENT_MARK, "output", "y", "=", "x", _NL_MARK]) + _SEP
    assert render_program(drawn) == "let x = 1  # 注释\n    floor 0\noutput y = x\n"


@FAST
@given(PROGRAMS)
def test_programs_derived_from_the_grammar_load_or_report_with_a_position(text):
    check_loads_or_reports(text)


# `list of (a: one of x, y, b: number)`: the grammar derives it, the parser reads `b` as a third
# value of `a` (LALR shifts); an enumerated field must come last or list its values in brackets.
_ENUM_FIELD_NOT_LAST = re.compile(r"list of \(.*\bone of (?!\()[^)]*:")


@settings(FAST, max_examples=30)
@given(PROGRAMS)
def test_programs_derived_from_the_grammar_are_read_by_the_parser(text):
    """The derivation is faithful: what it makes is a policy as far as syntax goes (a literal
    too long or brackets nested too deep are the parser's limits, not syntax)."""
    assume(not _ENUM_FIELD_NOT_LAST.search(text))
    check_parses(text)


def check_parses(text: str) -> None:
    try:
        parse_text(text)
    except ParseFailure as failure:
        assert {d.code for d in failure.diagnostics} <= {"E104", "E105"}, (
            text + "\n" + "\n".join(d.render() for d in failure.diagnostics))


# ---- the shipped policies, damaged token by token ---------------------------------------------

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[0-9]+(?:\.[0-9]+)?[%万元]?|[^\W\d]\w*|->|>=|<=|==|!=|\.\.|[^\s#]|#.*')


def tokens(text: str) -> list:
    """`(start, end)` of each token of a policy text (comments left out), as a policy author sees them."""
    return [m.span() for m in _TOKEN.finditer(text) if not m.group().startswith("#")]


def mutate(text: str, operations) -> str:
    """Apply `(kind, i, j)` operations, i and j in [0, 1) picking a token (or a line) by position."""
    for kind, i, j in operations:
        if kind in ("delete line", "duplicate line", "indent line"):
            lines = text.split("\n")
            k = int(i * len(lines))
            if kind == "delete line":
                del lines[k]
            elif kind == "duplicate line":
                lines.insert(int(j * len(lines)), lines[k])
            else:
                lines[k] = " " * int(j * 13) + lines[k].lstrip(" ")
            text = "\n".join(lines)
            continue
        spans = tokens(text)
        if not spans:
            return text
        a, b = spans[int(i * len(spans))]
        if kind == "delete":
            text = text[:a] + text[b:]
        elif kind == "duplicate":
            text = text[:b] + " " + text[a:b] + text[b:]
        else:  # swap with another token, near or far
            c, d = spans[int(j * len(spans))]
            if (c, d) < (a, b):
                a, b, c, d = c, d, a, b
            if b <= c:
                text = text[:a] + text[c:d] + text[b:c] + text[a:b] + text[d:]
    return text


_UNIT = st.floats(min_value=0, max_value=1, exclude_max=True)
OPERATIONS = st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "swap", "swap", "delete line",
                                                 "duplicate line", "indent line"]), _UNIT, _UNIT),
                      min_size=1, max_size=4)
MUTANTS = st.tuples(st.sampled_from(SHIPPED), OPERATIONS).map(
    lambda c: (c[0], mutate(SHIPPED_TEXT[c[0]], c[1])))


def test_the_tokens_of_a_policy_are_its_words_and_symbols():
    text = 'output a "季度" = 10万 * 1.5% # note\n    cite "x \\" y"\n'
    assert [text[a:b] for a, b in tokens(text)] == ["output", "a", '"季度"', "=", "10万", "*", "1.5%",
                                                     "cite", '"x \\" y"']
    assert mutate("a b c\n", [("swap", 0, 0.9)]) == "c b a\n"
    assert mutate("a b c\n", [("delete", 0.4, 0)]) == "a  c\n"
    assert mutate("a b c\n", [("duplicate", 0.9, 0)]) == "a b c c\n"


@FAST
@given(MUTANTS)
def test_damaged_shipped_policies_load_or_report_with_a_position(mutant):
    path, text = mutant
    # The policy's own path: its imports and example files are found as when it is checked.
    check_loads_or_reports(text, str(path))


def test_every_shipped_policy_loads():
    for path, text in SHIPPED_TEXT.items():
        check_loads_or_reports(text, str(path))


# ---- what these properties found ----------------------------------------------------------------

def test_a_scorecard_of_clauses_alone_adds_up_to_zero():
    """Found by the grammar-derived programs: the compiled fast path wrote `v0 = ` (a Python syntax
    error, raised from load_policy) for a scorecard with no item."""
    policy = kpirules.load_policy_text('policy a\n\nevaluation e:\n    fact x: integer\n    scorecard s:\n'
                                       '        round up to 1\n    output o = s + x\n', "a.rules")
    assert policy.evaluate({"x": 2}).values == {"s": 0, "o": 2}
    assert policy.evaluate({"x": 2}, explain=True).values == {"s": 0, "o": 2}


def test_a_last_line_without_a_line_break_is_pointed_at_within_the_text():
    """Found by the arbitrary texts: the end of such a line was one past the end of the text."""
    text = 'policy a\nevaluation e:\n    fact x: number\ntable'
    try:
        kpirules.load_policy_text(text, "a.rules")
    except kpirules.PolicyError as exc:
        (d,) = exc.diagnostics
        assert (d.code, d.span.location(), d.span.end) == ("E100", "a.rules:4:6", len(text))
        assert d.as_json()["span"]["end_column"] == 6
    else:
        raise AssertionError("the policy loaded")
