"""The command line: output shapes, exit codes (0 ok, 1 facts, 2 policy/usage), no tracebacks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
U8 = str(ROOT / "policies" / "u8_presales.rules")
QUARTERLY = str(ROOT / "examples" / "u8_quarterly.json")
MONTHLY = str(ROOT / "examples" / "u8_monthly.json")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_json_output_contract(capsys):
    code, out, err = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"policy", "evaluation", "values", "stamp"}
    assert set(data["policy"]) == {"name", "version", "sha256"}
    assert data["policy"]["name"] == "u8_presales"
    assert len(data["policy"]["sha256"]) == 64
    assert data["evaluation"] == "quarterly"
    # numbers are decimal strings, never JSON floats
    assert data["values"]["quarterly_bonus"] == "7488.00"
    assert all(isinstance(v, str) for v in data["values"].values())


def test_eval_json_with_explain_has_a_trace(capsys):
    code, out, _ = run(capsys, "eval", U8, MONTHLY, "--evaluation", "monthly", "--format", "json", "--explain")
    assert code == 0
    data = json.loads(out)
    assert data["trace"]["schema"] == "kpirules.trace/1"
    nodes = {n["name"]: n for n in data["trace"]["nodes"]}
    assert nodes["big_project_bonus"]["result"] == data["values"]["big_project_bonus"]
    excluded = [ln for ln in nodes["big_project_bonus"]["children"] if ln["kind"] == "filter_excluded"]
    assert excluded and excluded[0]["reason"]["params"]["reason"] == "成交金额不足10万元"


def test_eval_text_explain_quotes_the_policy(capsys):
    code, out, _ = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly", "--explain")
    assert code == 0
    assert "季度奖金 (quarterly_bonus) = ¥7,488.00" in out
    assert "EXCLUDED: 该项工作未经过培训推广环节" in out
    assert "注:知识供献奖的所有指标完成项" in out


def test_several_evaluations_without_a_name_is_a_usage_error(capsys):
    code, out, err = run(capsys, "eval", U8, QUARTERLY)
    assert code == 2
    assert "quarterly, monthly" in err
    assert out == ""


def test_bad_facts_exit_1_with_every_path(tmp_path, capsys):
    facts = json.loads(Path(QUARTERLY).read_text(encoding="utf-8"))
    facts["quarter"] = 5
    facts["rollout"]["sales_tools"] = "yes"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(facts), encoding="utf-8")
    code, out, err = run(capsys, "eval", U8, str(bad), "--evaluation", "quarterly")
    assert code == 1
    assert "`quarter`" in err and "`rollout.sales_tools`" in err
    assert "Traceback" not in err


def test_bad_policy_exit_2_with_a_caret(tmp_path, capsys):
    bad = tmp_path / "bad.rules"
    bad.write_text("policy p\nevaluation e:\n    output x = projets_won\n", encoding="utf-8")
    code, out, err = run(capsys, "eval", str(bad), QUARTERLY)
    assert code == 2
    assert f"{bad}:3:16: error[E201]: unknown name `projets_won`" in err
    assert "^^^^^^^^^^^" in err


def test_check_reports_ok_and_errors(tmp_path, capsys):
    code, out, _ = run(capsys, "check", U8)
    assert code == 0 and "ok (2 evaluations)" in out
    bad = tmp_path / "bad.rules"
    bad.write_text("policy p\nevaluation e:\n    output x = 1 +\n", encoding="utf-8")
    code, out, err = run(capsys, "check", str(bad), U8)
    assert code == 2
    assert "error[E100]" in err
    assert "2 checked, 1 with errors" in out


def test_missing_files_are_errors_not_tracebacks(capsys):
    code, _, err = run(capsys, "eval", "nope.rules", QUARTERLY)
    assert code == 2 and "does not exist" in err
    code, _, err = run(capsys, "eval", U8, "nope.json", "--evaluation", "quarterly")
    assert code == 1 and "does not exist" in err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["eval", U8])
    assert exc.value.code == 2


def test_console_entry_point_runs_in_a_subprocess():
    proc = subprocess.run([sys.executable, "-m", "kpirules", "eval", U8, MONTHLY, "--evaluation", "monthly",
                           "--format", "json"], capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["values"]["big_project_bonus"] == "7037.03"
