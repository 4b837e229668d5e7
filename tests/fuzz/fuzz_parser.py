"""A long fuzz run of the parser: the properties of tests/test_robustness.py and
tests/test_recovery.py with many more examples. Not collected by pytest (see conftest.py here),
not run by CI; run it by hand after changing the grammar, the parser or the checker:

    python tests/fuzz/fuzz_parser.py                    # every property, 2000 examples each
    python tests/fuzz/fuzz_parser.py --examples 20000 programs mutants
    python tests/fuzz/fuzz_parser.py --seed 7           # a different (reproducible) run

Exit status 0 when every property held, 1 with the smallest failing input printed otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from hypothesis import HealthCheck, assume, given, seed as hypothesis_seed, settings  # noqa: E402

import test_recovery  # noqa: E402
import test_robustness  # noqa: E402


def _texts(text):
    test_robustness.check_loads_or_reports(text)


def _programs(text):
    test_robustness.check_loads_or_reports(text)


def _derivation(text):
    assume(not test_robustness._ENUM_FIELD_NOT_LAST.search(text))
    test_robustness.check_parses(text)


def _mutants(mutant):
    path, text = mutant
    test_robustness.check_loads_or_reports(text, str(path))


def _recovery(damage):
    test_recovery.check_no_follow_on_errors(*damage)


PROPERTIES = {
    "texts": (_texts, test_robustness.TEXTS, "arbitrary text loads or reports with a position"),
    "programs": (_programs, test_robustness.PROGRAMS, "grammar-derived programs load or report with a position"),
    "derivation": (_derivation, test_robustness.PROGRAMS, "grammar-derived programs are read by the parser"),
    "mutants": (_mutants, test_robustness.MUTANTS, "damaged shipped policies load or report with a position"),
    "recovery": (_recovery, test_recovery.DAMAGE, "every syntax error reported is one its line alone gives"),
}
# The recovery property parses a shipped policy several times per example: fewer of them.
_WEIGHT = {"recovery": 0.1}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", metavar="PROPERTY",
                   help=f"which properties (default: all): {', '.join(PROPERTIES)}")
    p.add_argument("--examples", type=int, default=2000, help="examples per property (default 2000)")
    p.add_argument("--seed", type=int, default=None, help="a seed, for a reproducible run")
    args = p.parse_args(argv)
    unknown = [name for name in args.names if name not in PROPERTIES]
    if unknown:
        p.error(f"unknown property {', '.join(unknown)}; the properties are {', '.join(PROPERTIES)}")
    failed = []
    for name in args.names or list(PROPERTIES):
        check, strategy, title = PROPERTIES[name]
        count = max(1, int(args.examples * _WEIGHT.get(name, 1)))
        test = settings(max_examples=count, deadline=None, database=None, print_blob=True,
                        suppress_health_check=list(HealthCheck))(given(strategy)(check))
        if args.seed is not None:
            test = hypothesis_seed(args.seed)(test)
        start = time.perf_counter()
        print(f"{name}: {title} ({count} examples) ...", flush=True)
        try:
            test()
        except Exception:  # noqa: BLE001 - report and go on with the other properties
            traceback.print_exc()
            failed.append(name)
            print(f"{name}: FAILED", flush=True)
            continue
        print(f"{name}: ok in {time.perf_counter() - start:.1f} s", flush=True)
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    print("every property held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
