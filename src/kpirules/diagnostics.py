"""Diagnostics: values describing a problem in a policy or fact set, and their one renderer."""

from __future__ import annotations

import unicodedata

import attrs

from .source import Span

ERROR = "error"
WARNING = "warning"

# Diagnostics past this many are summarised, so one broken line cannot bury the rest.
MAX_DIAGNOSTICS = 50


@attrs.frozen(kw_only=True)
class Diagnostic:
    """One problem: a stable code, a lowercase message, where it is, and what to do."""

    code: str
    severity: str
    message: str
    span: Span | None = attrs.field(default=None, eq=False)
    help: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def sort_key(self):
        if self.span is None:
            return ("", 0, self.code)
        return (self.span.path, self.span.start, self.code)

    def render(self) -> str:
        return render(self)

    def as_json(self) -> dict:
        out = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.span is not None:
            out["span"] = self.span.as_json()
        if self.help:
            out["help"] = self.help
        return out


def error(code: str, message: str, span: Span | None = None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=ERROR, message=message, span=span, help=help)


def warning(code: str, message: str, span: Span | None = None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=WARNING, message=message, span=span, help=help)


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render(diag: Diagnostic) -> str:
    """The one format for every user-facing error (a contract, see docs/diagnostics.md)."""
    head = f"{diag.severity}[{diag.code}]: {diag.message}"
    if diag.span is None:
        lines = [head]
    else:
        src = diag.span.source
        line, col = src.line_col(diag.span.start)
        lines = [f"{diag.span.location()}: {head}"]
        text = src.line_text(line).rstrip("\r")
        end_line, end_col = src.line_col(diag.span.end)
        if end_line != line:
            end_col = len(text) + 1
        gutter = " " * len(str(line))
        underline = max(1, _width(text[col - 1:end_col - 1]))
        lines.append(f"   {line} | {text}")
        lines.append(f"   {gutter} | {' ' * _width(text[:col - 1])}{'^' * underline}")
    if diag.help:
        lines.append(f"   help: {diag.help}")
    return "\n".join(lines)


def prepare(diags) -> list[Diagnostic]:
    """Sort diagnostics by position, drop exact repeats and cap the count."""
    seen = set()
    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        key = (d.code, d.message, d.sort_key())
        if key in seen:
            continue
        seen.add(key)
        out.append(d)
    if len(out) > MAX_DIAGNOSTICS:
        dropped = len(out) - MAX_DIAGNOSTICS
        out = out[:MAX_DIAGNOSTICS]
        out.append(error("E001", f"{dropped} more diagnostics not shown"))
    return out


def did_you_mean(name: str, candidates) -> str | None:
    import difflib
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{match[0]}`?" if match else None
