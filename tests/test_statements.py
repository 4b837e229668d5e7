"""Statements for people: text, Markdown and HTML of every shipped example, in Chinese and English.

Golden files (tests/golden/statements/, regenerated with `pytest --update-golden` and reviewed in
the diff) pin what auditors read. The other tests check what must hold whatever the wording: the
HTML is self-contained, the bonus and the excluded item are on it, the displayed lines of a
rounded sum add up to the displayed total, negative evidence (exclusions, floors) is shown with
the policy's note and the value before, and policy text is escaped.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

import kpirules
from kpirules.cli import main
from kpirules.render import html, markdown, text
from kpirules.render.reasons import sentence

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("en", "zh")


def _evaluations(policy: Path) -> list:
    """The evaluation names a policy declares, read from its text (a policy being written that does
    not load yet must not stop the collection of every other case)."""
    return re.findall(r"^\s*evaluation\s+(\w+)", policy.read_text(encoding="utf-8"), re.M)


def _cases() -> list:
    """(name, policy, facts, evaluation) of every shipped example: policies/X.rules with
    examples/X.json or X_*.json; a policy with several evaluations takes the example named
    `<X or its prefix>_<evaluation>.json` (policies/u8_presales.rules: examples/u8_quarterly.json)."""
    cases = []
    examples = sorted((ROOT / "examples").glob("*.json"))
    for policy in sorted((ROOT / "policies").glob("*.rules")):
        evaluations = _evaluations(policy)
        prefixes = {policy.stem, policy.stem.split("_")[0]}
        for facts in examples:
            stem = facts.stem
            if len(evaluations) <= 1:
                if stem == policy.stem or stem.startswith(policy.stem + "_"):
                    cases.append((stem, policy, facts, None))
                continue
            for ev in evaluations:
                if any(stem == f"{p}_{ev}" for p in prefixes):
                    cases.append((stem, policy, facts, ev))
    return cases


CASES = _cases()
IDS = [c[0] for c in CASES]


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    # Source paths in statements are shown as the user gave them: relative to the repository here.
    monkeypatch.chdir(ROOT)


_RESULTS = {}


def result_json(policy: Path, facts: Path, evaluation) -> dict:
    key = (policy, facts, evaluation)
    if key not in _RESULTS:
        p = kpirules.load_policy(str(policy.relative_to(ROOT)))
        _RESULTS[key] = p.evaluate(kpirules.read_facts(str(facts)), evaluation, explain=True).to_json()
    return json.loads(json.dumps(_RESULTS[key]))  # a fresh copy: renderers must not need the objects


def case(name):
    return next(c for c in CASES if c[0] == name)


def u8(name):
    if not any(c[0] == name for c in CASES):
        pytest.skip(f"examples/{name}.json is not shipped")
    _, policy, facts, evaluation = case(name)
    return result_json(policy, facts, evaluation)


# ---- golden files --------------------------------------------------------------------------------

def test_every_example_is_a_case():
    assert {"u8_quarterly", "u8_monthly"} <= set(IDS)
    matched = {c[2].name for c in CASES}
    unmatched = [f.name for f in (ROOT / "examples").glob("*.json") if f.name not in matched]
    assert not unmatched, f"examples without a policy (name them after policies/X.rules): {unmatched}"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name, policy, facts, evaluation", CASES, ids=IDS)
def test_text_statement(golden, name, policy, facts, evaluation, lang):
    golden(f"statements/{name}.{lang}.txt",
           text.render(result_json(policy, facts, evaluation), explain=True, lang=lang))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name, policy, facts, evaluation", CASES, ids=IDS)
def test_markdown_statement(golden, name, policy, facts, evaluation, lang):
    golden(f"statements/{name}.{lang}.md",
           markdown.render(result_json(policy, facts, evaluation), explain=True, lang=lang))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name, policy, facts, evaluation", CASES, ids=IDS)
def test_html_statement(golden, name, policy, facts, evaluation, lang):
    golden(f"statements/{name}.{lang}.html",
           html.render(result_json(policy, facts, evaluation), explain=True, lang=lang))


# ---- the HTML is one self-contained file ---------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name, policy, facts, evaluation", CASES, ids=IDS)
def test_html_is_self_contained(name, policy, facts, evaluation, lang):
    page = html.render(result_json(policy, facts, evaluation), explain=True, lang=lang)
    for banned in ("http://", "https://", "src=", "<link", "<script", "url(", "@import"):
        assert banned not in page.lower(), banned
    assert page.startswith("<!DOCTYPE html>")
    assert "@page { size: A4;" in page
    assert "default-src 'none'" in page  # and the browser is told to load nothing, should any slip in
    assert _balanced(page)


def _balanced(page: str) -> bool:
    """Every element that is opened is closed, in order (void elements aside)."""
    void = {"meta", "br", "hr", "img", "input", "link"}
    stack = []

    class P(HTMLParser):
        ok = True

        def handle_starttag(self, tag, attrs):
            if tag not in void:
                stack.append(tag)

        def handle_endtag(self, tag):
            if not stack or stack.pop() != tag:
                P.ok = False

    P().feed(page)
    return P.ok and not stack


# ---- what the U8 quarterly statement must say ----------------------------------------------------

def _statement_part(page: str) -> str:
    """The HTML from the statement section to the working (or the end)."""
    start = page.index('<section class="statement"')
    end = page.find('<section class="working"')
    return page[start:end if end > 0 else None]


@pytest.mark.parametrize("lang", LANGS)
def test_quarterly_statement_has_the_bonus_and_the_excluded_item(lang):
    data = u8("u8_quarterly")
    gate = next(c for n in data["trace"]["nodes"] if n["name"] == "sales_tools"
                for c in n["children"] if c["kind"] == "gate_excluded")
    said = sentence(gate["reason"], lang)
    for explain in (True, False):
        page = html.render(data, explain=explain, lang=lang)
        top = _statement_part(page)
        assert "¥7,488.00" in top
        assert "78 分" in top if lang == "zh" else "78 points" in top
        assert _esc(said) in top  # the excluded item says why, in the statement itself ...
        assert "该项工作未经过培训推广环节" in top
        note = "\u201c注:知识供献奖的所有指标完成项,必须经过培训推广环节,才能计入奖金\u201d"
        assert _esc(note) in top  # ... quoting the policy's note
        assert "rollout[sales_tools] = false" in top
        doc = markdown.render(data, explain=explain, lang=lang)
        assert "¥7,488.00" in doc and "该项工作未经过培训推广环节" in doc
        assert ("<details" in page) is explain
    if lang == "en":
        assert "EXCLUDED" in _statement_part(html.render(data, lang=lang))


def _esc(s: str) -> str:
    from html import escape
    return escape(s, quote=True)


def test_quarterly_statement_items_add_up_to_the_kpi_score():
    page = html.render(u8("u8_quarterly"), lang="en")
    rows = _rows(page, "scorecard")
    items = [r for r in rows if "item" in r.classes]
    total = next(r for r in rows if "total" in r.classes)
    assert len(items) == 7
    assert sum(_amount(r.cells[-1]) for r in items) == _amount(total.cells[-1]) == 78


# ---- the statement adds up -------------------------------------------------------------------------

class _Row:
    def __init__(self, classes, group):
        self.classes = classes
        self.group = group
        self.cells = []


def _rows(page: str, table_class: str) -> list:
    """Rows of the tables of a class: their classes, their tbody's id and their cells' text."""
    rows = []

    class P(HTMLParser):
        table = group = None
        cell = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "table":
                P.table = (a.get("class") or "").split()
            elif tag == "tbody":
                P.group = a.get("id")
            elif tag == "tr" and P.table and table_class in P.table:
                rows.append(_Row((a.get("class") or "").split(), P.group))
            elif tag in ("td", "th") and rows and P.table and table_class in P.table:
                P.cell = []
                rows[-1].cells.append(P.cell)
            elif tag in ("span", "ul", "div") and P.cell is not None:
                P.cell.append("\n")  # the working and the notes are not the amount

        def handle_endtag(self, tag):
            if tag in ("td", "th"):
                P.cell = None
            elif tag == "table":
                P.table = None

        def handle_data(self, data):
            if P.cell is not None:
                P.cell.append(data)

    P().feed(page)
    for r in rows:
        r.cells = ["".join(c).split("\n")[0].strip() for c in r.cells]
    return rows


def _amount(shown: str) -> Decimal:
    """A displayed amount back to a number: ¥12,345.67, 20.5 分, 85 points."""
    m = re.fullmatch(r"(-?)¥?([\d,]+(?:\.\d+)?)(?: 分| points)?", shown.strip())
    assert m, f"not an amount as people read it: {shown!r}"
    return Decimal(m.group(1) + m.group(2).replace(",", ""))


def _html_sums(page: str) -> list:
    """(lines, total) of every output shown with its lines."""
    out = {}
    for r in _rows(page, "outputs"):
        if "line" in r.classes and "excluded" not in r.classes:
            out.setdefault(r.group, ([], []))[0].append(_amount(r.cells[-1]))
        elif "total" in r.classes:
            out.setdefault(r.group, ([], []))[1].append(_amount(r.cells[-1]))
    return [(lines, totals[0]) for lines, totals in out.values()]


def _markdown_sums(doc: str) -> list:
    """(lines, total) of every line table of a Markdown statement."""
    sums = []
    for block in re.findall(r"(?ms)^\| [^\n]+ \|\n\|:---\|:---\|---:\|\n(.*?)(?=^$|\Z)", doc):
        lines, total = [], None
        for row in block.strip().splitlines():
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
            if cells[0].startswith("**"):
                total = _amount(cells[-1].strip("*"))
            elif cells[-1] != "-":
                lines.append(_amount(cells[-1]))
        sums.append((lines, total))
    return sums


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name, policy, facts, evaluation", CASES, ids=IDS)
def test_displayed_lines_add_up_to_the_displayed_total(name, policy, facts, evaluation, lang):
    data = result_json(policy, facts, evaluation)
    for sums in (_html_sums(html.render(data, lang=lang)), _markdown_sums(markdown.render(data, lang=lang))):
        for lines, total in sums:
            assert sum(lines) == total, (lines, total)


def test_u8_monthly_lines_are_shown_rounded_and_add_up():
    page = html.render(u8("u8_monthly"), lang="en")
    [(lines, total)] = _html_sums(page)
    assert lines == [Decimal("4500.00"), Decimal("685.18"), Decimal("1851.85")]
    assert total == Decimal("7037.03") == sum(lines)
    [(md_lines, md_total)] = _markdown_sums(markdown.render(u8("u8_monthly"), lang="zh"))
    assert (md_lines, md_total) == (lines, total)
    top = _statement_part(page)
    # each rounding is said where it happened: the `round each` line of the policy, once per line kept
    assert top.count("rounded half up to 0.01") == 3
    assert top.count("policies/u8_presales.rules:96)") == 3
    assert "685.1835 → 685.18" in top


def test_project_commissions_add_up():
    if not any(c[0] == "project_incentive" for c in CASES):
        pytest.skip("policies/project_incentive.rules is not shipped")
    _, policy, facts, evaluation = case("project_incentive")
    data = result_json(policy, facts, evaluation)
    sums = _html_sums(html.render(data, lang="zh"))
    assert sums, "the project commissions are shown line by line"
    for lines, total in sums:
        assert len(lines) >= 2 and sum(lines) == total
    assert "按四舍五入保留到 0.01" in _statement_part(html.render(data, lang="zh"))


# ---- negative evidence -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_project_under_the_threshold_says_why(lang):
    data = u8("u8_monthly")
    top = _statement_part(html.render(data, lang=lang))
    row = next(r for r in _rows(top, "outputs") if "excluded" in r.classes)
    assert row.cells[0].startswith("P-2026-052") and row.cells[-1] == "—"
    assert "成交金额不足10万元" in top  # the policy's reason ...
    assert "99999.99 &gt;= 10万" in top  # ... the condition as it read ...
    assert "contract_amount = 99999.99" in top  # ... and the value that failed it
    doc = markdown.render(data, lang=lang)
    assert "成交金额不足10万元" in doc and "contract_amount = 99999.99" in doc


@pytest.mark.parametrize("lang", LANGS)
def test_a_floor_that_bit_shows_the_value_before(lang):
    facts = json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8"))
    facts["dept_revenue"] = "1000000"  # below 70% of the target: the completion rate floors at 0
    p = kpirules.load_policy("policies/u8_presales.rules")
    data = p.evaluate(facts, "quarterly", explain=True).to_json()
    assert data["values"]["quarterly_bonus"] == "0.00"
    floors = [g for n in data["trace"]["nodes"] if n["name"] == "dept_completion"
              for c in n["children"] for g in [c, *c["children"]] if g["kind"] == "floor_applied"]
    assert floors, "the trace records the floor"
    before = floors[0]["reason"]["params"]["before"]
    assert Decimal(before) < 0
    said = sentence(floors[0]["reason"], lang, floors[0].get("display", "number"))
    for page in (html.render(data, lang=lang), html.render(data, explain=True, lang=lang)):
        assert _esc(said) in _statement_part(page)
    assert markdown.md(said) in markdown.render(data, lang=lang)
    assert ("低于下限" if lang == "zh" else "below the floor") in said


# ---- escaping -----------------------------------------------------------------------------------

EVIL_POLICY = '''policy evil "<b>Bad</b> & co | *x*" version "1"

evaluation main "<script>alert(1)</script>":
    fact amount "金额 | *x* _y_ [l](http://e.com)": money >= 0
    fact lines "明细": list of (id: text, v: money >= 0)
    let base "<i>base</i>" = amount * 10%
        floor 100元
        cite "a | b *c* [l](https://e.com) <img src=x onerror=alert(1)> `tick` & &amp;"
    output extra "<u>extra</u>" = sum over lines of v
        only if v >= 1元 else "<b>too small</b> | x"
        round each half up to 0.01
    output pay "<img src=x onerror=alert(1)>" = base + extra
        cite "</details><script>alert(2)</script>"
'''


@pytest.fixture
def evil(tmp_path):
    path = tmp_path / "evil.rules"
    path.write_text(EVIL_POLICY, encoding="utf-8")
    facts = {"amount": "50", "lines": [{"id": "<a href=x>", "v": "2.345"}, {"id": "b|c", "v": "0.5"}]}
    return kpirules.load_policy(str(path)).evaluate(facts, explain=True).to_json()


@pytest.mark.parametrize("lang", LANGS)
def test_html_escapes_policy_text(evil, lang):
    page = html.render(evil, explain=True, lang=lang)
    for raw in ("<script", "<img", "<b>", "<i>", "<u>", "<a href=x", "</details><"):
        assert raw not in page, raw
    assert "&lt;img src=x onerror=alert(1)&gt; (pay)" in page
    assert "&lt;/details&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&amp;amp;" in page  # `&amp;` in a cite is text, not an entity
    assert _balanced(page)
    assert page.count("<details") == page.count("</details>") == 3


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_escapes_policy_text(evil, lang):
    doc = markdown.render(evil, explain=True, lang=lang)
    assert "<" not in doc.replace("\\<", "")  # no raw HTML
    assert "](http" not in doc.replace("\\](http", "")  # no links
    for table in re.findall(r"(?m)(?:^\|.*\n)+", doc):  # a `|` of policy text never splits a table cell
        widths = {len(re.split(r"(?<!\\)\|", row)) for row in table.splitlines()}
        assert len(widths) == 1, table
    assert "b\\|c" in doc and "\\*c\\*" in doc


def test_markdown_escape_keeps_identifiers_legible():
    assert markdown.md("big_project_bonus") == "big_project_bonus"
    assert markdown.md("_x_ a*b [l](u) | <b>") == "\\_x\\_ a\\*b \\[l\\](u) \\| \\<b\\>"


# ---- numbers for people ----------------------------------------------------------------------------

@pytest.mark.parametrize("value, display, lang, exact, shown", [
    ("12345.67", "money", "en", None, "¥12,345.67"),
    ("5600", "money", "en", None, "¥5,600.00"),
    ("39731.2", "money", "zh", None, "¥39,731.20"),
    ("-12.5", "money", "en", None, "-¥12.50"),
    ("0.85", "percent", "en", None, "85%"),
    ("20.5", "points", "zh", None, "20.5 分"),
    ("20.5", "points", "en", None, "20.5 points"),
    # An endless value (its fraction given): a few digits and ≈; 230/3 = 76.666...
    ("76.66666666666666666666666667", "points", "en", "230/3", "≈76.666667 points"),
    ("0.7777777777777777777777777778", "percent", "en", "7/9", "≈77.78%"),
    ("1234.666666666666666666666667", "money", "en", "3704/3", "≈¥1,234.67"),
    # An exact value is shown in full, however long (nothing says it is approximate).
    ("66.25000000000000000000000000025", "points", "en", None, "66.25000000000000000000000000025 points"),
    ("0.1234567890123456789012345678901", "percent", "en", None, "12.34567890123456789012345678901%"),
    ("良好", "text", "zh", None, "良好"),
    (True, "boolean", "en", None, "true"),
])
def test_numbers_are_formatted_for_people(value, display, lang, exact, shown):
    assert markdown.fmt(value, display, lang, exact) == shown


# ---- the command line ------------------------------------------------------------------------------

def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


U8_ARGS = ("policies/u8_presales.rules", "examples/u8_quarterly.json", "--evaluation", "quarterly")


@pytest.mark.parametrize("fmt_, marker", [("html", "<!DOCTYPE html>"), ("markdown", "# ")])
def test_cli_statement_formats(capsys, fmt_, marker):
    code, out, err = _run(capsys, "eval", *U8_ARGS, "--format", fmt_, "--lang", "zh")
    assert code == 0, err
    assert out.startswith(marker)
    assert "¥7,488.00" in out and "该项工作未经过培训推广环节" in out  # the statement, even unexplained
    assert "计算过程" not in out
    code, explained, err = _run(capsys, "eval", *U8_ARGS, "--format", fmt_, "--lang", "zh", "--explain")
    assert code == 0, err
    assert "计算过程" in explained and "¥7,488.00" in explained
    if fmt_ == "html":
        assert explained.count("<details") == len(u8("u8_quarterly")["trace"]["nodes"])


def test_cli_explain_formats_all_work(capsys):
    for fmt_ in ("text", "markdown", "html", "json"):
        for lang in LANGS:
            code, out, err = _run(capsys, "eval", *U8_ARGS, "--explain", "--format", fmt_, "--lang", lang)
            assert code == 0, (fmt_, lang, err)
            assert "7,488.00" in out or "7488.00" in out


def test_cli_rejects_an_unknown_format(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["eval", *U8_ARGS, "--format", "pdf"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_statements_are_byte_identical_across_runs():
    data = u8("u8_quarterly")
    assert html.render(data, explain=True, lang="zh") == html.render(json.loads(json.dumps(data)), explain=True,
                                                                      lang="zh")


@pytest.mark.parametrize("renderer", [html, markdown])
def test_a_result_without_a_trace_still_renders_its_values(renderer):
    data = u8("u8_quarterly")
    bare = {k: v for k, v in data.items() if k != "trace"}
    shown = renderer.render(bare, explain=True, lang="en")
    assert "¥" not in shown and "7488.00" in shown  # no trace, no display kinds: the values as they are
    assert "--explain" in shown
