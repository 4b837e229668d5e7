"""kpirules.spark.evaluate on a local[2] Spark session: the same results as evaluate_many.

Skipped, with the reason, when pyspark (the `spark` extra) or Java is not installed.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import kpirules
from kpirules.result import jsonable

ROOT = Path(__file__).resolve().parents[1]
U8 = ROOT / "policies" / "u8_presales.rules"
BASE = json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8"))

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'kpirules[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not installed: Spark needs it", allow_module_level=True)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession
    session = (SparkSession.builder.master("local[2]").appName("kpirules-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate())
    yield session
    session.stop()


@pytest.mark.slow
def test_spark_results_equal_evaluate_many(spark):
    import pandas as pd
    rows = []
    for i in range(40):
        r = {k: v for k, v in BASE.items() if k != "rollout"}
        r.update(id=f"E{i:03d}", quarter=1 + i % 4, base_salary=Decimal("30000.00") + i,
                 projects_won=min(7, i % 10), attendance_violations=json.dumps(BASE["attendance_violations"]),
                 rule_violations=json.dumps(BASE["rule_violations"]), dept_revenue=Decimal("2610000"),
                 own_revenue=452000 + i)
        for k, v in BASE["rollout"].items():
            r[f"rollout.{k}"] = v
        rows.append(r)
    rows[7]["quarter"] = 9  # an error row
    df = spark.createDataFrame(pd.DataFrame(rows)).repartition(3)
    from kpirules import spark as kspark
    got = {r["id"]: r.asDict() for r in kspark.evaluate(df, U8, "quarterly").collect()}
    policy = kpirules.load_policy(U8)
    facts = []
    for r in rows:
        f = {k: v for k, v in r.items() if "." not in k and k != "id"}
        f["attendance_violations"] = json.loads(f["attendance_violations"])
        f["rule_violations"] = json.loads(f["rule_violations"])
        f["rollout"] = {k[8:]: v for k, v in r.items() if k.startswith("rollout.")}
        facts.append(f)
    want = list(policy.evaluate_many(facts, evaluation="quarterly"))
    assert len(got) == 40
    for r, w in zip(rows, want, strict=True):
        g = got[r["id"]]
        if isinstance(w, kpirules.Result):
            assert g["status"] == "ok" and g["error_code"] is None
            assert {n: g[n] for n in w.outputs} == {n: jsonable(w.values[n]) for n in w.outputs}
        else:
            assert g["status"] == "error" and g["error_code"] == w.violations[0].code
    assert got["E007"]["status"] == "error"
