"""Packaging: the sdist holds everything its tests need (every file of the repository), and tests
run from the unpacked sdist pass; the wheel built from that sdist holds the grammar, `py.typed`
and the licence; the metadata has the licence, project URLs and classifiers.

Builds with `python -m build --no-isolation` (the test extra brings `build` and a setuptools new
enough for the project's build system), so no network is needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("build", reason="building the sdist needs `build` (in the test extra)")

# A small part of the suite, run from the unpacked sdist: it reads docs/, policies/, ruleset/,
# examples/, editors/ and golden files under tests/golden/.
FROM_SDIST = ["tests/test_diagnostics.py", "tests/test_policy_examples.py", "tests/test_cli_conventions.py",
              "tests/test_vscode_client.py"]


def _build(kind: str, source: Path, out: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(out),
                           str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = out.glob("*.tar.gz" if kind == "sdist" else "*.whl")
    return built


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    """(the sdist, the folder it was unpacked into)."""
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not run from a source tree")
    out = tmp_path_factory.mktemp("dist")
    archive = _build("sdist", ROOT, out)
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(out / "unpacked", filter="data")
        else:  # Python before 3.11.4: our own archive, just built
            tar.extractall(out / "unpacked")
    (tree,) = (out / "unpacked").iterdir()
    return archive, tree


def _tracked() -> list[str] | None:
    if shutil.which("git") is None:
        return None
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.splitlines() if done.returncode == 0 else None


@pytest.mark.slow
def test_the_sdist_holds_every_file_of_the_repository(sdist):
    _archive, tree = sdist
    for needed in ["LICENSE", "README.md", "pyproject.toml", "docs/language.md", "docs/diagnostics.md",
                   "policies/u8_presales.rules", "ruleset/presales.rules", "examples/u8_quarterly.json",
                   "tests/conftest.py", "tests/golden/diagnostics", "tests/golden/cli/help/eval.txt",
                   "benchmarks/bench_u8.py", "editors/vscode/package.json", "editors/vscode/extension.js",
                   "src/kpirules/grammar.lark", "src/kpirules/py.typed"]:
        assert (tree / needed).exists(), f"the sdist lacks {needed}"
    tracked = _tracked()
    if tracked is None:
        pytest.skip("not a git checkout: the files of the repository are not known")
    missing = [f for f in tracked if f != ".gitignore" and (ROOT / f).exists() and not (tree / f).exists()]
    assert not missing, f"the sdist lacks {missing[:20]} (add them to MANIFEST.in)"
    assert not list(tree.rglob("__pycache__")), "the sdist holds compiled files"


@pytest.mark.slow
def test_tests_run_from_the_unpacked_sdist(sdist, tmp_path):
    _archive, tree = sdist
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(tree / "src")  # the sdist's own code, not the kpirules installed here
    where = subprocess.run([sys.executable, "-c", "import kpirules; print(kpirules.__file__)"], cwd=tree, env=env,
                           capture_output=True, text=True)
    assert Path(where.stdout.strip()).resolve().is_relative_to(tree.resolve()), where
    quick = subprocess.run([sys.executable, "-m", "kpirules", "eval", "policies/u8_presales.rules",
                            "examples/u8_quarterly.json", "--evaluation", "quarterly"], cwd=tree, env=env,
                           capture_output=True, text=True, timeout=120)
    assert quick.returncode == 0, quick.stderr
    assert "quarterly_bonus" in quick.stdout and "7488.00" in quick.stdout
    pytest_argv = ["-o", "addopts=", "-q", "-p", "no:cacheprovider", *FROM_SDIST]
    done = subprocess.run([sys.executable, "-m", "pytest", *pytest_argv], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1]


@pytest.mark.slow
def test_the_wheel_holds_the_grammar_py_typed_and_the_licence(sdist, tmp_path):
    _archive, tree = sdist
    wheel = _build("wheel", tree, tmp_path)  # built from the sdist, as pip would
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(f"{info}/METADATA").decode("utf-8")
    assert {"kpirules/grammar.lark", "kpirules/py.typed", "kpirules/__init__.py", "kpirules/lsp.py",
            f"{info}/licenses/LICENSE"} <= names
    assert not any(n.startswith(("tests/", "docs/", "policies/")) for n in names)
    assert "License-Expression: MIT" in metadata
    assert "Project-URL: Source, " in metadata and "Project-URL: Documentation, " in metadata
    assert "Classifier: Typing :: Typed" in metadata
    assert "Provides-Extra: lsp" in metadata and "Provides-Extra: test" in metadata


def test_licence_and_metadata_agree():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License\n") and "the kpirules authors" in licence
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(project["urls"])
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # the SPDX expression says it
    assert "Typing :: Typed" in project["classifiers"] and (ROOT / "src" / "kpirules" / "py.typed").is_file()
    extras = project["optional-dependencies"]
    assert {"lsp", "test", "highlight"} <= set(extras)
    assert any(dep.startswith("pygls") for dep in extras["test"])  # the test extra runs the lsp tests
