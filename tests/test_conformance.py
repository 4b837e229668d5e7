"""The conformance corpus (tests/conformance/): every case through the public API, a sample through the CLI.

tests/conformance/README.md describes the format; tests/conformance/make_cases.py writes the
cases (their expectations are written there by hand). A case that fails says what it expected
and what kpirules gave.
"""

from __future__ import annotations

import collections
import json
import os
import re
import sys
from pathlib import Path

import pytest

import kpirules
from kpirules import EvaluationError, FactError, PolicyError
from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "conformance"
CASES = sorted(p for p in (CORPUS / "cases").iterdir() if (p / "case.json").is_file())
DIAGNOSTICS_DOC = ROOT / "docs" / "diagnostics.md"
# Codes no input can draw in this version (docs/diagnostics.md says so): no case can expect them.
UNREACHABLE = {"F100"}


def load_case(folder: Path) -> dict:
    return json.loads((folder / "case.json").read_text(encoding="utf-8"))


def _where(span) -> dict:
    if span is None:
        return {}
    return {"file": os.path.normpath(span.path), "line": span.line, "column": span.column}


def _diag(d) -> dict:
    return {"code": d.code, **_where(d.span)}


def _norm(expected: list) -> list:
    return [{**e, "file": os.path.normpath(e["file"])} if "file" in e else e for e in expected]


def _multiset(items) -> collections.Counter:
    return collections.Counter((i["code"], i["path"]) for i in items)


def run_case(folder: Path) -> list[str]:
    """Check one case through the public API, in its folder: the list of what did not match."""
    case = load_case(folder)
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
            policy = kpirules.load_policy_text(text, case["policy"])
        else:
            policy = kpirules.load_policy(case["policy"])
    except PolicyError as exc:
        got = [_diag(d) for d in exc.diagnostics if d.is_error]
        if "policy_errors" not in expect:
            return [f"the policy does not load:\n{exc.render()}"]
        differ("policy errors", _norm(expect["policy_errors"]), got)
        return problems
    if "policy_errors" in expect:
        return [f"expected policy errors {expect['policy_errors']}, and the policy loads"]
    if "policy_warnings" in expect:
        differ("policy warnings", _norm(expect["policy_warnings"]),
               [_diag(d) for d in policy.diagnostics if not d.is_error])
    if "cite_errors" in expect:
        from kpirules import citations
        from kpirules.loader import merged_tree, read_source
        _, found = citations.check(merged_tree(read_source(case["policy"])),
                                   citations.SourceDocument.read(case["source"]))
        differ("cite errors", _norm(expect["cite_errors"]), [_diag(d) for d in found])
        if "values" not in expect:
            return problems
    try:
        facts = kpirules.read_facts(case["facts"])
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
            problems.append(f"expected {key} {expect[key]}, and the evaluation succeeds")
    values = result.to_json()["values"]
    for name, value in expect.get("values", {}).items():
        differ(f"value `{name}`", value, values.get(name, "<no such value>"))
    if "fact_warnings" in expect:
        differ("fact warnings", _multiset(expect["fact_warnings"]), _multiset(w.as_json() for w in result.warnings))
    return problems


@pytest.mark.parametrize("folder", CASES, ids=[p.name for p in CASES])
def test_case(folder, monkeypatch):
    monkeypatch.chdir(folder)
    problems = run_case(folder)
    assert not problems, f"conformance case {folder.name}:\n" + "\n".join(problems)


# ---- the corpus itself ---------------------------------------------------------------------------

def test_the_corpus_is_large_and_mostly_errors():
    cases = [load_case(p) for p in CASES]
    failing = [c for c in cases if {"policy_errors", "fact_errors", "evaluation_error"} & set(c["expect"])
               or c["expect"].get("cite_errors")]
    assert len(cases) >= 300
    assert 2 * len(failing) >= len(cases), f"{len(failing)} of {len(cases)} cases expect an error"


def _documented_codes() -> set:
    text = DIAGNOSTICS_DOC.read_text(encoding="utf-8")
    policy_codes = set(re.findall(r"^\| \[([EW]\d{3})\]\(#", text, flags=re.M))
    fact_codes = set(re.findall(r"^\| (F\d{3}) \|", text, flags=re.M))
    evaluation_codes = set(re.findall(r"^## (R\d{3}) ", text, flags=re.M))
    assert policy_codes and fact_codes and evaluation_codes, "docs/diagnostics.md changed its layout"
    return policy_codes | fact_codes | evaluation_codes


def _expected_codes() -> set:
    codes = set()
    for folder in CASES:
        expect = load_case(folder)["expect"]
        for key in ("policy_errors", "policy_warnings", "cite_errors", "fact_errors", "fact_warnings"):
            codes |= {e["code"] for e in expect.get(key, ())}
        if "evaluation_error" in expect:
            codes.add(expect["evaluation_error"]["code"])
    return codes


def test_every_documented_code_has_a_case():
    missing = sorted(_documented_codes() - UNREACHABLE - _expected_codes())
    assert not missing, (
        f"docs/diagnostics.md lists {', '.join(missing)}, and no conformance case expects "
        f"{'it' if len(missing) == 1 else 'them'}. For each, add a case to tests/conformance/make_cases.py: "
        "a small policy (or fact set) that draws the code, with the expected code and its position written by "
        "hand (`policy_error(NAME, CODE, TEXT, MARKER, construct=...)` for a policy diagnostic, "
        "`lint(...)` for a warning, `case(..., fact_errors=[(CODE, PATH)])` for a fact code), then run "
        "`python tests/conformance/make_cases.py` and commit the new files under tests/conformance/cases/")


def test_the_committed_cases_are_what_the_generator_writes(tmp_path):
    sys.path.insert(0, str(CORPUS))
    try:
        import make_cases
    finally:
        sys.path.remove(str(CORPUS))
    make_cases.write(tmp_path)

    def tree(root):
        return {str(p.relative_to(root)): p.read_bytes() for folder in ("policies", "cases")
                for p in sorted((root / folder).rglob("*")) if p.is_file()}
    written, committed = tree(tmp_path), tree(CORPUS)
    stale = sorted(set(written) ^ set(committed)) + sorted(k for k in written if k in committed
                                                           and written[k] != committed[k])
    assert not stale, ("tests/conformance/ differs from what make_cases.py writes (run "
                       f"`python tests/conformance/make_cases.py`): {stale[:10]}")


# ---- a sample through the command line --------------------------------------------------------------

SAMPLE = CASES[::12]


@pytest.mark.parametrize("folder", SAMPLE, ids=[p.name for p in SAMPLE])
def test_case_through_the_cli(folder, monkeypatch, capsys):
    """`kpirules eval --format json` gives the same values, and its exit code says which kind of error."""
    case = load_case(folder)
    expect = case["expect"]
    if "policy_padding" in case or "cite_errors" in expect:
        pytest.skip("this case is given to the API only (a padded policy text; a source document)")
    monkeypatch.chdir(folder)
    argv = ["eval", case["policy"], case["facts"], "--format", "json"]
    if "evaluation" in case:
        argv += ["--evaluation", case["evaluation"]]
    if "as_of" in case:
        argv += ["--as-of", case["as_of"]]
    code = main(argv)
    out, err = capsys.readouterr()
    if "policy_errors" in expect:
        assert code == 2, err
        for e in expect["policy_errors"]:
            assert f"[{e['code']}]" in err
    elif "fact_errors" in expect or "evaluation_error" in expect:
        assert code == 1, err
        codes = [e["code"] for e in expect.get("fact_errors", [])] or ["R001"]
        for c in codes:
            assert f"[{c}]" in err
    else:
        assert code == 0, err
        values = json.loads(out)["values"]
        for name, value in expect.get("values", {}).items():
            assert values[name] == value, name
