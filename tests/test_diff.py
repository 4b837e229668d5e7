"""`kpirules diff OLD NEW INPUT`: the impact of a policy change, person by person, and why."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
U8 = ROOT / "policies" / "u8_presales.rules"
BASE = json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8"))
CLAUSE = "ladder projects_won / projects_supported standard 85%"


@pytest.fixture
def versions(tmp_path):
    """The shipped U8 policy and a version whose project success standard is 80%, not 85%."""
    (tmp_path / "policies").mkdir()
    shutil.copytree(ROOT / "ruleset", tmp_path / "ruleset")
    old = tmp_path / "policies" / "old.rules"
    new = tmp_path / "policies" / "new.rules"
    text = U8.read_text(encoding="utf-8")
    assert CLAUSE in text
    old.write_text(text, encoding="utf-8")
    new.write_text(text.replace(CLAUSE, CLAUSE.replace("85%", "80%")), encoding="utf-8")
    return old, new


def people(tmp_path, n=60) -> Path:
    rows = []
    for i in range(n):
        supported = 10 + i % 7
        rows.append({**BASE, "id": f"P{i}", "projects_supported": supported, "projects_won": supported - i % 4,
                     "dept_revenue": str(2000000 + 25000 * i)})
    rows.append({**BASE, "id": "BAD", "quarter": 7})
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def run_diff(capsys, versions, src, out, *extra):
    code = main(["diff", str(versions[0]), str(versions[1]), str(src), "--evaluation", "quarterly",
                 "--out", str(out), *extra])
    _, err = capsys.readouterr()
    return code, err


def test_every_changed_person_names_the_changed_clause_and_totals_add_up(capsys, tmp_path, versions):
    src = people(tmp_path)
    out = tmp_path / "report.json"
    code, err = run_diff(capsys, versions, src, out)
    assert code == 0, err
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["rows"] == 61 and report["counts"]["errors"] == 1
    changed = [p for p in report["people"] if p["status"] == "ok" and p["values"]["quarterly_bonus"]["delta"] != "0"]
    assert changed, "the change moves some bonuses"
    for p in changed:
        causes = p["why"]
        assert [c["value"] for c in causes] == ["project_success"]
        c = causes[0]
        assert c["change"] == "standard 85% -> standard 80%"
        assert c["old_clause"]["where"].endswith("old.rules:73") and "standard 85%" in c["old_clause"]["text"]
        assert c["new_clause"]["where"].endswith("new.rules:73") and "standard 80%" in c["new_clause"]["text"]
        assert Decimal(c["new"]) > Decimal(c["old"])
    for name, total in report["totals"].items():
        deltas = [Decimal(p["values"][name]["delta"]) for p in report["people"] if p["status"] == "ok"]
        assert Decimal(total["delta"]) == sum(deltas, Decimal(0))
        assert Decimal(total["new"]) - Decimal(total["old"]) == Decimal(total["delta"])
    c = report["counts"]
    assert c["better"] == len(changed) and c["worse"] == 0 and c["better"] + c["unchanged"] + c["errors"] == 61
    assert report["largest"][0]["delta"] == max((p["values"]["quarterly_bonus"]["delta"] for p in changed),
                                                key=Decimal)
    assert "project_success" in err or "better off" in err


def test_the_html_report_has_totals_a_histogram_and_the_reasons(capsys, tmp_path, versions):
    out = tmp_path / "report.html"
    code, _ = run_diff(capsys, versions, people(tmp_path), out)
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and page.count("<rect") >= 1
    assert "standard 85% -&gt; standard 80%" in page and "better off" in page


def test_the_csv_report_is_one_row_per_person(capsys, tmp_path, versions):
    out = tmp_path / "report.csv"
    code, _ = run_diff(capsys, versions, people(tmp_path), out)
    assert code == 0
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 61 and rows[-1]["status"] == "error" and "F110" in rows[-1]["error"]
    moved = [r for r in rows if r["status"] == "ok" and r["quarterly_bonus.delta"] != "0"]
    assert moved and all("standard 85% -> standard 80%" in r["why"] for r in moved)
    for r in moved:
        old, new = Decimal(r["quarterly_bonus.old"]), Decimal(r["quarterly_bonus.new"])
        assert new - old == Decimal(r["quarterly_bonus.delta"])


def test_the_same_policy_changes_nothing(capsys, tmp_path, versions):
    out = tmp_path / "same.json"
    code = main(["diff", str(versions[0]), str(versions[0]), str(people(tmp_path)), "--evaluation", "quarterly",
                 "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["counts"]["better"] == report["counts"]["worse"] == 0
    assert all("why" not in p for p in report["people"])


def test_usage(capsys, tmp_path, versions):
    code, err = run_diff(capsys, versions, people(tmp_path), tmp_path / "r.txt")
    assert code == 2 and ".html, .json or .csv" in err
    code, err = run_diff(capsys, versions, people(tmp_path), tmp_path / "r.json", "--measure", "nope")
    assert code == 2 and "no output `nope`" in err


def test_stats_of_both_versions_are_a_section_of_the_report(capsys, tmp_path, versions):
    out = tmp_path / "report.json"
    code, _ = run_diff(capsys, versions, people(tmp_path), out, "--stats")
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    old, new = report["stats"]["old"], report["stats"]["new"]
    assert old["rows"] == new["rows"] == 60
    ladder_old = next(c for c in old["constructs"] if c["kind"] == "ladder" and "projects_won" in c["what"])
    ladder_new = next(c for c in new["constructs"] if c["kind"] == "ladder" and "projects_won" in c["what"])
    assert ladder_new["rows"]["above"] > ladder_old["rows"]["above"]  # a lower standard: more above it
    html_out = tmp_path / "report.html"
    run_diff(capsys, versions, people(tmp_path), html_out, "--stats")
    assert "Firing statistics" in html_out.read_text(encoding="utf-8")


def test_a_changed_table_is_named_for_values_whose_own_definition_is_the_same(capsys, tmp_path, versions):
    old, new = versions
    text = old.read_text(encoding="utf-8")
    assert "    senior -> 200万 " in text
    new.write_text(text.replace("    senior -> 200万 ", "    senior -> 210万 "), encoding="utf-8")
    out = tmp_path / "report.json"
    code, _ = run_diff(capsys, versions, people(tmp_path), out)
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    changed = [p for p in report["people"] if p.get("why")]
    assert changed and all(p["why"][0]["value"] == "own_target" for p in changed)
    cause = changed[0]["why"][0]
    assert cause["change"] == "table annual_target: `senior -> 200万` -> `senior -> 210万`"
    assert cause["new_clause"]["where"].endswith("new.rules:16")
