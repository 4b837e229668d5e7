"""Source stage: policy text with its file name, and spans that point into it."""

from __future__ import annotations

import bisect

import attrs


@attrs.frozen(kw_only=True)
class SourceFile:
    """A policy text as read, with a line index for turning offsets into line/column."""

    path: str
    text: str
    _line_starts: tuple[int, ...] = attrs.field(eq=False, repr=False, default=None)

    def __attrs_post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        object.__setattr__(self, "_line_starts", tuple(starts))

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of an offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def line_text(self, line: int) -> str:
        start = self._line_starts[line - 1]
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
