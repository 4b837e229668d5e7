"""Command line: a thin shell over the public API (`kpirules check`, `kpirules eval`).

Exit codes (a contract): 0 success; 1 bad facts or evaluation error; 2 bad policy or bad usage.
Errors go to stderr in the diagnostic format; never a Python traceback for bad input.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import typing
import unicodedata
from decimal import Decimal
from pathlib import Path

from . import __version__, load_policy, load_policy_text, read_facts
from .diagnostics import error as diag_error
from .diagnostics import render as render_diagnostic
from .errors import EvaluationError, FactError, FactViolation, KpiRulesError, PolicyError, UsageError
from .loader import strip_bom
from .render import text as text_renderer
from .source import SourceFile
from .stamp import make as make_stamp

EXIT_OK, EXIT_FACTS, EXIT_POLICY = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # Epilogs keep their own lines (exit codes, examples).
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # usage errors exit 2 with one clear line, as argparse does
        self.print_usage(sys.stderr)
        self.exit(EXIT_POLICY, f"kpirules: error: {message}\n")


STDIN = "-"            # the file argument that means standard input
STDIN_NAME = "<stdin>"  # how standard input is named in messages

_INTERNAL = "  70  an internal error of kpirules (please report it; KPIRULES_DEBUG=1 shows details)\n"

# The epilog of each subcommand: its exit statuses and an example (`kpirules COMMAND --help`).
EPILOGS = {
    "check": (
        "exit status:\n"
        "  0   every policy loads (warnings allowed)\n"
        "  2   a policy has errors (with --strict, also warnings), a cite is not in --source, no .rules\n"
        "      file was found, or bad usage\n" + _INTERNAL + "\n"
        "examples:\n"
        "  kpirules check --strict policies/ ruleset/\n"
        "  kpirules check --format json - < policy.rules"),
    "eval": (
        "exit status:\n"
        "  0   evaluated (fact warnings may have been printed)\n"
        "  1   bad facts (F... errors) or a value that cannot be computed (R001); with --out, a line failed\n"
        "  2   bad policy (E... errors) or bad usage (e.g. no --evaluation for a policy with several)\n"
        + _INTERNAL + "\n"
        "examples:\n"
        "  kpirules eval policies/u8_presales.rules examples/u8_quarterly.json --evaluation quarterly --explain\n"
        "  kpirules eval policies/u8_presales.rules - --evaluation monthly --format json < facts.json"),
    "verify": (
        "exit status:\n"
        "  0   the stamp and every value match\n"
        "  1   a difference, or the facts cannot be evaluated\n"
        "  2   bad policy, unreadable result, or bad usage\n" + _INTERNAL + "\n"
        "example:\n"
        "  kpirules eval POLICY facts.json --format json > result.json\n"
        "  kpirules verify result.json facts.json POLICY"),
    "run": (
        "exit status:\n"
        "  0   every row evaluated\n"
        "  1   some rows are errors (each recorded in its row)\n"
        "  2   bad policy, unreadable input, an unwritable result, or bad usage\n"
        "  130, 143  stopped by SIGINT or SIGTERM (continue with --resume)\n" + _INTERNAL + "\n"
        "example:\n"
        "  kpirules run policies/team_pool.rules people.csv --evaluation team --out results.xlsx"),
    "diff": (
        "exit status:\n"
        "  0   the report was written\n"
        "  2   a bad policy, unreadable input, or bad usage\n" + _INTERNAL + "\n"
        "example:\n"
        "  kpirules diff old.rules new.rules people.jsonl --evaluation quarterly --out report.html"),
    "serve": (
        "exit status:\n"
        "  0   stopped cleanly (Ctrl-C)\n"
        "  2   bad usage: a missing folder, a bad port, the serve extra not installed\n" + _INTERNAL + "\n"
        "example:\n"
        "  kpirules serve --policies policies --port 8000\n"
        "  curl -s -X POST http://127.0.0.1:8000/v1/policies/team_pool/evaluations/team "
        "--data-binary @examples/team_pool.json"),
    "keygen": (
        "exit status:\n"
        "  0   the key pair was written\n"
        "  2   bad usage, or a key file that exists already (never overwritten)\n" + _INTERNAL + "\n"
        "example:\n"
        "  kpirules keygen --out hr-2026\n"
        "  kpirules eval POLICY facts.json --format json --sign hr-2026.key > result.json"),
    "test": (
        "exit status:\n"
        "  0   every example passed\n"
        "  1   an example failed, or coverage is below --min-coverage\n"
        "  2   a policy does not load, no .rules file was found, or bad usage\n" + _INTERNAL + "\n"
        "examples:\n"
        "  kpirules test\n"
        "  kpirules test --coverage --format json policies/u8_presales.rules"),
    "fmt": (
        "exit status:\n"
        "  0   done (with --check or --diff: nothing would change)\n"
        "  1   with --check or --diff: a file would change\n"
        "  2   a file does not parse, no .rules file was found, or bad usage\n" + _INTERNAL + "\n"
        "examples:\n"
        "  kpirules fmt policies/ ruleset/\n"
        "  kpirules fmt --diff policies/u8_presales.rules\n"
        "  kpirules fmt - < draft.rules > formatted.rules"),
    "lsp": (
        "The server speaks the Language Server Protocol on standard input and output until its client\n"
        "says exit; editors start it (editors/README.md). It needs pygls: pip install 'kpirules[lsp]'.\n\n"
        "exit status:\n"
        "  0   the client said exit\n"
        "  2   pygls is not installed\n\n"
        "example:\n"
        "  kpirules lsp"),
    "completion": (
        "exit status:\n"
        "  0   the script was printed\n"
        "  2   bad usage (an unknown shell)\n\n"
        "examples:\n"
        "  source <(kpirules completion bash)          # in ~/.bashrc\n"
        "  kpirules completion zsh > ~/.zfunc/_kpirules   # with fpath+=~/.zfunc before compinit\n"
        "  kpirules completion fish > ~/.config/fish/completions/kpirules.fish"),
}

_TOP_EPILOG = (
    "exit status: 0 success; 1 bad facts, an evaluation error or a failed example; 2 bad policy or\n"
    "bad usage; 70 an internal error. A file argument `-` reads standard input.\n\n"
    "example:\n"
    "  kpirules eval policies/u8_presales.rules examples/u8_quarterly.json --evaluation quarterly --explain\n\n"
    "`kpirules COMMAND --help` tells more; `kpirules completion bash|zsh|fish` prints a completion script.")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kpirules", description="Evaluate and check performance-assessment and bonus policies.",
                epilog=_TOP_EPILOG)
    p.add_argument("--version", action="version", version=f"kpirules {__version__}")
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("-q", "--quiet", action="store_true",
                       help="print only problems and the output asked for (no progress or summary lines)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    def command(name, help, parents=(quiet,)):
        return sub.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".",
                              epilog=EPILOGS[name], parents=list(parents))

    c = command("check", "check policies and report every problem")
    c.add_argument("paths", nargs="+", metavar="POLICY",
                   help="policy files or folders of .rules files; `-` reads a policy from standard input")
    c.add_argument("--strict", action="store_true", help="treat warnings (lints) as errors")
    c.add_argument("--source", metavar="FILE",
                   help="also prove that every `cite` appears in this source document (UTF-8 text; "
                        "whitespace and line breaks are ignored)")
    c.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (diagnostics on stderr), or json (one document on stdout, diagnostics included)")
    e = command("eval", "evaluate a policy on a fact file")
    e.add_argument("policy", metavar="POLICY", help="the policy file (`-`: standard input)")
    e.add_argument("facts", metavar="FACTS.json",
                   help="the facts, a JSON object (`-`: standard input); a .jsonl file (one fact set per "
                        "line) with --out")
    e.add_argument("--evaluation", metavar="NAME", help="which evaluation (needed when the policy has several)")
    e.add_argument("--as-of", metavar="DATE", dest="as_of",
                   help="the date the evaluation is made as of, YYYY-MM-DD (read by formulas as evaluation_date)")
    e.add_argument("--format", choices=("text", "markdown", "html", "json"), default="text",
                   help="text (terminal), markdown or html (a statement, with the working under --explain), json")
    e.add_argument("--explain", action="store_true", help="include the explanation of every value")
    e.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="language of the explanation's sentences (labels stay as the policy wrote them)")
    e.add_argument("--out", metavar="DIR",
                   help="with a .jsonl fact file (one fact set per line): write each line's result (.json) "
                        "and text statement (.txt), with --format html or markdown that statement too, and "
                        "summary.csv, into DIR (one results file for a whole population: `kpirules run`)")
    e.add_argument("--id-field", metavar="NAME", default="id",
                   help="with --out: the field of each line that names its files (default: id)")
    e.add_argument("--sign", metavar="KEYFILE",
                   help="sign the stamp of each JSON result with this Ed25519 private key (`kpirules keygen`)")
    v = command("verify", "re-evaluate a JSON result and confirm its stamp and every value")
    v.add_argument("result", metavar="RESULT.json",
                   help="a result written by `kpirules eval --format json` (`-`: standard input)")
    v.add_argument("facts", metavar="FACTS.json", help="the facts it was computed from (`-`: standard input)")
    v.add_argument("policy", metavar="POLICY", help="the policy it was computed by (`-`: standard input)")
    v.add_argument("--public-key", metavar="KEYFILE", dest="public_key",
                   help="also check that the result was signed with the private key of this public key")
    k = command("keygen", "make an Ed25519 key pair for signing results (`eval --sign`)")
    k.add_argument("--out", metavar="PREFIX", required=True,
                   help="write the private key to PREFIX.key (mode 0600) and the public key to PREFIX.pub")
    t = command("test", "run the examples written in policies")
    t.add_argument("paths", nargs="*", metavar="PATH", default=["policies"],
                   help="policy files or folders (default: policies/); `-` reads a policy from standard input")
    t.add_argument("--coverage", action="store_true",
                   help="after the examples, report the branches of each policy they took and the ones they never did")
    t.add_argument("--conformance", metavar="DIR",
                   help="instead, run the conformance corpus in DIR (tests/conformance: cases/*/case.json)")
    t.add_argument("--min-coverage", metavar="PERCENT",
                   help="exit 1 when the examples of a policy take fewer than PERCENT of its branches "
                        "(implies --coverage)")
    t.add_argument("--format", choices=("text", "json"), default="text",
                   help="text, or json (one document on stdout: every example, and coverage when measured)")
    from . import batch, diff
    batch.add_parser(command)
    diff.add_parser(command)
    f = command("fmt", "rewrite policies in the canonical layout (comments kept)")
    f.add_argument("paths", nargs="+", metavar="PATH",
                   help="policy files or folders of .rules files; `-` formats standard input to standard output")
    f.add_argument("--check", action="store_true",
                   help="change nothing; list the files that would change and exit 1 if any")
    f.add_argument("--diff", action="store_true",
                   help="change nothing; print what would change as a unified diff and exit 1 if anything would")
    command("lsp", "run the language server on standard input and output (for editors)", parents=())
    s = command("completion", "print a shell completion script", parents=())
    s.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell the script is for: bash, zsh or fish")
    from .serve.command import add_arguments as serve_arguments
    serve_arguments(command("serve", "serve policies over HTTP, with a playground at / (needs the serve extra)",
                            parents=()))
    return p


_stdin: list[bytes] = []  # standard input, once read (one argument at most may be `-`)


def _stdin_bytes() -> bytes:
    if not _stdin:
        stream = getattr(sys.stdin, "buffer", None)
        _stdin.append(stream.read() if stream is not None else sys.stdin.read().encode("utf-8"))
    return _stdin[0]


def _shown(path: str) -> str:
    """A file argument as messages name it."""
    return STDIN_NAME if path == STDIN else path


def _stdin_policy() -> SourceFile:
    try:
        text = _stdin_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError([diag_error("E003", "the policy on standard input is not UTF-8 text",
                                      help="send the policy as UTF-8")]) from None
    return SourceFile(path=STDIN_NAME, text=strip_bom(text))


def _policy_source(path: str) -> SourceFile:
    """The text of a policy argument: a file, or standard input for `-`."""
    from .loader import read_source
    return _stdin_policy() if path == STDIN else read_source(path)


def _load_policy(path: str):
    if path == STDIN:
        source = _stdin_policy()
        return load_policy_text(source.text, source.path)
    return load_policy(path)


def _read_facts(path: str) -> dict:
    if path != STDIN:
        return read_facts(path)
    try:
        text = _stdin_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise FactError([FactViolation(path="$", code="F002", message="the facts on standard input are not "
                                       "UTF-8 text")]) from None
    return read_facts(text, is_text=True)


def _policy_files(paths) -> list:
    files = []
    for raw in paths:
        p = Path(raw)
        if raw == STDIN:
            files.append(raw)
        elif p.is_dir():
            files.extend(sorted(str(f) for f in p.rglob("*.rules")))
        else:
            files.append(raw)
    return files


def cmd_check(args) -> int:
    files = _policy_files(args.paths)
    if not files:
        print("kpirules: error: no .rules files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_POLICY
    as_json = getattr(args, "format", "text") == "json"
    quiet = getattr(args, "quiet", False)
    document = None
    if args.source is not None:
        from . import citations
        try:
            if args.source == STDIN:
                document = citations.SourceDocument(STDIN_NAME, strip_bom(_stdin_bytes().decode("utf-8")))
            else:
                document = citations.SourceDocument.read(args.source)
        except UnicodeDecodeError:
            print(f"kpirules: error: --source: `{_shown(args.source)}` is not UTF-8 text", file=sys.stderr)
            return EXIT_POLICY
        except OSError as exc:
            print(f"kpirules: error: --source: cannot read `{args.source}`: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_POLICY
    seen: dict = {}  # cites already checked (a module imported by several policies): reported once
    failed = 0
    warnings = 0
    report = []  # --format json: one entry per file

    def problem(d) -> None:
        if not as_json:
            print(render_diagnostic(d), file=sys.stderr)

    for f in files:
        entry: dict = {"path": _shown(f), "status": "ok", "evaluations": [], "diagnostics": []}
        report.append(entry)
        try:
            policy = _load_policy(f)
        except PolicyError as exc:
            failed += 1
            entry["status"] = "error"
            entry["diagnostics"] = [d.as_json() for d in exc.diagnostics]
            if not as_json:
                print(exc.render(), file=sys.stderr)
            continue
        entry["evaluations"] = list(policy.evaluations)
        for d in policy.diagnostics:
            warnings += 1
            entry["diagnostics"].append(d.as_json())
            problem(d)
        found = ""
        if document is not None:
            from .loader import merged_tree
            tree = merged_tree(_policy_source(f))
            checked, missing = citations.check(tree, document, seen)
            entry["cites_found"] = checked
            if missing or any(seen[(c.span.path, c.span.start)] is not None for c in citations.cites(tree)):
                failed += 1
                entry["status"] = "error"
                for d in missing:
                    entry["diagnostics"].append(d.as_json())
                    problem(d)
                continue
            found = f", {checked} cite{'s' if checked != 1 else ''} found in the source"
        if not (quiet or as_json):
            print(f"{_shown(f)}: ok ({len(policy.evaluations)} evaluation{'s' if len(policy.evaluations) != 1 else ''}"
                  f"{found})")
    code = EXIT_POLICY if failed or (args.strict and warnings) else EXIT_OK
    if as_json:
        summary = {"files": report, "checked": len(files), "with_errors": failed, "warnings": warnings,
                   "strict": bool(args.strict), "ok": code == EXIT_OK}
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    elif not quiet:
        print(f"{len(files)} checked, {failed} with errors, {warnings} warning{'s' if warnings != 1 else ''}"
              + (" (errors under --strict)" if args.strict and warnings else ""))
    return code


def _fact_errors(path, exc: FactError) -> str:
    return "\n".join(f"{path}: {v.severity}[{v.code}]: `{v.path}`: {v.message}"
                     for v in tuple(exc.violations) + tuple(exc.warnings))


def cmd_eval(args) -> int:
    if args.facts.endswith(".jsonl") or args.out is not None:
        return cmd_batch(args)
    try:
        policy = _load_policy(args.policy)
    except PolicyError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_POLICY
    try:
        signer = _signer(args)
        facts = _read_facts(args.facts)
        result = policy.evaluate(facts, evaluation=args.evaluation, explain=args.explain, as_of=args.as_of)
    except UsageError as exc:
        print(f"kpirules: error: {exc}", file=sys.stderr)
        return EXIT_POLICY
    except FactError as exc:
        print(_fact_errors(_shown(args.facts), exc), file=sys.stderr)
        return EXIT_FACTS
    except EvaluationError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_FACTS
    data = result.to_json(stamp=signer(make_stamp(result.policy, facts, result.as_of, explained=args.explain)))
    if args.format == "json":
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif args.format in ("markdown", "html"):
        from .render import html as html_renderer
        from .render import markdown as markdown_renderer
        if "trace" not in data:  # a statement needs the labels and items of the trace, even unexplained
            data = policy.evaluate(facts, evaluation=args.evaluation, explain=True, as_of=args.as_of).to_json()
        renderer = html_renderer if args.format == "html" else markdown_renderer
        sys.stdout.write(renderer.render(data, explain=args.explain, lang=args.lang))
    else:
        sys.stdout.write(text_renderer.render(data, explain=args.explain, lang=args.lang))
    for w in result.warnings:
        print(f"{_shown(args.facts)}: warning[{w.code}]: `{w.path}`: {w.message}", file=sys.stderr)
    return EXIT_OK


def cmd_test(args) -> int:
    if getattr(args, "conformance", None) is not None:
        return cmd_conformance(args.conformance)
    from . import coverage, examples
    minimum = None
    if getattr(args, "min_coverage", None) is not None:
        try:
            minimum = coverage.parse_percent(args.min_coverage)
        except ValueError as exc:
            print(f"kpirules: error: --min-coverage: {exc}", file=sys.stderr)
            return EXIT_POLICY
    measure = minimum is not None or getattr(args, "coverage", False)
    as_json = getattr(args, "format", "text") == "json"
    quiet = getattr(args, "quiet", False) or as_json

    def say(line="") -> None:
        if not quiet:
            print(line)

    files = _policy_files(args.paths)
    if not files:
        print("kpirules: error: no .rules files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_POLICY
    passed = failed = 0
    broken = False
    loaded = []
    report: list = []  # --format json: one entry per policy
    for f in files:
        try:
            policy = _load_policy(f)
        except PolicyError as exc:
            broken = True
            failed += 1
            report.append({"path": _shown(f), "loaded": False, "diagnostics": [d.as_json() for d in exc.diagnostics],
                           "examples": []})
            if not as_json:
                print(f"FAIL {_shown(f)}: the policy does not load", file=sys.stdout)
                print(exc.render(), file=sys.stderr)
            continue
        loaded.append(policy)
        cases = examples.run(policy)
        report.append({"path": _shown(f), "loaded": True, "examples": [_case_json(c) for c in cases]})
        for case in cases:
            if case.passed:
                passed += 1
                say(case.render())
            else:
                failed += 1
                if not as_json:
                    print(case.render())
    below = []
    reports = []
    if measure:  # the coverage of each policy (modules have no evaluation: nothing to cover)
        reports = [coverage.measure(p) for p in loaded if p.evaluations]
        if reports:
            say()
            say("coverage of the examples:")
        for cover in reports:
            say(cover.render())
            if minimum is not None and cover.below(minimum):
                below.append(cover)
        for cover in below:
            assert minimum is not None  # only a minimum puts reports below it
            if not as_json:
                print(f"coverage below {coverage.percent_text(minimum)}: {_shown(cover.path)} "
                      f"({cover.covered}/{cover.total} branches, {cover.percent})")
    say(f"{passed} passed, {failed} failed")
    code = EXIT_POLICY if broken else EXIT_FACTS if failed or below else EXIT_OK
    if as_json:
        out: dict = {"policies": report, "passed": passed, "failed": failed}
        if measure:
            out["coverage"] = [_coverage_json(c, minimum) for c in reports]
        out["ok"] = code == EXIT_OK
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    return code


def _case_json(case) -> dict:
    from .result import jsonable
    out: dict = {"name": case.name, "evaluation": case.evaluation, "line": case.line, "passed": case.passed}
    if case.problem:
        out["problem"] = case.problem
    if case.mismatches:
        out["mismatches"] = [{"name": mm.name, "expected": jsonable(mm.expected), "actual": jsonable(mm.actual),
                              "explanation": mm.explanation} for mm in case.mismatches]
    return out


def _coverage_json(cover, minimum) -> dict:
    out = {"path": _shown(cover.path), "covered": cover.covered, "total": cover.total, "percent": cover.percent,
           "missed": [{"location": m.location, "line": m.line, "message": m.site.message(m.outcome)}
                      for m in cover.missed],
           "notes": list(cover.notes)}
    if minimum is not None:
        out["below_minimum"] = cover.below(minimum)
    return out


def cmd_conformance(corpus: str) -> int:
    """`kpirules test --conformance DIR`: every case of a conformance corpus; 1 if any fails."""
    from . import conformance
    if not conformance.cases(corpus):
        print(f"kpirules: error: no conformance cases (cases/*/case.json) in `{corpus}`", file=sys.stderr)
        return EXIT_POLICY
    passed = failed = 0
    for folder, problems in conformance.run(corpus):
        if problems:
            failed += 1
            print(f"FAIL {folder.name}")
            for problem in problems:
                print("    " + problem.replace("\n", "\n    "))
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return EXIT_FACTS if failed else EXIT_OK


def cmd_verify(args) -> int:
    """Re-evaluate RESULT's evaluation on FACTS with POLICY; 0 when stamp and values all match."""
    from . import stamp
    claimed = _read_result(args.result)
    if claimed is None:
        return EXIT_POLICY
    try:
        policy = _load_policy(args.policy)
        public_key = None
        if args.public_key is not None:
            from . import signing
            public_key = signing.load_public_key(args.public_key)
    except PolicyError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_POLICY
    except UsageError as exc:
        print(f"kpirules: error: {exc}", file=sys.stderr)
        return EXIT_POLICY
    evaluation = claimed["evaluation"]
    if evaluation not in policy.evaluations:
        from .audit import visible
        print(visible(f"evaluation: result says {evaluation}, and {_shown(args.policy)} has no such evaluation (it "
                      "has: " + ", ".join(policy.evaluations) + ")"))
        print("not verified: the result is not of this policy")
        return EXIT_FACTS
    try:
        facts = _read_facts(args.facts)
        said_stamp = claimed.get("stamp") if isinstance(claimed.get("stamp"), dict) else {}
        as_of = said_stamp.get("as_of")
        result = policy.evaluate(facts, evaluation=evaluation, explain="trace" in claimed,
                                 as_of=as_of if isinstance(as_of, str) else None)
    except UsageError as exc:
        print(f"kpirules: error: {exc}", file=sys.stderr)
        print("not verified: the result cannot be re-evaluated", file=sys.stderr)
        return EXIT_FACTS
    except FactError as exc:
        print(_fact_errors(_shown(args.facts), exc), file=sys.stderr)
        print("not verified: the facts cannot be evaluated", file=sys.stderr)
        return EXIT_FACTS
    except EvaluationError as exc:
        print(exc.render(), file=sys.stderr)
        print("not verified: the facts cannot be evaluated", file=sys.stderr)
        return EXIT_FACTS
    fresh = result.to_json(stamp=stamp.make(result.policy, facts, result.as_of, explained="trace" in claimed))
    problems, notes, count = stamp.compare(claimed, fresh)
    quiet = getattr(args, "quiet", False)
    signed, unsigned = _check_signature(claimed.get("stamp"), public_key, notes)
    from .audit import visible  # names and texts of the result file are the forger's: no escapes
    for note in () if quiet else notes:
        print(visible(f"note: {note}"))
    if unsigned:
        print(visible(f"signature: {unsigned}"))
    for problem in problems:
        print(visible(problem))
    if problems or unsigned:
        differences = f"{len(problems)} difference{'s' if len(problems) != 1 else ''}"
        print("not verified: " + ("the signature does not hold" + (f", and {differences}" if problems else "")
                                  if unsigned else differences))
        return EXIT_FACTS
    trace = f", and its trace of {_count_nodes(claimed['trace'])} nodes" if "trace" in claimed else ""
    if not quiet:
        print(f"verified: {count} value{'s' if count != 1 else ''} match{'es' if count == 1 else ''}{trace}{signed}")
    return EXIT_OK


def _check_signature(said_stamp, public_key, notes: list) -> tuple[str, str]:
    """Check the stamp's signature against --public-key: ("; signed by key ...", "") when it holds,
    ("", what is wrong) when it does not; without --public-key, a note when the result is signed."""
    from . import signing
    from .stamp import show
    if public_key is None:
        sig = said_stamp.get("signature") if isinstance(said_stamp, dict) else None
        if isinstance(sig, dict):
            notes.append(f"the result is signed by key {show(sig.get('key_id'))}; the signature is not "
                         "checked (give the signer's public key with --public-key KEYFILE)")
        return "", ""
    problem, key = signing.check(said_stamp, public_key)
    if problem is not None:
        return "", problem
    return f"; signed by key {key}", ""


def _signer(args):
    """The function that signs a stamp with --sign KEYFILE (the identity without it)."""
    if getattr(args, "sign", None) is None:
        return lambda st: st
    if args.format != "json" and args.out is None:
        raise UsageError("--sign signs the stamp of a JSON result: add --format json (or use --out DIR)")
    from . import signing
    key = signing.load_private_key(args.sign)
    return lambda st: signing.sign(st, key)


def cmd_keygen(args) -> int:
    """Write PREFIX.key and PREFIX.pub: an Ed25519 key pair for `eval --sign` and `verify --public-key`."""
    from . import signing
    try:
        private_path, public_path, key = signing.keygen(args.out)
    except UsageError as exc:
        print(f"kpirules: error: {exc}", file=sys.stderr)
        return EXIT_POLICY
    print(f"private key: {private_path} (keep it secret; sign with `kpirules eval --sign {private_path} ...`)")
    print(f"public key:  {public_path} (give it to whoever verifies: `kpirules verify --public-key {public_path} ...`)")
    print(f"key id:      {key}")
    return EXIT_OK


def _read_result(path):
    """A JSON result as written by `eval --format json`, or None after saying why (audit.py: a
    result that could be read two ways is refused, every problem with its code)."""
    from . import audit
    problem = None
    try:
        if path == STDIN:
            text = _stdin_bytes().decode("utf-8")
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        data = audit.loads(text.lstrip("\ufeff"))
    except FileNotFoundError:
        problem = "does not exist"
    except UnicodeDecodeError:
        problem = "is not UTF-8 text"
    except json.JSONDecodeError as exc:
        problem = f"is not JSON ({exc.msg[:1].lower() + exc.msg[1:]} at line {exc.lineno}, column {exc.colno})"
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})"
    except RecursionError:
        problem = "is nested too deeply to be a kpirules result"
    else:
        try:
            data, problems = audit.check(data)
        except RecursionError:
            data, problems = None, []
        if not (isinstance(data, dict) and isinstance(data.get("evaluation"), str)
                and isinstance(data.get("values"), dict)):
            problem = "is not a kpirules result (expected the JSON of `kpirules eval --format json`)"
        elif problems:
            for p in problems:
                print(p.render(path), file=sys.stderr)
            print(f"not verified: `{path}` is not a result as kpirules writes it ({len(problems)} "
                  f"problem{'s' if len(problems) != 1 else ''})", file=sys.stderr)
            return None
    if problem is not None:
        print(f"kpirules: error: result file `{_shown(path)}` {problem}", file=sys.stderr)
        return None
    return data


def _count_nodes(trace) -> int:
    stack = list(trace.get("inputs", ())) + list(trace.get("nodes", ())) if isinstance(trace, dict) else []
    count = 0
    while stack:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            stack.extend(node.get("children") or ())
    return count


# ---- batch: one fact set per line of a .jsonl file --------------------------------------------

# A safe file name: letters (any script), digits, `_`, `.` and `-`, starting with a letter, digit
# or `_` (no hidden files, nothing read as an option), at most 64 characters (so that even in a
# script of 3-byte characters `ID.error.txt` stays within the usual 255-byte limit).
_SAFE_ID = re.compile(r"\w[\w.\-]{0,63}")
# Names Windows keeps for devices, whatever the extension.
_RESERVED_IDS = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def _line_id(facts: dict, field: str):
    """(id, None) or (None, why the line's id cannot name its files)."""
    if field not in facts:
        return None, f"no `{field}` field to name its files (choose the field with --id-field)"
    raw = facts[field]
    if isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value() and 0 <= raw.adjusted() < 64:
        raw = str(int(raw))
    elif isinstance(raw, Decimal) and raw.is_finite() and raw == 0:
        raw = "0"
    if not isinstance(raw, str):
        shown = str(raw) if isinstance(raw, Decimal) else json.dumps(_plain_json(raw), ensure_ascii=False)
        return None, f"`{field}` must be a text or a whole number to name files; it is {shown[:60]}"
    if not _SAFE_ID.fullmatch(raw):
        return None, (f"`{field}` {json.dumps(raw[:80], ensure_ascii=False)} is not a safe file name (use "
                      "letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_`, at most 64 "
                      "characters)")
    stem = raw.split(".", 1)[0].casefold()
    if stem in _RESERVED_IDS or raw.casefold().endswith(".error"):
        return None, f"`{field}` {json.dumps(raw, ensure_ascii=False)} is not a safe file name (a reserved name)"
    return raw, None


def _plain_json(v):
    from .result import jsonable
    return jsonable(v)


def cmd_batch(args) -> int:
    """`eval POLICY facts.jsonl --out DIR`: a result and a statement per line, and summary.csv."""
    if not args.facts.endswith(".jsonl") and args.facts != STDIN:
        print(f"kpirules: error: --out is for a .jsonl fact file (one JSON fact set per line); "
              f"`{args.facts}` is not one", file=sys.stderr)
        return EXIT_POLICY
    if args.out is None:
        print(f"kpirules: error: `{args.facts}` holds one fact set per line: name a folder for the results "
              "with --out DIR", file=sys.stderr)
        return EXIT_POLICY
    try:
        policy = _load_policy(args.policy)
    except PolicyError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_POLICY
    try:
        declared = {name for name, _label, _rule in policy.facts_of(args.evaluation)}
        args.signer = _signer(args)
    except UsageError as exc:
        print(f"kpirules: error: {exc}", file=sys.stderr)
        return EXIT_POLICY
    source: typing.BinaryIO
    try:
        if args.facts == STDIN:
            source = io.BytesIO(_stdin_bytes())
        else:
            source = open(args.facts, "rb")  # noqa: SIM115 - read line by line, closed below
    except FileNotFoundError:
        print(f"{args.facts}: error[F002]: `$`: fact file `{args.facts}` does not exist", file=sys.stderr)
        return EXIT_FACTS
    except OSError as exc:
        print(f"{args.facts}: error[F002]: `$`: cannot read `{args.facts}`: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FACTS
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"kpirules: error: cannot create the folder `{args.out}`: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_POLICY
    statement = _statement_renderer(args.format)
    seen: dict[str, int] = {}  # an id, normalised (see _batch_line) -> the line that first used it
    rows, outputs = [], None
    # Lines are split on \n only: a JSON text may hold U+2028, which str.splitlines() would split on.
    with source:
        for number, raw_bytes in enumerate(source, 1):
            if number == 1:
                raw_bytes = raw_bytes.removeprefix(b"\xef\xbb\xbf")
            if not raw_bytes.strip():
                continue
            try:
                row = _batch_line(args, policy, declared, raw_bytes.rstrip(b"\r\n"), number, seen, out, statement)
            except OSError as exc:  # a file of this line cannot be written: the others still are
                message = f"cannot write the files of this line: {exc.strerror or exc}"
                print(f"{_shown(args.facts)}:{number}: error: {message}", file=sys.stderr)
                row = {"id": "", "line": number, "status": "error", "error": message}
            if row["status"] == "ok" and outputs is None:
                outputs = row["outputs"]
            rows.append(row)
    outputs = outputs or ()
    from .tabular import safe_text
    # No byte-order mark, and no cell a spreadsheet would run as a formula; written whole, then
    # renamed, so that a killed run never leaves half a summary.
    summary = out / "summary.csv"
    tmp = out / f".summary.csv.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["id", "line", "status", *outputs, "error"])
        for row in rows:
            values = row.get("values") or {}
            writer.writerow([safe_text(row["id"]), row["line"], row["status"],
                             *(safe_text(_csv_value(values.get(name))) for name in outputs),
                             safe_text(row.get("error", ""))])
    os.replace(tmp, summary)
    failed = sum(1 for row in rows if row["status"] != "ok")
    if not getattr(args, "quiet", False):
        print(f"{len(rows)} fact set{'s' if len(rows) != 1 else ''}: {len(rows) - failed} ok, {failed} failed; "
              f"summary in {out / 'summary.csv'}")
    return EXIT_FACTS if failed else EXIT_OK


def _statement_renderer(fmt: str):
    """(extension, render) of the statement asked for with --format html or markdown, else None."""
    if fmt == "html":
        from .render import html
        return ".html", html.render
    if fmt == "markdown":
        from .render import markdown
        return ".md", markdown.render
    return None


def _csv_value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _batch_line(args, policy, declared, raw: bytes, number, seen, out, statement) -> dict:
    """Evaluate one line; write its files; the summary row. Never raises for bad input."""
    where = f"{_shown(args.facts)}:{number}"
    ident = None

    def failed(message, detail=None, name=None):
        # A line without a usable id names its error file `@line-N`: no id can start with `@`,
        # so it never touches the files of a line whose id is `line-N`.
        stem = name if name is not None else f"@line-{number}"
        for ext in (".json", ".txt", ".html", ".md"):  # a result of an earlier run would contradict the error
            (out / f"{stem}{ext}").unlink(missing_ok=True)
        _write(out / f"{stem}.error.txt", f"{where}: {detail or message}\n")
        print(f"{where}: error: {message}", file=sys.stderr)
        return {"id": ident or "", "line": number, "status": "error", "error": message}

    from .tabular import _jsonl_facts, find_surrogate
    try:
        facts = _jsonl_facts(raw)  # not UTF-8, not JSON, a lone surrogate: this line's error
    except FactError as exc:
        return failed("; ".join(f"{v.message}" for v in exc.violations))
    if find_surrogate(facts) is not None:
        return failed("holds a lone surrogate (`\\ud800`-`\\udfff`), which is not a character")
    ident, problem = _line_id(facts, args.id_field)
    if ident is None:
        raw_id = facts.get(args.id_field)
        if isinstance(raw_id, Decimal):
            raw_id = str(raw_id)  # `1E+400000`, not four hundred thousand digits
        ident = (raw_id if isinstance(raw_id, str) else "" if raw_id is None
                 else json.dumps(_plain_json(raw_id), ensure_ascii=False))[:80]
        return failed(problem)
    key = unicodedata.normalize("NFC", ident).casefold()  # `A` and `a` are one file on Windows and macOS
    if key in seen:
        return failed(f"duplicate id `{ident}` (first on line {seen[key]}); this line is not written")
    seen[key] = number
    given = facts
    if args.id_field in facts and args.id_field not in declared:  # duplicate keys stay known to validation
        from .batch import _without
        given = _without(facts, args.id_field)
    try:
        # A trace only when asked: --explain, or a statement (which shows the trace's labels and items).
        result = policy.evaluate(given, evaluation=args.evaluation, explain=args.explain or statement is not None,
                                 as_of=args.as_of)
    except FactError as exc:
        lines = [f"`{v.path}`: {v.message}" for v in exc.violations]
        return failed("; ".join(lines), _fact_errors(where, exc).replace(f"{where}: ", "", 1), ident)
    except EvaluationError as exc:
        return failed(exc.render().splitlines()[0], exc.render(), ident)
    except UsageError as exc:
        return failed(str(exc), name=ident)
    except Exception as exc:  # a defect in kpirules: reported for this line, the others still run
        if os.environ.get("KPIRULES_DEBUG"):
            raise
        return failed(f"internal error ({type(exc).__name__}: {exc}); please report it", name=ident)
    for w in result.warnings:
        print(f"{where}: warning[{w.code}]: `{w.path}`: {w.message}", file=sys.stderr)
    explained = result.to_json(stamp=args.signer(make_stamp(result.policy, facts, result.as_of,
                                                             explained=args.explain)))
    data = explained if args.explain else {k: v for k, v in explained.items() if k != "trace"}
    (out / f"{ident}.error.txt").unlink(missing_ok=True)
    _write(out / f"{ident}.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    _write(out / f"{ident}.txt", text_renderer.render(data, explain=args.explain, lang=args.lang))
    if statement is not None:
        ext, render = statement
        _write(out / f"{ident}{ext}", render(explained, explain=args.explain, lang=args.lang))
    return {"id": ident, "line": number, "status": "ok", "values": data["values"], "outputs": result.outputs}


def _write(path: Path, text: str) -> None:
    """Written whole to a temporary file, then renamed: never half a file under its name."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def cmd_fmt(args) -> int:
    """Rewrite each file in its canonical layout and list those changed; with --check, only list
    the files that would change, with --diff show how (exit 1 if any). `-` formats standard input
    to standard output. A file that does not parse: its diagnostics, exit 2."""
    from .fmt import format_text
    from .parser import ParseFailure
    files = _policy_files(args.paths)
    if not files:
        print("kpirules: error: no .rules files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_POLICY
    only_show = args.check or getattr(args, "diff", False)
    quiet = getattr(args, "quiet", False)
    broken = changed = 0
    for f in files:
        try:
            source = _policy_source(f)
            formatted = format_text(source.text, source.path)
        except PolicyError as exc:
            broken += 1
            print(exc.render(), file=sys.stderr)
            continue
        except ParseFailure as exc:
            broken += 1
            print(PolicyError(exc.diagnostics).render(), file=sys.stderr)
            continue
        raw = (_stdin_bytes() if f == STDIN else Path(f).read_bytes()).decode("utf-8")
        if raw.startswith("\ufeff"):  # a byte-order mark stays: the layout is about the text
            formatted = "\ufeff" + formatted
        if f == STDIN and not only_show:
            sys.stdout.write(formatted)  # the filter form: every text out, changed or not
            continue
        if formatted == raw:
            continue
        changed += 1
        if getattr(args, "diff", False):
            import difflib
            name = _shown(f)
            sys.stdout.writelines(_diff_lines(difflib.unified_diff(
                raw.splitlines(keepends=True), formatted.splitlines(keepends=True), fromfile=name, tofile=name)))
            continue
        if not args.check:
            with open(f, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(formatted)
        if not quiet:
            print(_shown(f))
    if broken:
        return EXIT_POLICY
    return 1 if only_show and changed else EXIT_OK


def _diff_lines(lines):
    """A unified diff's lines, each ending with a newline (a last line without one says so, as diff does)."""
    for line in lines:
        if line.endswith("\n"):
            yield line
        else:
            yield line + "\n\\ No newline at end of file\n"


def cmd_lsp(args) -> int:
    """The language server (pygls, an optional dependency: `pip install 'kpirules[lsp]'`)."""
    try:
        from . import lsp
    except ImportError as exc:
        print(f"kpirules: error: the language server needs pygls ({exc}); install it with "
              "`pip install 'kpirules[lsp]'`", file=sys.stderr)
        return EXIT_POLICY
    return lsp.main()


def cmd_completion(args) -> int:
    from .completion import script
    sys.stdout.write(script(_parser(), args.shell))
    return EXIT_OK


def _stdin_readers(args) -> list:
    """The arguments that read standard input (`-`)."""
    named = [getattr(args, k, None) for k in ("policy", "facts", "result", "source")]
    return [x for x in named + list(getattr(args, "paths", None) or ()) if x == STDIN]


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _stdin.clear()
    if len(_stdin_readers(args)) > 1:
        print("kpirules: error: only one argument can be `-` (standard input)", file=sys.stderr)
        return EXIT_POLICY
    try:
        if args.command == "completion":
            return cmd_completion(args)
        if args.command == "fmt":
            return cmd_fmt(args)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "test":
            return cmd_test(args)
        if args.command == "verify":
            return cmd_verify(args)
        if args.command == "lsp":
            return cmd_lsp(args)
        if args.command == "keygen":
            return cmd_keygen(args)
        if args.command == "serve":
            from .serve.command import run as serve
            return serve(args)
        if args.command == "run":
            from .batch import cmd_run
            return cmd_run(args)
        if args.command == "diff":
            from .diff import cmd_diff
            return cmd_diff(args)
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
