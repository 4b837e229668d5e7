"""A coverage-guided fuzz run (atheris, libFuzzer) of the parser, the fact reader and `verify`.

Optional: `pip install '.[fuzz]'` (atheris has wheels for Linux and macOS). Not collected by
pytest (see conftest.py here). Each input is split by its first byte into a target:

    python tests/fuzz/fuzz_atheris.py -max_total_time=600            # ten minutes
    python tests/fuzz/fuzz_atheris.py -runs=100000 tests/fuzz/corpus-atheris/

Whatever the input, the target succeeds or raises a KpiRulesError with a listed code, and the
command line reports no internal error (the same checks as tests/test_fuzz_entry_points.py);
anything else is a crash, which libFuzzer saves as `crash-...`: add the input to
tests/fuzz/corpus/ once fixed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

with atheris.instrument_imports(include=["kpirules"]):
    import kpirules

import test_fuzz_entry_points as t  # noqa: E402

SHIPPED = {p.stem: kpirules.load_policy(p) for p in t.SHIPPED}
NAMES = sorted(SHIPPED)
FOLDER = Path(tempfile.mkdtemp(prefix="kpirules-fuzz-"))


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    target = fdp.ConsumeIntInRange(0, 3)
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()) if fdp.ConsumeBool() else \
        fdp.ConsumeUnicode(fdp.remaining_bytes())
    if target == 0:  # the parser, checker, formatter
        t.exercise_policy_text(text)
    elif target == 1:  # the fact reader, then a shipped policy on what it read
        t.exercise_fact_text(text, SHIPPED[NAMES[len(text) % len(NAMES)]])
    elif target == 2:  # the command line on a fact file
        t.exercise_fact_text(text, SHIPPED[NAMES[len(text) % len(NAMES)]], FOLDER)
    else:  # verify of a result file, against the commission example
        result = FOLDER / "result.json"
        t._write(result, text)
        t.cli(["verify", result, TESTS.parent / "examples" / "commission_dated.json",
               TESTS.parent / "policies" / "commission_dated.rules"])


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
