"""Natural attempts: syntax errors that come from writing another construct the way people expect
it to look, reported with the construct to use instead (issue 10).

- E120: a table keyed by ranges (`0%..100% -> 3%`): tables are keyed by single values; a rate per
  range is a `tiers` schedule, the name of the range a value falls in is `bands`.
- E121: `sum over` / `count over` inside a formula (`1 + count over members`): they make a whole
  definition; give them their own `let`, or write `count(members)`.
- E100, with what to write: a tier named by a quoted text as bands are (`"第一档" from 0% ...`),
  and a band given a rate (`"低" from 0% to 100% -> 3%`: rates per range are `tiers`).

Consulted by syntax_errors.syntax_diagnostic before its generic wording; None when the error is
not one of these.
"""

from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters

from ..diagnostics import Diagnostic, error
from ..source import SourceFile, Span
from .scanner import comment_start

_RANGE_ROW = re.compile(r"^(?P<indent>[ \t]+)(?P<range>[^\s>]+?[ \t]*\.\.[ \t]*[^\s>-]+)[ \t]*->")
_AGGREGATE = re.compile(r"\b(?P<word>sum|count)[ \t]+over[ \t]+(?P<list>[^\W\d]\w*)")


def natural_attempt(source: SourceFile, exc: Exception) -> Diagnostic | None:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
    else:
        tok = getattr(exc, "token", None)
        pos = tok.start_pos if isinstance(tok, Token) else None
    if pos is None or pos < 0 or pos > len(source.text):
        return None
    line_no = source.line_col(pos)[0]
    line = source.line_text(line_no)
    line_start = pos - (source.line_col(pos)[1] - 1)
    code = line[:comment_start(line)]
    return (_range_row(source, line_no, line_start, code) or _aggregate_in_formula(source, pos, line_start, code)
            or _bands_and_tiers(source, line_no, line_start, code))


def _range_row(source: SourceFile, line_no: int, line_start: int, code: str) -> Diagnostic | None:
    m = _RANGE_ROW.match(code)
    if m is None or not _in_table(source, line_no, len(m.group("indent"))):
        return None
    span = Span(source=source, start=line_start + m.start("range"), end=line_start + m.end("range"))
    return error("E120", f"a table is keyed by single values, not by a range like `{m.group('range')}`", span,
                 "for a rate per range of a value, write a `tiers` schedule (`tier_1 from 0% to 100% -> 3%`) "
                 "and apply it with `marginal` or `retroactive`; to name the range a value falls in, "
                 "write `bands` (see docs/language.md)")


def _bands_and_tiers(source: SourceFile, line_no: int, line_start: int, code: str) -> Diagnostic | None:
    """A tier written like a band (`"第一档" from 0% ...`), or a band given a rate (`... -> 3%`)."""
    body = code.lstrip(" \t")
    indent = len(code) - len(body)
    if not body or not indent:
        return None
    span = Span(source=source, start=line_start + indent, end=line_start + len(code.rstrip()))
    if body.startswith('"') and _in_table(source, line_no, indent, "tiers "):
        return error("E100", "a tier is named by a name, not by a quoted text", span,
                     'write its name, then its label: `tier_1 "第一档" from 0% to 100% -> 3%`')
    if "->" in body and _in_table(source, line_no, indent, "bands "):
        return error("E100", "a band has no rate: bands only name the range a value falls in", span,
                     "for a rate per range, write a `tiers` schedule (`tiers NAME in LOW..HIGH:` with lines "
                     "such as `tier_1 from 0% to 100% -> 3%`) and apply it with `marginal` or `retroactive`")
    return None


def _in_table(source: SourceFile, line_no: int, indent: int, header: str = "table ") -> bool:
    """Whether the line belongs to the block of a `table ...:` (or other `header`) line above it."""
    for above in range(line_no - 1, 0, -1):
        text = source.line_text(above)
        body = text.lstrip(" \t")
        if not body.strip() or body.startswith("#"):
            continue
        if len(text) - len(body) < indent:
            return body.startswith(header)
    return False


def _aggregate_in_formula(source: SourceFile, pos: int, line_start: int, code: str) -> Diagnostic | None:
    for m in _AGGREGATE.finditer(code):
        over = line_start + m.start() + code[m.start():].index("over")
        if over != pos:
            continue
        before = code[:m.start()].rstrip()
        if re.search(r"^[ \t]*(let|output)[ \t]+[^\W\d]\w*([ \t]+\"[^\"]*\")?[ \t]*=$", before):
            return None  # `let x = sum over ...` is right: the error is elsewhere
        word, name = m.group("word"), m.group("list")
        span = Span(source=source, start=line_start + m.start(), end=line_start + m.end())
        other = (f"or count the list in the formula: `count({name})`" if word == "count"
                 else f"(`sum({name})` adds up a list of numbers)")
        return error("E121", f"`{word} over {name}` makes a whole definition and cannot be part of a formula",
                     span, f"give it its own value, `let {name}_{'count' if word == 'count' else 'total'} = "
                     f"{word} over {name}{' of ...' if word == 'sum' else ''}`, and use that name in the "
                     f"formula; {other}")
    return None
