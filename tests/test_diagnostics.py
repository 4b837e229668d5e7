"""Diagnostics: one golden file per code, the renderer's contract, the code list in the docs, the CLI.

Every code the parser and the checker can report has a small bad policy here (`EXAMPLES`), its
rendered output pinned in tests/golden/diagnostics/<CODE>.txt, and the same example and output
in docs/diagnostics.md. A new code needs all three; the tests below say which one is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import kpirules
from kpirules import PolicyError, load_policy, load_policy_text
from kpirules.cli import main
from kpirules.diagnostics import MAX_DIAGNOSTICS, Diagnostic, error, prepare, render, warning
from kpirules.parser import MAX_LITERAL_DIGITS, MAX_SOURCE_CHARS
from kpirules.source import SourceFile, Span

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "kpirules"
DOCS = ROOT / "docs" / "diagnostics.md"
U8 = ROOT / "policies" / "u8_presales.rules"

# The contract: `path:line:col: severity[CODE]: message`, then the source line, the caret, help.
HEAD = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning)"
                  r"\[(?P<code>[EW]\d{3})\]: (?P<message>.+)$")
SOURCE_LINE = re.compile(r"^   (?P<line>\d+) \| ")
CARET_LINE = re.compile(r"^   (?P<gutter> +) \| *\^+$")
HELP_LINE = re.compile(r"^   help: \S")

# A small bad policy for every code: `path` is the name used in the rendered output.
EXAMPLES = {
    # ---- syntax (parser.py)
    "E100": '''\
policy demo version "1"

evaluation quarterly:
    fact errors: count
    scorecard score total 10:
        item accuracy 10:
            minus 1 per errors
    output result = score
''',
    "E101": '''\
policy demo version “2026.1”
''',
    "E102": '''\
policy demo version "1"

evaluation quarterly:
''',
    "E103": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    let base = sales * 40%
  output bonus = base
''',
    "E104": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    output bonus = ''' + "(" * 65 + "sales" + ")" * 65 + "\n",
    "E105": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    output bonus = sales * 0.''' + "1" * (MAX_LITERAL_DIGITS + 1) + "\n",
    "E107": '''\
policy demo version "1"

evaluation quarterly:
    fact sales "销售收入: money
    output bonus = sales * 1%
''',
    "E108": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    fact cost: money
    output margin = (sales - cost / sales
    output bonus = margin * 1元
''',
    # ---- names (checker.py)
    "E201": '''\
policy demo version "1"

evaluation quarterly:
    fact projects_won: count
    fact projects_supported: count
    output success = projets_won / projects_supported
''',
    "E202": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    let bonus = sales * 1%
    output bonus = sales * 2%
''',
    "E203": '''\
policy demo version "1"

evaluation quarterly:
    fact role: one of senior, assistant
    fact sales: money
    output bonus = if role == "senoir" then sales * 2% else sales * 1%
''',
    "E204": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    output bonus = maxx(sales * 1%, 100元)
''',
    "E205": '''\
policy demo version "1"

evaluation quarterly:
    fact rollout: record of boolean (sales_tools, sales_training)
    fact sales: money
    output bonus = if rollout.sales_tool then sales * 1% else 0元
''',
    "E206": '''\
policy demo version "1"

evaluation quarterly:
    fact rollout: record of boolean (training)
    fact missed: count
    scorecard score total 10:
        item training weight 10, knowlege:
            minus 2 per missed
        gate knowledge items: count only if rollout[item]
    output result = score
''',
    "E207": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    output bonus = if item then sales else 0元
''',
    "E208": '''\
policy demo version "1"
import common.rates

evaluation quarterly:
    fact sales: money
    output bonus = sales * 1%
''',
    "E209": '''\
policy demo version "1"

output rate = 1%

evaluation quarterly:
    fact sales: money
    output bonus = sales * rate
''',
    "E210": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    let target = bonus * 10
    let bonus = sales - target
    output result = bonus
''',
    "E211": '''\
policy demo version "1"

let rate = 1%
''',
    "E212": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    let target = sales * 2
    fact refunds: money <= target
    output bonus = (sales - refunds) * 1%
''',
    "E214": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    output bonus = sales * 1%

example "one percent of sales":
    given sales = 10万
    expect bonnus = 1000
''',
    "E215": '''\
policy demo version "1"

evaluation quarterly:
    fact won: count
    fact lost: count
    output count = won + lost
''',
    "E216": '''\
policy demo version "1"

ladder rate_steps:
    minus 2 per full 5% below
    plus 0.5 per full 1% above

evaluation quarterly:
    fact won: count
    fact supported: count
    scorecard score total 20:
        item success weight 20:
            ladder won / supported standard 85% using rate_step, if none: standard
    output result = score
''',
    # ---- types and units (checker.py)
    "E301": '''\
policy demo version "1"

evaluation quarterly:
    fact base_salary: money
    fact on_plan: boolean
    output bonus = base_salary + on_plan
''',
    "E302": '''\
policy demo version "1"

evaluation quarterly:
    fact completion: percent
    fact sales: money
    output bonus = if completion > sales then 100元 else 0元
''',
    "E303": '''\
policy demo version "1"

evaluation quarterly:
    fact late_days: count
    scorecard score total 10:
        item attendance weight 10:
            minus 5 if late_days
    output result = score
''',
    "E304": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    fact cost: money
    output gap = abs(sales, cost)
''',
    "E305": '''\
policy demo version "1"

table quarter_split (quarter) -> percent:
    1 -> 20%; 2 -> 30%; 3 -> 30%; 4 -> 20%

evaluation quarterly:
    fact role: one of senior, assistant
    fact target: money
    output quarter_target = target * quarter_split[role]
''',
    "E306": '''\
policy demo version "1"

table quarter_split (quarter) -> percent:
    1 -> 20%; 2 -> 30%; 3 -> 30%; 4 -> 20万

evaluation quarterly:
    fact quarter: integer in 1..4
    fact target: money
    output quarter_target = target * quarter_split[quarter]
''',
    "E307": '''\
policy demo version "1"

table annual_target (role) -> money:
    senior -> 200万

evaluation quarterly:
    fact role: one of senior, assistant
    output target = annual_target[role]
''',
    "E308": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    output bonus = sales * 1.5%
        round half up to 0
''',
    "E309": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    output bonus = sales * 1.5%
        only if sales >= 10万
''',
    "E310": '''\
policy demo version "1"

evaluation quarterly:
    fact errors: count
    fact complaints: count
    scorecard score total 100:
        item accuracy weight 60:
            minus 2 per errors
        item service weight 30:
            minus 5 per complaints
    output result = score
''',
    "E311": '''\
policy demo version "1"

table quarter_split (quarter) -> percent:
    1 -> 20%; 2 -> 30%; 2 -> 40%; 3 -> 50%

evaluation quarterly:
    fact quarter: integer in 1..3
    fact target: money
    output quarter_target = target * quarter_split[quarter]
''',
    "E312": '''\
policy demo version "1"

evaluation monthly:
    fact month: text matching "[0-9]{4}-(0[1-9]|1[0-2]"
    output period = month
''',
    "E313": '''\
policy demo version "1"

evaluation quarterly:
    fact won: count
    fact supported: count
    scorecard score total 20:
        item success weight 20:
            ladder won / supported standard 85%
                minus 2 per full 5% below
                minus 1 per full 1% below
    output result = score
''',
    "E314": '''\
policy demo version "1"

evaluation quarterly:
    fact won: count
    fact supported: count
    scorecard score total 20:
        item success weight 20:
            ladder won / supported standard 85%
                minus 2 per full 0% below
    output result = score
''',
    "E315": '''\
policy demo version "1"

bands grades "五级评定" in 0..100:
    "优秀" from 91
    "良好" from 81 to 90
    "称职" from 71 below 81
    "基本称职" from 60 below 71
    "不称职" below 60

evaluation annual:
    fact total_score: number in 0..100
    output grade = grades[total_score]
''',
    "E316": '''\
policy demo version "1"

evaluation annual:
    fact q1: number
    fact q2: number
    fact q3: number
    output total = blend(q1 20%, q2 30%, q3 40%)
''',
    "E317": '''\
policy demo version "1"

evaluation annual:
    fact goals: list of (name: text, weight: percent) at most 5 with weights adding up to 100%
    output goal_count = count(goals)
''',
    "E318": '''\
policy demo version "1"

evaluation annual:
    fact close_date: date in 2026-01-01..2026-02-30
    output late = close_date > 2026-06-30
''',
    "E319": '''\
policy demo version "1"

table rate (close_date) -> percent:
    from 2026-01-01 until 2026-05-31 -> 1.5%
    from 2026-07-01 -> 2%

evaluation annual:
    fact close_date: date
    output r = rate[close_date]
''',
    "E330": '''\
policy demo version "1"

evaluation team:
    fact members: list of (id: text, score: number) keyed by name
    output total = sum over members of score
''',
    "E331": '''\
policy demo version "1"

evaluation team:
    fact members: list of (id: text, score: number)
    for each member in members:
        output doubled = member.score * 2
''',
    "E332": '''\
policy demo version "1"

evaluation team:
    fact pool: money >= 0
    fact members: list of (id: text, score: number) keyed by id
    for each member in members:
        output share = allocate pool by member.score to 0.01
    output first = share * 2
''',
    "E333": '''\
policy demo version "1"

evaluation team:
    fact pool: money >= 0
    fact members: list of (id: text, score: number) keyed by id
    output place = rank of pool highest first
    output half = pool / 2
    output size = count over members
''',
    # ---- issue 10: tiers, chained comparisons, natural attempts
    "E120": '''\
policy demo version "1"

table commission_rate "提成比例" (attainment) -> percent:
    0%..100% -> 3%

evaluation quarterly:
    fact attainment: percent in 0%..100%
    output rate = commission_rate[attainment]
''',
    "E121": '''\
policy demo version "1"

evaluation team:
    fact members: list of (id: text, score: number in 0..100)
    output headcount = 1 + count over members
''',
    "E340": '''\
policy demo version "1"

tiers commission_rates "提成阶梯" in 0%..200%:
    tier_1 from 0% below 100% -> 3%
    tier_2 above 100% to 150% -> 5%
    tier_3 above 150% to 200% -> 8%

evaluation quarterly:
    fact quota: money > 0
    fact sales: money in 0..quota * 2
    output commission = marginal commission_rates on sales of quota
''',
    "E341": '''\
policy demo version "1"

tiers commission_rates "提成阶梯" in 0%..200%:
    tier_1 from 0% to 100% -> 3%
    tier_2 above 100% to 200% -> 5%

evaluation quarterly:
    fact sales: money >= 0
    output commission = marginal commission_rates on sales
''',
    "E342": '''\
policy demo version "1"

evaluation quarterly:
    fact attainment: percent
    output on_target = 60% <= attainment > 100%
''',
    # ---- limits (limits.py, docs/limits.md)
    "E320": '''\
policy demo version "1"

evaluation monthly:
    fact code: text matching "[A-Z]{2}-[0-9]{5000}"
    output c = code
''',
    # ---- lints (checker.py)
    "W401": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    fact region: text
    output bonus = sales * 1%
''',
    # ---- lints (lint.py): the checked policy is probably not what its author meant
    "W402": '''\
policy demo version "1"

table region_factor (region) -> percent:
    north -> 100%
    south -> 90%

evaluation monthly:
    fact revenue: money >= 0
    output bonus = revenue * 2%
''',
    "W403": '''\
policy demo version "1"

evaluation monthly:
    fact revenue: money >= 0
    let commission = revenue * 1%
    output bonus = revenue * 2%
''',
    "W405": '''\
policy demo version "1"

evaluation monthly:
    fact revenue: money
    output bonus = revenue * 2%
        floor 5000元
        cap 3000元
''',
    "W406": '''\
policy demo version "1"

evaluation quarterly:
    fact score: number in 0..100
    output bonus = score * 100元
        cap 20000元
''',
    "W407": '''\
policy demo version "1"

evaluation quarterly:
    fact late_days: count
    output deduction = if late_days >= 0 then late_days * 50元 else 0元
''',
    "W408": '''\
policy demo version "1"

evaluation quarterly:
    fact projects_won: count
    fact projects_supported: count
    output success = projects_won / projects_supported
''',
    "W409": '''\
policy demo version "1"

evaluation quarterly:
    fact revenue: money >= 0
    output bonus = revenue * 1.5%
        round half up to 0.01
        round half up to 1
''',
    "W410": '''\
policy demo version "1"

evaluation monthly:
    fact sales "销售额": money >= 0
    output commission "销售提成" = sales * 3
''',
}


def _render(diags) -> str:
    return "\n".join(render(d) for d in diags)


def example_output(code: str, text: str) -> tuple[tuple[Diagnostic, ...], str]:
    """The diagnostics of example `code` and their rendered text."""
    path = f"{code.lower()}.rules"
    try:
        policy = load_policy_text(text, path)
    except PolicyError as exc:
        return exc.diagnostics, exc.render()
    return policy.diagnostics, _render(policy.diagnostics)


# ---- codes that need more than a policy text ------------------------------------------------

def _e001(tmp_path, monkeypatch):
    """More than MAX_DIAGNOSTICS problems: the rest are summarised (the last two are pinned)."""
    lines = ['policy demo version "1"', "", "evaluation quarterly:", "    fact sales: money",
             "    output bonus = sales * 1%"]
    lines += [f"    output extra_{i} = missing_{i}" for i in range(MAX_DIAGNOSTICS + 5)]
    with pytest.raises(PolicyError) as info:
        load_policy_text("\n".join(lines) + "\n", "e001.rules")
    diags = info.value.diagnostics
    return diags, _render(diags[-2:])


def _e002(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PolicyError) as info:
        load_policy("policies/missing.rules")
    return info.value.diagnostics, info.value.render()


def _e003(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("latin1.rules").write_bytes('policy demo version "1"\n# Gehalt für Vertrieb\n'.encode("latin-1"))
    with pytest.raises(PolicyError) as info:
        load_policy("latin1.rules")
    return info.value.diagnostics, info.value.render()


def _e106(tmp_path, monkeypatch):
    text = 'policy demo version "1"\n' + ("# padding\n" * (MAX_SOURCE_CHARS // 10 + 1))
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "e106.rules")
    return info.value.diagnostics, info.value.render()


# Examples that need more than one file: the policy and the ruleset/ modules it imports, written
# into a temporary folder that is the working directory (so the rendered paths are relative).
FILES = {
    "E213": {
        "e213.rules": '''\
policy demo version "1"
import rates

evaluation quarterly:
    fact sales: money
    output bonus = sales * base_share
''',
        "ruleset/rates.rules": '''\
module rates
import steps

let base_share = 70%
''',
        "ruleset/steps.rules": '''\
module steps
import rates

ladder rate_steps:
    minus 2 per full 5% below
''',
    },
    "W404": {
        "w404.rules": '''\
policy demo version "1"
import grades

evaluation annual:
    fact total_score: number in 0..100
    output passed = total_score >= 60
''',
        "ruleset/grades.rules": '''\
module grades

bands five_grades in 0..100:
    "pass" from 60
    "fail" below 60
''',
    },
}


def write_files(folder: Path, files: dict) -> None:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _files(code):
    """Load the policy of a FILES example in the temporary folder: its diagnostics and their text."""
    def run(tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        write_files(tmp_path, FILES[code])
        try:
            policy = load_policy(f"{code.lower()}.rules")
        except PolicyError as exc:
            return exc.diagnostics, exc.render()
        return policy.diagnostics, _render(policy.diagnostics)
    return run


# E501 needs a source document beside the policy: `kpirules check --source source.txt e501.rules`.
E501_FILES = {
    "source.txt": """\
三、KPI指标及评分标准
市场活动的组织和支持
10
每少组织一次活动扣2分
""",
    "e501.rules": '''\
policy demo version "1"

evaluation quarterly:
    fact planned: count
    fact held: count
    scorecard kpi total 10:
        item market_activity "市场活动的组织和支持" weight 10:
            minus 2 per max(planned - held, 0)
            floor 0
            cite "每少组织一次市场活动扣2分"
    output score = kpi
''',
}


def _e501(tmp_path, monkeypatch):
    from kpirules import citations
    from kpirules.loader import merged_tree, read_source
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, E501_FILES)
    load_policy("e501.rules")
    _, diags = citations.check(merged_tree(read_source("e501.rules")), citations.SourceDocument.read("source.txt"))
    return diags, _render(diags)


def _e321(tmp_path, monkeypatch):
    """A chain of MAX_CALL_DEPTH + 2 functions, each calling the next."""
    from kpirules.limits import MAX_CALL_DEPTH
    last = MAX_CALL_DEPTH + 1
    lines = ['policy demo version "1"', ""]
    lines += [f"function step{i}(x: number) = step{i + 1}(x) + 1" for i in range(last)]
    lines += [f"function step{last}(x: number) = x", "", "evaluation monthly:", "    fact base: number",
              "    output total = step0(base)"]
    with pytest.raises(PolicyError) as info:
        load_policy_text("\n".join(lines) + "\n", "e321.rules")
    return info.value.diagnostics, info.value.render()


def _e322(tmp_path, monkeypatch):
    """A table of MAX_TABLE_ROWS + 1 rows, refused before it is parsed."""
    from kpirules.limits import MAX_TABLE_ROWS
    rows = "".join(f"    {i} -> {i}\n" for i in range(MAX_TABLE_ROWS + 1))
    text = ('policy demo version "1"\n\ntable commission (deal) -> money:\n' + rows
            + "\nevaluation monthly:\n    fact deal: integer\n    output pay = commission[deal]\n")
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "e322.rules")
    return info.value.diagnostics, info.value.render()


def _e323(tmp_path, monkeypatch):
    """An output of MAX_TOKENS terms added up: more words and symbols than the parser reads."""
    from kpirules.limits import MAX_TOKENS
    text = ('policy demo version "1"\n\nevaluation monthly:\n    fact sales: money\n    output total = '
            + " + ".join(["sales"] * MAX_TOKENS) + "\n")
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "e323.rules")
    return info.value.diagnostics, info.value.render()


SPECIAL = {"E001": _e001, "E002": _e002, "E003": _e003, "E106": _e106, "E501": _e501, "E321": _e321, "E322": _e322, "E323": _e323,
           **{code: _files(code) for code in FILES}}
ALL_CODES = sorted(set(EXAMPLES) | set(SPECIAL))


@pytest.mark.parametrize("code", ALL_CODES)
def test_golden_diagnostic(code, golden, tmp_path, monkeypatch):
    # Imports are looked for from the policy's folder upwards: an empty folder keeps the examples
    # from finding the repository's ruleset/.
    monkeypatch.chdir(tmp_path)
    if code in SPECIAL:
        diags, text = SPECIAL[code](tmp_path, monkeypatch)
    else:
        diags, text = example_output(code, EXAMPLES[code])
    assert diags, f"example {code} produced no diagnostic"
    codes = [d.code for d in diags]
    # The example shows its code first (E001 comes last by design), and nothing unrelated.
    assert (codes[-1] if code == "E001" else codes[0]) == code, codes
    if code != "E001":
        assert set(codes) == {code}, f"example {code} also reports {sorted(set(codes) - {code})}"
    golden(f"diagnostics/{code}.txt", text)


# ---- the code list: source, docs and golden files agree ---------------------------------------

def _codes_in_source() -> set:
    """Every `E...`/`W...` code written in the package (any module: parser, checker, loader, ...)."""
    codes = set()
    for path in sorted(SRC.rglob("*.py")):
        codes |= set(re.findall(r'"([EW]\d{3})"', path.read_text(encoding="utf-8")))
    return codes


def _doc_sections() -> dict:
    """`### E201 ...` sections of docs/diagnostics.md: code -> section text."""
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^### ", text, flags=re.M)[1:]
    return {p.split()[0]: p for p in parts if re.match(r"[EW]\d{3}\b", p)}


def test_every_code_in_the_source_has_an_example():
    missing = _codes_in_source() - set(ALL_CODES)
    assert not missing, f"codes without an example in tests/test_diagnostics.py: {sorted(missing)}"


def test_every_code_is_documented():
    sections = _doc_sections()
    missing = _codes_in_source() - set(sections)
    assert not missing, f"codes missing from docs/diagnostics.md: {sorted(missing)}"
    stale = set(sections) - _codes_in_source()
    assert not stale, f"docs/diagnostics.md documents codes nothing reports: {sorted(stale)}"


def test_the_format_example_at_the_top_of_the_docs_is_real():
    example = re.search(r"```text\n(.*?)\n```", DOCS.read_text(encoding="utf-8"), flags=re.S)[1]
    text = U8.read_text(encoding="utf-8").replace("ladder projects_won / projects_supported",
                                                  "ladder projets_won / projects_supported")
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "policies/u8_presales.rules")
    assert info.value.render() == example


def test_every_golden_file_belongs_to_a_code():
    files = {p.stem for p in (ROOT / "tests" / "golden" / "diagnostics").glob("*.txt")}
    assert files == set(ALL_CODES)


@pytest.mark.parametrize("code", ALL_CODES)
def test_docs_show_the_example_and_its_output(code):
    """The docs show each example and exactly what kpirules prints for it (the golden text)."""
    section = _doc_sections()[code]
    for field in ("Severity:", "Meaning:", "Fix:"):
        assert f"**{field}**" in section, f"{code}: no {field} in docs/diagnostics.md"
    golden_text = (ROOT / "tests" / "golden" / "diagnostics" / f"{code}.txt").read_text(encoding="utf-8")
    assert golden_text.rstrip("\n") in section, f"{code}: docs/diagnostics.md shows another output"
    if code in EXAMPLES:
        assert EXAMPLES[code].rstrip("\n") in section, f"{code}: docs/diagnostics.md shows another example"
    for rel, text in {**FILES, "E501": E501_FILES}.get(code, {}).items():
        assert text.rstrip("\n") in section, f"{code}: docs/diagnostics.md does not show `{rel}` as tested"
        assert f"`{rel}`" in section, f"{code}: docs/diagnostics.md does not name the file `{rel}`"


# ---- imports: the other ways an import fails ------------------------------------------------

def _load_in(folder: Path, files: dict, policy: str, monkeypatch):
    monkeypatch.chdir(folder)
    write_files(folder, files)
    with pytest.raises(PolicyError) as info:
        load_policy(policy)
    return info.value


def test_e208_a_policy_imported_as_a_module(tmp_path, monkeypatch):
    exc = _load_in(tmp_path, {
        "ruleset/rates.rules": 'policy rates\n\nevaluation e:\n    output x = 1\n',
        "p.rules": 'policy p\nimport rates\n\nevaluation e:\n    output y = 1\n',
    }, "p.rules", monkeypatch)
    assert [d.code for d in exc.diagnostics] == ["E208"]
    assert exc.render().splitlines()[0] == "p.rules:2:1: error[E208]: `rates` is a policy, not a module"


def test_e208_a_module_with_an_evaluation(tmp_path, monkeypatch):
    exc = _load_in(tmp_path, {
        "ruleset/rates.rules": 'module rates\n\nevaluation e:\n    output x = 1\n',
        "p.rules": 'policy p\nimport rates\n\nevaluation e:\n    output y = 1\n',
    }, "p.rules", monkeypatch)
    assert [d.code for d in exc.diagnostics] == ["E208"]
    assert exc.render().splitlines()[0] == ("ruleset/rates.rules:1:1: error[E208]: module `rates` holds "
                                            "evaluations or examples; a module only shares definitions")


def test_e213_a_module_that_imports_itself(tmp_path, monkeypatch):
    exc = _load_in(tmp_path, {
        "ruleset/rates.rules": 'module rates\nimport rates\n\nlet share = 70%\n',
        "p.rules": 'policy p\nimport rates\n\nevaluation e:\n    output y = share\n',
    }, "p.rules", monkeypatch)
    assert [d.code for d in exc.diagnostics] == ["E213"]
    assert exc.render().startswith("ruleset/rates.rules:2:1: error[E213]: ")


def test_modules_are_found_in_the_nearest_ruleset_folder_above_the_policy(tmp_path, monkeypatch):
    write_files(tmp_path, {
        "ruleset/common/rates.rules": 'module rates\n\nlet share = 70%\n',
        "policies/sales/p.rules": 'policy p\nimport common.rates\n\nevaluation e:\n    output y = share\n',
    })
    monkeypatch.chdir(tmp_path / "policies")
    policy = load_policy("sales/p.rules")
    assert policy.evaluate({}).values["y"] == Decimal("0.7")


# ---- fact codes and R001: docs/diagnostics.md shows a real message for each ------------------

FACT_POLICY = '''\
policy facts_demo version "1"

evaluation monthly:
    fact quarter: integer in 1..4
    fact role: one of senior, assistant
    fact rate: percent
    fact salary: money >= 0
    fact on_plan: boolean
    fact month: text matching "[0-9]{4}-[0-9]{2}"
    fact start: date
    fact goals: list of (name: text, weight: percent) at least 1 at most 3 with weight adding up to 100% keyed by name
    let goal_count = count(goals)
    output pay = if on_plan and role == "senior" and month != "" and start >= 2026-01-01 then salary * rate * quarter else 0元
'''

GOOD_FACTS = {"quarter": 2, "role": "senior", "rate": "0.1", "salary": "36000", "on_plan": True,
              "month": "2026-05", "start": "2026-03-01",
              "goals": [{"name": "收入", "weight": "0.6"}, {"name": "回款", "weight": "0.4"}]}

# code -> the fact set (or fact-file text) that draws it
FACT_CASES = {
    "F101": dict(GOOD_FACTS, on_plan="true"),
    "F102": dict(GOOD_FACTS, salary=36000.5),
    "F103": dict(GOOD_FACTS, rate="10%"),
    "F104": dict(GOOD_FACTS, salary="1" + "0" * 45),
    "F114": dict(GOOD_FACTS, start="2026-02-30"),
    "F105": dict(GOOD_FACTS, quarter="2.5"),
    "F106": dict(GOOD_FACTS, role="manager"),
    "F107": {k: v for k, v in GOOD_FACTS.items() if k != "month"},
    "F108": dict(GOOD_FACTS, goals=[]),
    "F110": dict(GOOD_FACTS, quarter=5),
    "F111": dict(GOOD_FACTS, month="2026-5"),
    "F113": dict(GOOD_FACTS, goals=[{"name": "收入", "weight": "0.6"}, {"name": "回款", "weight": "0.3"}]),
    "F120": dict(GOOD_FACTS, goals=[{"name": "收入", "weight": "0.6"}, {"name": "收入", "weight": "0.4"}]),
    # limits (limits.py, docs/limits.md)
    "F115": dict(GOOD_FACTS, month="2026-05" * 2000),
    "F116": dict(GOOD_FACTS, goals=[{"name": "收入", "weight": "0.6"}] * 20000),
    "F117": dict(GOOD_FACTS, **{f"extra_{i}": i for i in range(1000)}),
    "F118": dict(GOOD_FACTS, quarter="q2", goals=[{"name": i, "weight": "60%"} for i in range(60)]),
    "F119": dict(GOOD_FACTS, month="2026-\ud805"),
}
FACT_TEXTS = {
    "F001": '{"quarter": 2,}',
    "F101": '[2, "senior"]',
    "F109": '{"quarter": 2, "quarter": 3}',
    "F003": '{"note": "' + "x" * 5_000_000 + '"}',
}


def _fact_messages() -> dict:
    """code -> the rendered violations (FactViolation.render()) of its example."""
    policy = load_policy_text(FACT_POLICY, "facts_demo.rules")
    out: dict = {}
    for code, facts in FACT_CASES.items():
        with pytest.raises(kpirules.FactError) as info:
            policy.evaluate(facts)
        out.setdefault(code, []).extend(v.render() for v in info.value.violations if v.code == code)
    for code, text in FACT_TEXTS.items():
        with pytest.raises(kpirules.FactError) as info:
            policy.evaluate(kpirules.read_facts(text, is_text=True))
        out.setdefault(code, []).extend(v.render() for v in info.value.violations if v.code == code)
    with pytest.raises(kpirules.FactError) as info:
        kpirules.read_facts("missing.json")
    out["F002"] = [v.render() for v in info.value.violations]
    result = policy.evaluate(dict(GOOD_FACTS, montth="2026-05"))
    out["F200"] = [w.render() for w in result.warnings]
    return out


def _fact_codes_in_source() -> set:
    codes = set()
    for name in ("facts.py", "__init__.py", "errors.py"):
        codes |= set(re.findall(r'"(F\d{3})"', (SRC / name).read_text(encoding="utf-8")))
    return codes


def test_every_fact_code_is_listed_and_its_example_message_is_real():
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Fact codes", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| (F\d{3}) \|", section, flags=re.M))
    assert listed == _fact_codes_in_source(), "the table of fact codes differs from facts.py"
    assert FACT_POLICY.rstrip("\n") in section, "docs/diagnostics.md shows another fact example policy"
    messages = _fact_messages()
    for code in _fact_codes_in_source() - {"F100"}:   # F100: the default, no current rule uses it
        assert messages.get(code), f"{code}: the example draws no such violation"
        for line in messages[code]:
            assert line in section, f"{code}: docs/diagnostics.md does not show `{line}`"


R001_POLICY = '''\
policy ratio_demo version "1"

evaluation monthly:
    fact won: count
    fact supported: count
    output success = won / supported
'''


def test_r001_example_is_real():
    policy = load_policy_text(R001_POLICY, "ratio_demo.rules")
    with pytest.raises(kpirules.EvaluationError) as info:
        policy.evaluate({"won": 0, "supported": 0})
    section = DOCS.read_text(encoding="utf-8").split("## R001", 1)[1]
    assert R001_POLICY.rstrip("\n") in section
    assert info.value.render() in section


# ---- the format contract ----------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(EXAMPLES) + sorted(FILES))
def test_rendered_diagnostics_follow_the_contract(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if code in FILES:
        diags, text = SPECIAL[code](tmp_path, monkeypatch)
    else:
        diags, text = example_output(code, EXAMPLES[code])
    lines = text.split("\n")
    i = 0
    for d in diags:
        m = HEAD.match(lines[i])
        assert m, lines[i]
        assert m["code"] == d.code and m["severity"] == d.severity
        assert (int(m["line"]), int(m["col"])) == (d.span.line, d.span.column)
        message = m["message"]
        assert message[0].islower() or message[0] in "`\"", message
        assert not re.search(r"\b(Token|Tree|Unexpected\w+|[A-Z][a-z]+Error|_NL|RPAR|LPAR|NAME)\b", text)
        assert SOURCE_LINE.match(lines[i + 1]) and int(SOURCE_LINE.match(lines[i + 1])["line"]) == d.span.line
        assert CARET_LINE.match(lines[i + 2]), lines[i + 2]
        i += 3
        if d.help:
            assert HELP_LINE.match(lines[i]) and lines[i] == f"   help: {d.help}"
            i += 1
    assert i == len(lines)


def _diag(text, start, end, help=None, code="E201", message="unknown name `x`"):
    src = SourceFile(path="p.rules", text=text)
    return error(code, message, Span(source=src, start=start, end=end), help)


def test_render_matches_the_design_example():
    text = "\n" * 40 + "    rate projets_won / projects_supported\n"
    start = text.index("projets_won")
    d = _diag(text, start, start + len("projets_won"), "did you mean `projects_won`?",
              message="unknown fact `projets_won`")
    assert render(d) == (
        "p.rules:41:10: error[E201]: unknown fact `projets_won`\n"
        "   41 |     rate projets_won / projects_supported\n"
        "      |          ^^^^^^^^^^^\n"
        "   help: did you mean `projects_won`?")


def test_render_counts_wide_characters_twice():
    text = 'let 目标 = 销售额 * 2\n'
    start = text.index("销售额")
    out = render(_diag(text, start, start + 3))
    assert out.splitlines()[0] == "p.rules:1:10: error[E201]: unknown name `x`"  # columns in characters
    assert out.splitlines()[2] == "     | " + " " * 11 + "^" * 6                   # carets in screen columns


def test_render_expands_tabs_so_the_caret_lines_up():
    text = "\tlet x = y\n"
    start = text.index("y")
    lines = render(_diag(text, start, start + 1)).splitlines()
    assert lines[1] == "   1 |     let x = y"
    assert lines[2] == "     |             ^"


def test_render_never_echoes_invisible_characters():
    text = 'let x = "a\u202eb" # \u200b\n'
    start = text.index("\u202e")
    lines = render(_diag(text, start, start + 1)).splitlines()
    assert "\u202e" not in lines[1] and "\u200b" not in lines[1]
    assert lines[1] == '   1 | let x = "a<U+202E>b" # <U+200B>'
    assert lines[2] == "     |           ^^^^^^^^"


def test_render_shows_a_window_of_a_long_line():
    text = "let x = " + " + ".join(["a"] * 200) + " + oops\n"
    start = text.index("oops")
    lines = render(_diag(text, start, start + 4)).splitlines()
    assert lines[1].startswith("   1 | ...") and "oops" in lines[1]
    assert len(lines[1]) < 140
    caret = lines[2].index("^")
    assert lines[1][caret:caret + 4] == "oops" and lines[2].endswith("^^^^")


def test_render_a_span_over_several_lines_underlines_to_the_end_of_the_first():
    text = "let x = (a +\n         b)\n"
    d = _diag(text, text.index("("), text.index(")") + 1)
    assert render(d).splitlines()[2] == "     |         ^^^^"


def test_render_an_empty_span_and_no_span():
    d = _diag("abc\n", 3, 3)
    assert render(d).splitlines()[1:] == ["   1 | abc", "     |    ^"]
    assert render(error("E001", "3 more diagnostics not shown")) == "error[E001]: 3 more diagnostics not shown"


def test_prepare_sorts_drops_repeats_and_caps():
    src = SourceFile(path="p.rules", text="x\n" * 100)
    diags = [warning("W401", f"w{i}", Span(source=src, start=2 * i, end=2 * i + 1)) for i in range(60, 0, -1)]
    diags.append(diags[0])
    out = prepare(diags)
    assert len(out) == MAX_DIAGNOSTICS + 1
    assert [d.span.start for d in out[:-1]] == sorted(d.span.start for d in out[:-1])
    assert out[-1].code == "E001" and out[-1].message == "10 more diagnostics not shown"


def test_diagnostic_as_json():
    d = _diag("abc\n", 1, 2, "help text")
    assert d.as_json() == {"code": "E201", "severity": "error", "message": "unknown name `x`",
                           "span": {"file": "p.rules", "line": 1, "column": 2, "end_line": 1, "end_column": 3},
                           "help": "help text"}


# ---- the command line -----------------------------------------------------------------------

def test_check_shipped_policy_exits_0(capsys):
    assert main(["check", str(U8)]) == 0
    out, err = capsys.readouterr()
    assert "ok" in out and "error[" not in err


def test_check_broken_policy_prints_diagnostics_to_stderr_and_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # The U8 policy imports modules of ruleset/: copy them beside it, so that only they are found.
    shutil.copytree(ROOT / "ruleset", tmp_path / "ruleset")
    bad = Path("bad.rules")
    text = U8.read_text(encoding="utf-8").replace("/ projects_supported standard", "/ projets_supported standard")
    bad.write_text(text, encoding="utf-8")
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if "projets_supported" in line)
    line = text.splitlines()[line_no - 1]
    column = line.index("projets_supported") + 1
    assert main(["check", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "error[" not in out
    lines = err.splitlines()
    assert lines[0] == f"bad.rules:{line_no}:{column}: error[E201]: unknown name `projets_supported`"
    gutter = " " * len(str(line_no))
    # A line longer than the window is shown around the carets: the caret must be under the name.
    assert lines[1].startswith(f"   {line_no} | ") and "projets_supported" in lines[1]
    if len(line) <= 100:
        assert lines[1] == f"   {line_no} | {line}"
    caret = lines[2].index("^")
    assert lines[2] == f"   {gutter} | " + " " * (caret - len(f"   {gutter} | ")) + "^" * len("projets_supported")
    assert lines[1][caret:caret + len("projets_supported")] == "projets_supported"
    assert lines[3] == "   help: did you mean `projects_supported`?"
    assert "Traceback" not in err


@pytest.mark.parametrize("code", ["E101", "E103", "E108", "E201", "E310"])
def test_check_runs_as_a_program(tmp_path, code):
    path = tmp_path / f"{code.lower()}.rules"
    path.write_text(EXAMPLES[code], encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "kpirules", "check", path.name], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"{path.name}:") and f"error[{code}]" in proc.stderr
    assert "Traceback" not in proc.stderr
