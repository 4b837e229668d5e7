"""Benchmark: `kpirules serve` over loopback: requests per second and latency percentiles.

Starts `python -m kpirules serve` in a subprocess on 127.0.0.1 (a free port, the shipped
policies, no reload watcher), then, for each scenario, runs C client threads (each with its own
keep-alive httpx connection) for a bounded time, timing every request with time.perf_counter:

  healthz         GET /healthz (the HTTP stack alone: routing, JSON, the access log)
  eval            POST the U8 quarterly example to /v1/policies/u8_presales/evaluations/quarterly
  eval+explain    the same with ?explain=true (the trace document included)
  batch100        POST 100 JSONL lines to .../batch (reported per request and per line)

Every response is checked (status 200; the bonus is 7488.00; 100 ok lines): any other answer
prints it and exits with status 1. The client and the server share the machine's cores.

    python benchmarks/bench_serve.py [--duration 5] [--clients 4] [--warmup 1]

See docs/performance.md ("The HTTP service") for the numbers and what they mean.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "examples" / "u8_quarterly.json").read_bytes()
EVAL = "/v1/policies/u8_presales/evaluations/quarterly"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "kpirules", "serve", "--policies", str(ROOT / "policies"),
                             "--port", str(port), "--reload-interval", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("bench_serve: the server did not start")


def scenarios():
    one = json.dumps(json.loads(EXAMPLE))
    batch = ("\n".join(one for _ in range(100)) + "\n").encode("utf-8")

    def check_eval(r):
        return r.status_code == 200 and r.json()["values"]["quarterly_bonus"] == "7488.00"

    def check_batch(r):
        lines = [json.loads(x) for x in r.text.splitlines() if x]
        return r.status_code == 200 and len(lines) == 100 and all(x["status"] == "ok" for x in lines)

    return [
        ("healthz", "GET", "/healthz", None, lambda r: r.status_code == 200, 1),
        ("eval", "POST", EVAL, EXAMPLE, check_eval, 1),
        ("eval+explain", "POST", EVAL + "?explain=true", EXAMPLE, check_eval, 1),
        ("batch100", "POST", EVAL + "/batch", batch, check_batch, 100),
    ]


def run(base: str, method: str, path: str, body, check, clients: int, duration: float, warmup: float):
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start_at = time.perf_counter() + 0.2
    warm_until = start_at + warmup
    stop_at = warm_until + duration

    def worker():
        mine = []
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.perf_counter() < start_at:
                time.sleep(0.005)
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    break
                r = client.request(method, path, content=body)
                t1 = time.perf_counter()
                if not check(r):
                    with lock:
                        failures.append(f"{r.status_code} {r.text[:300]}")
                    return
                if t0 >= warm_until:
                    mine.append(t1 - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=5.0, help="seconds measured per scenario (default 5)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent client connections (default 4)")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds run before measuring (default 1)")
    args = ap.parse_args()
    port = free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"
    print(f"# kpirules serve over loopback: {args.clients} clients, {args.duration:g} s per scenario "
          f"after {args.warmup:g} s of warm-up")
    print(f"# {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}")
    print()
    print("| scenario | requests | requests/s | p50 ms | p95 ms | p99 ms | lines/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    status = 0
    try:
        for name, method, path, body, check, lines in scenarios():
            latencies, failures = run(base, method, path, body, check, args.clients, args.duration, args.warmup)
            if failures:
                print(f"bench_serve: {name}: an unexpected answer: {failures[0]}", file=sys.stderr)
                status = 1
                continue
            latencies.sort()
            rate = len(latencies) / args.duration
            ms = [percentile(latencies, p) * 1000 for p in (50, 95, 99)]
            per_line = f"{rate * lines:,.0f}" if lines > 1 else ""
            print(f"| {name} | {len(latencies)} | {rate:,.0f} | {ms[0]:.1f} | {ms[1]:.1f} | {ms[2]:.1f} | {per_line} |")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return status


if __name__ == "__main__":
    sys.exit(main())
