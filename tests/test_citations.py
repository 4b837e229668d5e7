"""`kpirules check --source FILE`: every `cite` appears in the source document (whitespace aside),
each one that does not is E501 with the closest passage of the source as help, and the cost
stays bounded for a large source and many cites."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from kpirules import citations
from kpirules.cli import main
from kpirules.loader import merged_tree
from kpirules.parser import parse_text
from kpirules.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "docs" / "source" / "000_826da148f5f82449.txt"
SHIPPED = sorted([*ROOT.glob("policies/*.rules"), *ROOT.glob("ruleset/*.rules")])

DOC = """三、KPI指标及评分标准
市场活动的组织和支持
10
每少组织一次活动扣2分
项目支持成功率=成功项目个数/应支持项目个数,标准为85%,每少5%,扣2分,达到标准,
每超1%,加0.5分
说明\u3000文字
"""

POLICY = '''policy demo version "1"

evaluation quarterly:
    fact planned: count
    fact held: count
    scorecard kpi total 10:
        item market_activity "市场活动的组织和支持" weight 10:
            minus 2 per max(planned - held, 0)
            floor 0
            cite "{cite}"
            note "company-set: a note is the author's own words and is never looked up"
    output score = kpi
'''


def _doc(text=DOC):
    return citations.SourceDocument("source.txt", text)


def _write(tmp_path, cite, doc=DOC):
    (tmp_path / "source.txt").write_text(doc, encoding="utf-8")
    (tmp_path / "p.rules").write_text(POLICY.format(cite=cite), encoding="utf-8")


def _run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# ---- what counts as appearing ------------------------------------------------------------------

def test_a_cite_may_span_a_line_break_and_ignore_any_whitespace():
    doc = _doc()
    assert doc.contains("每少组织一次活动扣2分")
    assert doc.contains("达到标准,每超1%,加0.5分")        # across the line break
    assert doc.contains("达到标准, 每超1%, 加0.5分")      # spaces in the cite
    assert doc.contains("说明文字") and doc.contains("说明 文字")  # the full-width space U+3000
    assert doc.contains("10 每少组织")                      # a table cell and the next


def test_punctuation_and_wording_are_not_ignored():
    doc = _doc()
    assert not doc.contains("每少组织一次市场活动扣2分")
    assert doc.contains("标准为85%,每少5%")
    assert not doc.contains("标准为85%\uff0c每少5%")  # a full-width comma where the source has `,`
    assert not doc.contains("每少组织一次活动扣2分。")


# ---- the closest passage -----------------------------------------------------------------------

def test_the_closest_passage_is_the_line_the_cite_paraphrases():
    passage, line, ratio = _doc().closest("每少组织一次市场活动扣2分")
    assert (passage, line) == ("每少组织一次活动扣2分", 4)
    assert 0.9 < ratio < 1


def test_the_closest_passage_may_span_lines_and_shows_a_line_break_as_a_space():
    passage, line, _ = _doc().closest("标准为85%,项目支持成功率每少5%,扣2分,达到标准,每超1%,加0.5分")
    assert (passage, line) == ("标准为85%,每少5%,扣2分,达到标准, 每超1%,加0.5分", 5)


def test_the_closest_passage_widens_to_its_source_line_when_near():
    doc = _doc("考核\n未按计划完成产品销售人员培训扣5分\n下一行\n")
    passage, line, _ = doc.closest("计划完成培训扣5分")
    assert (passage, line) == ("未按计划完成产品销售人员培训扣5分", 2)


def test_nothing_alike_gives_no_passage():
    assert _doc().closest("company-set value; the source leaves it open") is None
    assert _doc().closest("x") is None
    assert _doc("").closest("每少组织") is None


def test_the_search_is_bounded_for_a_large_source_and_many_cites():
    rng = random.Random(9)
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    big, size = [], 0
    while size < 1_000_000:  # 1 MB of the source's lines and random CJK noise
        line = rng.choice(lines) if rng.random() < 0.7 else "".join(
            chr(rng.randint(0x4E00, 0x4FFF)) for _ in range(rng.randint(5, 60)))
        big.append(line)
        size += len(line) + 1
    doc = citations.SourceDocument("big.txt", "\n".join(big))
    quotable = [x for x in lines if len(x) > 10]
    cites = []
    for _ in range(200):
        line = rng.choice(quotable)
        cites.append(line[:len(line) // 2] + "市场" + line[len(line) // 2:])  # a paraphrase
    cites.append("的" * 30)                   # only a very common pair
    cites.append("".join(quotable)[:3000])    # a long cite
    began = time.process_time()
    found = [doc.closest(c) for c in cites if not doc.contains(c)]
    spent = time.process_time() - began
    assert len(found) >= 200
    assert sum(f is not None for f in found) >= 190
    assert spent < 15, f"{spent:.1f} s of CPU for {len(cites)} cites against 1 MB"


# ---- the check over a policy -------------------------------------------------------------------

def _tree(cite):
    return parse_text(POLICY.format(cite=cite), "p.rules")


def test_check_counts_the_cites_and_reports_each_missing_one():
    checked, missing = citations.check(_tree("每少组织一次活动扣2分"), _doc())
    assert (checked, missing) == (1, [])
    checked, missing = citations.check(_tree("每少组织一次市场活动扣2分"), _doc())
    assert checked == 1 and [d.code for d in missing] == ["E501"]
    assert missing[0].span.text == 'cite "每少组织一次市场活动扣2分"'
    assert '"每少组织一次活动扣2分"' in missing[0].help


def test_a_cite_of_an_imported_module_is_checked_once_per_run(tmp_path):
    (tmp_path / "ruleset").mkdir()
    (tmp_path / "ruleset" / "steps.rules").write_text(
        'module steps\n\nladder s:\n    minus 2 per full 5% below\n    cite "每少5%,扣3分"\n', encoding="utf-8")
    policy = 'policy {0}\nimport steps\n\nevaluation e:\n    fact r: number\n    scorecard k total 10:\n' \
             '        item a weight 10:\n            ladder r standard 85% using s\n    output o = k\n'
    seen: dict = {}
    reported = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.rules"
        path.write_text(policy.format(name), encoding="utf-8")
        source = SourceFile(path=str(path), text=path.read_text(encoding="utf-8"))
        checked, missing = citations.check(merged_tree(source), _doc(), seen)
        assert checked == 1
        reported += missing
    assert [d.code for d in reported] == ["E501"]
    assert reported[0].span.path.endswith("steps.rules")


# ---- the command -------------------------------------------------------------------------------

def test_check_source_passes_when_every_cite_is_found(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "达到标准, 每超1%,加0.5分")
    code, out, err = _run(["check", "--source", "source.txt", "p.rules"], capsys)
    assert (code, err) == (0, "")
    assert out == "p.rules: ok (1 evaluation, 1 cite found in the source)\n1 checked, 0 with errors, 0 warnings\n"


def test_check_source_fails_with_the_closest_passage(tmp_path, monkeypatch, capsys, golden):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "每少组织一次市场活动扣2分")
    code, out, err = _run(["check", "--source", "source.txt", "p.rules"], capsys)
    assert code == 2
    assert out == "1 checked, 1 with errors, 0 warnings\n"
    golden("citations/check_source_failure.txt", err)


def test_check_source_nothing_alike(tmp_path, monkeypatch, capsys, golden):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "company-set value; the source leaves it open")
    code, _, err = _run(["check", "--source", "source.txt", "p.rules"], capsys)
    assert code == 2
    golden("citations/check_source_nothing_alike.txt", err)


def test_check_without_source_does_not_look_at_cites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "每少组织一次市场活动扣2分")
    code, out, _ = _run(["check", "p.rules"], capsys)
    assert code == 0 and out.startswith("p.rules: ok (1 evaluation)\n")


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "kpirules: error: --source: cannot read `source.txt`: No such file or directory\n"),
    (lambda p: (p / "source.txt").write_bytes("每少".encode("gbk")),
     "kpirules: error: --source: `source.txt` is not UTF-8 text\n"),
])
def test_an_unreadable_source_is_a_usage_error(tmp_path, monkeypatch, capsys, setup, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.rules").write_text(POLICY.format(cite="x"), encoding="utf-8")
    setup(tmp_path)
    code, out, err = _run(["check", "--source", "source.txt", "p.rules"], capsys)
    assert (code, out, err) == (2, "", message)


# ---- the shipped policies quote their source exactly ----------------------------------------------

def test_the_copy_of_the_source_is_the_shared_seed_when_there_is_one():
    seed = ROOT.parent / "shared" / "seeds" / SOURCE.name
    if not seed.exists():
        pytest.skip("../shared is not checked out here")
    assert SOURCE.read_bytes() == seed.read_bytes()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_cite_of_a_shipped_policy_or_module_is_in_the_source(path):
    document = citations.SourceDocument.read(str(SOURCE))
    source = SourceFile(path=str(path), text=path.read_text(encoding="utf-8"))
    checked, missing = citations.check(merged_tree(source), document)
    assert [d.render() for d in missing] == []
    # The plans of policies-2.md (P9 onwards) have no source document to quote.
    if path.parent.name == "policies" and path.stem not in _PLANS_WITHOUT_SOURCE:
        assert checked > 0


_PLANS_WITHOUT_SOURCE = {"year_end_bonus", "commission_dated", "team_pool", "forced_distribution",
                         "tiered_commission"}


def test_check_source_passes_for_every_shipped_policy(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code, out, err = _run(["check", "--source", "docs/source/000_826da148f5f82449.txt", "policies", "ruleset"],
                          capsys)
    assert (code, err) == (0, "")
    assert out.endswith(f"{len(SHIPPED)} checked, 0 with errors, 0 warnings\n")
