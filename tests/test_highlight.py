"""Editor support: the Pygments lexer (src/kpirules/highlight.py) and the TextMate grammar
(editors/vscode/) highlight every keyword of grammar.lark, every shipped policy without an error
token, and agree with each other.

Pygments is optional: the tests that need it skip, with the reason, when it is missing; those of
the TextMate grammar alone need only the standard library (a small TextMate tokenizer below runs
the grammar with Python's `re`, which understands every regex the grammar uses) and, when the
system has it, Oniguruma (libonig), the regex engine of VS Code and TextMate.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR_LARK = ROOT / "src" / "kpirules" / "grammar.lark"
VSCODE = ROOT / "editors" / "vscode"
TM_GRAMMAR = VSCODE / "syntaxes" / "kpirules.tmLanguage.json"
SHIPPED = sorted([*ROOT.glob("policies/*.rules"), *ROOT.glob("ruleset/*.rules")])
NO_PYGMENTS = "pygments is not installed (pip install kpirules[highlight])"


def grammar_keywords() -> set[str]:
    """Every quoted lowercase word of grammar.lark: the language's keywords."""
    text = re.sub(r"(?m)^\s*//.*$", "", GRAMMAR_LARK.read_text(encoding="utf-8"))
    return set(re.findall(r'"([a-z][a-z_]*)"', text))


KEYWORDS = sorted(grammar_keywords())


@pytest.fixture(scope="module")
def hl():
    pytest.importorskip("pygments", reason=NO_PYGMENTS)
    from kpirules import highlight
    return highlight


@pytest.fixture(scope="module")
def lexer(hl):
    # No newline stripping or adding, so that the tokens spell the input exactly.
    return hl.KpirulesLexer(stripnl=False, ensurenl=False)


def pyg_tokens(lexer, text):
    """Tokens of `text`, adjacent tokens of one type merged (as formatters show them)."""
    merged = []
    for _, ttype, value in lexer.get_tokens_unprocessed(text):
        if merged and merged[-1][0] is ttype:
            merged[-1] = (ttype, merged[-1][1] + value)
        else:
            merged.append((ttype, value))
    return merged


def pyg_type(lexer, text, needle):
    """The token type of the token that is exactly `needle` in `text`."""
    hits = [t for t, v in pyg_tokens(lexer, text) if v == needle]
    assert hits, f"no token {needle!r} in {pyg_tokens(lexer, text)}"
    return hits[0]


# ---- a small TextMate tokenizer, enough for this grammar ------------------------------------

class TextMate:
    """Runs a TextMate grammar the way VS Code does: line by line, at each position the leftmost
    match wins, ties go to the earlier pattern, and the end pattern of a begin/end rule is tried
    first. Supports `match` (with captures, and patterns in captures), `begin`/`end`, and
    `include` of repository entries."""

    def __init__(self, grammar: dict):
        self.grammar = grammar
        self.repo = grammar.get("repository", {})

    @staticmethod
    @functools.cache
    def rx(pattern: str) -> re.Pattern:
        return re.compile(pattern)

    def flat(self, patterns: list) -> list:
        out = []
        for p in patterns:
            if "include" in p:
                ref = p["include"]
                assert ref.startswith("#"), f"only repository includes are supported: {ref}"
                entry = self.repo[ref[1:]]
                if "match" in entry or "begin" in entry:
                    out.append(entry)
                else:
                    out.extend(self.flat(entry["patterns"]))
            else:
                out.append(p)
        return out

    @staticmethod
    def names(rule: dict | None) -> tuple:
        return tuple((rule or {}).get("name", "").split())

    def _captured(self, m: re.Match, base: tuple, captures: dict | None) -> list[tuple]:
        scopes = [base] * (m.end() - m.start())
        for key in sorted(captures or {}, key=int):
            cap, g = captures[key], int(key)
            if m.start(g) < 0:
                continue
            for k in range(m.start(g), m.end(g)):
                scopes[k - m.start()] += self.names(cap)
            if "patterns" in cap:
                inner = self._line(m.group(g), [(self.flat(cap["patterns"]), None, (), None)])
                for k, extra in enumerate(inner):
                    scopes[m.start(g) - m.start() + k] += extra
        return scopes

    def _line(self, s: str, stack: list) -> list[tuple]:
        out: list[tuple] = []
        pos = 0
        while pos < len(s):
            patterns, end, scopes, rule = stack[-1]
            best = None
            if end is not None and (m := end.search(s, pos)):
                best = (m.start(), m, "end", rule)
            for p in patterns:
                m = self.rx(p.get("match") or p["begin"]).search(s, pos)
                if m and (best is None or m.start() < best[0]):
                    best = (m.start(), m, "match" if "match" in p else "begin", p)
            if best is None:
                out += [scopes] * (len(s) - pos)
                break
            start, m, kind, p = best
            out += [scopes] * (start - pos)
            if kind == "end":
                out += self._captured(m, scopes, p.get("endCaptures"))
                stack.pop()
            elif kind == "match":
                out += self._captured(m, scopes + self.names(p), p.get("captures"))
            else:
                inner = scopes + self.names(p)
                out += self._captured(m, inner, p.get("beginCaptures"))
                stack.append((self.flat(p.get("patterns", [])), self.rx(p["end"]), inner, p))
            if m.end() == start and kind != "end":  # an empty match: step over one character
                if start < len(s):
                    out.append(scopes)
                pos = start + 1
            else:
                pos = m.end()
        return out

    def scopes(self, text: str) -> list[tuple]:
        """One tuple of scopes for every character of `text` (newlines included)."""
        stack = [(self.flat(self.grammar["patterns"]), None, (self.grammar["scopeName"],), None)]
        out: list[tuple] = []
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\r\n")
            out += self._line(body + "\n", stack)[:len(body)]
            out += [(self.grammar["scopeName"],)] * (len(line) - len(body))
        return out


@pytest.fixture(scope="module")
def tm_grammar() -> dict:
    return json.loads(TM_GRAMMAR.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tm(tm_grammar) -> TextMate:
    return TextMate(tm_grammar)


def find(text, needle):
    """Where `needle` first stands in `text` as a whole word (or at all, if it is no word)."""
    before = r"(?<!\w)" if re.match(r"\w", needle) else ""
    after = r"(?!\w)" if re.search(r"\w$", needle) else ""
    return re.search(before + re.escape(needle) + after, text).start()


def tm_scopes(tm, text, needle):
    """The scopes shared by every character of the first `needle` in `text`."""
    at = find(text, needle)
    scopes = tm.scopes(text)[at:at + len(needle)]
    return tuple(s for s in scopes[0] if all(s in other for other in scopes))


def all_regexes(node, where="$"):
    """(where, key, regex) for every regex of a TextMate grammar."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("match", "begin", "end", "while") and isinstance(value, str):
                yield f"{where}.{key}", key, value
            else:
                yield from all_regexes(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from all_regexes(value, f"{where}[{i}]")


KEYWORD_SCOPES = ("keyword.", "storage.type", "constant.language")


def tm_keyword_patterns(grammar) -> list[tuple[str, str]]:
    """(scope, regex) of the keyword alternations `\\b(?:a|b|...)\\b` of the grammar."""
    found = []
    for where, key, regex in all_regexes(grammar):
        if key != "match" or not re.fullmatch(r"\\b\(\?:[a-z_|]+\)\\b", regex):
            continue
        rule = grammar
        for part in re.findall(r"\.(\w[\w-]*)|\[(\d+)\]", where.rsplit(".", 1)[0]):
            rule = rule[part[0]] if part[0] else rule[int(part[1])]
        if rule.get("name", "").startswith(KEYWORD_SCOPES):
            found.append((rule["name"], regex))
    return found


def tm_keywords(grammar) -> set[str]:
    words = set()
    for _, regex in tm_keyword_patterns(grammar):
        words |= set(regex[len(r"\b(?:"):-len(r")\b")].split("|"))
    return words


# ---- the keyword sets ----------------------------------------------------------------------

def test_grammar_keywords_are_found():
    assert {"policy", "ladder", "money", "blend", "prorated", "ceiling", "and"} <= set(KEYWORDS)
    assert len(KEYWORDS) > 60
    assert "kpirules" not in KEYWORDS  # words in comments and regexes are not keywords


def test_lexer_keywords_are_the_grammar_keywords(hl):
    assert set(hl.KEYWORDS) - set(KEYWORDS) == set(), "the lexer highlights words the grammar lacks"
    assert set(KEYWORDS) - set(hl.KEYWORDS) == set(), \
        "grammar.lark has keywords that src/kpirules/highlight.py does not highlight"
    listed = [w for words in hl.KEYWORD_CLASSES.values() for w in words]
    assert len(listed) == len(set(listed)), "a keyword is in two classes"


def test_textmate_keywords_are_the_grammar_keywords(tm_grammar):
    words = tm_keywords(tm_grammar)
    assert words - set(KEYWORDS) == set(), "the TextMate grammar highlights words the grammar lacks"
    assert set(KEYWORDS) - words == set(), \
        "grammar.lark has keywords that editors/vscode/syntaxes/kpirules.tmLanguage.json lacks"


def test_lexer_highlights_every_keyword_alone(lexer):
    from pygments.token import Keyword, Name, Operator
    wrong = {}
    for word in KEYWORDS:
        tokens = pyg_tokens(lexer, word)
        if len(tokens) != 1 or not (tokens[0][0] in Keyword or tokens[0][0] in Operator.Word):
            wrong[word] = tokens
        for name in (word + "x", word + "_1", "x" + word, word + "奖金"):
            if pyg_tokens(lexer, name) != [(Name, name)]:
                wrong[name] = pyg_tokens(lexer, name)
    assert wrong == {}


def test_textmate_keyword_alternations_match_keywords_only(tm_grammar):
    patterns = [re.compile(regex) for _, regex in tm_keyword_patterns(tm_grammar)]
    assert patterns
    for word in KEYWORDS:
        assert any(p.fullmatch(word) for p in patterns), f"no keyword pattern matches {word!r}"
        for longer in (word + "x", "x" + word, word + "_", word + "2", word + "奖金",
                       "奖金" + word):
            hits = [p.pattern for p in patterns if p.search(longer)]
            assert hits == [], f"{longer!r} is not a keyword but {hits} match it"


def test_textmate_highlights_every_keyword_alone(tm):
    wrong = {}
    for word in KEYWORDS:
        scopes = tm_scopes(tm, word, word)
        if not any(s.startswith(KEYWORD_SCOPES) for s in scopes):
            wrong[word] = scopes
        name = word + "x"
        if tm_scopes(tm, name, name)[-1] != "variable.other.kpirules":
            wrong[name] = tm_scopes(tm, name, name)
    assert wrong == {}


def test_builtin_functions_are_the_checkers(hl):
    checker = pytest.importorskip("kpirules.checker")
    functions = getattr(checker, "FUNCTIONS", None)
    if functions is None:
        pytest.skip("kpirules.checker no longer lists FUNCTIONS")
    assert set(hl.BUILTINS) == set(functions)


# ---- the shipped policies and modules ------------------------------------------------------

@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_file_lexes_without_error(lexer, path):
    from pygments.token import Error
    text = path.read_text(encoding="utf-8")
    tokens = list(lexer.get_tokens(text))
    assert "".join(v for _, v in tokens) == text
    assert [(t, v) for t, v in tokens if t in Error] == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_file_has_no_invalid_textmate_scope(tm, path):
    text = path.read_text(encoding="utf-8")
    scopes = tm.scopes(text)
    assert len(scopes) == len(text)
    bad = [(text.count("\n", 0, i) + 1, text[i], s) for i, s in enumerate(scopes)
           if any(x.startswith("invalid") for x in s)]
    assert bad == []


def _pyg_class(ttype):
    from pygments.token import (Comment, Error, Keyword, Name, Number, Operator, Punctuation,
                                String, Whitespace)
    for parent, cls in ((Comment, "comment"), (String, "string"), (Number, "number"),
                        (Operator.Word, "keyword"), (Keyword, "keyword"), (Operator, "operator"),
                        (Punctuation, "punctuation"), (Name, "name"), (Whitespace, "space"),
                        (Error, "error")):
        if ttype in parent:
            return cls
    return str(ttype)


def _tm_class(scopes):
    def has(prefix):
        return any(s.startswith(prefix) for s in scopes)
    for prefix, cls in (("invalid", "error"), ("comment", "comment"), ("string", "string"),
                        ("constant.numeric", "number"), ("keyword.operator.word", "keyword"),
                        ("keyword.operator", "operator"), ("keyword", "keyword"),
                        ("storage.type", "keyword"), ("constant.language", "keyword"),
                        ("punctuation", "punctuation"), ("entity.name", "name"),
                        ("variable", "name"), ("support.function", "name")):
        if has(prefix):
            return cls
    return "space"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pygments_and_textmate_agree(lexer, tm, path):
    from pygments.token import Name
    text = path.read_text(encoding="utf-8")
    pyg = []
    for ttype, value in pyg_tokens(lexer, text):
        pyg += [ttype] * len(value)
    tms = tm.scopes(text)
    declared = (Name.Namespace, Name.Class, Name.Variable, Name.Label)
    differ = []
    for i, (ttype, scopes) in enumerate(zip(pyg, tms, strict=True)):
        if text[i].isspace():
            continue
        a, b = _pyg_class(ttype), _tm_class(scopes)
        tm_declared = any(s.startswith("entity.name") and "section" not in s for s in scopes)
        if a != b or (ttype in declared) != (tm_declared and ttype is not Name.Function):
            differ.append((text.count("\n", 0, i) + 1, text[i], str(ttype), scopes))
    assert differ[:10] == []


# ---- token classes -------------------------------------------------------------------------

SNIPPET = textwrap.dedent('''\
    policy demo "演示" version "2026.1"
    import presales   # note
    table split "季度" (quarter) -> percent:
        1 -> 15%; 2 -> 25%
    ladder steps "阶梯":
        minus 2 per full 5% below
    bands grades in 0..100:
        "优秀" from 91
    function rate (a: money, b: money) = a ÷ b × 100
    let 部门目标 "目标" = 10万 + 800元 - 0.5
    evaluation q:
        fact n "次数": count <= 10
        fact xs: list of money >= 0
        scorecard kpi total 100:
            item sales "销售" weight 60, knowledge:
                ladder n / 10 standard 85% using steps, if none: standard
                minus 1 if n != 3 and not true
            gate knowledge items: count only if xs[item] >= 1 else "未推广"
        output bonus = max(sum(xs), count(xs)) * rate(1, 2)
            round half up to 0.01
    example "a \\"quoted\\" title" for q:
        given n = 3
        expect bonus = 1
    ''')

# (text in the snippet, expected Pygments token type name, expected TextMate scope prefix)
CLASSIFIED = [
    ("85%", "Literal.Number", "constant.numeric.percentage"),
    ("15%", "Literal.Number", "constant.numeric.percentage"),
    ("10万", "Literal.Number", "constant.numeric.amount"),
    ("800元", "Literal.Number", "constant.numeric.amount"),
    ("0.5", "Literal.Number.Float", "constant.numeric.decimal"),
    ("100", "Literal.Number.Integer", "constant.numeric.integer"),
    ('"优秀"', "Literal.String.Double", "string.quoted.double"),
    ("# note", "Comment.Single", "comment.line.number-sign"),
    ("ladder", "Keyword.Declaration", "keyword.other.declaration"),
    ("money", "Keyword.Type", "storage.type"),
    ("percent", "Keyword.Type", "storage.type"),
    ("policy", "Keyword.Namespace", "keyword.other.declaration"),
    ("import", "Keyword.Namespace", "keyword.control.import"),
    ("demo", "Name.Namespace", "entity.name.namespace"),
    ("split", "Name.Function", "entity.name.function"),
    ("steps", "Name.Function", "entity.name.function"),
    ("grades", "Name.Function", "entity.name.function"),
    ("rate", "Name.Function", "entity.name.function"),
    ("部门目标", "Name.Variable", "entity.name.variable"),
    ("q", "Name.Class", "entity.name.type"),
    ("kpi", "Name.Class", "entity.name.type"),
    ("sales", "Name.Label", "entity.name.label"),
    ("bonus", "Name.Variable", "entity.name.variable"),
    ("quarter", "Name", "variable.other"),
    ("presales", "Name", "variable.other"),
    ("max", "Name.Builtin", "support.function.builtin"),
    ("version", "Keyword", "keyword.other"),
    ("if", "Keyword", "keyword.control"),
    ("and", "Operator.Word", "keyword.operator.word"),
    ("true", "Keyword.Constant", "constant.language"),
    ("none", "Keyword.Constant", "constant.language"),
    ("->", "Operator", "keyword.operator.arrow"),
    ("..", "Operator", "keyword.operator.range"),
    ("÷", "Operator", "keyword.operator.arithmetic"),
    ("×", "Operator", "keyword.operator.arithmetic"),
    ("<=", "Operator", "keyword.operator.comparison"),
    (">=", "Operator", "keyword.operator.comparison"),
    ("!=", "Operator", "keyword.operator.comparison"),
    (";", "Punctuation", "punctuation.separator"),
]


def _ttype(name):
    from pygments import token
    ttype = token.Token
    for part in name.split("."):
        ttype = getattr(ttype, part)
    return ttype


@pytest.mark.parametrize("needle, ttype, _", CLASSIFIED, ids=[c[0] for c in CLASSIFIED])
def test_lexer_classifies(lexer, needle, ttype, _):
    assert pyg_type(lexer, SNIPPET, needle) is _ttype(ttype)


@pytest.mark.parametrize("needle, _, scope", CLASSIFIED, ids=[c[0] for c in CLASSIFIED])
def test_textmate_classifies(tm, needle, _, scope):
    assert any(s.startswith(scope) for s in tm_scopes(tm, SNIPPET, needle))


def test_context_sensitive_words(lexer, tm):
    from pygments.token import Keyword, Name
    cases = [  # (text, word, Pygments type, TextMate scope)
        ("fact n: count <= 3\n", "count", Keyword.Type, "storage.type"),
        ("let c = count(xs)\n", "count", Keyword, "keyword.other.aggregate"),
        ("let c = count over xs\n", "count", Keyword, "keyword.other.aggregate"),
        ("let s = sum over xs of x\n", "sum", Keyword, "keyword.other"),
        ("    ladder a / b standard 90%\n", "a", Name, "variable.other"),
        ("    ladder a / b standard 90%\n", "ladder", Keyword.Declaration, "keyword.other"),
        ("    only if rollout[item]\n", "item", Keyword.Declaration, "keyword.other"),
        ("let x = f(1)\n", "f", Name.Function, "variable.function"),
    ]
    for text, word, ttype, scope in cases:
        assert pyg_type(lexer, text, word) is ttype, text
        assert any(s.startswith(scope) for s in tm_scopes(tm, text, word)), text


def test_string_escapes(lexer, tm):
    from pygments.token import Error, String
    text = 'cite "a \\"b\\" \\\\ \\n \\t c"\n'
    assert [v for t, v in pyg_tokens(lexer, text) if t is String.Escape] == [
        '\\"', '\\"', "\\\\", "\\n", "\\t"]
    assert "constant.character.escape.kpirules" in tm_scopes(tm, text, '\\"')
    bad = 'cite "a \\q"\n'
    assert Error in {t for t, _ in pyg_tokens(lexer, bad)}
    assert any(s.startswith("invalid") for s in tm_scopes(tm, bad, "\\q"))


@pytest.mark.parametrize("char", ["\u201c", "\uff0c", "\uff18", "\u00a0", "\u2013", "\uff1a"],
                         ids=["curly-quote", "fullwidth-comma", "fullwidth-digit", "nbsp",
                              "en-dash", "fullwidth-colon"])
def test_word_processor_characters_are_errors(lexer, tm, char):
    from pygments.token import Error
    text = f"let x = 1 {char} 2\n"
    assert pyg_type(lexer, text, char) is Error
    assert any(s.startswith("invalid.illegal") for s in tm_scopes(tm, text, char))


def test_unterminated_string_stops_at_end_of_line(lexer, tm):
    from pygments.token import Keyword, Name
    text = 'cite "no end\nlet x = 1\n'
    assert pyg_type(lexer, text, "let") is Keyword.Declaration
    assert pyg_type(lexer, text, "x") is Name.Variable
    assert "entity.name.variable.kpirules" in tm_scopes(tm, text, "x")


def test_any_text_round_trips(lexer):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st
    alphabet = st.sampled_from(list('ab季度 \t\n\r"#\\%万元0123456789.,:;()[]{}-+×÷<>=!') +
                               ["\u201c", "\u00a0", "let ", "item ", "ladder ", "example "])

    @hypothesis.settings(max_examples=150, deadline=None, derandomize=True)
    @hypothesis.given(st.lists(alphabet, max_size=60).map("".join))
    def check(text):
        assert "".join(v for _, _, v in lexer.get_tokens_unprocessed(text)) == text

    check()


# ---- the TextMate files --------------------------------------------------------------------

# Oniguruma syntax Python's `re` does not have; a regex using one is checked by Oniguruma only.
ONIGURUMA_ONLY = re.compile(r"\\[pPhHGKRXyY]|\\x\{|\(\?~|\\k<|\(\?<[a-zA-Z]|\[\[:|\(\?[imx]-")


def test_textmate_grammar_is_valid(tm_grammar):
    assert tm_grammar["scopeName"] == "source.kpirules"
    assert "rules" in tm_grammar["fileTypes"]
    regexes = list(all_regexes(tm_grammar))
    assert len(regexes) > 30
    for where, _, regex in regexes:
        if ONIGURUMA_ONLY.search(regex):
            continue
        try:
            re.compile(regex)
        except re.error as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{where}: {regex!r} does not compile: {exc}")
    for ref in re.findall(r'"include":\s*"#([^"]+)"', TM_GRAMMAR.read_text(encoding="utf-8")):
        assert ref in tm_grammar["repository"], f"#{ref} is not in the repository"
    text = TM_GRAMMAR.read_text(encoding="utf-8")
    for scope in ("comment.line.number-sign", "string.quoted.double", "keyword.control",
                  "keyword.other", "storage.type", "constant.numeric", "keyword.operator",
                  "entity.name", "variable.other"):
        assert f'"{scope}' in text or f" {scope}" in text, f"no {scope} scope"


def test_textmate_names_every_declaration(tm):
    text = SNIPPET + "module m\n"
    for keyword, name in [("policy", "demo"), ("module", "m"), ("table", "split"),
                          ("bands", "grades"), ("ladder", "steps"), ("function", "rate"),
                          ("let", "部门目标"), ("output", "bonus"), ("fact", "xs"),
                          ("item", "sales"), ("scorecard", "kpi"), ("evaluation", "q"),
                          ("gate", "knowledge")]:
        at = text.index(f"{keyword} {name}") + len(keyword) + 1
        scopes = tm.scopes(text)[at]
        assert any(s.startswith("entity.name") for s in scopes), (keyword, name, scopes)
    title = tm_scopes(tm, SNIPPET, '"a ')
    assert any(s.startswith("entity.name.section") for s in title)


def test_vscode_extension_files():
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (language,) = package["contributes"]["languages"]
    (grammar,) = package["contributes"]["grammars"]
    assert language["id"] == grammar["language"] == "kpirules"
    assert ".rules" in language["extensions"]
    assert grammar["scopeName"] == "source.kpirules"
    assert (VSCODE / grammar["path"]).resolve() == TM_GRAMMAR.resolve()
    config = json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    assert ["(", ")"] in config["brackets"] and ["[", "]"] in config["brackets"]
    assert {"open": '"', "close": '"', "notIn": ["string", "comment"]} in \
        config["autoClosingPairs"]
    assert (ROOT / "editors" / "README.md").is_file()


# Oniguruma, the regex engine of VS Code and TextMate, when the system has it (libonig).
ONIG_OPTION_CAPTURE_GROUP = 256


class _OnigRegion(ctypes.Structure):
    _fields_ = [("allocated", ctypes.c_int), ("num_regs", ctypes.c_int),
                ("beg", ctypes.POINTER(ctypes.c_int)), ("end", ctypes.POINTER(ctypes.c_int))]


@pytest.fixture(scope="module")
def onig():
    name = ctypes.util.find_library("onig")
    if not name:
        pytest.skip("libonig (Oniguruma) is not installed")
    lib = ctypes.CDLL(name)
    lib.onig_region_new.restype = ctypes.POINTER(_OnigRegion)
    lib.onig_new.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_char_p,
                             ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.onig_search.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_uint]
    lib.onig_error_code_to_str.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
    enc = ctypes.addressof(ctypes.c_char.in_dll(lib, "OnigEncodingUTF8"))
    lib.onig_initialize((ctypes.c_void_p * 1)(enc), 1)
    syntax = ctypes.c_void_p.in_dll(lib, "OnigDefaultSyntax").value

    def compile(pattern: str):
        raw = pattern.encode("utf-8")
        buf = ctypes.create_string_buffer(raw, len(raw) + 1)
        reg, einfo = ctypes.c_void_p(), ctypes.create_string_buffer(64)
        end = ctypes.c_char_p(ctypes.addressof(buf) + len(raw))
        code = lib.onig_new(ctypes.byref(reg), buf, end, ONIG_OPTION_CAPTURE_GROUP, enc, syntax,
                            einfo)
        if code != 0:
            message = ctypes.create_string_buffer(256)
            lib.onig_error_code_to_str(message, code, einfo)
            raise ValueError(message.value.decode())

        def match(text: str) -> str | None:
            """The leftmost match of the regex in `text`, or None."""
            data = text.encode("utf-8")
            sbuf = ctypes.create_string_buffer(data, len(data) + 1)
            start = ctypes.addressof(sbuf)
            region = lib.onig_region_new()
            try:
                at = lib.onig_search(reg, sbuf, ctypes.c_char_p(start + len(data)), sbuf,
                                     ctypes.c_char_p(start + len(data)), region, 0)
                if at < 0:
                    return None
                return data[region.contents.beg[0]:region.contents.end[0]].decode("utf-8")
            finally:
                lib.onig_region_free(region, 1)
        return match
    return compile


def test_textmate_regexes_compile_with_oniguruma(onig, tm_grammar):
    for where, _, regex in all_regexes(tm_grammar):
        try:
            onig(regex)
        except ValueError as exc:
            pytest.fail(f"{where}: {regex!r}: {exc}")
    for _, regex in tm_keyword_patterns(tm_grammar):
        match = onig(regex)
        for word in regex[len(r"\b(?:"):-len(r")\b")].split("|"):
            assert match(word) == word
            assert match(word + "x") is None and match(word + "奖金") is None
    name = onig(tm_grammar["repository"]["name"]["match"])
    assert name("季度奖金_2 x") == "季度奖金_2"
    assert name("2季度") == "季度"


# ---- packaging: the entry point, and kpirules without Pygments ------------------------------

def test_entry_point_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lexers = project["entry-points"]["pygments.lexers"]
    assert lexers["kpirules"] == "kpirules.highlight:KpirulesLexer"
    assert any(r.startswith("pygments") for r in project["optional-dependencies"]["highlight"])
    assert not any(r.startswith("pygments") for r in project.get("dependencies", []))


def test_pygments_finds_the_lexer(hl):
    if not [ep for ep in metadata.entry_points(group="pygments.lexers") if ep.name == "kpirules"]:
        pytest.skip("kpirules is not installed with its entry point (pip install -e .)")
    from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
    for lexer in (get_lexer_by_name("kpirules"), get_lexer_by_name("rules"),
                  get_lexer_for_filename("policies/u8_presales.rules")):
        assert type(lexer).__name__ == "KpirulesLexer"
        assert type(lexer).__module__ == "kpirules.highlight"


def test_pygmentize_renders_a_policy(hl):
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    html = highlight(SHIPPED[0].read_text(encoding="utf-8"), hl.KpirulesLexer(), HtmlFormatter())
    assert 'class="err"' not in html and 'class="k' in html


NO_PYGMENTS_RUN = textwrap.dedent('''\
    import importlib, pkgutil, sys

    class NoPygments:
        def find_spec(self, name, path=None, target=None):
            if name == "pygments" or name.startswith("pygments."):
                raise ImportError("pygments is blocked for this test")

    if sys.argv[1] == "block":
        sys.meta_path.insert(0, NoPygments())
        for name in [n for n in sys.modules if n == "pygments" or n.startswith("pygments.")]:
            del sys.modules[name]
    import kpirules
    for info in pkgutil.walk_packages(kpirules.__path__, "kpirules."):
        if info.name not in ("kpirules.highlight", "kpirules.__main__"):
            importlib.import_module(info.name)
    assert "pygments" not in sys.modules or sys.argv[1] == "allow"
    from kpirules.cli import main
    sys.exit(main(["check", *sys.argv[2:]]))
    ''')


def test_kpirules_runs_without_pygments():
    paths = [str(p) for p in SHIPPED]
    runs = [subprocess.run([sys.executable, "-c", NO_PYGMENTS_RUN, how, *paths], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
            for how in ("block", "allow")]
    blocked, allowed = runs
    assert allowed.returncode == 0, allowed.stderr
    assert (blocked.returncode, blocked.stdout, blocked.stderr) == \
        (allowed.returncode, allowed.stdout, allowed.stderr)
