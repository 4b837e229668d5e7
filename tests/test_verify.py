"""The reproducibility stamp of every JSON result, byte-identical reruns, and `kpirules verify`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import kpirules
from kpirules import stamp
from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
U8 = "policies/u8_presales.rules"
QUARTERLY = "examples/u8_quarterly.json"
MONTHLY = "examples/u8_monthly.json"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    # Paths are given relative to the repository, as a user in a checkout would.
    monkeypatch.chdir(ROOT)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def result_file(capsys, tmp_path, facts=QUARTERLY, evaluation="quarterly", explain=False, name="r.json"):
    argv = ["eval", U8, facts, "--evaluation", evaluation, "--format", "json"] + (["--explain"] if explain else [])
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    path = tmp_path / name
    path.write_text(out, encoding="utf-8")
    return path, json.loads(out)


def rewrite(path: Path, change) -> Path:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


# ---- the stamp -------------------------------------------------------------------------------

@pytest.mark.parametrize("explain", [False, True])
def test_every_json_result_has_a_stamp(capsys, tmp_path, explain):
    _, data = result_file(capsys, tmp_path, explain=explain)
    st = data["stamp"]
    assert list(st) == ["schema", "trace_schema", "engine", "policy_sha256", "facts_sha256", "explained"]
    assert st["explained"] is explain
    assert st["schema"] == "kpirules.result/1"
    assert st["trace_schema"] == "kpirules.trace/1"
    assert st["engine"] == kpirules.__version__
    assert st["policy_sha256"] == data["policy"]["sha256"] == kpirules.load_policy(U8).sha256
    facts = kpirules.read_facts(QUARTERLY)
    assert st["facts_sha256"] == hashlib.sha256(stamp.canonical_facts(facts)).hexdigest()
    # The stamp comes before the (long) trace, so a reader finds it.
    assert list(data)[:4] == ["policy", "evaluation", "values", "stamp"]
    assert ("trace" in data) == explain


def test_the_canonical_form_of_facts():
    facts = kpirules.read_facts('{"b": [1, 2.50, "3.0"], "a": "季度", "c": {"z": true, "y": null}, "d": 1e3, '
                                '"e": -0.0}', is_text=True)
    assert stamp.canonical_facts(facts) == (
        '{"a":"季度","b":["1","2.50","3.0"],"c":{"y":null,"z":true},"d":"1000","e":"0.0"}'.encode("utf-8"))


def test_the_facts_hash_ignores_layout_and_key_order_but_not_digits():
    a = kpirules.read_facts('{"x": 1.50, "y": [1, 2]}', is_text=True)
    b = kpirules.read_facts('{\n  "y": [1,2],\n  "x": 1.50\n}\n', is_text=True)
    c = kpirules.read_facts('{"x": "1.50", "y": ["1", "2"]}', is_text=True)  # the same numbers, as text
    d = kpirules.read_facts('{"x": 1.5, "y": [1, 2]}', is_text=True)          # fewer digits: another file
    assert stamp.facts_sha256(a) == stamp.facts_sha256(b) == stamp.facts_sha256(c)
    assert stamp.facts_sha256(a) != stamp.facts_sha256(d)


def test_a_number_no_fact_can_hold_is_hashed_without_spelling_it_out():
    facts = kpirules.read_facts('{"x": 1e400000}', is_text=True)
    assert stamp.canonical_facts(facts) == b'{"x":"1E+400000"}'
    assert stamp.canonical_facts({"x": Decimal("NaN")}) == b'{"x":"NaN"}'


def test_the_api_adds_the_stamp_when_asked():
    policy = kpirules.load_policy(U8)
    facts = kpirules.read_facts(QUARTERLY)
    result = policy.evaluate(facts, "quarterly")
    assert "stamp" not in result.to_json()
    assert result.to_json(stamp=stamp.make(result.policy, facts))["stamp"]["facts_sha256"] == stamp.facts_sha256(facts)


# ---- byte-identical reruns -------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["--format", "text"],
    ["--format", "text", "--explain"],
    ["--format", "text", "--explain", "--lang", "zh"],
    ["--format", "json"],
    ["--format", "json", "--explain"],
], ids=lambda a: "-".join(x.strip("-") for x in a))
def test_two_runs_give_byte_identical_output(args):
    outputs = []
    for seed in ("1", "2"):  # different hash seeds: no set or dict order may leak into the output
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-m", "kpirules", "eval", U8, QUARTERLY, "--evaluation", "quarterly",
                               *args], capture_output=True, cwd=ROOT, env=env)
        assert proc.returncode == 0, proc.stderr.decode()
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0]


# ---- kpirules verify -------------------------------------------------------------------------

@pytest.mark.parametrize("facts, evaluation", [(QUARTERLY, "quarterly"), (MONTHLY, "monthly")])
def test_a_result_verifies(capsys, tmp_path, facts, evaluation):
    path, data = result_file(capsys, tmp_path, facts=facts, evaluation=evaluation)
    count = len(data["values"])
    assert count >= 2
    code, out, err = run(capsys, "verify", str(path), facts, U8)
    assert code == 0, out + err
    assert out == f"verified: {count} values match\n"


def test_a_result_with_a_trace_verifies_with_its_trace(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path, explain=True)
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, U8)
    assert code == 0
    assert out.startswith("verified: 16 values match, and its trace of ")


def test_the_policy_may_be_named_another_way(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path, explain=True)
    code, out, _ = run(capsys, "verify", str(path), str(ROOT / QUARTERLY), str(ROOT / U8))
    assert code == 0, out


def test_a_tampered_value_fails(capsys, tmp_path):
    path, data = result_file(capsys, tmp_path)
    assert data["values"]["quarterly_bonus"] == "7488.00"
    rewrite(path, lambda d: d["values"].update(quarterly_bonus="9488.00", kpi_score="88"))
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, U8)
    assert code == 1
    assert out.splitlines() == [
        "kpi_score: result says 88, re-evaluation gives 78",
        "quarterly_bonus: result says 9488.00, re-evaluation gives 7488.00",
        "not verified: 2 differences",
    ]


def test_a_removed_or_added_value_fails(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path)
    rewrite(path, lambda d: (d["values"].pop("kpi_score"), d["values"].update(bonus2="1")))
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, U8)
    assert code == 1
    assert "kpi_score: result says nothing, re-evaluation gives 78" in out
    assert "bonus2: result says 1, re-evaluation gives nothing" in out


def test_a_tampered_trace_fails(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path, explain=True)

    def change(d):
        node = next(n for n in d["trace"]["nodes"] if n["name"] == "kpi_score")
        node["result"] = "88"
        node["cites"].append("an added citation")
    rewrite(path, change)
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, U8)
    assert code == 1
    assert "trace quarterly/kpi_score result: result says 88, re-evaluation gives 78" in out
    assert 'trace quarterly/kpi_score cites: result says ["an added citation"], re-evaluation gives []' in out
    assert out.splitlines()[-1] == "not verified: 2 differences"


def test_tampered_facts_fail(capsys, tmp_path):
    path, data = result_file(capsys, tmp_path)
    facts = json.loads((ROOT / QUARTERLY).read_text(encoding="utf-8"))
    facts["projects_won"] = 8
    changed = tmp_path / "facts.json"
    changed.write_text(json.dumps(facts), encoding="utf-8")
    code, out, _ = run(capsys, "verify", str(path), str(changed), U8)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (f"stamp facts sha256: result says {data['stamp']['facts_sha256']}, re-evaluation gives "
                        f"{stamp.facts_sha256(kpirules.read_facts(changed))}")
    assert any(line.startswith("project_success: result says 18, re-evaluation gives ") for line in lines)


def test_a_fact_file_laid_out_differently_still_verifies(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path)
    facts = json.loads((ROOT / QUARTERLY).read_text(encoding="utf-8"))
    relaid = tmp_path / "facts.json"
    relaid.write_text(json.dumps(dict(reversed(list(facts.items()))), ensure_ascii=False, indent=4), encoding="utf-8")
    code, out, _ = run(capsys, "verify", str(path), str(relaid), U8)
    assert code == 0, out


def test_facts_that_differ_only_in_the_hash_fail(capsys, tmp_path):
    """An unknown fact changes nothing computed, but the result is not of these facts."""
    path, _ = result_file(capsys, tmp_path)
    facts = json.loads((ROOT / QUARTERLY).read_text(encoding="utf-8"))
    facts["note"] = "added"
    changed = tmp_path / "facts.json"
    changed.write_text(json.dumps(facts), encoding="utf-8")
    code, out, _ = run(capsys, "verify", str(path), str(changed), U8)
    assert code == 1
    assert out.startswith("stamp facts sha256: result says ")
    assert out.splitlines()[-1] == "not verified: 1 difference"


def _copy_policy(tmp_path, change=None) -> Path:
    shutil.copytree(ROOT / "ruleset", tmp_path / "ruleset")
    text = (ROOT / U8).read_text(encoding="utf-8")
    target = tmp_path / "u8_presales.rules"
    target.write_text(change(text) if change else text, encoding="utf-8")
    return target


def test_a_different_policy_fails(capsys, tmp_path):
    path, data = result_file(capsys, tmp_path)
    text = (ROOT / U8).read_text(encoding="utf-8")
    assert "2 -> 25%" in text
    other = _copy_policy(tmp_path, lambda t: t.replace("2 -> 25%", "2 -> 26%"))
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, str(other))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"stamp policy sha256: result says {data['policy']['sha256']}, re-evaluation gives ")
    assert "dept_target: result says 2900000, re-evaluation gives 3016000" in lines
    assert lines[-1].startswith("not verified: ")


def test_a_policy_without_the_evaluation_fails(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path)
    other = tmp_path / "other.rules"
    other.write_text("policy other\nevaluation annual:\n    fact x: number\n    output y = x\n", encoding="utf-8")
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, str(other))
    assert code == 1
    assert out.splitlines() == [
        f"evaluation: result says quarterly, and {other} has no such evaluation (it has: annual)",
        "not verified: the result is not of this policy",
    ]


def test_another_engine_version_is_reported_and_the_values_compared(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path)
    rewrite(path, lambda d: d["stamp"].update(engine="0.0.1"))
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, U8)
    assert code == 0
    assert out.splitlines() == [
        f"note: stamp engine: result says kpirules 0.0.1, re-evaluation uses kpirules {kpirules.__version__}; "
        "the values are compared all the same",
        "verified: 16 values match",
    ]
    rewrite(path, lambda d: d["values"].update(kpi_score="79"))
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, U8)
    assert code == 1 and "kpi_score: result says 79, re-evaluation gives 78" in out


def test_a_result_without_a_stamp_does_not_verify(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path)
    rewrite(path, lambda d: d.pop("stamp"))
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, U8)
    assert code == 1
    assert out.startswith("stamp: the result has no stamp")


def test_a_changed_stamp_schema_fails(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path)
    rewrite(path, lambda d: d["stamp"].update(schema="kpirules.result/0"))
    code, out, _ = run(capsys, "verify", str(path), QUARTERLY, U8)
    assert code == 1
    assert "stamp result schema: result says kpirules.result/0, re-evaluation gives kpirules.result/1" in out


# ---- verify: bad inputs exit as the rest of the command line ---------------------------------

@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("{not json", "is not JSON"),
    ('{"values": {}}', "is not a kpirules result"),
    ("[1, 2]", "is not a kpirules result"),
])
def test_a_result_file_that_is_not_a_result_exits_2(capsys, tmp_path, content, message):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "verify", str(path), QUARTERLY, U8)
    assert code == 2
    assert out == ""
    assert f"kpirules: error: result file `{path}` {message}" in err
    assert "Traceback" not in err


def test_a_bad_policy_exits_2(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path)
    code, _, err = run(capsys, "verify", str(path), QUARTERLY, "nope.rules")
    assert code == 2 and "does not exist" in err


def test_missing_or_bad_facts_exit_1(capsys, tmp_path):
    path, _ = result_file(capsys, tmp_path)
    code, _, err = run(capsys, "verify", str(path), "nope.json", U8)
    assert code == 1 and "does not exist" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"quarter": 9}', encoding="utf-8")
    code, out, err = run(capsys, "verify", str(path), str(bad), U8)
    assert code == 1
    assert "`quarter`" in err and "not verified: the facts cannot be evaluated" in err
    assert out == ""


def test_verify_usage_error_exits_2():
    with pytest.raises(SystemExit) as exc:
        main(["verify", "r.json"])
    assert exc.value.code == 2


def test_verify_runs_as_a_command(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kpirules", "eval", U8, MONTHLY, "--evaluation", "monthly",
                          "--format", "json", "--explain"], capture_output=True, cwd=ROOT, check=True).stdout
    path = tmp_path / "r.json"
    path.write_bytes(out)
    proc = subprocess.run([sys.executable, "-m", "kpirules", "verify", str(path), MONTHLY, U8],
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    count = len(json.loads(out)["values"])
    assert proc.stdout.startswith(f"verified: {count} values match, and its trace of ")
