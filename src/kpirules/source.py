"""Source stage: policy text with its file name, and spans that point into it."""

from __future__ import annotations

import bisect
import re

import attrs

_NEWLINE = re.compile("\n")
# Texts longer than this (twice the largest policy, E106) are not indexed by line.
_INDEXED_CHARS = 4_000_000


@attrs.frozen(kw_only=True)
class SourceFile:
    """A policy text as read, with a line index for turning offsets into line/column."""

    path: str
    text: str
    _line_starts: tuple[int, ...] = attrs.field(eq=False, repr=False, default=None)

    def _starts(self) -> tuple[int, ...]:
        # Built on first use, not when the file is read: a text refused for its size (E106) is
        # never indexed, and an index is one pass of the regex engine, not a Python loop.
        if self._line_starts is None:
            starts = [0]
            starts.extend(m.end() for m in _NEWLINE.finditer(self.text))
            object.__setattr__(self, "_line_starts", tuple(starts))
        return self._line_starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of an offset."""
        offset = max(0, min(offset, len(self.text)))
        if self._line_starts is None and len(self.text) > _INDEXED_CHARS:
            # A text too large to be a policy (E106) is never indexed: counted up to the offset.
            return self.text.count("\n", 0, offset) + 1, offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        starts = self._starts()
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def line_text(self, line: int) -> str:
        if self._line_starts is None and len(self.text) > _INDEXED_CHARS:
            start = 0
            for _ in range(line - 1):
                start = self.text.index("\n", start) + 1
        else:
            start = self._starts()[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def slice(self, span: Span) -> str:
        return self.text[span.start:span.end]


@attrs.frozen(kw_only=True)
class Span:
    """A half-open character range [start, end) in one source file."""

    source: SourceFile = attrs.field(repr=False)
    start: int
    end: int

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.line_col(self.start)[1]

    @property
    def text(self) -> str:
        return self.source.slice(self)

    def to(self, other: Span) -> Span:
        """The span covering self through other (same file)."""
        return Span(source=self.source, start=min(self.start, other.start), end=max(self.end, other.end))

    def location(self) -> str:
        line, col = self.source.line_col(self.start)
        return f"{self.source.path}:{line}:{col}"

    def as_json(self) -> dict:
        line, col = self.source.line_col(self.start)
        end_line, end_col = self.source.line_col(self.end)
        return {"file": self.source.path, "line": line, "column": col,
                "end_line": end_line, "end_column": end_col}
