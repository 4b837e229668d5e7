"""Error recovery: after a syntax error, the later broken statements of the file reported too.

After a syntax error, the broken statement (its line, the lines a bracket continues it on, and
the lines indented under it) is replaced and the text parsed again, so the next broken
statement is reported too. The replacement is the first of `_STAND_INS` with which the parser
gets through it AND accepts the first token of the next line: nothing, when the statement may
simply be left out; else the smallest statement of a kind the block allows. Lines keep their
numbers (the replacement keeps every line break) and the lines after the statement their text,
so each later diagnostic is moved back to the original text by line and column.

Recovery stops, and the errors found so far are all reported, at an error that is not confined
to one statement (indentation, a bracket never closed, the end of the file, the limits); when no
stand-in lets the parser accept the next line as it is (the statement left the parser expecting
something the next line does not give, or the next line is broken from its first word: rather
than risk an error caused by the stand-in, it is not reported); after MAX_SYNTAX_ERRORS; and
when the work budget is spent (see below).
"""

from __future__ import annotations

import attrs
from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..source import SourceFile, Span
from .lalr import BadDedent, TooDeep
from .scanner import bracket_depth, has_code, lines
from .syntax_errors import dedent_diagnostic, syntax_diagnostic, too_deep_diagnostic

MAX_SYNTAX_ERRORS = 10
# Each attempt parses the file again: recovery is for files of a policy's size (the largest shipped
# one has 13,000 characters), within a budget, so a huge broken file still fails fast.
_RECOVERY_MAX_CHARS = 100_000
_RECOVERY_BUDGET = 400_000  # characters parsed again, over every attempt for one file
_STAND_INS = ("", 'cite ""', "let _ = 0", "given _ = 0", '""', "policy _")
_STRUCTURAL = frozenset({"_NL", "_INDENT", "_DEDENT", "$END"})
_STUCK = object()


def recover(parser: Lark, source: SourceFile, text: str, exc, first) -> list:
    """The first syntax error's diagnostic, then those of the later broken statements (see above)."""
    found = [first]
    try:
        if len(text) <= _RECOVERY_MAX_CHARS:
            _recover_more(parser, source, text, exc, first, found)
    except Exception:  # noqa: BLE001 - recovery only adds diagnostics; the first one stands
        pass
    return [_within(d, source) for d in found]


def _within(diag, source: SourceFile):
    """The diagnostic with its span inside the text (the end of a last line without a line break
    is the line break `parse` added, one past the end)."""
    span, size = diag.span, len(source.text)
    if span is None or span.end <= size:
        return diag
    start = min(span.start, size)
    return attrs.evolve(diag, span=Span(source=source, start=start, end=max(start, min(span.end, size))))


def _recover_more(parser: Lark, source: SourceFile, text: str, exc, diag, found: list) -> None:
    budget = _RECOVERY_BUDGET
    added = len(text) - len(source.text)  # `parse` may have added a final line break
    current = text
    while len(found) < MAX_SYNTAX_ERRORS and _confined(exc, diag):
        region = _statement_region(current, _error_offset(exc))
        if region is None:
            return
        start, end, indent = region
        breaks = current.count("\n", start, end)
        for stand_in in _STAND_INS:
            budget -= len(current)
            if budget < 0:
                return
            replacement = (indent + stand_in if stand_in else "") + "\n" * breaks
            candidate = current[:start] + replacement + current[end:]
            outcome = _reparse(parser, candidate, _next_code_line(candidate, start + len(replacement)))
            if outcome is not _STUCK:
                break
        else:
            return
        if outcome is None:  # the rest of the file parses
            return
        current, exc = candidate, outcome
        budget -= len(current)  # the diagnostic replays the parser once more
        modified = SourceFile(path=source.path, text=current[:len(current) - added])
        diag = _diagnostic_for(parser, modified, exc)
        found.append(_moved(diag, modified, source))


def _diagnostic_for(parser: Lark, source: SourceFile, exc):
    if isinstance(exc, TooDeep):
        return too_deep_diagnostic(source, exc)
    if isinstance(exc, BadDedent):
        return dedent_diagnostic(source, exc)
    return syntax_diagnostic(parser, source, exc)


def _confined(exc, diag) -> bool:
    """Whether an error is one statement's own: a wrong word, character or quoted text in a line."""
    if diag.code not in ("E100", "E101", "E107", "E120", "E121"):
        return False
    if isinstance(exc, UnexpectedCharacters):
        return exc.pos_in_stream is not None
    tok = getattr(exc, "token", None)
    return (isinstance(exc, UnexpectedToken) and tok is not None and tok.start_pos is not None
            and tok.type not in ("_INDENT", "_DEDENT", "$END", "<EOF>"))


def _error_offset(exc) -> int:
    if isinstance(exc, UnexpectedCharacters):
        # lark declares `pos_in_stream = None` on UnexpectedInput; UnexpectedCharacters always sets it.
        return exc.pos_in_stream  # type: ignore[return-value]
    return exc.token.start_pos


def _reparse(parser: Lark, text: str, boundary):
    """Parse `text` again: `_STUCK` if the parser fails before it has accepted the first token at
    or after offset `boundary` (or, with no boundary, the end of the file); else the exception of
    the first error after it, or None when the text parses."""
    ip = parser.parse_interactive(text)
    passed = False
    try:
        for tok in ip.lexer_thread.lex(ip.parser_state):
            if (not passed and boundary is not None and tok.type not in _STRUCTURAL
                    and tok.start_pos is not None and tok.start_pos >= boundary):
                try:
                    ip.feed_token(tok)
                except UnexpectedInput:
                    return _STUCK
                passed = True
                continue
            ip.feed_token(tok)
        ip.feed_eof()
    except UnexpectedInput as exc:
        exc.interactive_parser = ip  # as `Lark.parse` leaves it: the diagnostic asks what it accepts
        if not isinstance(exc, UnexpectedCharacters):
            return exc if passed else _STUCK
        # A character no terminal matches anywhere is the next line's own error, whatever came before.
        if passed or (boundary is not None and exc.pos_in_stream >= boundary):
            return exc
        return _STUCK
    except (TooDeep, BadDedent) as exc:
        return exc if passed else _STUCK
    return None


def _next_code_line(text: str, pos: int):
    """The offset where the first line at or after `pos` with code on it starts, or None."""
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end]
        if has_code(line):
            return pos
        pos = end + 1
    return None


def _statement_region(text: str, pos: int):
    """`(start, end, indentation)` of the statement holding offset `pos`: from the start of its
    first line to the end of its last, including the lines a bracket continues it on and the lines
    indented under it. None when there is no such statement or its brackets do not balance."""
    rows = []  # (start, text, bracket depth at its start)
    depth = 0
    for start, line in lines(text):
        rows.append((start, line, depth))
        depth = bracket_depth(line, depth)
    i = 0
    while i + 1 < len(rows) and rows[i + 1][0] <= pos:
        i += 1
    while i > 0 and rows[i][2] > 0:  # a continuation line: the statement starts above
        i -= 1
    start, first, _ = rows[i]
    if not has_code(first):
        return None
    indent = first[:len(first) - len(first.lstrip(" \t"))]
    last = i
    for k in range(i + 1, len(rows)):
        _, line, at = rows[k]
        if at > 0:
            last = k
            continue
        if not has_code(line):
            continue
        if len(line) - len(line.lstrip(" \t")) > len(indent):
            last = k
            continue
        break
    _, line, at = rows[last]
    if bracket_depth(line, at) != 0:
        return None
    return start, rows[last][0] + len(line), indent


def _moved(diag, modified: SourceFile, source: SourceFile):
    """A diagnostic found in the recovered text, pointing at the same line and column of the original."""
    if diag.span is None:
        return diag
    starts = [s for s, _ in lines(source.text)]

    def back(offset):
        line, col = modified.line_col(offset)
        if line > len(starts):
            return len(source.text)
        return min(starts[line - 1] + col - 1, len(source.text))
    start, end = back(diag.span.start), back(diag.span.end)
    return attrs.evolve(diag, span=Span(source=source, start=start, end=max(start, end)))
