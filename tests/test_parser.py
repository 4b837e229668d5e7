"""Parser: malformed policies give one diagnostic with the right place and a help in words.

Each case names the code, the line:column the diagnostic points at, its message and (part of)
its help. Whatever the input, `load_policy_text` raises `PolicyError` and nothing else, and no
text a user reads names a Lark terminal (`RPAR`, `_NL`, `NAME`, ...).
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from kpirules import PolicyError, load_policy_text
from kpirules.parser import MAX_DEPTH, MAX_LITERAL_DIGITS, _describe, _lark, parse_text

ROOT = Path(__file__).resolve().parents[1]
U8_TEXT = (ROOT / "policies" / "u8_presales.rules").read_text(encoding="utf-8")

# A valid policy; the cases below break one thing in it. Line numbers: 3 `evaluation`, 4-5 facts,
# 6 `scorecard`, 7 `item`, 8 its deduction, 9 the output.
BASE = '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    fact errors: count
    scorecard score total 10:
        item accuracy weight 10:
            minus 1 per errors
    output bonus = sales * score / 1000
'''

LADDER = '''\
policy demo version "1"

evaluation quarterly:
    fact won: count
    fact supported: count
    scorecard score total 20:
        item success weight 20:
            ladder won / supported standard 85%
                minus 2 per full 5% below
    output result = score
'''

# Words that would mean a Lark detail reached the user.
LARK_WORDS = re.compile(r"\b(RPAR|LPAR|RSQB|LSQB|COLON|COMMA|_NL|_INDENT|_DEDENT|NAME|NUMBER|STRING|"
                        r"PERCENT|WAN|YUAN|__ANON_\d+|\$END|<EOF>|Token|Tree|Unexpected\w*|Lark\w*|"
                        r"[A-Z][a-z]+Error)\b")


def _sub(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def diagnose(text: str, path: str = "bad.rules"):
    """The diagnostics of a policy that must not load, and their rendered text."""
    try:
        load_policy_text(text, path)
    except PolicyError as exc:
        return exc.diagnostics, exc.render()
    pytest.fail("the policy loaded; expected a syntax error")


def _nested(prefix: str, inner: str, suffix: str, n: int) -> str:
    return _sub(BASE, "sales * score / 1000", prefix * n + inner + suffix * n + " * 0 + sales * score / 1000")


# id, policy text, code, line, column, message, words the help must contain
CASES = [
    ("missing-colon-evaluation", _sub(BASE, "evaluation quarterly:", "evaluation quarterly"),
     "E100", 3, 21, "unexpected end of line", 'expected `:`, `effective` or a quoted text such as `"..."`'),
    ("missing-colon-fact", _sub(BASE, "fact sales: money", "fact sales money"),
     "E100", 4, 16, "unexpected `money`", 'expected `:` or a quoted text such as `"..."`'),
    ("missing-colon-item", _sub(BASE, "weight 10:", "weight 10"),
     "E100", 7, 32, "unexpected end of line", "expected `,` or `:`"),
    ("missing-weight", _sub(BASE, "item accuracy weight 10:", "item accuracy 10:"),
     "E100", 7, 23, "unexpected `10`", 'expected `weight` or a quoted text such as `"..."`'),
    ("weight-not-a-number", _sub(BASE, "weight 10", "weight ten"),
     "E100", 7, 30, "unexpected `ten`", "expected a number"),
    ("unknown-keyword", _sub(BASE, "output bonus", "outptu bonus"),
     "E100", 9, 5, "unexpected `outptu`",
     "did you mean `output`? expected `assert`, `fact`, `for`, `let`, `output`, `scorecard` or the end of the indented block"),
    ("unknown-type", _sub(BASE, "fact sales: money", "fact sales: monie"),
     "E100", 4, 17, "unexpected `monie`", "did you mean `money`? expected one of `boolean`, `count`, `date`,"),
    ("misspelt-total", _sub(BASE, "score total 10", "score totl 10"),
     "E100", 6, 21, "unexpected `totl`", "did you mean `total`?"),
    ("per-without-step-rule", _sub(LADDER, "per full 5% below", "per 5% below"),
     "E100", 9, 29, "unexpected `5%`: a ladder step needs `full`, `started` or `prorated` after `per`",
     "expected `full` (whole steps only), `started` (a begun step counts) or `prorated`"),
    ("ladder-without-direction", _sub(LADDER, "per full 5% below", "per full 5%"),
     "E100", 9, 36, "unexpected end of line", "expected `above`, `below` or an operator"),
    # A ladder may take its steps from a shared ladder (`using`), so a missing block is the checker's.
    ("ladder-without-steps", _sub(LADDER, "                minus 2 per full 5% below\n", ""),
     "E313", 8, 13, "a ladder needs at least one step line", "`using` a shared ladder"),
    ("expression-missing", _sub(BASE, "sales * score / 1000", "sales *"),
     "E100", 9, 27, "unexpected end of line", "expected an expression"),
    ("expression-missing-before-comment", _sub(BASE, "sales * score / 1000", "sales * # why?"),
     "E100", 9, 27, "unexpected end of line", "expected an expression"),
    ("operator-missing", _sub(BASE, "sales * score / 1000", "sales score"),
     "E100", 9, 26, "unexpected `score`",
     "expected `,`, an operator (`+`, `*`, `>=`, `and`, ...) or the end of the line"),
    ("operator-twice", _sub(BASE, "sales * score", "sales * * score"),
     "E100", 9, 28, "unexpected `*`", "expected an expression"),
    ("if-without-then", _sub(BASE, "sales * score / 1000", "if errors > 1 sales else 0元"),
     "E100", 9, 34, "unexpected `sales`", "expected `then` or an operator"),
    ("extra-closing-parenthesis", _sub(BASE, "sales * score / 1000", "sales * score) / 1000"),
     "E100", 9, 33, "unexpected `)`", "expected `,`, an operator"),
    ("keyword-as-name", _sub(_sub(BASE, "fact errors: count", "fact count: count"),
                             "per errors", "per count"),
     "E100", 8, 25, "`count` is a keyword and cannot be used as a name",
     "rename `count` where line 5 declares it, e.g. to `count_value`"),
    ("no-policy-header", BASE.split("\n", 2)[2],
     "E100", 1, 1, "unexpected `evaluation`", "expected `policy` and the policy's name first"),
    ("unclosed-parenthesis", _sub(BASE, "sales * score / 1000", "(sales * score / 1000"),
     "E108", 9, 20, "`(` is never closed", "add the missing `)`"),
    ("unclosed-parenthesis-at-end-without-newline",
     _sub(BASE, "sales * score / 1000\n", "(sales * score / 1000"),
     "E108", 9, 20, "`(` is never closed", "add the missing `)`"),
    ("unclosed-parenthesis-before-more-lines", _sub(BASE, "minus 1 per errors", "minus 1 per (errors"),
     "E108", 8, 25, "`(` is never closed", "add the missing `)`"),
    ("unclosed-bracket", _sub(BASE, "sales * score", "sales[errors * score"),
     "E108", 9, 25, "`[` is never closed", "add the missing `]`"),
    ("dedent-to-no-block", _sub(BASE, "    output bonus", "  output bonus"),
     "E103", 9, 3, "this line is indented by 2 columns, which matches no enclosing block",
     "indent it like the lines of the block it belongs to (0, 4, 8 or 12 columns)"),
    ("indented-too-far", _sub(BASE, "    fact errors", "      fact errors"),
     "E103", 5, 7, "this line is indented more than the line above",
     "indent it like the line above; only `cite` and `note` lines may be indented under a fact or gate"),
    ("tab-after-spaces", _sub(BASE, "    output bonus", "\toutput bonus"),
     "E103", 9, 1, "this line is indented with a tab, but line 4 with spaces",
     "indent every line with spaces only"),
    ("tab-and-spaces-in-one-line", _sub(BASE, "    output bonus", "  \t  output bonus"),
     "E103", 9, 3, "this line's indentation mixes tabs and spaces", "indent with spaces only"),
    ("curly-quotes", _sub(BASE, '"1"', "“1”"),
     "E101", 1, 21, "unexpected character `“` (U+201C left double quotation mark)", 'use `"` instead'),
    ("full-width-colon", _sub(BASE, "fact sales: money", "fact sales： money"),
     "E101", 4, 15, "unexpected character `：` (U+FF1A fullwidth colon)", "use `:` instead"),
    ("full-width-parentheses", _sub(BASE, "sales * score / 1000", "（sales * score） / 1000"),
     "E101", 9, 20, "unexpected character `（` (U+FF08 fullwidth left parenthesis)", "use `(` instead"),
    ("full-width-percent", _sub(BASE, "sales * score / 1000", "sales * score * 40％"),
     "E101", 9, 38, "unexpected character `％` (U+FF05 fullwidth percent sign)", "use `%` instead"),
    ("full-width-digit", _sub(BASE, "/ 1000", "/ １000"),
     "E101", 9, 36, "unexpected character `１` (U+FF11 fullwidth digit one)", "use `1` instead"),
    ("ideographic-comma", _sub(BASE, "weight 10:", "weight 10、 accuracy:"),
     "E101", 7, 32, "unexpected character `、` (U+3001 ideographic comma)", "use `,` instead"),
    ("non-breaking-space", _sub(BASE, "sales * score", "sales *\u00a0score"),
     "E101", 9, 27, "unexpected no-break space (U+00A0)", "replace it with a plain space"),
    ("ideographic-space", _sub(BASE, "sales * score", "sales *\u3000score"),
     "E101", 9, 27, "unexpected ideographic space (U+3000)", "replace it with a plain space"),
    ("en-dash-as-minus", _sub(BASE, "sales * score / 1000", "sales \u2013 1元"),
     "E101", 9, 26, "unexpected character `\u2013` (U+2013 en dash)", "use `-` instead"),
    ("minus-sign", _sub(BASE, "sales * score / 1000", "sales \u2212 1元"),
     "E101", 9, 26, "unexpected character `\u2212` (U+2212 minus sign)", "use `-` instead"),
    ("zero-width-space", _sub(BASE, "sales * score", "sales\u200b * score"),
     "E101", 9, 25, "invisible character U+200B (zero width space) is not allowed", "delete it"),
    ("bidi-override-in-comment", _sub(BASE, "evaluation quarterly:", "evaluation quarterly:  # \u202e}"),
     "E101", 3, 26, "invisible character U+202E (right-to-left override) is not allowed", "delete it"),
    ("bidi-isolate-in-text", _sub(BASE, '"1"', '"1\u2066"'),
     "E101", 1, 23, "invisible character U+2066 (left-to-right isolate) is not allowed", "delete it"),
    ("control-character", _sub(BASE, "sales * score", "sales \x07* score"),
     "E101", 9, 26, "invisible character U+0007 is not allowed", "delete it"),
    ("carriage-return-alone", _sub(BASE, "\n    output bonus", "\r    output bonus"),
     "E101", 8, 31, "a carriage return without a line feed", "line endings"),
    ("unterminated-text", _sub(BASE, 'version "1"', 'version "1'),
     "E107", 1, 21, "unterminated quoted text: it must end on the same line", 'add the closing `"`'),
    ("unknown-escape", _sub(BASE, 'version "1"', 'version "1\\d"'),
     "E107", 1, 23, "unknown escape `\\d` in quoted text", "write `\\\\` for a backslash"),
    ("empty-file", "", "E102", 1, 1, "the policy file is empty", "expected `policy` and the policy's name first"),
    ("blank-file", "\n  \n\n", "E102", 1, 1, "the policy file is empty", "expected `policy`"),
    ("only-comments", "# U8 policy\n# to be written\n",
     "E102", 1, 1, "the policy file has only comments", "expected `policy`"),
    ("ends-after-a-colon", BASE.split("    fact sales")[0],
     "E102", 3, 22, "unexpected end of the file", "expected an indented block"),
    ("nested-parentheses", _nested("(", "sales", ")", 300),
     "E104", 9, 20 + MAX_DEPTH, f"brackets nest more than {MAX_DEPTH} levels deep", "named `let` values"),
    ("nested-negations-in-parentheses", _nested("-(", "sales", ")", 300),
     "E104", 9, 20 + 2 * MAX_DEPTH + 1, f"brackets nest more than {MAX_DEPTH} levels deep",
     "named `let` values"),
    ("nested-negations", _nested("-", "sales", "", 300),
     "E104", 9, 20, f"expression nests 302 levels deep; at most {MAX_DEPTH} are allowed", "named `let` values"),
    ("nested-not", _sub(BASE, "minus 1 per errors", "minus 1 if " + "not " * 300 + "errors > 1"),
     "E104", 8, 24, f"expression nests 301 levels deep; at most {MAX_DEPTH} are allowed", "named `let` values"),
    ("nested-index", _nested("errors[", "1", "]", 300),
     "E104", 9, 20 + 7 * MAX_DEPTH + 6, f"brackets nest more than {MAX_DEPTH} levels deep", "named `let` values"),
    ("huge-number", _sub(BASE, "/ 1000", "/ 1" + "0" * 400),
     "E105", 9, 36, f"number literal has 401 digits; at most {MAX_LITERAL_DIGITS} are allowed",
     "fewer digits"),
    ("huge-percentage", _sub(BASE, "/ 1000", "* 0." + "5" * 60 + "%"),
     "E105", 9, 36, f"number literal has 61 digits; at most {MAX_LITERAL_DIGITS} are allowed", "fewer digits"),
]


@pytest.mark.parametrize("name,text,code,line,col,message,help", CASES, ids=[c[0] for c in CASES])
def test_malformed_policy(name, text, code, line, col, message, help):
    diags, rendered = diagnose(text)
    assert len(diags) == 1, rendered
    d = diags[0]
    assert (d.code, d.span.line, d.span.column, d.message) == (code, line, col, message), rendered
    assert d.help and help in d.help, rendered
    assert rendered.startswith(f"bad.rules:{line}:{col}: error[{code}]: {message}\n")
    assert not LARK_WORDS.search(rendered), rendered


@pytest.mark.parametrize("name,text,code,line,col,message,help",
                         [c for c in CASES if c[2] in ("E100", "E102")], ids=[c[0] for c in CASES if c[2] in ("E100", "E102")])
def test_syntax_errors_say_what_was_expected(name, text, code, line, col, message, help):
    d = diagnose(text)[0][0]
    assert "expected " in d.help or "rename " in d.help


def test_the_base_policies_are_valid():
    load_policy_text(BASE)
    load_policy_text(LADDER)
    load_policy_text(U8_TEXT)


def test_a_file_without_a_final_newline_loads():
    # Spans end at the added newline; they must stay inside the text (once an IndexError).
    load_policy_text(BASE.rstrip("\n"))
    load_policy_text(U8_TEXT.rstrip("\n"))
    policy = parse_text(BASE.rstrip("\n"))
    assert policy.span.end <= len(BASE.rstrip("\n"))


def test_a_byte_order_mark_is_dropped_from_files_and_text(tmp_path):
    from kpirules import load_policy
    path = tmp_path / "bom.rules"
    path.write_bytes("\ufeff".encode("utf-8") + BASE.encode("utf-8"))
    assert load_policy(path).name == load_policy_text("\ufeff" + BASE).name


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1])
def test_nesting_up_to_the_limit_is_fine(depth):
    load_policy_text(_nested("(", "sales", ")", depth))
    load_policy_text(_nested("-(", "sales", ")", depth // 2))


@pytest.mark.parametrize("prefix,inner,suffix", [("(", "sales", ")"), ("-(", "sales", ")"), ("-", "sales", ""),
                                                 ("not ", "true", ""), ("max(1元, ", "sales", ")")])
def test_very_deep_nesting_is_refused_quickly_without_recursion_error(prefix, inner, suffix):
    # Far beyond MAX_DEPTH, and within MAX_TOKENS (E323), so that nesting is what is refused.
    text = _nested(prefix, inner, suffix, 8_000)
    started = time.perf_counter()
    diags, _ = diagnose(text)
    assert [d.code for d in diags] == ["E104"]
    assert time.perf_counter() - started < 10


def test_expected_terminals_are_always_described_in_words():
    parser = _lark()
    for term in parser.terminals:
        words = _describe(parser, {term.name})
        assert not LARK_WORDS.search(words), (term.name, words)
    for name in ("$END", "_INDENT", "_DEDENT", "_NL", "SOMETHING_NEW"):
        assert not LARK_WORDS.search(_describe(parser, {name})), name


def test_many_expected_terminals_are_grouped():
    parser = _lark()
    every = {t.name for t in parser.terminals} | {"$END", "_INDENT", "_DEDENT"}
    words = _describe(parser, every)
    assert words.startswith("one of an expression, an operator (")
    assert len(words) < 400 and not LARK_WORDS.search(words)


# ---- robustness: random damage to the shipped policy ------------------------------------------

_INSERTS = list('():,;[]."-+*/<>=%#万元 \t\n') + ["“", "：", "（", "\u00a0", "\u200b", "if ", "per ", "full ",
                                                 "item ", "not ", "sum over ", "weight ", "standard ",
                                                 "round ", "only if ", "cite \"x\"", "count ", "fact ",
                                                 "let ", "output ", "scorecard ", "gate ", "table ", "9" * 50]


def _mutate(rnd: random.Random, text: str) -> str:
    kind = rnd.randrange(6)
    i = rnd.randrange(len(text))
    if kind == 0:
        return text[:i] + text[i + 1 + rnd.randrange(5):]
    if kind == 1:
        return text[:i] + rnd.choice(_INSERTS) + text[i:]
    lines = text.split("\n")
    j = rnd.randrange(len(lines))
    if kind == 2:
        lines.insert(rnd.randrange(len(lines)), lines[j])
    elif kind == 3:
        del lines[j]
    elif kind == 4:
        words = re.findall(r"\w+", text)
        return text.replace(rnd.choice(words), rnd.choice(words), 1)
    else:
        lines[j] = " " * rnd.randrange(14) + lines[j].lstrip()
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(4))
def test_damaged_policies_raise_only_policy_errors_in_the_contract_format(seed):
    rnd = random.Random(seed)
    head = re.compile(r"^m\.rules:\d+:\d+: (error|warning)\[[EW]\d{3}\]: [`a-z0-9\"]")
    for _ in range(150):
        text = U8_TEXT
        for _ in range(rnd.randrange(1, 4)):
            text = _mutate(rnd, text)
        try:
            load_policy_text(text, "m.rules")
        except PolicyError as exc:
            rendered = exc.render()
            assert not LARK_WORDS.search(rendered), rendered
            for d in exc.diagnostics:
                if d.span is not None:
                    assert head.match(d.render()), d.render()
        # any other exception fails the test with the damaged text in the traceback
