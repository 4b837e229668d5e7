"""Batch statements: `kpirules eval POLICY facts.jsonl --out DIR` (one fact set per line)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
U8 = "policies/u8_presales.rules"
QUARTERLY = "examples/u8_quarterly.json"
BASE = json.loads((ROOT / QUARTERLY).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(tmp_path, *lines, name="facts.jsonl") -> str:
    path = tmp_path / name
    text = "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return str(path)


def summary(out: Path) -> list:
    with open(out / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def batch(capsys, tmp_path, facts, *extra):
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "eval", U8, facts, "--evaluation", "quarterly", "--out", str(out), *extra)
    return code, out, stdout, err


def test_every_line_gets_a_result_and_a_statement(capsys, tmp_path):
    facts = jsonl(tmp_path, {**BASE, "id": "E001"}, {**BASE, "id": "张三", "base_salary": "40000.00"},
                  {**BASE, "id": 17, "quarter": 3})
    code, out, stdout, err = batch(capsys, tmp_path, facts)
    assert code == 0, err
    assert stdout == f"3 fact sets: 3 ok, 0 failed; summary in {out / 'summary.csv'}\n"
    assert err == ""  # the id field is not a fact of the policy: it is not passed on, so no warning
    for ident in ("E001", "张三", "17"):
        assert (out / f"{ident}.json").is_file() and (out / f"{ident}.txt").is_file()
    rows = summary(out)
    outputs = [n for n in json.loads((out / "E001.json").read_text(encoding="utf-8"))["values"]
               if n in rows[0]]  # the evaluation's outputs, in written order
    assert "quarterly_bonus" in outputs
    assert rows[0] == ["id", "line", "status", *outputs, "error"]
    bonus = rows[0].index("quarterly_bonus")
    assert [(r[0], r[1], r[2], r[bonus], r[-1]) for r in rows[1:]] == [
        ("E001", "1", "ok", "7488.00", ""),
        ("张三", "2", "ok", "8320.00", ""),
        ("17", "3", "ok", json.loads((out / "17.json").read_text(encoding="utf-8"))["values"]["quarterly_bonus"], ""),
    ]
    for row in rows[1:]:
        written = json.loads((out / f"{row[0]}.json").read_text(encoding="utf-8"))["values"]
        assert row[3:-1] == [written[name] for name in outputs]
    assert (out / "summary.csv").read_bytes().startswith(b"id,line,status,")  # no BOM
    assert not (out / "E001.html").exists()  # no statement beyond the text one unless asked


def test_each_result_is_what_eval_writes_for_the_same_facts(capsys, tmp_path):
    facts = jsonl(tmp_path, {**BASE, "id": "E001"})
    code, out, _, _ = batch(capsys, tmp_path, facts)
    assert code == 0
    code, text, _ = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly")
    assert (out / "E001.txt").read_text(encoding="utf-8") == text
    code, single, _ = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly", "--format", "json")
    written = json.loads((out / "E001.json").read_text(encoding="utf-8"))
    single = json.loads(single)
    # The same result; only the facts hash differs, as the line also holds its id.
    assert written["stamp"]["facts_sha256"] != single["stamp"]["facts_sha256"]
    written["stamp"].pop("facts_sha256"), single["stamp"].pop("facts_sha256")
    assert written == single


def test_a_batch_result_verifies_against_its_line(capsys, tmp_path):
    line = {**BASE, "id": "E001"}
    facts = jsonl(tmp_path, line)
    code, out, _, _ = batch(capsys, tmp_path, facts, "--explain")
    assert code == 0
    saved = tmp_path / "E001.facts.json"
    saved.write_text(json.dumps(line, ensure_ascii=False), encoding="utf-8")
    code, stdout, _ = run(capsys, "verify", str(out / "E001.json"), str(saved), U8)
    assert code == 0, stdout
    assert stdout.startswith("verified: 16 values match, and its trace of ")


def test_a_bad_line_gets_an_error_entry_and_never_stops_the_others(capsys, tmp_path):
    facts = jsonl(
        tmp_path,
        {**BASE, "id": "E001"},
        {**BASE, "id": "E002", "quarter": 5},        # bad facts
        "{not json",                                  # not JSON
        {k: v for k, v in BASE.items()},              # no id
        {**BASE, "id": "../escape"},                  # not a safe file name
        {**BASE, "id": "e001"},                       # the same file as E001 on Windows and macOS
        "",                                           # blank lines are skipped
        {**BASE, "id": "E003"},
        "[1, 2]",                                     # JSON, but not an object
    )
    code, out, stdout, err = batch(capsys, tmp_path, facts)
    assert code == 1
    assert stdout == f"8 fact sets: 2 ok, 6 failed; summary in {out / 'summary.csv'}\n"
    rows = summary(out)
    assert [r[:3] for r in rows[1:]] == [
        ["E001", "1", "ok"], ["E002", "2", "error"], ["", "3", "error"], ["", "4", "error"],
        ["../escape", "5", "error"], ["e001", "6", "error"], ["E003", "8", "ok"], ["", "9", "error"],
    ]
    errors = {r[1]: r[-1] for r in rows[1:]}
    assert errors["2"] == "`quarter`: must be <= 4, got `5` (rule: `integer in 1..4`)"
    assert errors["3"].startswith("not valid JSON at line 1 column 2")
    assert errors["4"] == "no `id` field to name its files (choose the field with --id-field)"
    assert errors["5"].startswith('`id` "../escape" is not a safe file name')
    assert errors["6"] == "duplicate id `e001` (first on line 1); this line is not written"
    assert errors["9"] != ""
    assert set(rows[2][3:-1]) == {""}  # no value for a failed line
    names = sorted(p.name for p in out.iterdir())
    assert [n for n in names if n.endswith(".error.txt")] == [
        "@line-3.error.txt", "@line-4.error.txt", "@line-5.error.txt", "@line-6.error.txt", "@line-9.error.txt",
        "E002.error.txt"]
    assert not (tmp_path / "escape.json").exists() and not (out.parent / "escape.json").exists()
    assert (out / "E002.error.txt").read_text(encoding="utf-8") == (
        f"{facts}:2: error[F110]: `quarter`: must be <= 4, got `5` (rule: `integer in 1..4`)\n")
    assert f"{facts}:2: error: `quarter`" in err and f"{facts}:9: error: " in err
    assert "Traceback" not in err


@pytest.mark.parametrize("ident", [".hidden", "-rf", "a/b", "a\\b", "con", "NUL.txt", "x.error", "", "a b",
                                   "x" * 65, True, 1.5, -3, None, ["a"], {"a": 1}, "1e400000"])
def test_unsafe_ids_are_refused(capsys, tmp_path, ident):
    line = {**BASE, "id": ident}
    facts = jsonl(tmp_path, json.dumps(line).replace('"1e400000"', "1e400000"))  # a number too large to name
    code, out, _, _ = batch(capsys, tmp_path, facts)
    assert code == 1
    assert summary(out)[1][2] == "error"
    assert sorted(p.name for p in out.iterdir()) == ["@line-1.error.txt", "summary.csv"]


@pytest.mark.parametrize("ident", ["E-001", "张三", "a.b_c", "_x", "0042", 42, "名" * 64])
def test_safe_ids_name_the_files(capsys, tmp_path, ident):
    facts = jsonl(tmp_path, {**BASE, "id": ident})
    code, out, _, _ = batch(capsys, tmp_path, facts)
    assert code == 0
    assert (out / f"{ident}.json").is_file()


def test_the_id_field_is_chosen_and_kept_when_the_policy_declares_it(capsys, tmp_path):
    policy = tmp_path / "p.rules"
    policy.write_text('policy p\nevaluation e:\n    fact employee: text\n    fact x: number\n'
                      '    output doubled = x * 2\n    output who = employee\n', encoding="utf-8")
    facts = jsonl(tmp_path, {"employee": "A1", "x": 2}, {"employee": "B2", "x": "2.5"})
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "eval", str(policy), facts, "--out", str(out), "--id-field", "employee")
    assert code == 0, err
    assert summary(out) == [["id", "line", "status", "doubled", "who", "error"],
                            ["A1", "1", "ok", "4", "A1", ""], ["B2", "2", "ok", "5", "B2", ""]]


def test_explain_and_language(capsys, tmp_path):
    facts = jsonl(tmp_path, {**BASE, "id": "E001"})
    code, out, _, _ = batch(capsys, tmp_path, facts, "--explain", "--lang", "zh")
    assert code == 0
    assert "trace" in json.loads((out / "E001.json").read_text(encoding="utf-8"))
    statement = (out / "E001.txt").read_text(encoding="utf-8")
    assert "输入事实" in statement and "季度奖金 (quarterly_bonus) = ¥7,488.00" in statement


def test_an_html_statement_is_written_when_asked(capsys, tmp_path):
    facts = jsonl(tmp_path, {**BASE, "id": "E001"})
    code, out, _, _ = batch(capsys, tmp_path, facts, "--format", "html")
    assert code == 0
    html = (out / "E001.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>") and "7,488.00" in html


def test_a_rerun_replaces_the_files_of_each_line(capsys, tmp_path):
    facts = jsonl(tmp_path, {**BASE, "id": "E001", "quarter": 9})
    code, out, _, _ = batch(capsys, tmp_path, facts)
    assert code == 1 and (out / "E001.error.txt").exists()
    facts = jsonl(tmp_path, {**BASE, "id": "E001"})
    code, out, _, _ = batch(capsys, tmp_path, facts)
    assert code == 0
    assert (out / "E001.json").exists() and not (out / "E001.error.txt").exists()
    facts = jsonl(tmp_path, {**BASE, "id": "E001", "quarter": 9})
    code, out, _, _ = batch(capsys, tmp_path, facts)
    assert code == 1
    assert not (out / "E001.json").exists() and not (out / "E001.txt").exists()


def test_an_evaluation_error_is_an_error_entry(capsys, tmp_path):
    policy = tmp_path / "p.rules"
    policy.write_text("policy p\nevaluation e:\n    fact a: number\n    fact b: number\n    output q = a / b\n",
                      encoding="utf-8")
    facts = jsonl(tmp_path, {"id": "ok", "a": 1, "b": 2}, {"id": "zero", "a": 1, "b": 0})
    out = tmp_path / "out"
    code, _, err = run(capsys, "eval", str(policy), facts, "--out", str(out))
    assert code == 1
    rows = summary(out)
    assert rows[1] == ["ok", "1", "ok", "0.5", ""]
    assert rows[2][:3] == ["zero", "2", "error"] and "division by zero" in rows[2][-1]
    assert "division by zero" in (out / "zero.error.txt").read_text(encoding="utf-8")


def test_an_empty_file_writes_an_empty_summary(capsys, tmp_path):
    facts = jsonl(tmp_path, "")
    code, out, stdout, _ = batch(capsys, tmp_path, facts)
    assert code == 0
    assert summary(out) == [["id", "line", "status", "error"]]
    assert stdout.startswith("0 fact sets: 0 ok, 0 failed")


# ---- usage -----------------------------------------------------------------------------------

def test_a_jsonl_file_needs_out(capsys, tmp_path):
    facts = jsonl(tmp_path, {**BASE, "id": "E001"})
    code, out, err = run(capsys, "eval", U8, facts, "--evaluation", "quarterly")
    assert code == 2 and out == ""
    assert "--out DIR" in err


def test_out_needs_a_jsonl_file(capsys, tmp_path):
    code, out, err = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly", "--out", str(tmp_path / "o"))
    assert code == 2 and "--out is for a .jsonl fact file" in err
    assert not (tmp_path / "o").exists()


def test_several_evaluations_need_a_name(capsys, tmp_path):
    facts = jsonl(tmp_path, {**BASE, "id": "E001"})
    code, _, err = run(capsys, "eval", U8, facts, "--out", str(tmp_path / "o"))
    assert code == 2 and "quarterly, monthly" in err
    assert not (tmp_path / "o").exists()


def test_a_missing_jsonl_file_exits_1_and_a_bad_policy_2(capsys, tmp_path):
    code, _, err = run(capsys, "eval", U8, str(tmp_path / "nope.jsonl"), "--evaluation", "quarterly",
                       "--out", str(tmp_path / "o"))
    assert code == 1 and "does not exist" in err
    bad = tmp_path / "bad.rules"
    bad.write_text("policy p\nevaluation e:\n    output x = 1 +\n", encoding="utf-8")
    code, _, err = run(capsys, "eval", str(bad), jsonl(tmp_path, {"id": "a"}), "--out", str(tmp_path / "o"))
    assert code == 2 and "error[E100]" in err


# ---- the fixes of issue 11 -------------------------------------------------------------------

def test_an_id_named_like_an_error_file_never_touches_another_lines_files(capsys, tmp_path):
    facts = jsonl(tmp_path, {**BASE, "id": "E001"}, {**BASE, "id": "E002"}, "{broken", {**BASE, "id": "line-3"})
    code, out, _, _ = batch(capsys, tmp_path, facts)
    assert code == 1
    assert (out / "line-3.json").is_file() and (out / "@line-3.error.txt").is_file()


def test_a_lone_surrogate_or_duplicate_keys_are_that_lines_error(capsys, tmp_path):
    dup = json.dumps({**BASE, "id": "D"})[:-1] + ', "quarter": 3}'
    facts = jsonl(tmp_path, {**BASE, "id": "E001"}, json.dumps({**BASE, "id": "S", "unused": "\ud800"}), dup,
                  b"\xff\xfe not utf-8".decode("latin-1"), {**BASE, "id": "E002"})
    code, out, stdout, err = batch(capsys, tmp_path, facts)
    assert code == 1 and "Traceback" not in err
    rows = summary(out)
    assert [r[2] for r in rows[1:]] == ["ok", "error", "error", "error", "ok"]
    assert "lone surrogate" in rows[2][-1] and "appears twice" in rows[3][-1]
    assert (out / "E002.json").is_file()


def test_the_summary_is_spreadsheet_safe(capsys, tmp_path):
    policy = tmp_path / "p.rules"
    policy.write_text("policy p\nevaluation e:\n    fact name: text\n    output who = name\n", encoding="utf-8")
    facts = jsonl(tmp_path, {"id": "a", "name": "=1+1"}, {"id": "b", "name": "@SUM(A1)"}, {"id": "c", "name": "-5"})
    out = tmp_path / "out"
    code, _, _ = run(capsys, "eval", str(policy), facts, "--out", str(out))
    assert code == 0
    assert [r[3] for r in summary(out)[1:]] == ["'=1+1", "'@SUM(A1)", "-5"]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_no_trace_is_built_unless_asked(capsys, tmp_path, monkeypatch):
    import kpirules
    calls = []
    real = kpirules.Policy.evaluate

    def spy(self, facts, evaluation=None, explain=False, as_of=None):
        calls.append(explain)
        return real(self, facts, evaluation=evaluation, explain=explain, as_of=as_of)
    monkeypatch.setattr(kpirules.Policy, "evaluate", spy)
    facts = jsonl(tmp_path, {**BASE, "id": "E001"}, {**BASE, "id": "E002"})
    batch(capsys, tmp_path, facts)
    assert calls == [False, False]
    assert "trace" not in json.loads((tmp_path / "out" / "E001.json").read_text(encoding="utf-8"))
