"""Command line: a thin shell over the public API (`kpirules check`, `kpirules eval`).

Exit codes (a contract): 0 success; 1 bad facts or evaluation error; 2 bad policy or bad usage.
Errors go to stderr in the diagnostic format; never a Python traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__, load_policy, read_facts
from .diagnostics import render as render_diagnostic
from .errors import EvaluationError, FactError, KpiRulesError, PolicyError, UsageError
from .render import text as text_renderer

EXIT_OK, EXIT_FACTS, EXIT_POLICY = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with one clear line, as argparse does
        self.print_usage(sys.stderr)
        self.exit(EXIT_POLICY, f"kpirules: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kpirules", description="Evaluate and check performance-assessment and bonus policies.")
    p.add_argument("--version", action="version", version=f"kpirules {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("check", help="check policies and report every problem")
    c.add_argument("paths", nargs="+", metavar="POLICY", help="policy files or folders of .rules files")
    e = sub.add_parser("eval", help="evaluate a policy on a fact file")
    e.add_argument("policy", metavar="POLICY")
    e.add_argument("facts", metavar="FACTS.json")
    e.add_argument("--evaluation", metavar="NAME", help="which evaluation (needed when the policy has several)")
    e.add_argument("--format", choices=("text", "json"), default="text")
    e.add_argument("--explain", action="store_true", help="include the explanation of every value")
    e.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="language of the explanation's sentences (labels stay as the policy wrote them)")
    t = sub.add_parser("test", help="run the examples written in policies")
    t.add_argument("paths", nargs="*", metavar="PATH", default=["policies"],
                   help="policy files or folders (default: policies/)")
    return p


def _policy_files(paths) -> list:
    files = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(str(f) for f in p.rglob("*.rules")))
        else:
            files.append(raw)
    return files


def cmd_check(args) -> int:
    files = _policy_files(args.paths)
    if not files:
        print("kpirules: error: no .rules files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_POLICY
    failed = 0
    warnings = 0
    for f in files:
        try:
            policy = load_policy(f)
        except PolicyError as exc:
            failed += 1
            print(exc.render(), file=sys.stderr)
            continue
        for d in policy.diagnostics:
            warnings += 1
            print(render_diagnostic(d), file=sys.stderr)
        print(f"{f}: ok ({len(policy.evaluations)} evaluation{'s' if len(policy.evaluations) != 1 else ''})")
    print(f"{len(files)} checked, {failed} with errors, {warnings} warning{'s' if warnings != 1 else ''}")
    return EXIT_POLICY if failed else EXIT_OK


def _fact_errors(path, exc: FactError) -> str:
    return "\n".join(f"{path}: {v.severity}[{v.code}]: `{v.path}`: {v.message}"
                     for v in tuple(exc.violations) + tuple(exc.warnings))


def cmd_eval(args) -> int:
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_POLICY
    try:
        facts = read_facts(args.facts)
        result = policy.evaluate(facts, evaluation=args.evaluation, explain=args.explain)
    except UsageError as exc:
        print(f"kpirules: error: {exc}", file=sys.stderr)
        return EXIT_POLICY
    except FactError as exc:
        print(_fact_errors(args.facts, exc), file=sys.stderr)
        return EXIT_FACTS
    except EvaluationError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_FACTS
    data = result.to_json()
    if args.format == "json":
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(text_renderer.render(data, explain=args.explain, lang=args.lang))
    for w in result.warnings:
        print(f"{args.facts}: warning[{w.code}]: `{w.path}`: {w.message}", file=sys.stderr)
    return EXIT_OK


def cmd_test(args) -> int:
    from . import examples
    files = _policy_files(args.paths)
    if not files:
        print("kpirules: error: no .rules files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_POLICY
    passed = failed = 0
    broken = False
    for f in files:
        try:
            policy = load_policy(f)
        except PolicyError as exc:
            broken = True
            failed += 1
            print(f"FAIL {f}: the policy does not load", file=sys.stdout)
            print(exc.render(), file=sys.stderr)
            continue
        for case in examples.run(policy):
            print(case.render())
            if case.passed:
                passed += 1
            else:
                failed += 1
    print(f"{passed} passed, {failed} failed")
    if broken:
        return EXIT_POLICY
    return EXIT_FACTS if failed else EXIT_OK


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "test":
            return cmd_test(args)
        return cmd_eval(args)
    except KpiRulesError as exc:  # any other error the library raises for bad input
        print(f"kpirules: error: {exc}", file=sys.stderr)
        return EXIT_POLICY
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a defect in kpirules itself: say so plainly, keep the details opt-in
        if os.environ.get("KPIRULES_DEBUG"):
            raise
        print(f"kpirules: internal error ({type(exc).__name__}: {exc}); please report it with the "
              "policy and facts (set KPIRULES_DEBUG=1 for details)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
