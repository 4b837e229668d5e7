"""How the service says no: one exception, one JSON shape, one status per kind of problem.

    {"status": 400, "error": "bad_facts", "message": "...", "problems": [
        {"code": "F110", "severity": "error", "path": "quarter", "message": "must be <= 4, got `5` ..."}]}

`problems` holds the library's own diagnostics: fact violations with their fact paths (F...),
policy diagnostics with their spans (E..., W...), evaluation errors (R001).
"""

from __future__ import annotations

from typing import Any

from ..errors import EvaluationError, FactError, PolicyError, message_for

# The `error` words, with their status (docs/service.md lists them).
STATUS = {
    "bad_request": 400,        # a query parameter or body that is not what the route takes
    "bad_facts": 400,          # the facts are not JSON, or break the evaluation's declarations
    "not_found": 404,          # no such route, policy or evaluation
    "method_not_allowed": 405,
    "request_timeout": 408,    # the body did not arrive in time
    "body_too_large": 413,     # the body is longer than --max-body
    "bad_policy": 422,         # the policy does not check
    "evaluation_error": 422,   # valid facts for which the policy cannot compute a value
    "internal_error": 500,
}


class Problem(Exception):
    def __init__(self, error: str, message: str, problems: list | tuple = (), **extra: Any):
        super().__init__(message)
        self.error = error
        self.status = STATUS[error]
        self.message = message
        self.problems = list(problems)
        self.extra = extra

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error, "message": self.message, "problems": self.problems,
                **self.extra}


def from_facts(exc: FactError, where: str, subject: str = "the body") -> Problem:
    if any(v.code == "F001" for v in exc.violations):
        return Problem("bad_facts", f"{subject} is not JSON", [v.as_json() for v in exc.violations])
    return Problem("bad_facts", f"the facts do not satisfy {where}",
                   [v.as_json() for v in tuple(exc.violations) + tuple(exc.warnings)])


def from_policy(exc: PolicyError | tuple, what: str) -> Problem:
    diagnostics = exc.diagnostics if isinstance(exc, PolicyError) else exc
    return Problem("bad_policy", f"{what} does not check", [d.as_json() for d in diagnostics])


def from_evaluation(exc: EvaluationError) -> Problem:
    problem: dict[str, Any] = {"code": "R001", "severity": "error", "path": exc.name,
                               "message": message_for(exc.name, exc.message)}
    if exc.span is not None:
        problem["span"] = exc.span.as_json()
    return Problem("evaluation_error", f"cannot compute `{exc.name}`", [problem])
