"""Parse stage: policy text to the surface tree (nodes.py), or diagnostics with positions.

Lark is seen only in this package. Its modules:

- `scanner`: where quoted texts, comments and brackets are, for every reader of policy text
  (the indentation checks, the error wording, the recovery and `kpirules fmt`);
- `lalr`: the grammar, the Lark parser built from it and its indentation handling;
- `cache`: the built parser kept between runs in the user's cache directory;
- `build`: the transformer from Lark's tree to nodes (it builds, never validates);
- `syntax_errors`: Lark's exceptions, and the checks made before parsing, as diagnostics;
- `recovery`: after one syntax error, the later broken statements reported too.
"""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedEOF, UnexpectedInput
from lark.indenter import DedentError

from .. import nodes as n
from ..diagnostics import error
from ..errors import PolicyError
from ..limits import MAX_TABLE_ROWS, MAX_TOKENS
from ..source import SourceFile, Span
from . import fast_tables
from .build import MAX_LITERAL_DIGITS, Build
from .lalr import MAX_DEPTH, BadDedent, TooDeep

# Inner parts that tests and tools reach through this module, under their old names.
from .lalr import grammar as _grammar  # noqa: F401
from .lalr import lark as _lark
from .recovery import MAX_SYNTAX_ERRORS, recover
from .scanner import Comment, comments
from .scanner import comment_start as _comment_start  # noqa: F401
from .syntax_errors import (
    dedent_diagnostic,
    depth_diagnostic,
    first_control_character,
    invisible,
    mixed_indentation,
    syntax_diagnostic,
    too_deep_diagnostic,
)
from .syntax_errors import describe as _describe  # noqa: F401

__all__ = ["parse", "parse_text", "parse_with_comments", "comments", "Comment", "ParseFailure",
           "MAX_DEPTH", "MAX_SOURCE_CHARS", "MAX_LITERAL_DIGITS", "MAX_SYNTAX_ERRORS"]

# Limits that keep hostile input from exhausting the process (docs/diagnostics.md, E104-E106).
MAX_SOURCE_CHARS = 2_000_000


class ParseFailure(PolicyError):
    """A policy text that does not parse: a PolicyError (for callers of `parse` and `fmt`),
    rendered only when shown."""

    def __init__(self, diagnostics):
        self.diagnostics = tuple(diagnostics)
        Exception.__init__(self, "syntax error")

    def __str__(self) -> str:
        return self.render()


def parse(source: SourceFile) -> n.Policy:
    """Parse a policy text. Raises ParseFailure carrying diagnostics; never another exception."""
    text = source.text
    if len(text) > MAX_SOURCE_CHARS:
        raise ParseFailure([error("E106", f"the policy file has {len(text)} characters; at most "
                                  f"{MAX_SOURCE_CHARS} are allowed", Span(source=source, start=0, end=1),
                                  "split the policy into smaller files")])
    hidden = first_control_character(text)
    if hidden is not None:
        raise ParseFailure([invisible(source, hidden)])
    large = _large_table(source)
    if large is not None:
        raise ParseFailure([large])
    mixed = mixed_indentation(source)
    if mixed is not None:
        raise ParseFailure([mixed])
    parser = _lark()
    build = Build(source)
    # Large tables of plain rows: all rows but the first are read by fast_tables, not Lark.
    lark_text, fast = fast_tables.split(text)
    many = _too_many_tokens(source, lark_text)
    if many is not None:
        raise ParseFailure([many])
    if not text.endswith("\n"):
        text = text + "\n"
        lark_text = lark_text + "\n"
    try:
        tree = parser.parse(lark_text)
        policy = fast_tables.merge(build.transform(tree), build, fast)
    except TooDeep as exc:
        raise ParseFailure([too_deep_diagnostic(source, exc)]) from None
    except BadDedent as exc:
        raise ParseFailure([dedent_diagnostic(source, exc)]) from None
    except (UnexpectedInput, UnexpectedEOF) as exc:
        first = syntax_diagnostic(parser, source, exc)
        raise ParseFailure(recover(parser, source, text, exc, first)) from None
    except DedentError:  # pragma: no cover - _Indenter turns these into BadDedent
        raise ParseFailure([error("E103", "this line's indentation does not match any enclosing block",
                                  Span(source=source, start=0, end=1))]) from None
    except RecursionError:  # pragma: no cover - the limits above are meant to make this unreachable
        raise ParseFailure([error("E104", f"the policy nests too deeply (at most {MAX_DEPTH} levels)",
                                  Span(source=source, start=0, end=1),
                                  "split the expression into named `let` values")]) from None
    if build.max_depth > MAX_DEPTH:
        assert build.deepest is not None  # set whenever max_depth grows
        raise ParseFailure([depth_diagnostic(build.deepest, f"expression nests {build.max_depth} "
                                             f"levels deep; at most {MAX_DEPTH} are allowed")])
    if build.literal_problems:
        raise ParseFailure(build.literal_problems)
    return policy


_TABLE_HEAD = re.compile(r"^table[ \t]+([^\W\d]\w*)[^\n]*$", re.M)
_BLOCK_END = re.compile(r"^(?=[^\s#])", re.M)
_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')


def _large_table(source: SourceFile):
    """E322 for a table of more than MAX_TABLE_ROWS rows, found before the text is parsed: parsing
    a row costs far more than counting its `->`, so a huge table is refused in milliseconds. (The
    tables pass counts the parsed rows again.)"""
    text = source.text
    for head in _TABLE_HEAD.finditer(text):
        end_m = _BLOCK_END.search(text, head.end() + 1)
        end = end_m.start() if end_m else len(text)
        body = text[head.end():end]
        if body.count("->") <= MAX_TABLE_ROWS:
            continue
        rows = _QUOTED.sub("", body).count("->")  # an arrow in a quoted text or a comment is no row
        if rows > MAX_TABLE_ROWS:
            return table_too_large(source, head.start(1), head.end(1), head.group(1), rows)
    return None


# A word, a number, a quoted text, a comment, an operator: roughly what Lark reads as a token.
_TOKEN = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|[^\W\d]\w*|[0-9][0-9.]*[%万元]?|->|[<>=!]=|\S')


def _too_many_tokens(source: SourceFile, text: str):
    """E323 for a text of more than MAX_TOKENS words and symbols for Lark (the plain rows of large
    tables, read beside it, do not count): Lark reads some 30,000 a second, so a policy of a
    million would take half a minute. Counted up to the limit only."""
    count = 0
    for m in _TOKEN.finditer(text):
        count += 1
        if count > MAX_TOKENS:
            return error("E323", f"the policy has more than {MAX_TOKENS} words and symbols to parse",
                         Span(source=source, start=m.start(), end=m.end()),
                         "split it into modules (`import`), or write long tables as plain rows "
                         "(`KEY -> VALUE`, one a line), which do not count")
    return None


def table_too_large(source: SourceFile, start: int, end: int, name: str, rows: int):
    return error("E322", f"table `{name}` has {rows} rows; at most {MAX_TABLE_ROWS} are allowed",
                 Span(source=source, start=start, end=end),
                 "split it into several tables, or compute the value with a formula or `bands`")


def parse_text(text: str, path: str = "<policy>") -> n.Policy:
    return parse(SourceFile(path=path, text=text))


def parse_with_comments(source: SourceFile) -> tuple:
    """`parse`, and the comments it ignores: `(Policy, (Comment, ...))`."""
    return parse(source), comments(source.text)
