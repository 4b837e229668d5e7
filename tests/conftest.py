"""Shared test fixtures: golden files for every text a human reads.

A golden file is the reviewed, expected text of one output (a diagnostic, an explanation, a
formatted policy), kept under `tests/golden/<subdir>/...`. Tests compare their output with it:

    def test_something(golden):
        golden("diagnostics/E201.txt", rendered_text)

`pytest --update-golden` rewrites the files from the current output instead of comparing; review
the change with `git diff tests/golden` before committing it.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files under tests/golden/ from the current output")


def golden_path(name: str) -> Path:
    """The file of golden `name` (a relative path such as `diagnostics/E201.txt`)."""
    path = (GOLDEN_DIR / name).resolve()
    if GOLDEN_DIR not in path.parents:
        raise ValueError(f"golden file {name!r} is outside tests/golden/")
    return path


def _normalise(text: str) -> str:
    # Files end with exactly one newline, whatever the output ends with, so editors leave them be.
    return text.rstrip("\n") + "\n"


def check_golden(name: str, text: str, update: bool = False) -> None:
    """Compare `text` with golden file `name`, or (update=True) write it there."""
    path = golden_path(name)
    text = _normalise(text)
    if update:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        pytest.fail(f"golden file tests/golden/{name} does not exist; create it with "
                    f"`pytest --update-golden` and review it", pytrace=False)
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), text.splitlines(keepends=True),
                                            fromfile=f"tests/golden/{name}", tofile="actual output"))
        pytest.fail(f"output differs from tests/golden/{name} (run `pytest --update-golden` if the "
                    f"change is intended):\n{diff}", pytrace=False)


@pytest.fixture
def golden(request):
    """`golden(name, text)`: assert `text` equals tests/golden/<name>; rewrite it under --update-golden."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        check_golden(name, text, update)

    return check
