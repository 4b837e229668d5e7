"""Diagnostics: values describing a problem in a policy or fact set, and their one renderer."""

from __future__ import annotations

import unicodedata

import attrs

from .limits import MAX_MESSAGE_CHARS, MAX_SUGGEST_CANDIDATES, MAX_SUGGEST_CHARS
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
        out: dict[str, object] = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.span is not None:
            out["span"] = self.span.as_json()
        if self.help:
            out["help"] = self.help
        return out


def error(code: str, message: str, span: Span | None = None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=ERROR, message=_clip(message), span=span, help=help and _clip(help))


def warning(code: str, message: str, span: Span | None = None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=WARNING, message=_clip(message), span=span, help=help and _clip(help))


def _clip(text: str) -> str:
    """A message quotes the policy (a name, a pattern): a megabyte-long name is cut, not echoed."""
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS - 1] + "…"


# A source line longer than this (in terminal columns) is shown as a window around the caret.
MAX_LINE_WIDTH = 100
_TAB = "    "


def _shown(ch: str) -> str:
    """How one source character is echoed: tabs as spaces; invisible characters made visible.

    Echoing a bidi override or a zero-width space as is would hide or reorder what the line says
    (the very problem a diagnostic may be reporting), so they are shown as `<U+202E>`.
    """
    if ch == "\t":
        return _TAB
    if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"):
        return f"<U+{ord(ch):04X}>"
    return ch


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns, combining marks none."""
    return sum(_char_width(c) for ch in text for c in _shown(ch))


def _display(text: str) -> str:
    return "".join(_shown(ch) for ch in text)


_CLIP = 4 * MAX_LINE_WIDTH


def _window(text: str, start: int, end: int) -> tuple[str, int, int]:
    """The part of a long line to show, and the caret's column and length within it."""
    if len(text) > _CLIP:
        # A line of a megabyte is cut to the characters around the caret first: measuring the
        # width of the whole line for every step below would cost its length squared.
        lo = max(0, start - _CLIP // 2)
        hi = min(len(text), lo + _CLIP)
        shown, column, length = _window(text[lo:hi], start - lo, min(end, hi) - lo)
        if lo > 0 and not shown.startswith("..."):
            shown, column = "..." + shown, column + 3
        if hi < len(text) and not shown.endswith("..."):
            shown += "..."
        return shown, column, length
    if _width(text) <= MAX_LINE_WIDTH:
        return _display(text), _width(text[:start]), max(1, _width(text[start:end]))
    lo = start
    while lo > 0 and _width(text[lo - 1:start]) <= 20:  # some context before the caret
        lo -= 1
    hi = lo
    while hi < len(text) and _width(text[lo:hi + 1]) <= MAX_LINE_WIDTH:
        hi += 1
    head = "..." if lo > 0 else ""
    tail = "..." if hi < len(text) else ""
    shown = head + _display(text[lo:hi]) + tail
    column = len(head) + _width(text[lo:start])
    length = max(1, _width(text[start:min(end, hi)]))
    return shown, column, length


def render(diag: Diagnostic) -> str:
    """The one format for every user-facing error (a contract, see docs/diagnostics.md).

    ```
    policy.rules:41:12: error[E201]: unknown name `projets_won`
       41 |     rate projets_won / projects_supported
          |          ^^^^^^^^^^^
       help: did you mean `projects_won`?
    ```
    The location counts columns in characters from 1; the caret line counts terminal columns.
    """
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
        shown, column, length = _window(text, col - 1, max(end_col - 1, col - 1))
        gutter = " " * len(str(line))
        lines.append(f"   {line} | {shown}".rstrip(" "))
        lines.append(f"   {gutter} | {' ' * column}{'^' * length}")
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
    """`did you mean ...?` for a misspelled name, or None. Bounded whatever the input: a long word
    resembles no name, long candidates are skipped, and only the candidates closest in length are
    compared (difflib's ratio of a and b is at most 2*min(|a|,|b|)/(|a|+|b|))."""
    import difflib
    match = difflib.get_close_matches(name, close_in_length(name, candidates), n=1, cutoff=0.6)
    return f"did you mean `{match[0]}`?" if match else None


def close_in_length(word: str, candidates) -> list[str]:
    """The candidates worth comparing with `word` (none when it is too long to be a misspelling)."""
    if len(word) > MAX_SUGGEST_CHARS:
        return []
    size = len(word)
    # ratio >= 0.6 needs the shorter length to be at least 3/7 of the longer.
    near = [c for c in candidates if len(c) <= MAX_SUGGEST_CHARS and 7 * min(len(c), size) >= 3 * max(len(c), size)]
    if len(near) > MAX_SUGGEST_CANDIDATES:
        near.sort(key=lambda c: abs(len(c) - size))
        near = near[:MAX_SUGGEST_CANDIDATES]
    return near
