"""Syntax-error wording: Lark's exceptions and the checks before parsing, as diagnostics.

Lark's exceptions are turned into diagnostics here and nowhere else. What a user reads never
names a Lark terminal (RPAR, _NL, NAME): every terminal is described in words or shown as
written, and long lists of expected terminals are grouped ("an expression", "an operator").
"""

from __future__ import annotations

import re
import unicodedata

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from ..diagnostics import error
from ..limits import MAX_SUGGEST_CHARS
from ..source import SourceFile, Span
from .lalr import MAX_DEPTH, BadDedent, TooDeep
from .scanner import bad_escape, brackets, comment_start, is_comment_line, lines, skip_blank

# What a terminal means to a policy author; keywords and punctuation are shown as written.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "PERCENT": "a percentage such as `85%`",
    "WAN": "an amount in 万 such as `10万`",
    "YUAN": "an amount such as `800元`",
    "STRING": "a quoted text such as `\"...\"`",
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the indented block",
    "$END": "the end of the file",
    "COMMENT": "a comment",
}

# Terminals that can start an expression; when most are allowed, say "an expression".
_EXPRESSION_STARTERS = frozenset({"NAME", "NUMBER", "PERCENT", "WAN", "YUAN", "STRING", "LPAR",
                                  "MINUS", "NOT", "IF", "TRUE", "FALSE", "ITEM", "SUM", "COUNT",
                                  "BLEND", "DATE", "DAYS", "ALLOCATE", "DENSE", "RANK_OF", "PERCENTILE_OF",
                                  "MARGINAL", "RETROACTIVE"})
# Terminals that continue an expression; when several are allowed, say "an operator".
_OPERATOR_TEXTS = frozenset({"+", "-", "*", "/", "×", "÷", ">=", "<=", "==", "!=", ">", "<",
                             "and", "or", "[", "."})
_STEP_RULES = ("FULL", "STARTED", "PRORATED")
# Listed after the backticked words, in this order.
_ENDINGS = ("the end of the line", "the end of the indented block", "the end of the file")

# Characters that word processors and Chinese input methods put into text, and what to type
# instead. Full-width forms of ASCII (U+FF01-FF5E) are handled generally in `_lookalike`.
_LOOKALIKES = {
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": '"', "\u2019": '"', "\u300c": '"',
    "\u300d": '"', "\u300e": '"', "\u300f": '"', "\u3001": ",", "\u3002": ".", "\u3010": "[",
    "\u3011": "]", "\u2026": "..", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u00b7": ".", "\uff02": '"', "\uff07": '"',
}
_SPACES_HELP = "replace it with a plain space"


def _lookalike(ch: str) -> str | None:
    if ch in _LOOKALIKES:
        return _LOOKALIKES[ch]
    if "\uff01" <= ch <= "\uff5e":  # full-width ASCII: `：` is `:`, `（` is `(`, `％` is `%`
        return chr(ord(ch) - 0xFEE0)
    return None

def _terminal_text(parser: Lark, name: str) -> str | None:
    """The text of a keyword or punctuation terminal (`per`, `:`), or None for a pattern."""
    try:
        term = parser.get_terminal(name)
    except KeyError:
        return None
    return term.pattern.value if term.pattern.type == "str" else None


def describe(parser: Lark, names) -> str:
    """The expected terminals in words: "`:`, a quoted text such as `"..."` or the end of the line"."""
    names = set(names) - {"COMMENT"}
    words = []
    if {"NAME", "NUMBER"} <= names and len(names & _EXPRESSION_STARTERS) >= 4:
        names -= _EXPRESSION_STARTERS
        words.append("an expression")
    operators = {name for name in names if _terminal_text(parser, name) in _OPERATOR_TEXTS}
    if len(operators) >= 4:
        names -= operators | {"LPAR"}
        words.append("an operator (`+`, `*`, `>=`, `and`, ...)")
    if set(_STEP_RULES) <= names:
        names -= set(_STEP_RULES)
        words.append("`full`, `started` or `prorated`")
    for name in names:
        if name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
            continue
        text = _terminal_text(parser, name)
        # An unknown name is never shown raw: it would be a Lark terminal name like `RPAR`.
        words.append(f"`{text}`" if text is not None else "something else")
    groups = [w for w in words if w.startswith(("an expression", "an operator", "`full`"))]
    # Keywords and punctuation first, then the groups, then the rest; the endings last.
    words = sorted(set(words), key=lambda w: (w in _ENDINGS, _ENDINGS.index(w) if w in _ENDINGS else 0,
                                              w in groups, not w.startswith("`"), w))
    if not words:
        return "something else"
    if len(words) > 10:  # too many to list: the groups say most, so they go first
        words = groups + [w for w in words if w not in groups]
        return f"one of {', '.join(words[:9])} or {len(words) - 9} more"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _found(tok: Token) -> str:
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "_INDENT":
        return "indentation"
    if tok.type == "_DEDENT":
        return "end of the indented block"
    if tok.type == "$END":
        return "end of the file"
    text = str(tok)
    return f"`{text if len(text) <= 60 else text[:59] + '…'}`"  # a token may be a megabyte long


def _expected(parser: Lark, text: str, exc) -> tuple[set, Token | None]:
    """Terminals the parser could really take where it failed, and the token before that.

    The LALR tables reduce before they look at a wrong token, so `exc.expected` often lacks what
    could have continued the last phrase (after `x = a`, the operators). Replaying the tokens up
    to the failure and asking the parser what it accepts there gives the full set; the replay runs
    only when a policy is already broken.
    """
    stop = getattr(exc, "pos_in_stream", None)
    tok = getattr(exc, "token", None)
    last = None
    if tok is not None and tok.type in ("$END", "<EOF>"):
        stop = len(text) + 1  # replay every token: the parser failed at the end of the file
    try:
        if stop is not None and stop >= 0 and (tok is None or tok.type not in ("_INDENT", "_DEDENT")):
            if not text.endswith("\n"):
                text += "\n"
            ip = parser.parse_interactive(text)
            try:
                for t in ip.lexer_thread.lex(ip.parser_state):
                    if t.start_pos is not None and t.start_pos >= stop:
                        break
                    ip.feed_token(t)
                    last = t
            except UnexpectedCharacters:
                pass  # the character that failed: the parser state is the one before it
            accepts = ip.accepts()
            if accepts:
                return set(accepts), last
    except Exception:  # noqa: BLE001 - the replay only improves a message; fall back below
        pass
    expected = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    try:
        accepts = set(exc.accepts) if getattr(exc, "interactive_parser", None) is not None else set()
    except Exception:  # noqa: BLE001
        accepts = set()
    return accepts or expected, last


def _is_keyword(parser: Lark, tok: Token) -> bool:
    text = _terminal_text(parser, tok.type)
    return text is not None and text.isidentifier()


def _keyword_texts(parser: Lark, names) -> list[str]:
    return sorted(t for t in (_terminal_text(parser, name) for name in names) if t and t.isidentifier())

def _end_span(source: SourceFile) -> Span:
    """A zero-width span just after the last character that is not blank or a comment."""
    text, pos, last = source.text, 0, 0
    while True:
        pos = skip_blank(text, pos)
        if pos >= len(text):
            break
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        hash_at = comment_start(text[pos:end])
        last = pos + len(text[pos:end][:hash_at].rstrip())
        pos = end
    return Span(source=source, start=last, end=last)

def _unclosed_bracket(text: str, before: int):
    """The offset of a `(` or `[` opened before `before` that the whole file never closes."""
    stack = []
    for tok in brackets(text):
        if tok.text in "([":
            stack.append(tok.start)
        elif tok.text in ")]" and stack:
            stack.pop()
    opened = [pos for pos in stack if pos < before]
    return opened[-1] if opened else None

def _char_name(ch: str) -> str:
    """`U+201C left double quotation mark`: the code point, then its Unicode name if it has one."""
    name = unicodedata.name(ch, "").lower()
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _character_diagnostic(parser: Lark, source: SourceFile, exc: UnexpectedCharacters):
    # lark declares `pos_in_stream = None` on UnexpectedInput; UnexpectedCharacters always sets it.
    offset: int = exc.pos_in_stream  # type: ignore[assignment]
    text = source.text
    ch = text[offset] if offset < len(text) else ""
    span = Span(source=source, start=offset, end=offset + 1)
    if ch == '"':
        return _text_literal_diagnostic(source, offset)
    if ch == "\r":
        return error("E101", "a carriage return without a line feed", span,
                     "save the file with Unix (LF) or Windows (CRLF) line endings")
    category = unicodedata.category(ch) if ch else "Cn"
    if category == "Zs":
        return error("E101", f"unexpected {unicodedata.name(ch, 'space').lower()} ({f'U+{ord(ch):04X}'})",
                     span, _SPACES_HELP)
    if category in ("Cf", "Cc", "Zl", "Zp", "Co", "Cn", "Cs"):
        return invisible(source, offset)
    instead = _lookalike(ch)
    if instead is not None:
        return error("E101", f"unexpected character `{ch}` ({_char_name(ch)})", span,
                     f"use `{instead}` instead")
    expected, _ = _expected(parser, text, exc)
    return error("E101", f"unexpected character `{ch}` ({_char_name(ch)})", span,
                 f"expected {describe(parser, expected)}" if expected else "delete it")


def invisible(source: SourceFile, offset: int):
    ch = source.text[offset]
    if "\ud800" <= ch <= "\udfff":
        return error("E101", f"lone surrogate U+{ord(ch):04X} is not a character",
                     Span(source=source, start=offset, end=offset + 1),
                     "the text was not decoded from valid UTF-8; save the policy as UTF-8 and load it again")
    name = unicodedata.name(ch, "").lower()
    return error("E101", f"invisible character U+{ord(ch):04X}" + (f" ({name})" if name else "")
                 + " is not allowed",
                 Span(source=source, start=offset, end=offset + 1),
                 "delete it; such characters come from pasted text and can hide what a line says")


def _text_literal_diagnostic(source: SourceFile, offset: int):
    """A `"` that does not start a valid quoted text: no closing quote, or a bad escape."""
    text = source.text
    i = bad_escape(text, offset)
    if i is not None:
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end
        nxt = text[i + 1] if i + 1 < end else ""
        shown = f"\\{nxt}" if nxt else "\\"
        return error("E107", f"unknown escape `{shown}` in quoted text",
                     Span(source=source, start=i, end=min(i + 2, end)),
                     'write `\\\\` for a backslash; the escapes are `\\"`, `\\\\`, `\\n` and `\\t`')
    return error("E107", "unterminated quoted text: it must end on the same line",
                 Span(source=source, start=offset, end=offset + 1), 'add the closing `"`')


def _token_diagnostic(parser: Lark, source: SourceFile, exc):
    text = source.text
    tok = getattr(exc, "token", None)
    expected, last = _expected(parser, text, exc)
    declared = _declared_keyword(parser, source, last)
    if declared is not None:
        return declared
    at_end = (tok is None or tok.type in ("$END", "<EOF>") or getattr(tok, "start_pos", None) is None
              or (tok.type == "_DEDENT" and skip_blank(text, tok.start_pos or 0) >= len(text)))
    if at_end and not text[skip_blank(text, 0):]:
        what = "empty" if not text.strip() else "only comments"
        return error("E102", f"the policy file is {what}" if what == "empty" else
                     "the policy file has only comments", _end_span(source) if text.strip() else
                     Span(source=source, start=0, end=0),
                     'expected `policy` and the policy\'s name first, e.g. `policy u8_presales version "2026.1"`')
    position = len(text) if at_end or tok is None else tok.start_pos
    bracket = _unclosed_bracket(text, position)
    if bracket is not None and (at_end or source.line_col(bracket)[0] < source.line_col(position)[0]):
        ch = text[bracket]
        close = ")" if ch == "(" else "]"
        return error("E108", f"`{ch}` is never closed", Span(source=source, start=bracket, end=bracket + 1),
                     f"add the missing `{close}`; until it is closed, line breaks do not end the line")
    if at_end:
        return error("E102", "unexpected end of the file", _end_span(source),
                     f"expected {describe(parser, expected)}")
    assert tok is not None  # no token is at_end
    if expected == {"CITE", "NOTE"} and tok.type not in expected:
        # After a fact or gate line only `cite` and `note` lines may be indented: anything else is
        # a line indented by mistake.
        start = tok.start_pos
        return error("E103", "this line is indented more than the line above",
                     Span(source=source, start=start, end=start + 1),
                     "indent it like the line above; only `cite` and `note` lines may be indented under a fact or gate")
    if tok.type == "_INDENT":
        # The token borrows the newline's position; the indented line starts where it ends.
        start = skip_blank(text, tok.start_pos)
        line = source.line_col(start)[0]
        return error("E103", "this line is indented more than the line above",
                     Span(source=source, start=start, end=start + 1),
                     f"indent it like the line above; expected {describe(parser, expected - {'_INDENT'})}"
                     if expected - {"_INDENT", "_DEDENT"} else
                     f"indent it like the line above (line {line - 1})")
    if tok.type == "_DEDENT":
        start = skip_blank(text, tok.start_pos)
        return error("E100", "unexpected end of the indented block",
                     Span(source=source, start=start, end=start + 1),
                     f"expected {describe(parser, expected)} before this line")
    if tok.type == "_NL":
        start = tok.start_pos
        # A `_NL` token may begin with a comment: point after the code, where the line ends.
        line_no = source.line_col(start)[0]
        line_text = source.line_text(line_no)
        code_end = len(line_text[:comment_start(line_text)].rstrip())
        line_start = start - (source.line_col(start)[1] - 1)
        start = min(start, line_start + code_end)
        return error("E100", "unexpected end of line", Span(source=source, start=start, end=start + 1),
                     f"expected {describe(parser, expected)}")
    span = Span(source=source, start=tok.start_pos, end=tok.end_pos or tok.start_pos + 1)
    if "POLICY" in expected:
        return error("E100", f"unexpected {_found(tok)}", span,
                     'expected `policy` and the policy\'s name first, e.g. `policy u8_presales version "2026.1"`')
    if set(_STEP_RULES) <= expected:
        return error("E100", f"unexpected {_found(tok)}: a ladder step needs `full`, `started` or "
                     "`prorated` after `per`", span,
                     "expected `full` (whole steps only), `started` (a begun step counts) or "
                     "`prorated` (steps count in proportion), e.g. `minus 2 per full 5% below`")
    help = f"expected {describe(parser, expected)}"
    if tok.type == "NAME":
        suggestion = _close_keyword(str(tok), _keyword_texts(parser, expected))
        if suggestion:
            help = f"did you mean `{suggestion}`? {help}"
    return error("E100", f"unexpected {_found(tok)}", span, help)


def _declared_keyword(parser: Lark, source: SourceFile, tok: Token | None):
    """A keyword that the policy also declares as a name (`fact count: count`), read as a keyword.

    The lexer reads `count` as a name right after `fact`, so the declaration passes, but in an
    expression `count` is the keyword of `count(...)` and the line fails further on.
    """
    if tok is None or not _is_keyword(parser, tok) or tok.start_pos is None:
        return None
    m = re.search(r"^[ \t]*(?:fact|let|output|scorecard|item|table)[ \t]+" + re.escape(str(tok)) + r"\b",
                  source.text, flags=re.M)
    assert tok.end_pos is not None  # lark gives a token both ends or neither
    if m is None or m.end() >= tok.end_pos:
        return None
    line = source.line_col(m.start())[0]
    return error("E100", f"`{tok}` is a keyword and cannot be used as a name",
                 Span(source=source, start=tok.start_pos, end=tok.end_pos),
                 f"rename `{tok}` where line {line} declares it, e.g. to `{tok}_value`")


def _close_keyword(word: str, keywords) -> str | None:
    import difflib
    if len(word) > MAX_SUGGEST_CHARS:  # a long word resembles no keyword
        return None
    match = difflib.get_close_matches(word, keywords, n=1, cutoff=0.7)
    return match[0] if match else None


def syntax_diagnostic(parser: Lark, source: SourceFile, exc: Exception):
    from .attempts import natural_attempt  # issue 10: another construct written the natural way
    attempt = natural_attempt(source, exc)
    if attempt is not None:
        return attempt
    if isinstance(exc, UnexpectedCharacters):
        return _character_diagnostic(parser, source, exc)
    if isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        return _token_diagnostic(parser, source, exc)
    return error("E100", "cannot read this policy", Span(source=source, start=0, end=1))


def depth_diagnostic(span: Span, message: str):
    # Point at the first word of the expression: its whole text may fill thousands of columns.
    text = span.source.text
    end = span.start + 1
    while end < span.end and (text[end].isalnum() or text[end] == "_") and text[span.start].isalnum():
        end += 1
    return error("E104", message, Span(source=span.source, start=span.start, end=end),
                 "split the expression into named `let` values")

def too_deep_diagnostic(source: SourceFile, exc: TooDeep):
    return error("E104", f"brackets nest more than {MAX_DEPTH} levels deep",
                 Span(source=source, start=exc.token.start_pos, end=exc.token.start_pos + 1),
                 "split the expression into named `let` values")

def dedent_diagnostic(source: SourceFile, exc: BadDedent):
    start = skip_blank(source.text, exc.token.start_pos)
    width = exc.width
    levels = ", ".join(str(w) for w in exc.levels[:-1]) + " or " + str(exc.levels[-1]) \
        if len(exc.levels) > 1 else str(exc.levels[0])
    return error("E103", f"this line is indented by {width} columns, which matches no enclosing block",
                 Span(source=source, start=start, end=start + 1),
                 f"indent it like the lines of the block it belongs to ({levels} columns)")


def mixed_indentation(source: SourceFile):
    """Tabs and spaces mixed in indentation: the parser counts a tab as 8 columns, editors as 2-8."""
    first = None  # (indent character, line number) of the first indented line
    for line_start, line in lines(source.text):
        body = line.lstrip(" \t")
        if not body.strip() or is_comment_line(body):
            continue
        indent = line[:len(line) - len(body)]
        if not indent:
            continue
        line_no = source.line_col(line_start)[0]
        if " " in indent and "\t" in indent:
            other = "\t" if indent[0] == " " else " "
            pos = line_start + indent.index(other)
            return error("E103", "this line's indentation mixes tabs and spaces",
                         Span(source=source, start=pos, end=pos + 1),
                         "indent with spaces only")
        kind = indent[0]
        if first is None:
            first = (kind, line_no)
        elif kind != first[0]:
            used, before = ("a tab", "spaces") if kind == "\t" else ("spaces", "tabs")
            return error("E103", f"this line is indented with {used}, but line {first[1]} with {before}",
                         Span(source=source, start=line_start, end=line_start + 1),
                         "indent every line with spaces only (a tab's width depends on the editor)")
    return None


# Invisible characters that change how text is displayed or joined (Trojan Source, CVE-2021-42574)
# are refused anywhere in the file, comments and quoted texts included.
_HIDDEN = frozenset("\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"
                    "\u2069\u200e\u200f\u061c\u00ad\u180e")


# Lone surrogates (U+D800-U+DFFF) are no characters at all: text that was not valid UTF-8.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff" + "".join(sorted(_HIDDEN)) + "]")


def first_control_character(text: str):
    """The offset of the first control or invisible character (tab, form feed, CR, LF allowed)."""
    m = _FORBIDDEN.search(text)
    return m.start() if m else None
