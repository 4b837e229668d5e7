"""Benchmark: the U8 quarterly evaluation against a hand-written plain-Python baseline.

Generates N valid quarterly fact sets with a fixed seed, loads policies/u8_presales.rules once,
then times, in the same run and over the same fact dicts:

  (a) engine          Policy.evaluate(facts, "quarterly")
  (b) engine+trace    Policy.evaluate(facts, "quarterly", explain=True)
  (c) baseline        `baseline()` below: the same quarterly outputs written by hand with
                      decimal.Decimal (no input validation, no trace)

Each is timed with time.perf_counter; the best of R repetitions is reported. The baseline is
checked against the engine for every fact set (every output it computes, quarterly_bonus and
kpi_score included); any disagreement prints the fact set and exits with status 1.

    python benchmarks/bench_u8.py [--n 10000] [--repeat 3]

See docs/performance.md for what the numbers mean and the target.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sys
import time
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal
from pathlib import Path

import kpirules

POLICY = Path(__file__).resolve().parents[1] / "policies" / "u8_presales.rules"
SEED = 20260108
KNOWLEDGE = ("market_activity", "sales_training", "sales_tools", "competitor_analysis",
             "proposal_excellence")


# ---- fact generation -------------------------------------------------------------------------

def _money(rng: random.Random, low_yuan: int, high_yuan: int) -> Decimal:
    """A Decimal amount with exactly two decimals, in [low_yuan, high_yuan]."""
    return Decimal(rng.randint(low_yuan * 100, high_yuan * 100)).scaleb(-2)


def _count_pair(rng: random.Random, top: int):
    """(total, part) with part <= total; sometimes total is 0; rates spread below and above."""
    if rng.random() < 0.1:
        return 0, 0
    total = rng.randint(1, top)
    if rng.random() < 0.5:
        part = rng.randint(0, total)                       # anywhere
    else:
        part = total - rng.randint(0, max(total // 5, 1))  # near the top (around the standard)
        part = max(part, 0)
    return total, part


def _points(rng: random.Random, low: int, high: int):
    """A violation's points: mostly whole (int), sometimes a half (Decimal), within [low, high]."""
    if rng.random() < 0.2:
        return Decimal(rng.randint(low * 2, high * 2)) / 2
    return rng.randint(low, high)


def make_facts(n: int, seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        proposals_total, proposals_excellent = _count_pair(rng, 40)
        projects_supported, projects_won = _count_pair(rng, 25)
        out.append({
            "quarter": rng.randint(1, 4),
            "role": rng.choice(("senior", "assistant")),
            "base_salary": Decimal("0.00") if rng.random() < 0.02 else _money(rng, 15_000, 60_000),
            # quarter targets are 1.74M..3.48M, their bases 1.218M..2.436M: plenty fall below
            # the base (completion floored to 0) and plenty exceed the target.
            "dept_revenue": _money(rng, 0, 5_000_000),
            "own_revenue": _money(rng, 0, 900_000),
            "activities_planned": rng.randint(0, 8),
            "activities_held": rng.randint(0, 10),
            "sales_training_on_plan": rng.random() < 0.8,
            "sales_process_updated": rng.random() < 0.7,
            "comparison_updated": rng.random() < 0.7,
            "competitor_analysis_delivered": rng.random() < 0.8,
            "proposals_total": proposals_total,
            "proposals_excellent": proposals_excellent,
            "projects_supported": projects_supported,
            "projects_won": projects_won,
            "attendance_violations": [_points(rng, 1, 2) for _ in range(rng.choice((0, 0, 1, 2, 3)))],
            "rule_violations": [_points(rng, 1, 10) for _ in range(rng.choice((0, 0, 0, 1, 2)))],
            "rollout": {k: rng.random() < 0.85 for k in KNOWLEDGE},
        })
    return out


# ---- the hand-written baseline ---------------------------------------------------------------

D = Decimal
DEPT_ANNUAL = D(11_600_000)
ANNUAL = {"senior": D(2_000_000), "assistant": D(1_600_000)}
SPLIT = {1: D("0.15"), 2: D("0.25"), 3: D("0.30"), 4: D("0.30")}
P70, P30, P40 = D("0.7"), D("0.3"), D("0.4")
ZERO, HALF, CENT = D(0), D("0.5"), D("0.01")
# Completion rates are shown to 28 significant digits (what the engine shows for 2/3); the bonus
# is computed from the exact numerator and denominator, truncated at 60 digits and then rounded
# half up to cents (for a non-negative quotient, truncating first cannot change the rounding).
SHOW = Context(prec=28)
WIDE = Context(prec=60, rounding=ROUND_DOWN)


def _ladder(part: int, total: int, standard_pct: int) -> Decimal:
    """20 points; minus 2 per full 5 points below the standard; plus 0.5 per full 1 point above."""
    if total == 0:
        return D(20)                                 # no rate: the item scores its weight
    gap100 = 100 * part - standard_pct * total       # = 100 * (rate - standard) * total
    if gap100 < 0:
        return max(D(20 - 2 * ((-gap100) // (5 * total))), ZERO)
    return D(20) + HALF * (gap100 // total)


def baseline(f: dict) -> dict:
    q = f["quarter"]
    split = SPLIT[q]
    rollout = f["rollout"]

    # KPI items, then the knowledge gate
    short = f["activities_planned"] - f["activities_held"]
    market_activity = D(max(10 - 2 * short, 0)) if short > 0 else D(10)
    sales_training = D(20) if f["sales_training_on_plan"] else D(15)
    sales_tools = D(10 - (0 if f["sales_process_updated"] else 5) - (0 if f["comparison_updated"] else 5))
    competitor_analysis = D(10) if f["competitor_analysis_delivered"] else ZERO
    proposal_excellence = _ladder(f["proposals_excellent"], f["proposals_total"], 90)
    project_success = _ladder(f["projects_won"], f["projects_supported"], 85)
    hr_compliance = max(D(10) - sum(f["attendance_violations"]) - sum(f["rule_violations"]), ZERO)
    if not rollout["market_activity"]:
        market_activity = ZERO
    if not rollout["sales_training"]:
        sales_training = ZERO
    if not rollout["sales_tools"]:
        sales_tools = ZERO
    if not rollout["competitor_analysis"]:
        competitor_analysis = ZERO
    if not rollout["proposal_excellence"]:
        proposal_excellence = ZERO
    kpi_score = (market_activity + sales_training + sales_tools + competitor_analysis
                 + proposal_excellence + project_success + hr_compliance)

    # targets and completion rates (floored at 0)
    dept_target = DEPT_ANNUAL * split
    dept_span = dept_target * P30
    dept_over = f["dept_revenue"] - dept_target * P70
    own_target = ANNUAL[f["role"]] * split
    own_span = own_target * P30
    own_over = f["own_revenue"] - own_target * P70
    dept_completion = SHOW.divide(dept_over, dept_span) if dept_over > 0 else ZERO
    own_completion = SHOW.divide(own_over, own_span) if own_over > 0 else ZERO

    # quarterly bonus = base_salary x 40% x dept_completion x kpi_score / 100, half up to cents
    if dept_over > 0:
        exact = WIDE.divide(f["base_salary"] * P40 * dept_over * kpi_score, dept_span * 100)
        quarterly_bonus = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        quarterly_bonus = ZERO.quantize(CENT)

    return {
        "market_activity": market_activity, "sales_training": sales_training,
        "sales_tools": sales_tools, "competitor_analysis": competitor_analysis,
        "proposal_excellence": proposal_excellence, "project_success": project_success,
        "hr_compliance": hr_compliance, "kpi_score": kpi_score,
        "dept_target": dept_target, "dept_completion": dept_completion,
        "own_target": own_target, "own_completion": own_completion,
        "quarterly_bonus": quarterly_bonus,
    }


# ---- timing and checking ---------------------------------------------------------------------

def _time(fn, facts):
    gc.collect()
    start = time.perf_counter()
    results = fn(facts)
    return time.perf_counter() - start, results


def check(facts, engine_results, baseline_results) -> int:
    """Compare every baseline output with the engine's; returns the number of fact sets that differ."""
    bad = 0
    for i, (f, r, b) in enumerate(zip(facts, engine_results, baseline_results)):
        diffs = {k: (r.values.get(k), v) for k, v in b.items() if r.values.get(k) != v}
        # the bonus must also agree to the digit as text (cents kept: 7488.00)
        if str(r.values["quarterly_bonus"]) != str(b["quarterly_bonus"]):
            diffs["quarterly_bonus (text)"] = (str(r.values["quarterly_bonus"]), str(b["quarterly_bonus"]))
        if diffs:
            bad += 1
            if bad <= 5:
                print(f"MISMATCH in fact set #{i}: {f}", file=sys.stderr)
                for k, (ev, bv) in diffs.items():
                    print(f"    {k}: engine {ev}  baseline {bv}", file=sys.stderr)
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="number of fact sets (default 10000)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions, best is kept (default 3)")
    args = ap.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        ap.error("--n and --repeat must be at least 1")

    facts = make_facts(args.n)
    policy = kpirules.load_policy(POLICY)
    evaluate = policy.evaluate

    # The engine's two stages on their own (internals, for the breakdown in docs/performance.md):
    # validating a fact set, and computing on validated facts with the generated fast path.
    from kpirules import facts as fact_stage
    program = policy._programs["quarterly"]
    validated = [fact_stage.validate(program.model, f, program.check_facts)[0] for f in facts]
    runs = {
        "engine": lambda fs: [evaluate(f, "quarterly") for f in fs],
        "engine+trace": lambda fs: [evaluate(f, "quarterly", explain=True) for f in fs],
        "baseline": lambda fs: [baseline(f) for f in fs],
        " validate": lambda fs: [fact_stage.validate(program.model, f, program.check_facts) for f in fs],
        " compute": lambda fs: [program.plain(v) for v in validated],
    }
    best = {name: float("inf") for name in runs}
    last = {}
    for _ in range(args.repeat):
        for name, fn in runs.items():  # interleaved, so drift in the machine hits all three
            seconds, last[name] = _time(fn, facts)
            best[name] = min(best[name], seconds)

    bad = check(facts, last["engine"], last["baseline"])
    bad_trace = check(facts, last["engine+trace"], last["baseline"])
    if bad or bad_trace:
        print(f"FAIL: the baseline disagrees with the engine on {bad} of {args.n} fact sets "
              f"({bad_trace} with the trace)", file=sys.stderr)
        return 1

    print(f"kpirules {kpirules.__version__}, Python {platform.python_version()} "
          f"({platform.python_implementation()}), {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"U8 quarterly: {args.n} fact sets (seed {SEED}), best of {args.repeat}; "
          f"baseline agrees with the engine on all {args.n}")
    print()
    print(f"{'run':<14}{'seconds':>10}{'us/eval':>10}{'x baseline':>12}")
    for name in runs:
        s = best[name]
        print(f"{name:<14}{s:>10.3f}{s / args.n * 1e6:>10.1f}{s / best['baseline']:>12.2f}")
    print()
    ratio = best["engine"] / best["baseline"]
    traced = best["engine+trace"] / best["baseline"]
    print(f"engine/baseline        {ratio:.2f}x  (target: <= 2.5x) {'OK' if ratio <= 2.5 else 'OVER TARGET'}")
    print(f"engine+trace/baseline  {traced:.2f}x  (target: <= 10x) {'OK' if traced <= 10 else 'OVER TARGET'}")
    print()
    small, large = (scaling(items, max(1, args.repeat)) for items in (10, 1000))
    growth = large / small
    print(f"traced cost per item: {small:.1f} us with 10 items, {large:.1f} us with 1000 items "
          f"({growth:.2f}x; target: <= 1.5x) {'OK' if growth <= 1.5 else 'OVER TARGET'}")
    return 0


def scaling_policy(items: int) -> str:
    """A generated policy whose scorecard has `items` items, each with a ladder, a floor and a gate."""
    lines = ['policy scale "scale"', "", "evaluation e:", "    fact a: number in 0..100",
             "    fact b: number in 1..100", "    fact on: boolean", '    scorecard total "total":']
    for i in range(items):
        lines += [f"        item i{i} weight 1, t:",
                  "            ladder a / b standard 50%",
                  "                minus 1 per full 5% below",
                  "                plus 0.1 per full 1% above",
                  "            floor 0"]
    lines += ['        gate t items: count only if on else "closed"',
              "    output bonus = total * 10", "        round half up to 0.01", ""]
    return "\n".join(lines)


def scaling(items: int, repeat: int) -> float:
    """Microseconds per item of one traced evaluation (trace document included), best of `repeat`."""
    policy = kpirules.load_policy_text(scaling_policy(items), "<scale>")
    fact_sets = [{"a": Decimal(a), "b": Decimal(b), "on": a % 3 != 0}
                 for a, b in ((7, 9), (30, 40), (55, 60), (1, 3), (99, 100))]
    runs = max(1, 2000 // items)
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for _ in range(runs):
            for f in fact_sets:
                policy.evaluate(f, explain=True)
        best = min(best, time.perf_counter() - start)
    return best / (runs * len(fact_sets) * items) * 1e6


if __name__ == "__main__":
    sys.exit(main())
