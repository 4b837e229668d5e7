"""Every example written in a shipped policy passes (the same run as `kpirules test`)."""

from pathlib import Path

import pytest

import kpirules
from kpirules import examples
from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
POLICIES = sorted((ROOT / "policies").glob("*.rules"))


def _cases():
    for path in POLICIES:
        policy = kpirules.load_policy(path)
        for case in examples.run(policy):
            yield pytest.param(case, id=f"{path.stem}:{case.line}")


@pytest.mark.parametrize("case", list(_cases()))
def test_policy_example(case):
    assert case.passed, case.render()


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_every_policy_has_at_least_three_examples(path):
    assert len(kpirules.load_policy(path)._model.examples) >= 3


def test_kpirules_test_prints_a_final_count(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(["test"])
    out = capsys.readouterr().out
    assert code == 0
    last = out.strip().splitlines()[-1]
    assert last.endswith(" passed, 0 failed")
    assert int(last.split()[0]) == sum(len(kpirules.load_policy(p)._model.examples) for p in POLICIES)


def test_a_failing_example_shows_expected_actual_and_the_explanation(tmp_path, capsys):
    (tmp_path / "p.rules").write_text(
        'policy p\nevaluation e:\n    fact r: number\n    output v "值" = r * 2\n'
        'example "doubles" for e:\n    given r = 2\n    expect v = 5\n', encoding="utf-8")
    code = main(["test", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL" in out and "`v`: expected 5, got 4" in out
    assert "formula:  r * 2" in out and "working:  2 × 2" in out
    assert out.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_an_example_naming_an_unknown_output_is_a_policy_error():
    with pytest.raises(kpirules.PolicyError) as exc:
        kpirules.load_policy_text('policy p\nevaluation e:\n    fact r: number\n    output bonus = r\n'
                                  'example "x":\n    given r = 1\n    expect bonuss = 1\n')
    assert exc.value.diagnostics[0].code == "E214"
    assert "did you mean `bonus`?" in exc.value.render()
