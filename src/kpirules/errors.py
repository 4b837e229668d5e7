"""Exceptions raised by the public API, each carrying the problems it found."""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from .diagnostics import Diagnostic, render
from .source import Span


class KpiRulesError(Exception):
    """Base class of every error kpirules raises for bad input. `code` is the code of its first
    problem (E..., W..., F..., R..., U001), as listed in docs/diagnostics.md."""

    code: str = "U001"


class PolicyError(KpiRulesError):
    """A policy that cannot be loaded: syntax, names, types. Carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(self.render())

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def code(self) -> str:  # type: ignore[override]
        first = self.errors or self.diagnostics
        return first[0].code if first else "E001"

    def render(self) -> str:
        return "\n".join(render(d) for d in self.diagnostics)


@attrs.frozen(kw_only=True)
class FactViolation:
    """One broken rule of a fact set: the fact's path (e.g. `projects[3].collected`) and the rule."""

    path: str
    message: str
    code: str = "F100"
    severity: str = "error"

    def render(self) -> str:
        return f"facts: {self.severity}[{self.code}]: `{self.path}`: {self.message}"

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "path": self.path, "message": self.message}


class FactError(KpiRulesError):
    """A fact set that does not satisfy the policy's declarations. Carries every violation."""

    def __init__(self, violations: Iterable[FactViolation], warnings: Iterable[FactViolation] = ()):
        self.violations: tuple[FactViolation, ...] = tuple(violations)
        self.warnings: tuple[FactViolation, ...] = tuple(warnings)
        super().__init__(self.render())

    @property
    def code(self) -> str:  # type: ignore[override]
        return self.violations[0].code if self.violations else "F100"

    @property
    def path(self) -> str:
        """The path of the first violated fact."""
        return self.violations[0].path if self.violations else ""

    def render(self) -> str:
        return "\n".join(v.render() for v in self.violations)


class EvaluationError(KpiRulesError):
    """Valid facts for which the policy cannot compute a value (e.g. a division by zero)."""

    def __init__(self, message: str, name: str, span: Span | None = None, code: str = "R001"):
        self.name = name
        self.span = span
        self.message = message
        self.code = code  # R001, or R002 for a value too large to round (limits.py)
        super().__init__(self.render())

    def render(self) -> str:
        diag = Diagnostic(code=self.code, severity="error", message=message_for(self.name, self.message),
                          span=self.span)
        return render(diag)


def message_for(name: str, message: str) -> str:
    return f"cannot compute `{name}`: {message}"


class UsageError(KpiRulesError):
    """The library or command line was called in a way that cannot work (e.g. no evaluation named).
    Its code is U001."""

    def __init__(self, message: str):
        # The message may quote what the caller passed (an evaluation's name, an as-of date):
        # controls and lone surrogates in it are shown as `<U+D800>`, never written out.
        super().__init__(_UNSAFE.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", message))


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


class AssertionFailed(EvaluationError):
    """An `assert` of the policy is false for these facts: its message, where it is written, and
    the values its condition read (reported as R001, like every evaluation error)."""

    def render(self) -> str:
        return render(Diagnostic(code="R001", severity="error", message=self.message, span=self.span))
