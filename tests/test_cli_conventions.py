"""Command-line conventions: `-` reads standard input wherever a file is read; `check` and `test`
speak JSON with `--format json`; `fmt --diff` and `fmt -`; `--quiet`; help for every argument with
exit statuses and an example; shell completion generated from the parser."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kpirules.cli import EPILOGS, _parser, main
from kpirules.completion import script
from kpirules.fmt import format_text

ROOT = Path(__file__).resolve().parents[1]
U8 = ROOT / "policies" / "u8_presales.rules"
QUARTERLY = ROOT / "examples" / "u8_quarterly.json"
MONTHLY = ROOT / "examples" / "u8_monthly.json"


@pytest.fixture
def run(capsys, monkeypatch):
    """`run(*argv, stdin=bytes)`: (exit status, stdout, stderr) of `kpirules ARGV`, in process."""
    def call(*argv, stdin: bytes | str = b""):
        data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err
    return call


def subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# ---- `-` is standard input ---------------------------------------------------------------------

def test_eval_reads_facts_from_standard_input(run):
    by_file = run("eval", U8, QUARTERLY, "--evaluation", "quarterly", "--format", "json")
    piped = run("eval", U8, "-", "--evaluation", "quarterly", "--format", "json",
                stdin=QUARTERLY.read_bytes())
    assert piped[0] == 0, piped[2]
    assert piped[1] == by_file[1]
    assert json.loads(piped[1])["values"]["quarterly_bonus"] == "7488.00"


def test_facts_from_standard_input_are_named_stdin_in_errors(run):
    facts = json.loads(QUARTERLY.read_text(encoding="utf-8"))
    facts["quarter"] = 5
    code, _out, err = run("eval", U8, "-", "--evaluation", "quarterly", stdin=json.dumps(facts))
    assert code == 1
    assert err.startswith("<stdin>: error[F110]: `quarter`: must be <= 4")
    code, _out, err = run("eval", U8, "-", "--evaluation", "quarterly", stdin=b"\xff\xfe{}")
    assert code == 1 and "F002" in err and "standard input" in err and "Traceback" not in err


def test_eval_reads_the_policy_from_standard_input(run, monkeypatch):
    monkeypatch.chdir(ROOT)  # `import presales` is looked up from the working folder
    code, out, err = run("eval", "-", MONTHLY, "--evaluation", "monthly", stdin=U8.read_bytes())
    assert code == 0, err
    assert "big_project_bonus  7037.03" in out
    broken = U8.read_text(encoding="utf-8").replace("projects_won / projects_supported",
                                                      "projets_won / projects_supported")
    code, _out, err = run("eval", "-", QUARTERLY, "--evaluation", "quarterly", stdin=broken)
    assert code == 2
    assert "<stdin>:" in err and "error[E201]: unknown name `projets_won`" in err


def test_only_one_argument_can_read_standard_input(run):
    code, _out, err = run("eval", "-", "-", stdin="{}")
    assert code == 2
    assert "only one argument can be `-`" in err


def test_check_test_verify_and_batch_read_standard_input(run, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    code, out, _err = run("check", "-", stdin=U8.read_bytes())
    assert (code, out) == (0, "<stdin>: ok (2 evaluations)\n1 checked, 0 with errors, 0 warnings\n")

    monkeypatch.chdir(ROOT / "policies")  # the examples' `from "../examples/..."` is relative to it
    code, out, _err = run("test", "-", stdin=U8.read_bytes())
    assert code == 0 and out.startswith("PASS <stdin>:") and out.endswith(" passed, 0 failed\n")
    monkeypatch.chdir(ROOT)

    code, result, _err = run("eval", U8, QUARTERLY, "--evaluation", "quarterly", "--format", "json")
    code, out, err = run("verify", "-", QUARTERLY, U8, stdin=result)
    assert code == 0, err
    assert out.startswith("verified: ")

    lines = "\n".join(json.dumps({"id": f"p{i}", **json.loads(MONTHLY.read_text(encoding="utf-8"))})
                      for i in range(2))
    code, out, err = run("eval", U8, "-", "--evaluation", "monthly", "--out", tmp_path / "out", stdin=lines)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.json")) == ["p0.json", "p1.json"]


# ---- --format json -------------------------------------------------------------------------------

def test_check_json_holds_every_diagnostic_with_its_span(run, tmp_path):
    shutil.copytree(ROOT / "ruleset", tmp_path / "ruleset")  # what the policy imports
    broken = tmp_path / "broken.rules"
    broken.write_text(U8.read_text(encoding="utf-8").replace("projects_won / projects_supported",
                                                              "projets_won / projects_supported"), encoding="utf-8")
    code, out, err = run("check", "--format", "json", U8, broken)
    assert code == 2 and err == ""
    doc = json.loads(out)
    assert (doc["checked"], doc["with_errors"], doc["warnings"], doc["ok"], doc["strict"]) == (2, 1, 0, False, False)
    ok, bad = doc["files"]
    assert ok == {"path": str(U8), "status": "ok", "evaluations": ["quarterly", "monthly"], "diagnostics": []}
    assert bad["status"] == "error" and bad["evaluations"] == []
    (diag,) = bad["diagnostics"]
    assert diag["code"] == "E201" and diag["severity"] == "error"
    assert diag["message"] == "unknown name `projets_won`" and diag["help"] == "did you mean `projects_won`?"
    line = broken.read_text(encoding="utf-8").splitlines().index(
        next(x for x in broken.read_text(encoding="utf-8").splitlines() if "projets_won" in x)) + 1
    assert diag["span"]["file"] == str(broken) and diag["span"]["line"] == line
    assert diag["span"]["end_column"] - diag["span"]["column"] == len("projets_won")


def test_check_json_counts_warnings_and_strict(run, tmp_path):
    policy = tmp_path / "lint.rules"
    policy.write_text("policy p\n\nevaluation e:\n    fact a: number\n    fact b: number\n"
                      "    output r = a / b\n", encoding="utf-8")
    code, out, _err = run("check", "--format", "json", "--strict", policy)
    doc = json.loads(out)
    assert doc["warnings"] >= 1 and doc["strict"] is True and doc["ok"] is False and code == 2
    assert all(d["severity"] == "warning" for d in doc["files"][0]["diagnostics"])
    code, out, _err = run("check", "--format", "json", policy)
    assert code == 0 and json.loads(out)["ok"] is True


def test_test_json_reports_each_example_and_coverage(run, tmp_path):
    policy = tmp_path / "p.rules"
    policy.write_text(
        "policy p\n\nevaluation e:\n    fact a: number\n    output twice = a * 2\n        cap 10\n\n"
        'example "right" for e:\n    given a = 2\n    expect twice = 4\n\n'
        'example "wrong" for e:\n    given a = 3\n    expect twice = 7\n', encoding="utf-8")
    code, out, err = run("test", "--format", "json", "--coverage", policy)
    assert code == 1 and err == ""
    doc = json.loads(out)
    assert (doc["passed"], doc["failed"], doc["ok"]) == (1, 1, False)
    (entry,) = doc["policies"]
    assert entry["loaded"] is True and entry["path"] == str(policy)
    right, wrong = entry["examples"]
    assert right == {"name": "right", "evaluation": "e", "line": 8, "passed": True}
    assert wrong["passed"] is False
    (mismatch,) = wrong["mismatches"]
    assert (mismatch["name"], mismatch["expected"], mismatch["actual"]) == ("twice", "7", "6")
    assert "twice" in mismatch["explanation"]
    (cover,) = doc["coverage"]
    assert cover["total"] == 2 and cover["covered"] == 1 and cover["percent"] == "50%"
    assert cover["missed"][0]["message"].startswith("cap")


def test_test_json_of_a_policy_that_does_not_load(run, tmp_path):
    policy = tmp_path / "bad.rules"
    policy.write_text("policy p\n\nevaluation e:\n    output x = nothing_here\n", encoding="utf-8")
    code, out, err = run("test", "--format", "json", policy)
    assert code == 2 and err == ""
    (entry,) = json.loads(out)["policies"]
    assert entry["loaded"] is False and entry["diagnostics"][0]["code"] == "E201"


# ---- fmt --diff and fmt - ------------------------------------------------------------------------

MESSY = "policy p\n\nevaluation e:\n    fact a:number\n    output r = a*2\n"


def test_fmt_diff_shows_the_change_and_changes_nothing(run, tmp_path, golden):
    policy = tmp_path / "p.rules"
    policy.write_text(MESSY, encoding="utf-8")
    code, out, err = run("fmt", "--diff", policy)
    assert code == 1 and err == ""
    assert policy.read_text(encoding="utf-8") == MESSY
    golden("cli/fmt_diff.txt", out.replace(str(policy), "p.rules"))
    # The diff applies with patch and gives the formatted text.
    if shutil.which("patch"):
        subprocess.run(["patch", "-s", str(policy)], input=out, text=True, check=True)
        assert policy.read_text(encoding="utf-8") == format_text(MESSY)
        assert run("fmt", "--diff", policy) == (0, "", "")


def test_fmt_of_standard_input_writes_standard_output(run):
    code, out, err = run("fmt", "-", stdin=MESSY)
    assert (code, err) == (0, "")
    assert out == format_text(MESSY)
    assert run("fmt", "-", stdin=format_text(MESSY))[1] == format_text(MESSY)  # unchanged: still printed
    assert run("fmt", "--check", "-", stdin=MESSY) == (1, "<stdin>\n", "")
    code, out, _err = run("fmt", "--diff", "-", stdin=MESSY)
    assert code == 1 and out.startswith("--- <stdin>\n+++ <stdin>\n")
    code, out, err = run("fmt", "-", stdin="policy p\nevaluation e:\n  ?\n")
    assert code == 2 and out == "" and err.startswith("<stdin>:")


# ---- --quiet -------------------------------------------------------------------------------------

def test_quiet_prints_only_problems(run, tmp_path):
    assert run("check", "-q", U8) == (0, "", "")
    assert run("test", "--quiet", U8) == (0, "", "")
    policy = tmp_path / "p.rules"
    policy.write_text(MESSY + '\nexample "wrong" for e:\n    given a = 1\n    expect r = 3\n', encoding="utf-8")
    code, out, _err = run("test", "-q", policy)
    assert code == 1 and out.startswith("FAIL ") and "passed" not in out
    assert run("fmt", "-q", policy)[:2] == (0, "")
    assert policy.read_text(encoding="utf-8").startswith(format_text(MESSY))
    code, result, _err = run("eval", U8, QUARTERLY, "--evaluation", "quarterly", "--format", "json")
    (tmp_path / "r.json").write_text(result, encoding="utf-8")
    assert run("verify", "-q", tmp_path / "r.json", QUARTERLY, U8) == (0, "", "")


# ---- help ----------------------------------------------------------------------------------------

def test_every_subcommand_has_help_for_every_argument_exit_statuses_and_an_example():
    for name, parser in subcommands().items():
        assert parser.epilog, f"`kpirules {name}` has no epilog"
        assert "exit status:" in parser.epilog, name
        assert "example" in parser.epilog and "  kpirules " in parser.epilog, name
        for action in parser._actions:
            assert action.help, f"`kpirules {name}`: `{action.dest}` has no help text"
    assert set(EPILOGS) == set(subcommands())


def test_help_texts(capsys, monkeypatch, golden):
    if sys.version_info >= (3, 13):
        pytest.skip("argparse lays help out differently from Python 3.13; the goldens are of 3.11-3.12")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in [None, *subcommands()]:
        with pytest.raises(SystemExit) as exit:
            main(["--help"] if name is None else [name, "--help"])
        assert exit.value.code == 0
        out, err = capsys.readouterr()
        assert err == ""
        golden(f"cli/help/{name or 'kpirules'}.txt", out)


# ---- completion ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(run, shell, golden, tmp_path):
    code, out, err = run("completion", shell)
    assert (code, err) == (0, "")
    golden(f"cli/completion.{shell}", out)
    for name in subcommands():
        assert name in out
    binary = shutil.which(shell)
    if binary is not None:  # the script at least parses in its shell
        path = tmp_path / f"kpirules.{shell}"
        path.write_text(out, encoding="utf-8")
        done = subprocess.run([binary, "-n", str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr


def test_completion_follows_the_parser():
    """A subcommand added to the parser is completed with no other change."""
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    extra = action.add_parser("frobnicate", help="a new subcommand")
    extra.add_argument("--style", choices=("plain", "fancy"), help="how")
    extra.add_argument("policy", metavar="POLICY", help="a policy")
    for shell in ("bash", "zsh", "fish"):
        text = script(parser, shell)
        assert "frobnicate" in text and "style" in text and "fancy" in text, shell


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_completes_subcommands_options_choices_and_files(run, tmp_path):
    _code, text, _err = run("completion", "bash")
    (tmp_path / "k.bash").write_text(text, encoding="utf-8")
    probe = tmp_path / "probe.sh"
    probe.write_text(
        f'source "{tmp_path / "k.bash"}"\n'
        't() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _kpirules;'
        ' echo "${COMPREPLY[*]}"; }\n'
        "t kpirules ch\n"
        "t kpirules eval --for\n"
        't kpirules eval --format ""\n'
        "t kpirules eval policies/u8_pre\n"
        "t kpirules eval --evaluation quarterly policies/u8_presales.rules examples/u8_q\n"
        't kpirules completion ""\n', encoding="utf-8")
    done = subprocess.run(["bash", str(probe)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["check", "--format", "text markdown html json",
                                        "policies/u8_presales.rules", "examples/u8_quarterly.json",
                                        "bash zsh fish"]


def test_lsp_without_pygls_says_how_to_install_it(run, monkeypatch):
    monkeypatch.setitem(sys.modules, "kpirules.lsp", None)  # as if pygls could not be imported
    code, out, err = run("lsp")
    assert (code, out) == (2, "")
    assert "pip install 'kpirules[lsp]'" in err and "Traceback" not in err
