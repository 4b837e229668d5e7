"""Population runs: `kpirules run POLICY INPUT --evaluation NAME --out RESULTS` (batch.py, tabular.py)."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpirules
from kpirules import tabular
from kpirules.cli import main
from kpirules.result import jsonable

ROOT = Path(__file__).resolve().parents[1]
U8 = str(ROOT / "policies" / "u8_presales.rules")
BASE = json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8"))
POLICY = kpirules.load_policy(U8)
OUTPUTS = POLICY._program("quarterly").evaluation

openpyxl = pytest.importorskip("openpyxl", reason="the tabular extra (openpyxl) is not installed")
pq = pytest.importorskip("pyarrow.parquet", reason="the tabular extra (pyarrow) is not installed")
pa = pytest.importorskip("pyarrow", reason="the tabular extra (pyarrow) is not installed")


def _bench():
    spec = importlib.util.spec_from_file_location("bench_u8", ROOT / "benchmarks" / "bench_u8.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def population(n: int) -> list[dict]:
    """n valid U8 quarterly fact sets (the benchmark's generator), each with an id, as JSON values."""
    return [{"id": f"E{i:05d}", **jsonable(f)} for i, f in enumerate(_bench().make_facts(n))]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for r in rows:
            fh.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
    return path


def flat(row: dict) -> dict:
    """A fact set as table cells: records by dotted columns, lists as JSON cells."""
    cells = {}
    for k, v in row.items():
        if isinstance(v, dict):
            for kk, vv in v.items():
                cells[f"{k}.{kk}"] = vv
        elif isinstance(v, list):
            cells[k] = json.dumps(v)
        else:
            cells[k] = v
    return cells


def write_csv(path: Path, rows) -> Path:
    table = [flat(r) for r in rows]
    columns = list(table[0])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in table:
            w.writerow(["true" if r.get(c) is True else "false" if r.get(c) is False else r.get(c, "")
                        for c in columns])
    return path


def write_xlsx(path: Path, rows, numbers_as_cells=True) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    table = [flat(r) for r in rows]
    columns = list(table[0])
    ws.append(columns)
    for r in table:
        cells = []
        for c in columns:
            v = r.get(c)
            if numbers_as_cells and isinstance(v, str) and c not in ("id", "role") and v[:1] != "[":
                v = int(v) if v.isdigit() else float(v)  # as Excel keeps a typed-in number
            cells.append(v)
        ws.append(cells)
    wb.save(path)
    return path


def write_parquet(path: Path, rows) -> Path:
    """Typed columns, as a data lake holds them: decimals, integers, booleans, lists, a struct."""
    def typed(k, v):
        if isinstance(v, list):
            return [Decimal(str(e)) for e in v]
        if isinstance(v, str) and k in ("base_salary", "dept_revenue", "own_revenue"):
            return Decimal(v)
        if isinstance(v, str) and k not in ("id", "role"):
            return int(v)
        return v
    table = pa.Table.from_pylist([{k: typed(k, v) for k, v in r.items()} for r in rows])
    pq.write_table(table, path)
    return path


def read_results(path: Path) -> list[dict]:
    """Results read back as {column: text or None} whatever the format."""
    suffix = path.suffix
    if suffix == ".jsonl":
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            out.append({k: (None if v is None else str(v) if not isinstance(v, bool) else str(v).lower())
                        for k, v in r.items()})
        return out
    if suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        return [{k: (v if v != "" else None) for k, v in r.items()} for r in rows]
    if suffix == ".xlsx":
        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it)
        out = []
        for row in it:
            r = {}
            for k, v in zip(header, tuple(row) + (None,) * (len(header) - len(row)), strict=True):
                if isinstance(v, float):
                    v = str(tabular.float_decimal(v))
                r[k] = None if v is None else str(v)
            out.append(r)
        return out
    rows = pq.read_table(path).to_pylist()
    return [{k: (None if v is None else str(v).lower() if isinstance(v, bool) else str(v)) for k, v in r.items()}
            for r in rows]


def expected(rows) -> list[dict]:
    """What each row's result must be: Policy.evaluate on the same facts."""
    out = []
    for i, r in enumerate(rows, 1):
        facts = kpirules.read_facts(json.dumps({k: v for k, v in r.items() if k != "id"}), is_text=True)
        res = POLICY.evaluate(facts, "quarterly")
        out.append({"row": str(i), "id": r["id"], "status": "ok",
                    **{name: jsonable(res.values[name]) for name in res.outputs}})
    return out


# ---- every format in and out -------------------------------------------------------------------

@pytest.mark.parametrize("fmt_in", ["jsonl", "csv", "xlsx", "parquet"])
def test_every_input_format_gives_the_results_of_evaluate(capsys, tmp_path, fmt_in):
    rows = population(40)
    writer = {"jsonl": write_jsonl, "csv": write_csv, "xlsx": write_xlsx, "parquet": write_parquet}[fmt_in]
    src = writer(tmp_path / f"in.{fmt_in}", rows)
    out = tmp_path / "out.jsonl"
    code, stdout, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 1)
    assert code == 0, err
    assert stdout == "" and err.startswith("40 rows: 40 ok, 0 errors in ")
    got = read_results(out)
    want = expected(rows)
    for g, w in zip(got, want, strict=True):
        assert {k: g[k] for k in w} == w
        assert g["error_code"] is None and g["error_path"] is None and g["error_message"] is None


@pytest.mark.parametrize("fmt_out", ["jsonl", "csv", "xlsx", "parquet"])
def test_every_output_format_holds_the_same_results(capsys, tmp_path, fmt_out):
    rows = population(30)
    rows[3] = {**rows[3], "quarter": 9}
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / f"out.{fmt_out}"
    code, _, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 1)
    assert code == 1, err
    got = read_results(out)
    assert len(got) == 30 and [g["row"] for g in got] == [str(i) for i in range(1, 31)]
    assert got[3]["status"] == "error" and got[3]["error_code"] == "F110" and got[3]["error_path"] == "quarter"
    assert got[3]["quarterly_bonus"] is None
    want = expected(rows[:3] + rows[4:])
    for g, w in zip(got[:3] + got[4:], want, strict=True):
        w = {**w, "row": g["row"]}
        if fmt_out == "xlsx":  # numeric cells: the same value (7488.00 kept on screen by its number format)
            assert {k: Decimal(g[k]) if k in ("quarterly_bonus", "dept_target") else g[k] for k in w} == \
                {k: Decimal(w[k]) if k in ("quarterly_bonus", "dept_target") else w[k] for k in w}
        else:
            assert {k: g[k] for k in w} == w
    assert not (tmp_path / f"out.{fmt_out}.partial").exists() and not (tmp_path / f"out.{fmt_out}.journal").exists()


def test_xlsx_numbers_are_numeric_cells_only_where_exact(capsys, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", population(5))
    out = tmp_path / "out.xlsx"
    assert run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 1)[0] == 0
    ws = openpyxl.load_workbook(out).worksheets[0]
    header = [c.value for c in ws[1]]
    bonus = ws.cell(row=2, column=header.index("quarterly_bonus") + 1)
    assert isinstance(bonus.value, (int, float)) and bonus.number_format == "0.00"
    rate = ws.cell(row=2, column=header.index("dept_completion") + 1)  # 28 digits: no float holds it
    assert isinstance(rate.value, str) and len(rate.value) > 20


def test_csv_input_reads_numbers_exactly_and_dotted_records(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,amount,flag,rec.a,rec.b,items\nA,1234.50,TRUE,true,false,\"[1, 2.50]\"\n", encoding="utf-8")
    reader = tabular.open_reader(str(path))
    from kpirules import model as m
    types = {"amount": m.Type(kind="number", money=1, display="money"), "flag": m.Type(kind="boolean"),
             "rec": m.Type(kind="record", element=m.Type(kind="boolean"), keys=("a", "b")),
             "items": m.Type(kind="list", element=m.NUMBER)}
    facts = tabular.RowDecoder(reader.columns, types).decode(next(reader.rows()))
    reader.close()
    assert facts["amount"] == "1234.50"  # the text, which the validator reads as Decimal("1234.50")
    assert facts["flag"] is True and facts["rec"] == {"a": True, "b": False}
    assert facts["items"] == [Decimal("1"), Decimal("2.50")] and str(facts["items"][1]) == "2.50"


def test_xlsx_float_cells_are_read_as_their_shortest_decimal(tmp_path):
    path = tmp_path / "in.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["id", "amount", "text_amount"])
    wb.active.append(["A", 0.1, "1234.50"])
    wb.save(path)
    reader = tabular.open_reader(str(path))
    from kpirules import model as m
    money = m.Type(kind="number", money=1, display="money")
    facts = tabular.RowDecoder(reader.columns, {"amount": money, "text_amount": money}).decode(next(reader.rows()))
    assert str(facts["amount"]) == "0.1" and facts["text_amount"] == "1234.50"


# ---- hostile rows --------------------------------------------------------------------------------

HOSTILE = [
    ("{not json", "F001"),
    ('{"id": "S", "quarter": 2, "note": "\\ud800"}', "F119"),        # a lone surrogate, in an unused field
    (None, "F002"),                                                  # bytes that are not UTF-8
    ('{"id": "D", "quarter": 2, "quarter": 3}', "F109"),             # duplicate keys
    ("[1, 2]", "F101"),                                              # not an object
    (json.dumps({**BASE, "id": "N"}).replace('"36000.00"', "NaN"), "F102"),
    ("{" * 5000 + "}" * 5000, "F001"),                               # nests too deeply
]


def test_each_hostile_row_is_one_error_row_and_the_run_goes_on(capsys, tmp_path):
    good = population(3)
    path = tmp_path / "in.jsonl"
    with open(path, "wb") as fh:
        fh.write(json.dumps(good[0]).encode() + b"\n")
        for text, _code in HOSTILE:
            fh.write((b"\xff\xfe{\"id\": 1}" if text is None else text.encode("utf-8")) + b"\n")
            fh.write(json.dumps(good[1]).encode() + b"\n")
        fh.write(b"\n\n")  # blank lines are not rows
        fh.write(json.dumps(good[2]).encode() + b"\n")
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"out.{fmt}"
        code, _, err = run(capsys, "run", U8, path, "--evaluation", "quarterly", "--out", out, "--jobs", 1)
        assert code == 1 and "Traceback" not in err
        got = read_results(out)
        assert len(got) == 2 + 2 * len(HOSTILE)
        statuses = [g["status"] for g in got]
        assert statuses == ["ok"] + ["error", "ok"] * len(HOSTILE) + ["ok"]
        assert [g["error_code"] for g in got[1::2]][:len(HOSTILE)] == [c for _t, c in HOSTILE]
    assert "lone surrogate" in got[3]["error_message"]


def test_a_bad_csv_cell_is_that_rows_error(capsys, tmp_path):
    rows = population(3)
    src = write_csv(tmp_path / "in.csv", rows)
    text = src.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace('"[""5"", 6]"', '"[1,"', 1) if '"[""5"", 6]"' in text[2] else text[2]
    lines = text[:2] + [text[2].replace(",senior,", ",boss,").replace(",assistant,", ",boss,")] + text[3:]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _, _ = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 1)
    got = read_results(out)
    assert code == 1 and [g["status"] for g in got] == ["ok", "error", "ok"]
    assert got[1]["error_code"] == "F106" and got[1]["id"] == "E00001"


def test_formula_cells_are_neutralised(capsys, tmp_path):
    policy = tmp_path / "p.rules"
    policy.write_text("policy p\nevaluation e:\n    fact name: text\n    fact x: number\n"
                      "    output who = name\n    output v = x\n", encoding="utf-8")
    evil = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "-5", "plain"]
    rows = [{"id": e, "name": e, "x": "-5"} for e in evil]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"out.{fmt}"
        assert run(capsys, "run", policy, src, "--out", out, "--jobs", 1)[0] == 0
        got = read_results(out)
        # (XML reads a bare carriage return as a line feed: in XLSX the cell comes back as "'\nx".)
        want = ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", "'\rx" if fmt == "csv" else "'\nx", "-5", "plain"]
        assert [g["who"] for g in got] == want and [g["id"] for g in got] == want
        assert {g["v"] for g in got} == {"-5"}
    raw = (tmp_path / "out.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    # JSONL and Parquet are not spreadsheets: the values stay as they are.
    out = tmp_path / "out.jsonl"
    run(capsys, "run", policy, src, "--out", out, "--jobs", 1)
    assert [g["who"] for g in read_results(out)] == evil


def test_ids_outputs_and_errors_in_csv_are_safe_even_for_error_rows(capsys, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{**BASE, "id": "=HYPERLINK(\"x\")", "quarter": 7}])
    out = tmp_path / "out.csv"
    run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 1)
    got = read_results(out)
    assert got[0]["id"].startswith("'=") and got[0]["status"] == "error"


# ---- one row per input row, in order: a property -------------------------------------------------

ROW = st.one_of(
    st.just("good"), st.just("bad-fact"), st.just("not-json"), st.just("dup"), st.just("surrogate"),
    st.just("no-id"), st.just("numeric-id"))


def _line(kind: str, i: int) -> str:
    line = {**BASE, "id": f"P{i}"}
    if kind == "bad-fact":
        line["quarter"] = 0
    if kind == "not-json":
        return '{"id": "x", '
    if kind == "dup":
        return json.dumps(line)[:-1] + ', "role": "senior"}'
    if kind == "surrogate":
        return json.dumps(line)[:-1] + ', "x": "\\udfff"}'
    if kind == "no-id":
        line.pop("id")
    if kind == "numeric-id":
        line["id"] = i
    return json.dumps(line, ensure_ascii=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(ROW, max_size=30), fmt=st.sampled_from(["jsonl", "csv"]))
def test_one_result_row_per_input_row_in_order(tmp_path_factory, kinds, fmt):
    tmp = tmp_path_factory.mktemp("prop")
    src = write_jsonl(tmp / "in.jsonl", [_line(k, i) for i, k in enumerate(kinds)])
    out = tmp / f"out.{fmt}"
    code = main(["run", U8, str(src), "--evaluation", "quarterly", "--out", str(out), "--jobs", "1"])
    got = read_results(out)
    assert len(got) == len(kinds)
    assert [g["row"] for g in got] == [str(i) for i in range(1, len(kinds) + 1)]
    ok = [k in ("good", "no-id", "numeric-id") for k in kinds]
    assert [g["status"] == "ok" for g in got] == ok
    assert code == (0 if all(ok) else 1)
    for g, k, i in zip(got, kinds, range(len(kinds)), strict=True):
        if k in ("good", "bad-fact", "dup"):
            assert g["id"] == f"P{i}"
        if k == "numeric-id":
            assert g["id"] == str(i)
        if g["status"] == "ok":
            assert g["quarterly_bonus"] == "7488.00"


# ---- nothing lost: atomic output, journal and resume ----------------------------------------------

def _cli(*argv, env=None, **kw):
    e = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "kpirules", *map(str, argv)], env=e, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def _journal_rows(path: Path) -> int:
    try:
        lines = path.read_bytes().split(b"\n")[1:-1]
    except FileNotFoundError:
        return 0
    return json.loads(lines[-1])["rows"] if lines else 0


@pytest.fixture(scope="module")
def big_input(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("big")
    rows = population(3000)
    for i in range(0, 3000, 97):
        rows[i] = {**rows[i], "quarter": 5}
    return write_jsonl(tmp / "in.jsonl", rows)


@pytest.fixture(scope="module")
def reference(big_input, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    outs = {}
    for fmt in ("csv", "jsonl", "xlsx", "parquet"):
        out = tmp / f"ref.{fmt}"
        p = _cli("run", U8, big_input, "--evaluation", "quarterly", "--out", out, "--jobs", 2)
        _, err = p.communicate(timeout=300)
        assert p.returncode == 1, err
        outs[fmt] = out.read_bytes()
    return outs


@pytest.mark.parametrize("seed,fmt,jobs", [(1, "csv", 2), (2, "jsonl", 1), (3, "csv", 1), (4, "xlsx", 2),
                                           (5, "parquet", 2)])
def test_killed_and_resumed_runs_equal_uninterrupted_ones(tmp_path, big_input, reference, seed, fmt, jobs):
    rng = random.Random(seed)
    out = tmp_path / f"out.{fmt}"
    env = {"KPIRULES_CHUNK_ROWS": "16"}
    argv = ("run", U8, big_input, "--evaluation", "quarterly", "--out", out, "--jobs", jobs)
    kills = 0
    for _attempt in range(2):  # killed twice, at random rows
        target = rng.randrange(50, 2500)
        p = _cli(*argv, *(["--resume"] if kills else []), env=env)
        deadline = time.monotonic() + 120
        while p.poll() is None and _journal_rows(Path(f"{out}.journal")) < target and time.monotonic() < deadline:
            time.sleep(0.002)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.communicate(timeout=60)
    assert kills, "the run ended before it could be killed"
    assert not out.exists() or kills == 0  # nothing half-written under the final name
    p = _cli(*argv, "--resume", env=env)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 1, err
    assert b"resumed after row" in err
    assert out.read_bytes() == reference[fmt]
    assert not Path(f"{out}.journal").exists() and not Path(f"{out}.partial").exists()


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_stop_cleanly_and_resume(tmp_path, big_input, reference, sig, code):
    out = tmp_path / "out.csv"
    argv = ("run", U8, big_input, "--evaluation", "quarterly", "--out", out, "--jobs", 2)
    p = _cli(*argv, env={"KPIRULES_CHUNK_ROWS": "16"})
    deadline = time.monotonic() + 120
    while p.poll() is None and _journal_rows(Path(f"{out}.journal")) < 200 and time.monotonic() < deadline:
        time.sleep(0.002)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == code, err
    assert b"Traceback" not in err and b"--resume" in err
    assert not out.exists()
    p = _cli(*argv, "--resume")
    _, err = p.communicate(timeout=300)
    assert p.returncode == 1 and out.read_bytes() == reference["csv"], err


def test_a_journal_of_another_run_is_refused(capsys, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", population(3))
    out = tmp_path / "out.csv"
    Path(f"{out}.journal").write_text(json.dumps({"schema": "kpirules.run-journal/1", "evaluation": "monthly"})
                                      + "\n", encoding="utf-8")
    code, _, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--resume")
    assert code == 2 and "journal of another run" in err
    code, _, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 1)
    assert code == 0 and not Path(f"{out}.journal").exists()


def test_resume_without_a_journal_starts_from_the_first_row(capsys, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", population(3))
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--resume", "--jobs", 1)
    assert code == 0 and "starting from the first row" in err and len(read_results(out)) == 3


def test_a_full_disk_is_a_clear_error(capsys, tmp_path, monkeypatch):
    import errno
    src = write_jsonl(tmp_path / "in.jsonl", population(3))
    out = tmp_path / "out.csv"
    from kpirules import batch
    real = batch.Job.chunk

    def full(self, start, raws):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(batch.Job, "chunk", full)
    code, _, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 1)
    monkeypatch.setattr(batch.Job, "chunk", real)
    assert code == 2 and "the disk is full" in err and "Traceback" not in err and "internal error" not in err
    assert not out.exists()


def test_a_read_only_folder_is_a_clear_error(capsys, tmp_path, monkeypatch):
    import builtins
    import errno
    src = write_jsonl(tmp_path / "in.jsonl", population(3))
    out = tmp_path / "ro" / "out.csv"
    out.parent.mkdir()
    real_open = builtins.open

    def ro_open(file, mode="r", *a, **kw):  # as root, chmod cannot make a folder read-only
        if str(file).startswith(str(out.parent)) and any(c in mode for c in "wax+"):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, mode, *a, **kw)
    monkeypatch.setattr(builtins, "open", ro_open)
    code, _, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 1)
    monkeypatch.setattr(builtins, "open", real_open)
    assert code == 2 and "cannot write" in err and "read-only" in err


# ---- explain, statements, usage ------------------------------------------------------------------

def test_explain_adds_the_trace_to_jsonl_only(capsys, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", population(2))
    out = tmp_path / "out.jsonl"
    assert run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--explain", "--jobs", 1)[0] == 0
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["trace"]["schema"] == "kpirules.trace/1"
    code, _, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", tmp_path / "o.csv", "--explain")
    assert code == 2 and ".jsonl" in err
    out2 = tmp_path / "plain.jsonl"
    run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out2, "--jobs", 1)
    assert "trace" not in json.loads(out2.read_text(encoding="utf-8").splitlines()[0])


@pytest.mark.parametrize("fmt,ext", [("html", ".html"), ("markdown", ".md")])
def test_statements_are_written_per_ok_row_when_asked(capsys, tmp_path, fmt, ext):
    rows = population(3)
    rows[1] = {**rows[1], "quarter": 0}
    rows[2] = {**rows[2], "id": "../evil"}
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    st_dir = tmp_path / "statements"
    code, _, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", tmp_path / "o.csv",
                       "--statements", st_dir, "--format", fmt, "--jobs", 1)
    assert code == 1, err
    assert sorted(p.name for p in st_dir.iterdir()) == [f"row-1-E00000{ext}", f"row-3{ext}"]


def test_usage_errors_exit_2(capsys, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", population(1))
    cases = [
        (("run", U8, src, "--out", tmp_path / "o.csv"), "quarterly, monthly"),
        (("run", U8, tmp_path / "in.txt", "--evaluation", "quarterly", "--out", tmp_path / "o.csv"), ".jsonl, .csv"),
        (("run", U8, src, "--evaluation", "quarterly", "--out", tmp_path / "o.txt"), "must end in"),
        (("run", U8, tmp_path / "nope.csv", "--evaluation", "quarterly", "--out", tmp_path / "o.csv"),
         "does not exist"),
        (("run", U8, src, "--evaluation", "quarterly", "--out", tmp_path), "is a folder"),
        (("run", U8, src, "--evaluation", "quarterly", "--out", tmp_path / "o.csv", "--jobs", "0"), "at least 1"),
        (("run", U8, src, "--evaluation", "nope", "--out", tmp_path / "o.csv"), "no evaluation `nope`"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, *argv)
        assert code == 2 and message in err, (argv, err)
    bad = tmp_path / "bad.rules"
    bad.write_text("policy p\nevaluation e:\n    output x = 1 +\n", encoding="utf-8")
    code, _, err = run(capsys, "run", bad, src, "--out", tmp_path / "o.csv")
    assert code == 2 and "error[E100]" in err


def test_an_evaluation_error_is_a_row_error_with_its_place(capsys, tmp_path):
    policy = tmp_path / "p.rules"
    policy.write_text("policy p\nevaluation e:\n    fact a: number\n    fact b: number\n    output q = a / b\n",
                      encoding="utf-8")
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "ok", "a": 1, "b": 2}, {"id": "zero", "a": 1, "b": 0}])
    out = tmp_path / "o.jsonl"
    assert run(capsys, "run", policy, src, "--out", out, "--jobs", 1)[0] == 1
    got = read_results(out)
    assert got[0]["q"] == "0.5"
    assert got[1]["error_code"] == "R001" and got[1]["error_path"] == "q"
    assert "division by zero" in got[1]["error_message"] and "p.rules:5:" in got[1]["error_message"]


def test_many_violations_are_counted(capsys, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "quarter": 9}])
    out = tmp_path / "o.jsonl"
    run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 1)
    message = read_results(out)[0]["error_message"]
    assert message.startswith("must be <= 4") and "more violations)" in message


def test_a_mapping_value_is_json_text_with_decimal_strings():
    from kpirules.batch import value_json
    assert value_json({"a": Decimal("1.50"), "b": True}) == {"a": "1.50", "b": True}
    cells = tabular.csv_cells({"m": {"a": "1.50"}}, ["m"], {"m": "text"})
    assert cells == ['{"a": "1.50"}']


# ---- firing statistics ---------------------------------------------------------------------------

def test_stats_count_the_rows_taking_each_branch(capsys, tmp_path):
    rows = population(200)
    rows[5] = {**rows[5], "quarter": 0}  # an error row takes no branch
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    stats = tmp_path / "stats.json"
    code, _, err = run(capsys, "run", U8, src, "--evaluation", "quarterly", "--out", tmp_path / "o.csv",
                       "--stats", stats, "--jobs", 2)
    assert code == 1, err
    report = json.loads(stats.read_text(encoding="utf-8"))
    assert report["schema"] == "kpirules.stats/1" and report["rows"] == 199
    kinds = {c["kind"] for c in report["constructs"]}
    assert {"ladder", "gate", "floor", "row"} <= kinds
    for c in report["constructs"]:
        # a row counts once per outcome; a gate met by several items may be open and closed in one row
        assert all(0 <= n <= 199 for n in c["rows"].values())
        for outcome, n in c["rows"].items():
            if n == 0:
                assert any(c["where"] in line for line in report["never_taken"]), (c, outcome)
    quarters = next(c for c in report["constructs"] if "quarter_split" in c["what"])
    assert sum(quarters["rows"].values()) == 199
    ladders = [c for c in report["constructs"] if c["kind"] == "ladder"]
    assert all(sum(c["rows"].values()) >= 199 for c in ladders)  # every row meets every ladder


def test_stats_of_a_resumed_run_equal_an_uninterrupted_runs(tmp_path, big_input):
    out = tmp_path / "o.csv"
    stats = tmp_path / "stats.json"
    argv = ("run", U8, big_input, "--evaluation", "quarterly", "--out", out, "--stats", stats, "--jobs", 2)
    p = _cli(*argv, env={"KPIRULES_CHUNK_ROWS": "16"})
    while p.poll() is None and _journal_rows(Path(f"{out}.journal")) < 300:
        time.sleep(0.002)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    p = _cli(*argv, "--resume")
    p.communicate(timeout=300)
    resumed = stats.read_bytes()
    p = _cli(*argv)
    p.communicate(timeout=300)
    assert stats.read_bytes() == resumed
    assert json.loads(resumed)["rows"] == 3000 - len(range(0, 3000, 97))


def test_a_terminal_gets_a_progress_bar(tmp_path):
    import pty
    src = write_jsonl(tmp_path / "in.jsonl", population(400))
    out = tmp_path / "out.csv"
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KPIRULES_CHUNK_ROWS": "8", "KPIRULES_PROGRESS_EVERY": "0"}
    p = subprocess.Popen([sys.executable, "-m", "kpirules", "run", U8, str(src), "--evaluation", "quarterly",
                          "--out", str(out), "--jobs", "1"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    p.wait(timeout=120)
    os.close(leader)
    text = seen.decode("utf-8", "replace")
    assert p.returncode == 0
    assert "\r" in text and "rows/s" in text and "errors" in text and "%" in text
    assert text.rstrip().endswith(f"results in {out}")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx", "parquet"])
def test_a_csv_cell_that_is_not_utf8_is_that_rows_error_in_every_format(capsys, tmp_path, fmt):
    policy = tmp_path / "p.rules"
    policy.write_text("policy p\nevaluation e:\n    fact x: number\n    output y = x * 2\n", encoding="utf-8")
    src = tmp_path / "in.csv"
    src.write_bytes(b"id,x\na\xff,1\nb,2\n")
    out = tmp_path / f"out.{fmt}"
    code, _, err = run(capsys, "run", policy, src, "--out", out, "--jobs", 1)
    assert code == 1 and "Traceback" not in err and "internal error" not in err
    got = read_results(out)
    assert [g["status"] for g in got] == ["error", "ok"]
    assert got[0]["id"] == "a\\xff" and got[0]["error_code"] == "F002" and got[1]["y"] == "4"


def test_a_killed_run_over_a_spreadsheet_resumes_byte_identical(tmp_path, big_input):
    rows = [json.loads(line) for line in big_input.read_text(encoding="utf-8").splitlines()[:1500]]
    src = write_xlsx(tmp_path / "people.xlsx", rows, numbers_as_cells=False)
    statements = tmp_path / "statements"
    ref = tmp_path / "ref.csv"
    p = _cli("run", U8, src, "--evaluation", "quarterly", "--out", ref, "--jobs", 2)
    p.communicate(timeout=300)
    out = tmp_path / "out.csv"
    argv = ("run", U8, src, "--evaluation", "quarterly", "--out", out, "--jobs", 2, "--statements", statements,
            "--format", "markdown")
    p = _cli(*argv, env={"KPIRULES_CHUNK_ROWS": "8"})
    while p.poll() is None and _journal_rows(Path(f"{out}.journal")) < 100:
        time.sleep(0.002)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    assert not out.exists()
    p = _cli(*argv, "--resume")
    _, err = p.communicate(timeout=600)
    assert p.returncode == 1, err
    assert out.read_bytes() == ref.read_bytes()
    ok = sum(1 for r in read_results(out) if r["status"] == "ok")
    assert len(list(statements.glob("*.md"))) == ok
