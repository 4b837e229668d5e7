"""The conformance corpus (tests/conformance/): every case through the public API, a sample through the CLI.

tests/conformance/README.md describes the format; tests/conformance/make_cases.py writes the
cases (their expectations are written there by hand). A case that fails says what it expected
and what kpirules gave.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from kpirules import conformance
from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "conformance"
CASES = conformance.cases(CORPUS)
DIAGNOSTICS_DOC = ROOT / "docs" / "diagnostics.md"
# Codes no input can draw in this version (docs/diagnostics.md says so): no case can expect them.
UNREACHABLE = {"F100"}
# Limits whose inputs are megabytes (a 100,000-row table, 50,000 words, a 5,000,000-character fact
# file): not data for a corpus; tests/test_limits.py draws each of them.
TOO_LARGE = {"E322", "E323", "F003"}


def load_case(folder: Path) -> dict:
    return json.loads((folder / "case.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", CASES, ids=[p.name for p in CASES])
def test_case(folder):
    problems = conformance.run_case(folder)
    assert not problems, f"conformance case {folder.name}:\n" + "\n".join(problems)


# ---- the corpus itself ---------------------------------------------------------------------------

def test_the_corpus_is_large_and_mostly_errors():
    cases = [load_case(p) for p in CASES]
    failing = [c for c in cases if conformance.expects_error(c)]
    assert len(cases) >= 300
    assert 2 * len(failing) >= len(cases), f"{len(failing)} of {len(cases)} cases expect an error"


LANGUAGE_DOC = ROOT / "docs" / "language.md"
# Sections of docs/language.md about running `kpirules test`, not about what a policy means.
NOT_CONSTRUCTS = {"Running the examples", "Reading a failure"}


def test_every_construct_of_the_language_has_a_case():
    titles = set(re.findall(r"^#{2,3} (.+)$", LANGUAGE_DOC.read_text(encoding="utf-8"), flags=re.M))
    used = {load_case(folder)["construct"] for folder in CASES}
    unknown = sorted(used - titles - {"Diagnostics"})
    assert not unknown, f"cases name constructs that are no section of docs/language.md: {unknown}"
    missing = sorted(titles - NOT_CONSTRUCTS - used)
    assert not missing, (f"no conformance case exercises these sections of docs/language.md: {missing}; add one to "
                         "tests/conformance/make_cases.py (its `construct` label maps to the section's title in "
                         "CONSTRUCTS) and run `python tests/conformance/make_cases.py`")


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
    missing = sorted(_documented_codes() - UNREACHABLE - TOO_LARGE - _expected_codes())
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


# ---- kpirules test --conformance DIR ----------------------------------------------------------------

def test_kpirules_test_runs_a_corpus(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS / "policies", corpus / "policies")
    for name in ("v-ladder-7-of-9", "f-F106-not-one-of", "e-E201-misspelt-fact"):
        shutil.copytree(CORPUS / "cases" / name, corpus / "cases" / name)
    assert main(["test", "--conformance", str(corpus)]) == 0
    assert capsys.readouterr().out == "3 passed, 0 failed\n"
    case = corpus / "cases" / "v-ladder-7-of-9" / "case.json"
    case.write_text(case.read_text(encoding="utf-8").replace('"by_started": "16"', '"by_started": "17"'),
                    encoding="utf-8")
    assert main(["test", "--conformance", str(corpus)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "FAIL v-ladder-7-of-9", '    value `by_started`: expected "17", got "16"', "2 passed, 1 failed"]


def test_kpirules_test_without_cases_exits_2(tmp_path, capsys):
    assert main(["test", "--conformance", str(tmp_path)]) == 2
    assert "no conformance cases" in capsys.readouterr().err
