"""Spark, for populations beyond one machine: `kpirules.spark.evaluate(df, policy_path, evaluation)`.

Returns a Spark DataFrame with one row per input row: the id column (when the input has one),
`status` (`ok` or `error`), one column per output and `error_code`, `error_path`,
`error_message`, exactly as `kpirules run` writes them (batch.py does the work): numbers as
exact decimal strings (a Spark `DecimalType` has one scale per column, and an output's values
need not share one), booleans as booleans, per-member outputs as JSON text.

The partitions are evaluated on the executors with `mapInPandas`: each Python worker loads the
policy once (from `policy_path`, which must be readable there: on a cluster, put the policy and
the modules it imports on a shared file system, or ship them with `--files`/`addFile` and pass
the path the executors see) and keeps it for every partition it is given. Input columns are read
as `kpirules run` reads a table: a column per fact, records as dotted columns or structs, lists
as arrays or JSON text, Spark decimals exactly, floats by their shortest decimal.

Needs the `spark` extra: `pip install 'kpirules[spark]'` (pyspark, and Java 17 on the machines).
"""

from __future__ import annotations

import os
from typing import Any

_JOBS: dict[tuple, Any] = {}


def _job(options: dict, columns: tuple[str, ...]):
    """The batch Job of this worker process for these options and columns (the policy loaded once)."""
    from .batch import Job
    key = (options["policy"], options["evaluation"], options["as_of"], options["id_field"], columns)
    job = _JOBS.get(key)
    if job is None:
        job = _JOBS[key] = Job(options, columns)
    return job


def _cells(row: tuple) -> tuple:
    from .frames import _missing, _plain
    return tuple(None if _missing(v) else _plain(v) for v in row)


def _text(v):
    """A per-member output (a mapping) or a list as JSON text; everything else as it is."""
    if isinstance(v, (dict, list)):
        import json
        return json.dumps(v, ensure_ascii=False)
    return v


def evaluate(df, policy_path: str | os.PathLike[str], evaluation: str | None = None, as_of: str | None = None,
             id_field: str = "id"):
    """Evaluate every row of a Spark DataFrame (see the module's text). Raises PolicyError for a
    bad policy and UsageError for an unknown evaluation, on the driver, before any task runs."""
    from pyspark.sql.types import BooleanType, StringType, StructField, StructType

    from . import load_policy
    from .batch import Layout, _as_of
    path = os.path.abspath(os.fspath(policy_path))
    policy = load_policy(path)  # checked once on the driver: a bad policy fails here, not in a task
    program = policy._program(evaluation, _as_of(as_of))
    columns = tuple(df.columns)
    layout = Layout(program, id_field, columns, explain=False)
    options = {"policy": path, "evaluation": program.evaluation.name, "as_of": as_of, "id_field": id_field,
               "explain": False, "out_kind": "jsonl", "in_kind": "spark", "statements": None, "format": None,
               "lang": "en", "stats": False}
    names = [c for c in layout.columns if c != "row"]
    schema = StructType([StructField(c, BooleanType() if layout.kinds.get(c) == "bool" else StringType(), True)
                         for c in names])

    def partition(frames):
        import pandas as pd
        job = _job(options, columns)
        for pdf in frames:
            records = [job.row(i + 1, _cells(raw)) for i, raw in enumerate(pdf.itertuples(index=False, name=None))]
            yield pd.DataFrame({c: pd.Series([_text(r.get(c)) for r in records], dtype=object) for c in names},
                               columns=names)

    # Spark reads a dot in a column name as a struct field: rename by position (the Job knows the
    # names as written), so that `rollout.sales_tools` columns reach the workers.
    plain = df.toDF(*[f"_kpirules_{i}" for i in range(len(columns))])
    return plain.mapInPandas(partition, schema=schema)
