"""Exceptions raised by the public API, each carrying the problems it found."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .diagnostics import Diagnostic, render
from .source import Span


class KpiRulesError(Exception):
    """Base class of every error kpirules raises for bad input."""


class PolicyError(KpiRulesError):
    """A policy that cannot be loaded: syntax, names, types. Carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(self.render())

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

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
    """The library or command line was called in a way that cannot work (e.g. no evaluation named)."""
