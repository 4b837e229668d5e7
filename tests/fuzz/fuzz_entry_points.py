"""A long fuzz run of every public entry point: the properties of tests/test_fuzz_entry_points.py
with many more examples. Not collected by pytest (see conftest.py here); the test suite runs the
same properties with a few dozen examples each, and `pytest -m slow` with 2000.

    python tests/fuzz/fuzz_entry_points.py                     # every property, 2000 examples each
    python tests/fuzz/fuzz_entry_points.py --examples 20000 facts
    python tests/fuzz/fuzz_entry_points.py --seed 7            # a different (reproducible) run

Whatever the input, an entry point succeeds or raises a KpiRulesError with a listed code, and
the command line never reports an internal error. A failure prints the smallest input found;
add it to tests/fuzz/corpus/ (policies.json, facts.json or fact_texts.json) once fixed.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402

import test_fuzz_entry_points as t  # noqa: E402


def main(argv=None) -> int:
    import kpirules
    shipped = {p.stem: kpirules.load_policy(p) for p in t.SHIPPED}
    properties = {
        "facts": (t._facts_property(shipped), "shipped policies on mutated example facts"),
        "policies": (t._policy_property(), "policy texts: load, fmt, evaluate, render"),
        "fact-texts": (t._fact_text_property(), "fact texts: read_facts"),
    }
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", metavar="PROPERTY", help=f"which (default: all): {', '.join(properties)}")
    p.add_argument("--examples", type=int, default=2000)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    failed = []
    for name in args.names or list(properties):
        prop, title = properties[name]
        test = settings(max_examples=args.examples, deadline=None, database=None, print_blob=True,
                        suppress_health_check=list(HealthCheck))(prop)
        if args.seed is not None:
            test = hypothesis_seed(args.seed)(test)
        start = time.perf_counter()
        print(f"{name}: {title} ({args.examples} examples) ...", flush=True)
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
