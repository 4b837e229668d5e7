"""Benchmark: `kpirules run` over a population, against a hand-written loop on the same file.

In one run, for each size N (default 10,000 and 100,000 rows):

  1. writes N generated U8 quarterly fact sets (bench_u8.make_facts, fixed seed, in chunks) to a
     CSV file: a column per fact, `rollout.*` as dotted columns, the violation lists as JSON cells;
  2. times, each as its own process, with the peak resident memory of its whole process tree
     (the main process and its workers, sampled every 20 ms from /proc):
       hand     this script's `--hand` mode: the csv module, the Decimal baseline of
                bench_u8.py (no validation, no trace), csv out; one core
       run -j1  `kpirules run POLICY in.csv --evaluation quarterly --out out.csv --jobs 1`
       run -j2  the same with --jobs 2 (both cores of the benchmark machine)
  3. checks that the hand loop and kpirules agree on `quarterly_bonus` for every row (exit 1 if not).

    python benchmarks/bench_batch.py [--sizes 10000,100000] [--keep DIR]

Targets (issue 11): `run` on both cores <= 3x the hand loop's wall time; peak RSS <= 300 MB
whatever the row count. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLICY = ROOT / "policies" / "u8_presales.rules"
sys.path.insert(0, str(HERE))

import bench_u8  # noqa: E402  (the generator and the hand-written baseline)

COLUMNS = ["id", "quarter", "role", "base_salary", "dept_revenue", "own_revenue", "activities_planned",
           "activities_held", "sales_training_on_plan", "sales_process_updated", "comparison_updated",
           "competitor_analysis_delivered", "proposals_total", "proposals_excellent", "projects_supported",
           "projects_won", "attendance_violations", "rule_violations",
           *(f"rollout.{k}" for k in bench_u8.KNOWLEDGE)]
OUT_COLUMNS = ["id", "dept_target", "dept_completion", "own_target", "own_completion", "quarterly_bonus"]
BOOLS = {"sales_training_on_plan", "sales_process_updated", "comparison_updated", "competitor_analysis_delivered"}
INTS = {"quarter", "activities_planned", "activities_held", "proposals_total", "proposals_excellent",
        "projects_supported", "projects_won"}


def write_input(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        done = 0
        chunk = 0
        while done < n:
            size = min(10_000, n - done)
            for i, f in enumerate(bench_u8.make_facts(size, bench_u8.SEED + chunk)):
                row = [f"E{done + i:07d}"]
                for c in COLUMNS[1:]:
                    v = f["rollout"][c[8:]] if c.startswith("rollout.") else f[c]
                    if isinstance(v, bool):
                        row.append("true" if v else "false")
                    elif isinstance(v, list):
                        row.append(json.dumps([str(x) if isinstance(x, Decimal) else x for x in v]))
                    else:
                        row.append(str(v))
                w.writerow(row)
            done += size
            chunk += 1


def hand(src: str, dst: str) -> None:
    """The hand-written loop: csv in, the Decimal baseline, csv out (no validation, no trace)."""
    with open(src, encoding="utf-8", newline="") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
        reader = csv.DictReader(fin)
        writer = csv.writer(fout)
        writer.writerow(OUT_COLUMNS)
        for r in reader:
            f = {}
            for k, v in r.items():
                if k.startswith("rollout."):
                    f.setdefault("rollout", {})[k[8:]] = v == "true"
                elif k in BOOLS:
                    f[k] = v == "true"
                elif k in INTS:
                    f[k] = int(v)
                elif k in ("attendance_violations", "rule_violations"):
                    f[k] = [Decimal(x) if isinstance(x, str) else x for x in json.loads(v)]
                elif k in ("base_salary", "dept_revenue", "own_revenue"):
                    f[k] = Decimal(v)
                else:
                    f[k] = v
            b = bench_u8.baseline(f)
            writer.writerow([f["id"], b["dept_target"], b["dept_completion"], b["own_target"],
                             b["own_completion"], b["quarterly_bonus"]])


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def timed(argv: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS of the process tree, exit status) of a command."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(p.pid))
            stop.wait(0.02)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = p.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    t.join()
    if p.returncode not in (0, 1):
        sys.stderr.write(err.decode("utf-8", "replace"))
    return seconds, peak, p.returncode


def bonuses(path: Path, column: str = "quarterly_bonus") -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [r[column] for r in csv.DictReader(fh)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="row counts, comma-separated (default 10000,100000)")
    ap.add_argument("--keep", metavar="DIR", help="write the files here (default: a temporary folder)")
    ap.add_argument("--hand", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.hand:
        hand(*args.hand)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kpirules-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    import kpirules
    print(f"kpirules {kpirules.__version__}, Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs; U8 quarterly, CSV -> CSV, no statements")
    print()
    print(f"{'rows':>9}  {'run':<8}{'seconds':>9}{'rows/s':>10}{'x hand':>8}{'peak RSS':>11}")
    failed = False
    for n in sizes:
        src = folder / f"in-{n}.csv"
        write_input(src, n)
        results = {}
        for name, cmd in (
            ("hand", [sys.executable, __file__, "--hand", str(src), str(folder / f"hand-{n}.csv")]),
            ("run -j1", [sys.executable, "-m", "kpirules", "run", str(POLICY), str(src), "--evaluation",
                         "quarterly", "--out", str(folder / f"run1-{n}.csv"), "--jobs", "1"]),
            ("run -j2", [sys.executable, "-m", "kpirules", "run", str(POLICY), str(src), "--evaluation",
                         "quarterly", "--out", str(folder / f"run2-{n}.csv"), "--jobs", "2"]),
        ):
            seconds, peak, code = timed(cmd)
            if code not in (0, 1):
                print(f"FAIL: {name} exited {code}", file=sys.stderr)
                return 1
            results[name] = (seconds, peak)
            ratio = seconds / results["hand"][0]
            print(f"{n:>9,}  {name:<8}{seconds:>9.2f}{n / seconds:>10,.0f}{ratio:>8.2f}{peak / 2**20:>9.0f} MB")
        want = bonuses(folder / f"hand-{n}.csv")
        for name in ("run1", "run2"):
            got = bonuses(folder / f"{name}-{n}.csv")
            if got != want:
                bad = sum(1 for a, b in zip(got, want, strict=False) if a != b) + abs(len(got) - len(want))
                print(f"FAIL: {name} disagrees with the hand loop on {bad} of {n} rows", file=sys.stderr)
                failed = True
        ratio = results["run -j2"][0] / results["hand"][0]
        print(f"{'':>9}  run -j2 / hand = {ratio:.2f}x (target <= 3x) {'OK' if ratio <= 3 else 'OVER TARGET'}; "
              f"peak {results['run -j2'][1] / 2**20:.0f} MB (target <= 300 MB) "
              f"{'OK' if results['run -j2'][1] <= 300 * 2**20 else 'OVER TARGET'}")
        for f in folder.glob(f"*-{n}.csv"):
            if not args.keep:
                f.unlink()
    if not args.keep:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
