"""Population runs: `kpirules run POLICY INPUT --evaluation NAME --out RESULTS`.

One result row per input row, in input order, in one results file (`.jsonl`, `.csv`, `.xlsx`
or `.parquet`; tabular.py reads and writes them). The run streams: the main process reads rows
in chunks, worker processes (`--jobs`, default all cores) decode, validate and evaluate them and
format their result rows, and the main process appends the formatted chunks in input order. At
most a few chunks per worker are in flight, so memory stays flat whatever the row count.

Nothing is lost: results go to `RESULTS.partial` (for `.xlsx` and `.parquet`, a JSONL spool
converted at the end) and are renamed onto RESULTS only when the run ends; after each chunk a
line of `RESULTS.journal` records how many rows are done and the byte length of the partial
file holding them. `--resume` checks that the journal belongs to the same policy, input and
options, cuts the partial file back to the last recorded length and continues after the rows
it holds: the results are byte-identical to an uninterrupted run's. SIGINT and SIGTERM stop
the run between chunks (exit 130 and 143), with the journal in place.

A row that cannot be decoded or evaluated is that row's error (`status` `error`, with
`error_code`, `error_path` and `error_message`); the run goes on. Exit 0 when every row is ok,
1 when some are errors, 2 for a bad policy, bad usage, an unreadable input or results that
cannot be written.
"""

from __future__ import annotations

import argparse
import collections
import errno
import io
import json
import os
import re
import signal
import sys
import time
from decimal import Decimal
from typing import Any

from . import exact as x
from . import tabular
from .errors import EvaluationError, FactError, PolicyError, UsageError

EXIT_OK, EXIT_ROWS, EXIT_USAGE = 0, 1, 2
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
CHUNK_ROWS = 256  # rows per task sent to a worker (and per journal entry)


try:  # seconds between two redraws of the progress bar (tests set 0)
    _PROGRESS_EVERY = float(os.environ.get("KPIRULES_PROGRESS_EVERY", "0.2"))
except ValueError:
    _PROGRESS_EVERY = 0.2


def _chunk_rows() -> int:
    """Rows per chunk: 256, or KPIRULES_CHUNK_ROWS (smaller chunks make a finer journal)."""
    try:
        return max(1, int(os.environ.get("KPIRULES_CHUNK_ROWS", CHUNK_ROWS)))
    except ValueError:
        return CHUNK_ROWS
JOURNAL_SCHEMA = "kpirules.run-journal/1"
FIXED_COLUMNS = ("row", "status", "error_code", "error_path", "error_message")
_SAFE_NAME = re.compile(r"\w[\w.\-]{0,63}")


def add_parser(command) -> None:
    """The `run` subcommand (called by cli.py)."""
    r = command("run", "evaluate a policy over a population: one results file, one row per input row")
    r.add_argument("policy", metavar="POLICY", help="the policy file")
    r.add_argument("input", metavar="INPUT", help="facts, one row per person: .jsonl, .csv, .xlsx or .parquet")
    r.add_argument("--evaluation", metavar="NAME", help="which evaluation (needed when the policy has several)")
    r.add_argument("--out", metavar="RESULTS", required=True,
                   help="the results file: .jsonl, .csv, .xlsx or .parquet (by its extension)")
    r.add_argument("--as-of", metavar="DATE", dest="as_of", help="the date the evaluation is made as of, YYYY-MM-DD")
    r.add_argument("--id-field", metavar="NAME", default="id",
                   help="the field naming each row, copied to the results (default: id)")
    r.add_argument("--jobs", metavar="N", type=int, default=None,
                   help="worker processes (default: all cores; 1 evaluates in this process)")
    r.add_argument("--explain", action="store_true", help="add each row's trace to the results (.jsonl results)")
    r.add_argument("--statements", metavar="DIR", help="also write a statement per ok row into DIR")
    r.add_argument("--format", choices=("html", "markdown"), default="html",
                   help="with --statements: html (default) or markdown")
    r.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the statements' sentences")
    r.add_argument("--resume", action="store_true",
                   help="continue an interrupted run of the same command from its journal")
    r.add_argument("--stats", metavar="STATS.json",
                   help="also write how many rows took each branch of the policy (ladder sides, bands, rows, "
                        "gates, caps, floors, ...) and the branches no row took")


# ---- one row ---------------------------------------------------------------------------------

def id_text(v) -> str | None:
    """The id cell of a row: text as is, a number as its decimal digits, anything else as JSON."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return x.to_string(v) if v.is_finite() and -40 < v.adjusted() < 40 else str(v)
    if isinstance(v, int):
        return str(v)
    from .result import jsonable
    return json.dumps(jsonable(v), ensure_ascii=False, default=str)


def value_json(v) -> Any:
    """An output value as a JSON value: numbers as exact decimal strings; a mapping (per-member
    outputs) or a list as JSON with decimal strings inside."""
    if type(v) is Decimal:  # the common case: what x.to_string does for a Decimal
        return format(v if v else v.copy_abs(), "f")
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, Decimal) or type(v).__name__ == "Fraction":
        return x.to_string(v)
    if isinstance(v, int):
        return str(v)
    from collections.abc import Mapping
    if isinstance(v, Mapping):
        return {str(k): value_json(i) for k, i in v.items()}
    if isinstance(v, (list, tuple)):
        return [value_json(i) for i in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def first_violations(exc: FactError) -> tuple[str, str, str]:
    vs = exc.violations
    if not vs:
        return "F100", "$", "the facts are not valid"
    more = len(vs) - 1
    message = vs[0].message + (f" (and {more} more violation{'s' if more != 1 else ''})" if more else "")
    return vs[0].code, vs[0].path, message


def evaluation_violation(exc: EvaluationError) -> tuple[str, str, str]:
    from .errors import message_for
    where = ""
    if exc.span is not None:
        at = exc.span.as_json()
        where = f" ({at['file']}:{at['line']}:{at['column']})"
    return "R001", exc.name, message_for(exc.name, exc.message) + where


class Job:
    """What a worker needs to turn raw rows into formatted result rows."""

    def __init__(self, options: dict, columns: tuple[str, ...] | None, policy=None):
        from . import load_policy
        self.options = options
        self.policy = policy if policy is not None else load_policy(options["policy"])
        self.evaluation = options["evaluation"]
        self.as_of = options["as_of"]
        self.id_field = options["id_field"]
        program = self.policy._program(self.evaluation, _as_of(self.as_of))
        self.program = program
        self.evaluation = program.evaluation.name
        self.types = {d.name: d.type for d in program.model.facts}
        self.declared = set(self.types)
        self.decoder = tabular.RowDecoder(columns, self.types, keep_undeclared=False)
        self.decoder.all_text = options.get("in_kind") == "csv"
        self.layout = Layout(program, self.id_field, columns, options["explain"])
        self.out_kind = options["out_kind"]
        self.statements = options.get("statements")
        self.day = _as_of(self.as_of)
        plan, outputs = self.policy._plans.get(program.evaluation.name) or self.policy._plan(program)
        self.out_plan = tuple(p for p in plan if p[0] in set(outputs))
        self.fast = not options["explain"] and not self.statements
        self.stats = None
        if options.get("stats"):
            from . import population
            self.stats = population.Counter(program)

    # -- evaluation of one row, as a dict of JSON values (the JSONL form)
    def row(self, number: int, raw) -> dict:
        layout = self.layout
        rec: dict[str, Any] = {"row": number}
        ident = None
        facts = None
        try:
            if self.decoder.columns is not None and layout.id_column is not None:
                ident = self.decoder.raw_cell(raw, self.id_field)
            facts = self.decoder.decode(raw)
            if self.decoder.columns is None:
                ident = facts.get(self.id_field)
            given = facts
            if self.decoder.columns is None and self.id_field in facts and self.id_field not in self.declared:
                given = _without(facts, self.id_field)
            if self.fast:
                values = self._outputs(given)
            else:
                explain = self.options["explain"] or bool(self.statements)
                result = self.policy.evaluate(given, evaluation=self.evaluation, explain=explain, as_of=self.as_of)
                values = result.values
            error = None
        except FactError as exc:
            error = first_violations(exc)
        except EvaluationError as exc:
            error = evaluation_violation(exc)
        except UsageError as exc:
            error = ("U001", "$", str(exc))
        except RecursionError:
            error = ("F001", "$", "the facts nest too deeply")
        except Exception as exc:  # a defect in kpirules: this row's error, the others still run
            if os.environ.get("KPIRULES_DEBUG"):
                raise
            error = ("X001", "$", f"internal error ({type(exc).__name__}: {exc}); please report it")
        if ident is None and facts is None and self.decoder.columns is not None:
            ident = self.decoder.raw_cell(raw, self.id_field)
        if layout.id_column is not None:
            text = id_text(ident)
            rec[layout.id_column] = tabular.visible(text) if text is not None else None
        if error is None:
            rec["status"] = "ok"
            for name, column in layout.outputs:
                rec[column] = value_json(values.get(name))
            rec["error_code"] = rec["error_path"] = rec["error_message"] = None
            if layout.explain:
                from .result import jsonable
                rec["trace"] = jsonable(result.trace)
            if self.statements:
                self._statement(number, rec.get(layout.id_column) if layout.id_column else None, result, facts)
            if self.stats is not None:
                self.stats.add(given, self.as_of)
        else:
            rec["status"] = "error"
            for _name, column in layout.outputs:
                rec[column] = None
            code, path, message = error
            rec["error_code"], rec["error_path"], rec["error_message"] = code, tabular.visible(path), \
                tabular.visible(message)
            if layout.explain:
                rec["trace"] = None
        return rec

    def _outputs(self, facts) -> dict:
        """The outputs of one fact set: what Policy.evaluate computes (the same validation, the
        same generated code, the same conversions), without the values the results do not show
        and without building a Result."""
        from . import evaluate as evaluate_stage
        from . import facts as fact_stage
        program = self.program
        valid, _warnings = fact_stage.validate(program.model, facts, program.check_facts)
        if self.day is not None:
            from .runtime import AS_OF
            valid = {**valid, AS_OF: self.day}
        raw, _records = evaluate_stage.run(program, valid, False)
        return evaluate_stage.values_of(self.out_plan, raw, valid)  # per-member values as dicts

    def _statement(self, number: int, ident: str | None, result, facts) -> None:
        from .render import html as html_renderer
        from .render import markdown as markdown_renderer
        from .stamp import make as make_stamp
        fmt = self.options.get("format") or "html"
        data = result.to_json(stamp=make_stamp(result.policy, facts, result.as_of))
        renderer = html_renderer if fmt == "html" else markdown_renderer
        text = renderer.render(data, explain=self.options["explain"], lang=self.options.get("lang") or "en")
        name = statement_name(number, ident) + (".html" if fmt == "html" else ".md")
        assert self.statements is not None
        atomic_write(os.path.join(self.statements, name), text.encode("utf-8"))

    # -- a chunk of rows, formatted for the partial file
    def chunk(self, start: int, raws: list) -> tuple[bytes, int, dict | None]:
        recs = [self.row(start + i, raw) for i, raw in enumerate(raws)]
        errors = sum(1 for r in recs if r["status"] != "ok")
        stats = self.stats.take() if self.stats is not None else None
        if self.out_kind == "csv":
            buf = io.StringIO()
            import csv
            writer = csv.writer(buf, lineterminator=tabular.CSV_EOL)
            cols, kinds = self.layout.columns, self.layout.kinds
            writer.writerows(tabular.csv_cells(r, cols, kinds) for r in recs)
            text = buf.getvalue()
        else:
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
        return text.encode("utf-8", "backslashreplace"), errors, stats


def _without(facts: dict, key: str) -> dict:
    from .facts import Pairs
    out = Pairs((k, v) for k, v in facts.items() if k != key)
    out.duplicates = dict(getattr(facts, "duplicates", None) or {})
    return out


def _as_of(text):
    if text is None:
        return None
    from . import _as_of_date
    return _as_of_date(text)


def statement_name(number: int, ident: str | None) -> str:
    """`row-42` or `row-42-E001`: the row number makes it unique; the id, when it is a safe
    file name, makes it findable."""
    name = f"row-{number}"
    if ident and _SAFE_NAME.fullmatch(ident):
        name += f"-{ident}"
    return name


class Layout:
    """The columns of the results, and the kind of each (for CSV/XLSX/Parquet cells)."""

    def __init__(self, program, id_field: str, columns: tuple[str, ...] | None, explain: bool):
        ev = program.evaluation
        outputs = [v for v in ev.values if v.kind == "output"]
        plan_order = {name: i for i, (name, *_rest) in enumerate(_plan(ev))}
        outputs.sort(key=lambda v: plan_order.get(v.name, 0))
        # The id column: always for JSONL input (each line may hold it); for a table, when its
        # header has the column.
        self.id_column = id_field if columns is None or id_field in columns else None
        taken = set(FIXED_COLUMNS) | ({self.id_column} if self.id_column else set()) | {"trace"}
        self.outputs = []
        for v in outputs:
            column = v.name if v.name not in taken else f"value.{v.name}"
            self.outputs.append((v.name, column))
        self.kinds: dict[str, str] = {"row": "int", "status": "text"}
        for v, (_name, column) in zip(outputs, self.outputs, strict=True):
            self.kinds[column] = {"number": "number", "boolean": "bool"}.get(v.type.kind, "text")
        self.explain = explain
        self.columns = ["row", *([self.id_column] if self.id_column else []), "status",
                        *(c for _n, c in self.outputs), "error_code", "error_path", "error_message",
                        *(["trace"] if explain else [])]


def _plan(ev):
    from .evaluate import output_plan
    return output_plan(ev)


def atomic_write(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


# ---- worker processes -----------------------------------------------------------------------

_JOB: Job | None = None


def _worker_init(options, columns):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    global _JOB
    if _JOB is None:  # spawned, not forked: load the policy once in this worker
        _JOB = Job(options, columns)


def _worker_chunk(start: int, raws: list):
    assert _JOB is not None
    return _JOB.chunk(start, raws)


# ---- the run ---------------------------------------------------------------------------------

class Stop(Exception):
    def __init__(self, code: int, message: str = ""):
        self.code = code
        self.message = message


def _fail_write(path: str, exc: OSError) -> Stop:
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        why = "the disk is full"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = "permission denied (is the folder read-only?)"
    elif exc.errno == errno.EROFS:
        why = "the file system is read-only"
    else:
        why = exc.strerror or str(exc)
    return Stop(EXIT_USAGE, f"kpirules: error: cannot write `{path}`: {why}")


def cmd_run(args) -> int:
    try:
        return _run(args)
    except Stop as stop:
        if stop.message:
            print(stop.message, file=sys.stderr)
        return stop.code


def _usage(message: str) -> Stop:
    return Stop(EXIT_USAGE, f"kpirules: error: {message}")


def _run(args) -> int:
    in_kind = tabular.format_of(args.input)
    out_kind = tabular.format_of(args.out)
    if os.path.isdir(args.out):
        raise _usage(f"--out `{args.out}` is a folder; name the results file")
    if in_kind is None:
        raise _usage(f"INPUT `{args.input}` must be a .jsonl, .csv, .xlsx or .parquet file")
    if out_kind is None:
        raise _usage(f"--out `{args.out}` must end in .jsonl, .csv, .xlsx or .parquet")
    if args.explain and out_kind != "jsonl":
        raise _usage("--explain adds each row's trace to JSONL results: use a .jsonl --out")
    if args.jobs is not None and args.jobs < 1:
        raise _usage("--jobs must be at least 1")
    if os.path.abspath(args.out) == os.path.abspath(args.input):
        raise _usage("--out would overwrite the input")
    for name, need in (("xlsx", "openpyxl"), ("parquet", "pyarrow")):
        if name in (in_kind, out_kind):
            try:
                __import__(need)
            except ImportError:
                raise _usage(f".{name} files need {need}: pip install 'kpirules[tabular]'") from None
    from . import load_policy
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        raise Stop(EXIT_USAGE, exc.render()) from None
    except OSError as exc:
        raise _usage(f"cannot read the policy `{args.policy}`: {exc.strerror or exc}") from None
    try:
        program = policy._program(args.evaluation, _as_of(args.as_of))
        if args.as_of is None and program.uses_as_of:
            policy.evaluate({}, evaluation=args.evaluation)  # raises the UsageError that says so
    except UsageError as exc:
        raise _usage(str(exc)) from None
    except (FactError, EvaluationError):
        pass
    if args.id_field in FIXED_COLUMNS or args.id_field == "trace":
        raise _usage(f"--id-field `{args.id_field}` is the name of a results column; choose another field")
    if args.statements:
        try:
            os.makedirs(args.statements, exist_ok=True)
        except OSError as exc:
            raise _fail_write(args.statements, exc) from None
    try:
        reader = tabular.open_reader(args.input)
    except FileNotFoundError:
        raise _usage(f"INPUT `{args.input}` does not exist") from None
    except tabular.InputProblem as exc:
        raise _usage(f"INPUT `{args.input}`: {exc}") from None
    except OSError as exc:
        raise _usage(f"cannot read INPUT `{args.input}`: {exc.strerror or exc}") from None
    try:
        return _Run(args, policy, program, reader, out_kind).go()
    finally:
        reader.close()


class _Run:
    def __init__(self, args, policy, program, reader, out_kind):
        self.args = args
        self.reader = reader
        self.out_kind = out_kind
        self.options = {
            "policy": args.policy, "evaluation": program.evaluation.name, "as_of": args.as_of,
            "id_field": args.id_field, "explain": bool(args.explain), "out_kind": out_kind, "in_kind": reader.kind,
            "statements": args.statements, "format": args.format, "lang": args.lang, "stats": bool(args.stats),
        }
        self.layout = Layout(program, args.id_field, reader.columns, bool(args.explain))
        self.policy = policy
        self.out = args.out
        self.partial = args.out + ".partial"
        self.journal_path = args.out + ".journal"
        self.jobs = args.jobs or os.cpu_count() or 1
        self.signal: int | None = None
        st = os.stat(args.input)
        self.header = {
            "schema": JOURNAL_SCHEMA, "policy_sha256": policy.sha256, "evaluation": program.evaluation.name,
            "as_of": args.as_of, "input": os.path.abspath(args.input), "input_size": st.st_size,
            "input_mtime_ns": st.st_mtime_ns, "out": os.path.abspath(args.out), "id_field": args.id_field,
            "explain": bool(args.explain), "statements": os.path.abspath(args.statements) if args.statements else None,
            "format": args.format if args.statements else None, "lang": args.lang, "stats": bool(args.stats),
            "columns": self.layout.columns,
        }

    # -- the journal
    def _resume_point(self) -> tuple[int, int, int, dict | None]:
        """(rows done, partial length, errors, stats) from the journal, or a Stop saying why not."""
        try:
            with open(self.journal_path, "rb") as fh:
                lines = fh.read().split(b"\n")
        except FileNotFoundError:
            return 0, 0, 0, None
        try:
            header = json.loads(lines[0])
        except (ValueError, IndexError):
            raise _usage(f"`{self.journal_path}` is not a kpirules journal; remove it to start again") from None
        if header != self.header:
            diff = [k for k in self.header if header.get(k) != self.header[k]] if isinstance(header, dict) else []
            raise _usage(f"`{self.journal_path}` is the journal of another run (it differs in: "
                         f"{', '.join(diff) or 'its form'}); run without --resume to start again")
        try:
            size = os.path.getsize(self.partial)
        except OSError:
            size = -1
        best = (0, 0, 0, None)
        for line in lines[1:-1]:  # the last piece is after the last newline: incomplete or empty
            try:
                entry = json.loads(line)
                rows, offset, errors = int(entry["rows"]), int(entry["bytes"]), int(entry["errors"])
            except (ValueError, KeyError, TypeError):
                break
            if offset > size:
                break
            best = (rows, offset, errors, entry.get("stats"))
        if best[1] == 0:
            return 0, 0, 0, None
        return best

    def go(self) -> int:
        args = self.args
        resumed, offset, errors, stats_state = 0, 0, 0, None
        part: Any
        journal: Any
        if args.resume:
            resumed, offset, errors, stats_state = self._resume_point()
            if not resumed:
                print(f"kpirules: no rows of an earlier run to resume in `{self.journal_path}`; starting from "
                      "the first row", file=sys.stderr)
        try:
            if resumed:
                part = open(self.partial, "r+b")  # noqa: SIM115 - closed below
                part.truncate(offset)
                part.seek(offset)
                journal = open(self.journal_path, "ab")  # noqa: SIM115
            else:
                errors, stats_state = 0, None
                part = open(self.partial, "wb")  # noqa: SIM115
                if self.out_kind == "csv":
                    part.write(tabular.csv_line(self.layout.columns).encode("utf-8"))
                part.flush()
                journal = open(self.journal_path, "wb")  # noqa: SIM115
                journal.write(json.dumps(self.header, ensure_ascii=False).encode("utf-8") + b"\n")
                journal.write(json.dumps({"rows": 0, "bytes": part.tell(), "errors": 0}).encode() + b"\n")
                journal.flush()
        except OSError as exc:
            raise _fail_write(self.partial, exc) from None
        stats = None
        if args.stats:
            from . import population
            stats = population.Counter(self.policy._program(self.options["evaluation"], _as_of(args.as_of)))
            if stats_state:
                stats.merge(stats_state)
        try:
            done, errors = self._loop(part, journal, resumed, errors, stats)
        finally:
            part.close()
            journal.close()
        if self.signal is not None:
            code = EXIT_SIGINT if self.signal == signal.SIGINT else EXIT_SIGTERM
            name = "SIGINT" if self.signal == signal.SIGINT else "SIGTERM"
            self._progress_clear()
            print(f"kpirules: stopped by {name} after {done:,} rows ({errors:,} errors); the results so far are "
                  f"in `{self.partial}`: run the same command with --resume to continue", file=sys.stderr)
            return code
        try:
            self._finish(stats)
        except OSError as exc:
            raise _fail_write(self.out, exc) from None
        elapsed = time.monotonic() - self.started
        self._progress_clear()
        rate = (done - resumed) / elapsed if elapsed > 0 else 0.0
        print(f"{done:,} row{'s' if done != 1 else ''}: {done - errors:,} ok, "
              f"{errors:,} error{'s' if errors != 1 else ''} in {elapsed:.1f} s ({rate:,.0f} rows/s); "
              f"results in {self.out}"
              + (f" (resumed after row {resumed:,})" if resumed else ""), file=sys.stderr)
        return EXIT_ROWS if errors else EXIT_OK

    def _finish(self, stats) -> None:
        if self.out_kind in ("csv", "jsonl"):
            with open(self.partial, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(self.partial, self.out)
        else:
            tmp = f"{self.out}.{os.getpid()}.tmp"
            try:
                if self.out_kind == "xlsx":
                    tabular.write_xlsx(self.partial, tmp, self.layout.columns, self.layout.kinds)
                else:
                    tabular.write_parquet(self.partial, tmp, self.layout.columns, self.layout.kinds)
                os.replace(tmp, self.out)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            os.unlink(self.partial)
        if stats is not None:
            atomic_write(self.args.stats, (json.dumps(stats.report(), ensure_ascii=False, indent=2) + "\n")
                         .encode("utf-8"))
        os.unlink(self.journal_path)

    # -- the loop
    def _on_signal(self, signum, _frame):
        self.signal = signum

    def _loop(self, part, journal, resumed: int, errors: int, stats) -> tuple[int, int]:
        global _JOB
        rows = self.reader.rows()
        for _ in range(resumed):  # rows already in the partial file
            if next(rows, None) is None:
                break
        job = Job(self.options, self.reader.columns, self.policy)
        pool = None
        if self.jobs > 1:
            import multiprocessing
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            if "fork" in methods:
                _JOB = job  # inherited by the workers: the policy is loaded once
            pool = ctx.Pool(self.jobs, initializer=_worker_init, initargs=(self.options, self.reader.columns))
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        self.started = time.monotonic()
        self._last_draw = 0.0
        done = resumed
        pending: collections.deque = collections.deque()
        try:
            start = resumed + 1
            exhausted = False
            while True:
                while not exhausted and self.signal is None and len(pending) < 2 * self.jobs + 1:
                    raws = []
                    size = _chunk_rows()
                    try:
                        for raw in rows:
                            raws.append(raw)
                            if len(raws) == size:
                                break
                    except OSError as exc:  # reading the input failed half-way
                        raise _usage(f"cannot read INPUT `{self.args.input}`: {exc.strerror or exc}") from None
                    if not raws:
                        exhausted = True
                        break
                    if pool is None:
                        try:
                            done_chunk = job.chunk(start, raws)
                        except OSError as exc:  # a statement could not be written
                            raise _fail_write(self.args.statements or self.partial, exc) from None
                        pending.append((len(raws), _Done(done_chunk)))
                    else:
                        pending.append((len(raws), pool.apply_async(_worker_chunk, (start, raws))))
                    start += len(raws)
                    if pool is None:
                        break
                if not pending or self.signal is not None:
                    break
                count, future = pending[0]
                while not future.ready():
                    future.wait(0.2)
                    if self.signal is not None:
                        break
                if self.signal is not None:
                    break
                pending.popleft()
                try:
                    data, errs, counts = future.get()
                except OSError as exc:  # a statement could not be written
                    raise _fail_write(self.args.statements or self.partial, exc) from None
                try:
                    part.write(data)
                    part.flush()
                except OSError as exc:
                    raise _fail_write(self.partial, exc) from None
                done += count
                errors += errs
                if stats is not None and counts:
                    stats.merge(counts)
                entry: dict[str, Any] = {"rows": done, "bytes": part.tell(), "errors": errors}
                if stats is not None:
                    entry["stats"] = stats.state()
                try:
                    journal.write(json.dumps(entry).encode() + b"\n")
                    journal.flush()
                except OSError as exc:
                    raise _fail_write(self.journal_path, exc) from None
                self._progress(done, errors, resumed)
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)
            if pool is not None:
                if self.signal is not None or pending:
                    pool.terminate()
                else:
                    pool.close()
                pool.join()
            _JOB = None
        return done, errors

    # -- progress on a terminal
    def _progress(self, done: int, errors: int, resumed: int) -> None:
        if not sys.stderr.isatty():
            return
        now = time.monotonic()
        if now - self._last_draw < _PROGRESS_EVERY:
            return
        self._last_draw = now
        elapsed = now - self.started
        rate = (done - resumed) / elapsed if elapsed > 0 else 0.0
        frac = self.reader.fraction()
        left = ""
        if frac and frac > 0 and elapsed > 0.5:
            remaining = elapsed * (1 - frac) / frac
            left = f"  {int(remaining // 60)}:{int(remaining % 60):02d} left"
        width = 24
        bar = ""
        if frac is not None:
            filled = int(frac * width)
            bar = "[" + "#" * filled + "." * (width - filled) + f"] {frac * 100:3.0f}%  "
        sys.stderr.write(f"\r\033[K{bar}{done:,} rows  {rate:,.0f} rows/s  {errors:,} errors{left}")
        sys.stderr.flush()

    def _progress_clear(self) -> None:
        if sys.stderr.isatty() and getattr(self, "_last_draw", 0):
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


class _Done:
    """A finished chunk, shaped like a pool's AsyncResult (for --jobs 1)."""

    def __init__(self, value):
        self.value = value

    def ready(self) -> bool:
        return True

    def wait(self, _timeout=None) -> None:
        return None

    def get(self):
        return self.value


def build_parser() -> argparse.ArgumentParser:  # for tests and tools that want `run` alone
    p = argparse.ArgumentParser(prog="kpirules")
    add_parser(p.add_subparsers(dest="command"))
    return p
