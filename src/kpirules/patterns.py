"""Patterns: a `matching "..."` pattern compiled for RE2, which matches in time linear in the text.

Python's `re` backtracks: `(a+)+$` takes seconds on 27 characters and twice as long per extra
one, so a policy pattern could stall every evaluation. RE2 (the google-re2 package) never
backtracks; it has no backreferences and no lookaround, which a fact's pattern does not need.
Its `\\d`, `\\w` and `\\s` are ASCII only, so they are rewritten to the Unicode classes Python's
`re` gives them (`\\w` matches 项目), keeping the meaning patterns have always had.

`compile(pattern)` returns the compiled pattern or raises PatternError with the diagnostic code
(E312 not a valid pattern, E320 past a limit) and a message.
"""

from __future__ import annotations

import re

import re2

from .limits import MAX_PATTERN_REPEAT, PATTERN_MEMORY

# Python's `re` classes for str patterns, spelled in RE2 (inside a [...] class, and outside).
_IN_CLASS = {"d": r"\p{Nd}", "w": r"\p{L}\p{N}_", "s": r"\s\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
             r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{1c}-\x{1f}"}
_NEGATED = {"D": "d", "W": "w", "S": "s"}
_REPEAT = re.compile(r"\{\s*([0-9]+)\s*(?:,\s*([0-9]*)\s*)?\}")


class PatternError(Exception):
    """A pattern kpirules does not take: `code` is E312 (invalid) or E320 (past a limit)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print each refused pattern on stderr
    options.max_mem = PATTERN_MEMORY
    return options


def translate(pattern: str) -> str:
    """The pattern with `\\d \\w \\s` (and `\\D \\W \\S`) spelled as Python's Unicode classes."""
    out = []
    i, n = 0, len(pattern)
    depth = 0  # inside a [...] class
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt in _IN_CLASS:
                out.append(_IN_CLASS[nxt] if depth else f"[{_IN_CLASS[nxt]}]")
            elif nxt in _NEGATED and not depth:
                out.append(f"[^{_IN_CLASS[_NEGATED[nxt]]}]")
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[" and not depth:
            depth = 1
            out.append(ch)
            i += 1
            # `]` first in a class (after an optional `^`) is a literal
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("]")
                i += 1
            continue
        if ch == "]" and depth:
            depth = 0
        out.append(ch)
        i += 1
    return "".join(out)


def check_repeats(pattern: str) -> None:
    """E320 for a repetition count past MAX_PATTERN_REPEAT (checked on the digits, never as an int
    of any size: `a{99999999999}` made Python's `re` overflow)."""
    for m in _REPEAT.finditer(pattern):
        for count in (m.group(1), m.group(2)):
            if count and (len(count) > 6 or int(count) > MAX_PATTERN_REPEAT):
                shown = count if len(count) <= 12 else count[:12] + "…"
                raise PatternError("E320", f"the repetition count {shown} is more than {MAX_PATTERN_REPEAT}")


def compile(pattern: str):
    """The RE2 pattern of a `matching` text, or PatternError."""
    check_repeats(pattern)
    try:
        return re2.compile(translate(pattern), _options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        what, _, where = str(detail).partition(": ")
        # RE2 names the offending part of the pattern it was given; show it when the user wrote it
        # (not when it is a class this module spelled out).
        detail = f"{what}: `{where}`" if where and where in pattern and where != pattern else what
        if "too large" in detail or "repetition size" in detail:
            raise PatternError("E320", f"the pattern is too large to match quickly ({detail})") from None
        raise PatternError("E312", detail or "not a regular expression") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a lone surrogate in the text
        raise PatternError("E312", str(exc)) from None
