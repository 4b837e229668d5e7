"""kpirules: a declarative rules engine for performance-assessment and bonus policies.

The public API: `load_policy`, `Policy.evaluate`, `Result`, `read_facts`, and the errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from . import dates as _dates
from . import evaluate as _evaluate
from . import facts as _facts
from . import trace as _trace
from .checker import versions as _versions
from .diagnostics import Diagnostic
from .errors import AssertionFailed, EvaluationError, FactError, FactViolation, KpiRulesError, PolicyError, UsageError
from .loader import load as _load
from .loader import read_source as _read_source
from .loader import strip_bom as _strip_bom
from .model import PolicyModel as _PolicyModel
from .program import Program as _Program
from .result import Result, Trace, TraceNode
from .runtime import AS_OF as _AS_OF
from .source import SourceFile as _SourceFile

__version__: str  # set on first use by __getattr__ below


def __getattr__(name: str) -> str:
    # `__version__` is read when first asked for, from the installed metadata file found as
    # importlib.metadata would find it, without importing importlib.metadata (it costs more
    # than checking a policy); in an unusual install, importlib.metadata itself decides.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    global __version__
    __version__ = _installed_version()
    return __version__


def _installed_version() -> str:
    import sys
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found = sorted((x for x in names if x.rpartition(".")[2] in ("dist-info", "egg-info")
                        and x.rpartition(".")[0].lower().split("-")[0] == "kpirules"),
                       key=lambda x: x.endswith(".egg-info"))  # as importlib.metadata: dist-info first
        for info in found:
            try:
                with open(os.path.join(folder, info, "METADATA" if info.endswith(".dist-info") else "PKG-INFO"),
                          encoding="utf-8") as f:
                    for line in f:
                        if not line.strip():  # the end of the headers
                            break
                        if line.startswith("Version:"):
                            return line[len("Version:"):].strip()
            except OSError:
                pass
        if found:
            break
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("kpirules")
    except PackageNotFoundError:  # running from a source tree
        return "0.0.0"


__all__ = ["load_policy", "load_policy_text", "read_facts", "Policy", "Result", "Trace", "TraceNode", "KpiRulesError",
           "PolicyError", "FactError", "FactViolation", "EvaluationError", "UsageError",
           "AssertionFailed"]


class Policy:
    """A loaded, checked and compiled policy: evaluate it as often as you like (thread-safe:
    evaluation reads the policy and never changes it)."""

    def __init__(self, model: _PolicyModel, programs: dict[str, tuple[_Program, ...]],
                 diagnostics: tuple[Diagnostic, ...]):
        self._model = model
        self._versions = programs  # evaluation name -> its programs: one, or its versions by date
        self._programs = {name: found[0] for name, found in programs.items()}
        self.diagnostics: tuple[Diagnostic, ...] = diagnostics  # warnings found while checking
        self._plans: dict[str, tuple] = {}
        self._info: dict[str, str | None] = {"name": model.name, "version": model.version, "sha256": model.sha256}

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def label(self) -> str | None:
        return self._model.label

    @property
    def version(self) -> str | None:
        return self._model.version

    @property
    def sha256(self) -> str:
        return self._model.sha256

    @property
    def path(self) -> str:
        return self._model.source.path

    @property
    def evaluations(self) -> tuple[str, ...]:
        """Names of the policy's evaluations, in written order (an evaluation with versions once)."""
        return tuple(dict.fromkeys(ev.name for ev in self._model.evaluations))

    def facts_of(self, evaluation: str | None = None,
                 as_of: date | str | None = None) -> tuple[tuple[str, str | None, str], ...]:
        """The fact declarations of an evaluation (name, label, rule as written); of an evaluation
        with versions, those of the version in force `as_of`."""
        ev = self._program(evaluation, _as_of_date(as_of)).model
        return tuple((f.name, f.label, f.rule) for f in ev.facts)

    def _program(self, evaluation: str | None, as_of: date | None = None) -> _Program:
        if evaluation is None:
            if len(self._programs) != 1:
                raise UsageError(f"policy `{self.name}` has several evaluations; name one of: "
                                 + ", ".join(self.evaluations))
            evaluation = next(iter(self._programs))
        found = self._versions.get(evaluation)
        if found is None:
            raise UsageError(f"policy `{self.name}` has no evaluation `{evaluation}`; it has: "
                             + ", ".join(self.evaluations))
        if found[0].effective is None:
            return found[0]
        # An evaluation with versions: the one in force on the as-of date.
        dated = [(p.effective, p) for p in found]
        if as_of is None:
            raise UsageError(f"evaluation `{evaluation}` of policy `{self.name}` has versions ("
                             + _versions.listing(dated) + "): give the date it is made as of "
                             "(`--as-of 2026-07-01`, or `as_of=` in Python)")
        chosen = _versions.in_force(dated, as_of)
        if chosen is None:
            raise UsageError(f"no version of evaluation `{evaluation}` of policy `{self.name}` is in force "
                             f"on {as_of.isoformat()}; it has: " + _versions.listing(dated))
        return chosen[1]

    def _plan(self, program: _Program) -> tuple:
        ev = program.evaluation
        plan = (_evaluate.output_plan(ev), tuple(v.name for v in ev.values if v.kind == "output"))
        self._plans[ev.name] = plan
        return plan

    def evaluate(self, facts: Mapping[str, Any], evaluation: str | None = None, explain: bool = False,
                 as_of: date | str | None = None) -> Result:
        """Validate `facts` (a dict, e.g. from `read_facts`) and compute every value exactly.

        `as_of` is the date the evaluation is made as of (a `datetime.date` or `"2026-07-01"`),
        which formulas read as `evaluation_date` (e.g. to pick the version of an effective-dated
        table in force on that day); an evaluation that reads it needs it.

        Raises FactError (with every violation) for bad facts, EvaluationError when a value cannot
        be computed (e.g. a division by zero the policy does not handle), and UsageError for a
        missing or malformed `as_of`.
        """
        day = _as_of_date(as_of)
        program = self._program(evaluation, day)
        if day is None and program.uses_as_of:
            raise UsageError(f"evaluation `{program.evaluation.name}` of policy `{self.name}` reads "
                             "`evaluation_date`: give the date it is made as of (`--as-of 2026-07-01`, "
                             "or `as_of=` in Python)")
        valid, warnings = _facts.validate(program.model, facts, program.check_facts)
        if day is not None:
            valid = {**valid, _AS_OF: day}
        plan, outputs = self._plans.get(program.evaluation.name) or self._plan(program)
        raw, records = _evaluate.run(program, valid, explain)
        values = _evaluate.values_of(plan, raw, valid)
        trace = None
        if explain:
            trace = _trace.build(program, {**self._info, "label": self.label}, valid, raw, records)
        if day is not None:
            valid = {k: v for k, v in valid.items() if k != _AS_OF}
        return Result(policy=self._info, evaluation=program.evaluation.name, values=values, outputs=outputs,
                      trace=trace, facts=valid, warnings=warnings, as_of=day, version=program.effective)

    def evaluate_many(self, rows: Iterable[Mapping[str, Any] | str], evaluation: str | None = None,
                      explain: bool = False, as_of: date | str | None = None) -> Iterator[Result | KpiRulesError]:
        """Evaluate many fact sets: yields, in their order, a `Result` for each, or the `FactError`
        or `EvaluationError` that refused it (one bad fact set never stops the others). A fact
        set is a mapping or a JSON text. UsageError is raised at once (e.g. no such evaluation)."""
        from . import frames
        return frames.evaluate_many(self, rows, evaluation=evaluation, explain=explain, as_of=as_of)

    def evaluate_frame(self, df: Any, evaluation: str | None = None, as_of: date | str | None = None) -> Any:
        """Evaluate every row of a pandas DataFrame (a column per fact; records by dotted columns).
        Returns a DataFrame with the same index: a column per output with exact values
        (`Decimal`, `str`, `bool`), `status` (`ok`/`error`) and `error` (None or why)."""
        from . import frames
        return frames.evaluate_frame(self, df, evaluation=evaluation, as_of=as_of)


def _as_of_date(as_of: date | str | None) -> date | None:
    if as_of is None or (type(as_of) is date):
        return as_of
    if isinstance(as_of, str):
        try:
            return _dates.parse_date(as_of)
        except _dates.DateProblem as problem:
            raise UsageError(f"as-of date `{as_of}`: {problem}") from None
    raise UsageError(f"the as-of date must be a date or a text `YYYY-MM-DD`, not {type(as_of).__name__}")


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read, check and compile a `.rules` file. Raises PolicyError with every diagnostic."""
    return Policy(*_load(_read_source(path)))


def load_policy_text(text: str, path: str = "<policy>") -> Policy:
    """Like load_policy, from text in memory (path is used in diagnostics)."""
    return Policy(*_load(_SourceFile(path=path, text=_strip_bom(text))))


def read_facts(path_or_text: str | os.PathLike[str], *, is_text: bool = False) -> dict[str, Any]:
    """Read a JSON fact file exactly (numbers never pass through float). Raises FactError."""
    if is_text:
        return _facts.read_json(str(path_or_text))
    try:
        with open(path_or_text, encoding="utf-8") as fh:
            text = fh.read(_facts.MAX_FACT_CHARS + 1)  # read_json refuses a longer text (F003)
    except FileNotFoundError:
        raise FactError([FactViolation(path="$", code="F002",
                                       message=f"fact file `{path_or_text}` does not exist")]) from None
    except UnicodeDecodeError:
        raise FactError([FactViolation(path="$", code="F002",
                                       message=f"fact file `{path_or_text}` is not UTF-8 text")]) from None
    except OSError as exc:
        raise FactError([FactViolation(path="$", code="F002",
                                       message=f"cannot read `{path_or_text}`: {exc.strerror or exc}")]) from None
    return _facts.read_json(text)
