"""Diagnostics: one golden file per code, the renderer's contract, the code list in the docs, the CLI.

Every code the parser and the checker can report has a small bad policy here (`EXAMPLES`), its
rendered output pinned in tests/golden/diagnostics/<CODE>.txt, and the same example and output
in docs/diagnostics.md. A new code needs all three; the tests below say which one is missing.
"""

from __future__ import annotations

import re
import subprocess
import sys
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
    # ---- lints (checker.py)
    "W401": '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    fact region: text
    output bonus = sales * 1%
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


SPECIAL = {"E001": _e001, "E002": _e002, "E003": _e003, "E106": _e106}
ALL_CODES = sorted(set(EXAMPLES) | set(SPECIAL))


@pytest.mark.parametrize("code", ALL_CODES)
def test_golden_diagnostic(code, golden, tmp_path, monkeypatch):
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
    codes = set()
    for name in ("parser.py", "checker.py", "diagnostics.py", "loader.py"):
        codes |= set(re.findall(r'"([EW]\d{3})"', (SRC / name).read_text(encoding="utf-8")))
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


# ---- the format contract ----------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_rendered_diagnostics_follow_the_contract(code):
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
    bad = Path("bad.rules")
    bad.write_text(U8.read_text(encoding="utf-8").replace("/ projects_supported standard",
                                                           "/ projets_supported standard"), encoding="utf-8")
    assert main(["check", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "error[" not in out
    lines = err.splitlines()
    assert lines[0] == "bad.rules:73:35: error[E201]: unknown name `projets_supported`"
    assert lines[1] == ("   73 |             ladder projects_won / projets_supported standard 85%, "
                        "if none: standard")
    assert lines[2] == "      | " + " " * 34 + "^" * len("projets_supported")
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
