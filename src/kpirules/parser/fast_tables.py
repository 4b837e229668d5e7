"""Large tables read beside Lark: rows of plain literals, one `KEY -> VALUE` per line.

Lark costs tens of microseconds per token, so a table of 10,000 rows took seconds to parse.
A table of at least FAST_ROWS rows whose body lines are all `NUMBER|"TEXT" -> NUMBER|N%|N万|N元`
(a comment allowed after a row) is read here: every row line but the first is blanked (spaces,
same length, so every offset stays) in the text given to Lark, and its rows are built with the
builder's own methods, so the nodes and spans are those Lark would have given. Any other body
line (a cite, an expression, a name key, a version) leaves the table to Lark, whole.
"""

from __future__ import annotations

import re

import attrs
from lark import Token

from .. import nodes as n
from ..source import SourceFile, Span
from .build import Build

FAST_ROWS = 100

_HEAD = re.compile(r"^table[ \t][^\n]*:[ \t]*(?:#[^\n]*)?$", re.M)
_END = re.compile(r"^(?=[^\s#])", re.M)
_ROW = re.compile(r'[ \t]+(?P<key>[0-9]+(?:\.[0-9]+)?|"(?:[^"\\\n]|\\["\\nt])*")[ \t]*->[ \t]*'
                  r"(?P<value>[0-9]+(?:\.[0-9]+)?[%万元]?)[ \t]*(?:#[^\n]*)?")
_BLANK = re.compile(r"[ \t]*(?:#[^\n]*)?")
_KINDS = {"%": ("PERCENT", "percent"), "万": ("WAN", "wan"), "元": ("YUAN", "yuan")}


class _Meta:
    __slots__ = ("empty", "end_pos", "start_pos")

    def __init__(self, start: int, end: int):
        self.empty = False
        self.start_pos = start
        self.end_pos = end


def split(text: str) -> tuple[str, dict]:
    """(the text for Lark, {table header offset: [row matches after the first]})."""
    found: dict = {}
    pieces = []
    done = 0
    for head in _HEAD.finditer(text):
        body_start = head.end() + 1
        end_m = _END.search(text, body_start)
        body_end = end_m.start() if end_m else len(text)
        rows = []
        ok = True
        pos = body_start
        while pos < body_end:
            nl = text.find("\n", pos, body_end)
            line_end = body_end if nl < 0 else nl
            line = text[pos:line_end].rstrip("\r")
            m = _ROW.fullmatch(text, pos, pos + len(line))
            if m is not None:
                rows.append(m)
            elif not _BLANK.fullmatch(line):
                ok = False
                break
            pos = line_end + 1
        if not ok or len(rows) < FAST_ROWS:
            continue
        found[head.start()] = rows[1:]
        for m in rows[1:]:  # blanked: Lark reads the first row only
            pieces.append(text[done:m.start()])
            pieces.append(" " * (m.end() - m.start()))
            done = m.end()
    if not found:
        return text, found
    pieces.append(text[done:])
    return "".join(pieces), found


def merge(policy: n.Policy, build, found: dict) -> n.Policy:
    """The policy with each fast table's remaining rows built and appended."""
    if not found:
        return policy
    tables = []
    for t in policy.tables:
        rows = found.get(t.span.start)
        if rows is None:
            tables.append(t)
            continue
        tables.append(attrs.evolve(t, rows=t.rows + tuple(_row(build, m) for m in rows)))
    return attrs.evolve(policy, tables=tuple(tables))


def _method(name: str):
    """The builder's method itself, without Lark's per-call wrapper (a row is built per call)."""
    f = Build.__dict__[name]
    return getattr(f, "base_func", f)


_KEY_TEXT, _KEY_NUMBER = _method("key_text"), _method("key_number")
_VALUES = {name: _method(name) for name in ("number", "percent", "wan", "yuan")}


def _row(build, m: re.Match) -> n.Row:
    key_text, value_text = m.group("key"), m.group("value")
    ks, ke = m.span("key")
    vs, ve = m.span("value")
    if key_text.startswith('"'):
        key = _KEY_TEXT(build, None, [Token("STRING", key_text, start_pos=ks, end_pos=ke)])
    else:
        key = _KEY_NUMBER(build, None, [Token("NUMBER", key_text, start_pos=ks, end_pos=ke)])
    kind, method = _KINDS.get(value_text[-1], ("NUMBER", "number"))
    value = _VALUES[method](build, _Meta(vs, ve), [Token(kind, value_text, start_pos=vs, end_pos=ve)])
    # The row ends where its value does: the span Lark's meta gives, trailing comment trimmed.
    return n.Row(key=key, value=value, span=Span(source=build.source, start=ks, end=ve))


def source_for_lark(source: SourceFile) -> tuple[str, dict]:
    return split(source.text)
