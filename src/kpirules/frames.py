"""Many fact sets at once from Python: `Policy.evaluate_many` and `Policy.evaluate_frame` (pandas).

`evaluate_many` yields, in order, a `Result` for each fact set or the error that refused it
(`FactError`, `EvaluationError`): one bad row never stops the others. `evaluate_frame` takes a
pandas DataFrame with a column per fact (records by dotted columns such as
`rollout.sales_tools`, or a dict cell; lists as list cells or JSON text) and returns a
DataFrame with the same index: a column per output holding exact values (`decimal.Decimal`,
`str`, `bool`; a per-member output as a dict), `status` (`ok` or `error`) and `error` (None,
or `CODE at `PATH`: message`). Floats in the frame (pandas' only kind of non-integer number
unless a column holds `Decimal` objects) are read as the shortest decimal that gives back the
same float, as XLSX cells are (tabular.py); a missing cell (None, NaN, NA) is a missing fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from . import tabular
from .errors import EvaluationError, FactError, KpiRulesError


def evaluate_many(policy, rows: Iterable[Mapping[str, Any] | str], evaluation: str | None = None,
                  explain: bool = False, as_of=None) -> Iterator[Any]:
    """Results (or the error of each refused row), in the order of `rows`. A row is a mapping of
    facts, or a JSON text of one. UsageError (no such evaluation, a bad as-of date) is raised at
    once, before any row is read."""
    from . import _as_of_date, read_facts
    program = policy._program(evaluation, _as_of_date(as_of))  # raises UsageError now, not on first next()
    name = program.evaluation.name

    def results():
        for row in rows:
            try:
                facts = read_facts(row, is_text=True) if isinstance(row, (str, bytes)) else row
                yield policy.evaluate(facts, evaluation=name, explain=explain, as_of=as_of)
            except (FactError, EvaluationError) as exc:
                yield exc
    return results()


def _missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and v != v:
        return True
    try:
        import pandas as pd
        return v is pd.NA or v is pd.NaT
    except ImportError:  # pragma: no cover - a frame needs pandas
        return False


def _plain(v):
    """A numpy scalar as the Python value it holds."""
    if type(v).__module__ == "numpy":
        return v.tolist() if getattr(v, "shape", ()) else v.item()
    return v


def evaluate_frame(policy, df, evaluation: str | None = None, as_of=None):
    """A DataFrame of results for a DataFrame of facts (see the module's text)."""
    import pandas as pd

    from . import _as_of_date
    program = policy._program(evaluation, _as_of_date(as_of))
    name = program.evaluation.name
    types = {d.name: d.type for d in program.model.facts}
    columns = tuple(str(c) for c in df.columns)
    decoder = tabular.RowDecoder(columns, types)
    outputs = [v.name for v in program.evaluation.values if v.kind == "output"]
    from .evaluate import output_plan
    order = {n: i for i, (n, *_rest) in enumerate(output_plan(program.evaluation))}
    outputs.sort(key=lambda n: order.get(n, 0))
    data: dict[str, list] = {n: [] for n in outputs}
    status: list[str] = []
    errors: list[str | None] = []
    for raw in df.itertuples(index=False, name=None):
        cells = tuple(None if _missing(v) else _plain(v) for v in raw)
        try:
            facts = decoder.decode(cells)
            result = policy.evaluate(facts, evaluation=name, as_of=as_of)
        except FactError as exc:
            from .batch import first_violations
            code, path, message = first_violations(exc)
            _error(data, status, errors, f"{code} at `{path}`: {message}")
            continue
        except EvaluationError as exc:
            from .batch import evaluation_violation
            code, path, message = evaluation_violation(exc)
            _error(data, status, errors, f"{code} at `{path}`: {message}")
            continue
        except KpiRulesError as exc:
            _error(data, status, errors, str(exc))
            continue
        for n in outputs:
            data[n].append(result.values.get(n))
        status.append("ok")
        errors.append(None)
    out = pd.DataFrame({n: pd.Series(data[n], index=df.index, dtype=object) for n in outputs}, index=df.index)
    # (an output named `status` or `error` keeps its column; the run's own get a `kpirules_` prefix)
    out["kpirules_status" if "status" in outputs else "status"] = pd.Series(status, index=df.index, dtype=object)
    out["kpirules_error" if "error" in outputs else "error"] = pd.Series(errors, index=df.index, dtype=object)
    return out


def _error(data, status, errors, message: str) -> None:
    for values in data.values():
        values.append(None)
    status.append("error")
    errors.append(message)
