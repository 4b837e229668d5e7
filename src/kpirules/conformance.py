"""Running a conformance corpus (tests/conformance/): `kpirules test --conformance DIR`.

A corpus is a folder `cases/` of case folders, each with a `case.json` saying which policy and
facts to run and what to expect: values, or the errors (code and fact path, or file:line:col).
tests/conformance/README.md describes the format. Each case runs with its folder as the current
folder, through the public API; `run_case` returns what did not match (nothing when it passes).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA = "kpirules.conformance/1"


def cases(corpus: str | os.PathLike[str]) -> list[Path]:
    """The case folders of a corpus (`corpus/cases/*/case.json`, or `corpus/*/case.json`), sorted."""
    root = Path(corpus)
    base = root / "cases" if (root / "cases").is_dir() else root
    return sorted(p for p in base.iterdir() if (p / "case.json").is_file()) if base.is_dir() else []


def load_case(folder: str | os.PathLike[str]) -> dict[str, Any]:
    return json.loads((Path(folder) / "case.json").read_text(encoding="utf-8"))


def expects_error(case: dict[str, Any]) -> bool:
    expect = case["expect"]
    return bool({"policy_errors", "fact_errors", "evaluation_error"} & set(expect) or expect.get("cite_errors"))


@contextlib.contextmanager
def _inside(folder: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _where(span) -> dict[str, Any]:
    if span is None:
        return {}
    return {"file": os.path.normpath(span.path), "line": span.line, "column": span.column}


def _diag(d) -> dict[str, Any]:
    return {"code": d.code, **_where(d.span)}


def _norm(expected: list) -> list:
    return [{**e, "file": os.path.normpath(e["file"])} if "file" in e else e for e in expected]


def _multiset(items) -> dict[str, int]:
    counts = collections.Counter(f"{i['code']} at {i['path']}" for i in items)
    return dict(sorted(counts.items()))


def run_case(folder: str | os.PathLike[str]) -> list[str]:
    """Check one case through the public API: the list of what did not match."""
    folder = Path(folder).resolve()
    case = load_case(folder)
    if case.get("schema") != SCHEMA:
        return [f"not a case of {SCHEMA}: schema {case.get('schema')!r}"]
    from .errors import KpiRulesError
    with _inside(folder):
        try:
            return _run(case)
        except KpiRulesError as exc:  # e.g. an evaluation that needs an as-of date the case does not give
            return [f"kpirules refused to run the case: {exc}"]


def run(corpus: str | os.PathLike[str]) -> Iterator[tuple[Path, list[str]]]:
    """(case folder, problems) for every case of a corpus, in name order."""
    for folder in cases(corpus):
        yield folder, run_case(folder)


def _run(case: dict[str, Any]) -> list[str]:
    from . import EvaluationError, FactError, PolicyError, load_policy, load_policy_text, read_facts
    expect = case["expect"]
    problems: list[str] = []

    def differ(what, expected, got):
        if expected != got:
            problems.append(f"{what}: expected {json.dumps(expected, ensure_ascii=False)}, "
                            f"got {json.dumps(got, ensure_ascii=False)}")

    try:
        if "policy_padding" in case:
            pad = case["policy_padding"]
            text = Path(case["policy"]).read_text(encoding="utf-8") + pad["line"] * pad["times"]
            policy = load_policy_text(text, case["policy"])
        else:
            policy = load_policy(case["policy"])
    except PolicyError as exc:
        if "policy_errors" not in expect:
            return [f"the policy does not load:\n{exc.render()}"]
        differ("policy errors", _norm(expect["policy_errors"]), [_diag(d) for d in exc.diagnostics if d.is_error])
        return problems
    if "policy_errors" in expect:
        return [f"expected the policy errors {json.dumps(expect['policy_errors'])}, and the policy loads"]
    if "policy_warnings" in expect:
        differ("policy warnings", _norm(expect["policy_warnings"]),
               [_diag(d) for d in policy.diagnostics if not d.is_error])
    if "cite_errors" in expect:
        from . import citations
        from .loader import merged_tree, read_source
        _, found = citations.check(merged_tree(read_source(case["policy"])),
                                   citations.SourceDocument.read(case["source"]))
        differ("cite errors", _norm(expect["cite_errors"]), [_diag(d) for d in found])
        if "values" not in expect:
            return problems
    try:
        facts = read_facts(case["facts"])
        result = policy.evaluate(facts, evaluation=case.get("evaluation"), as_of=case.get("as_of"))
    except FactError as exc:
        if "fact_errors" not in expect:
            return problems + [f"the facts are refused:\n{exc.render()}"]
        differ("fact errors", _multiset(expect["fact_errors"]), _multiset(v.as_json() for v in exc.violations))
        return problems
    except EvaluationError as exc:
        if "evaluation_error" not in expect:
            return problems + [f"the evaluation fails:\n{exc.render()}"]
        differ("evaluation error", _norm([expect["evaluation_error"]])[0], {"code": "R001", **_where(exc.span)})
        return problems
    for key in ("fact_errors", "evaluation_error"):
        if key in expect:
            problems.append(f"expected {key} {json.dumps(expect[key], ensure_ascii=False)}, and the evaluation "
                            "succeeds")
    values = result.to_json()["values"]
    for name, value in expect.get("values", {}).items():
        differ(f"value `{name}`", value, values.get(name, "<no such value>"))
    if "fact_warnings" in expect:
        differ("fact warnings", _multiset(expect["fact_warnings"]), _multiset(w.as_json() for w in result.warnings))
    return problems
