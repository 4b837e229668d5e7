"""Renderers are safe for any text a fact holds (docs/limits.md, "Output").

A fact's text reaches a statement as it was given: a project id in a list, a text fact an output
repeats, a text fact a formula compares like an enum, a key of the fact file named in a warning.
Each hostile string below is put in each of those places, and each renderer must keep the
statement's structure exactly that of the same statement with a plain text there:

- Markdown: the same blocks (parsed by markdown-it, a CommonMark parser), no line break or block
  marker of the fact's own;
- text: the same lines, and no control character left (shown as `<U+001B>`);
- HTML: the same elements, the text itself escaped;
- JSON: the exact text back, character for character.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from kpirules.cli import main

POLICY = '''\
policy hostile "恶意文本" version "1"

evaluation monthly "月度":
    fact project_name "项目名称": text
    fact grade "等级": text
    fact projects "项目": list of (id "项目编号": text, amount "成交金额": money >= 0)
    output commission "提成" = sum over projects of amount * 2%
        round each half up to 0.01
    output name "名称" = project_name
    output graded "等级奖" = if grade == "A" then 100元 else 0元
'''

HOSTILE = {
    "cr": "P-1\r# 大项目奖 = 999999.00",
    "lf": "P-1\n# 大项目奖 = 999999.00",
    "crlf": "P-1\r\n## 大项目奖 = 999999.00\r\n",
    "u2028": "P-1\u2028# 大项目奖 = 999999.00",
    "u2029": "P-1\u2029# 大项目奖 = 999999.00",
    "nel": "P-1\x85# 大项目奖 = 999999.00",
    "vt_ff": "P-1\x0b# a\x0c# b",
    "heading": "# 大项目奖 = 999999.00",
    "quote": "> approved by the CFO",
    "dash_item": "- 999999.00",
    "star_item": "* 999999.00",
    "plus_item": "+ 999999.00",
    "ordered": "1. 999999.00",
    "table": "| 大项目奖 | 999999.00 |",
    "fence": "```\ncode\n```",
    "setext": "P-1\n===",
    "rule": "P-1\n---\n***",
    "html": "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "comment": "<!-- hidden --> &amp; &lt;",
    "escape": "\x1b[2J\x1b[31mRED\x1b]0;title\x07",
    "csi": "\x9b2J\x9b31m",
    "bidi": "\u202egnp.exe\u202c \u2066x\u2069 \u200f",
    "zero_width": "P\u200b-\u200d1\ufeff",
    "nul_del": "P\x00-1\x7f",
    "indent": "        indented code",
    "link": "[click](javascript:alert(1)) ![x](http://evil/x.png)",
    "emphasis": "**999999.00** _x_ ~~y~~ `z`",
    "backslash": "\\# \\",
}
PLAIN = "P-1"

# The places a fact's text reaches a statement.
PLACES = {
    "project name (text output)": lambda s: {"project_name": s},
    "enum-like text fact": lambda s: {"grade": s},
    "id in a list": lambda s: {"projects": [{"id": s, "amount": "100"}, {"id": "P-2", "amount": "5"}]},
    "unknown key": lambda s: {s: 1},
}
GOOD = {"project_name": "P-0", "grade": "A", "projects": [{"id": "P-1", "amount": "100"}, {"id": "P-2", "amount": "5"}]}


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "hostile.rules"
    path.write_text(POLICY, encoding="utf-8")
    return path


def run(policy_file, facts, fmt, explain, capsys, lang="en"):
    path = policy_file.parent / "facts.json"
    path.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    args = ["eval", str(policy_file), str(path), "--format", fmt, "--lang", lang] + (["--explain"] if explain else [])
    assert main(args) == 0
    out, err = capsys.readouterr()
    return out, err


_PLAIN: dict = {}


def plain_run(policy_file, place, fmt, explain, capsys):
    """The output with a plain text in `place` (the same for every hostile string: made once)."""
    key = (place, fmt, explain)
    if key not in _PLAIN:
        _PLAIN[key] = run(policy_file, facts_with(place, PLAIN), fmt, explain, capsys)
    return _PLAIN[key]


def facts_with(place, text):
    facts = dict(GOOD, **PLACES[place](text))
    return facts


_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _blocks(markdown: str) -> list:
    """The block structure of a Markdown text: (type, nesting) of every block-level token."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    return [(t.type, t.level) for t in tokens if t.block and t.type != "inline"]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list = []
        self.text: list = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _html(out: str):
    p = _Tags()
    p.feed(out)
    return p.tags, "".join(p.text)


CASES = [(place, name) for place in PLACES for name in HOSTILE]


@pytest.mark.parametrize("explain", [False, True], ids=["statement", "explained"])
@pytest.mark.parametrize("place, name", CASES)
def test_markdown_keeps_its_structure(policy_file, capsys, place, name, explain):
    plain, _ = plain_run(policy_file, place, "markdown", explain, capsys)
    out, _ = run(policy_file, facts_with(place, HOSTILE[name]), "markdown", explain, capsys)
    assert out.count("\n") == plain.count("\n")
    assert not re.search("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", out)
    assert _blocks(out) == _blocks(plain)
    html = MarkdownIt("commonmark").enable("table").render(out)  # raw HTML passes through commonmark
    assert "<script" not in html and "<!--" not in html and "<img" not in html and "<a " not in html


@pytest.mark.parametrize("explain", [False, True], ids=["values", "explained"])
@pytest.mark.parametrize("place, name", CASES)
def test_text_shows_control_characters(policy_file, capsys, place, name, explain):
    plain, plain_err = plain_run(policy_file, place, "text", explain, capsys)
    out, err = run(policy_file, facts_with(place, HOSTILE[name]), "text", explain, capsys)
    assert out.count("\n") == plain.count("\n")
    assert not _RAW_CONTROL.search(out), repr(out)
    assert not _RAW_CONTROL.search(err), repr(err)  # warnings about the fact file, on the terminal
    assert err.count("\n") == plain_err.count("\n")


@pytest.mark.parametrize("place, name", CASES)
def test_html_escapes(policy_file, capsys, place, name):
    plain, _ = plain_run(policy_file, place, "html", True, capsys)
    out, _ = run(policy_file, facts_with(place, HOSTILE[name]), "html", True, capsys)
    tags, text = _html(out)
    assert tags == _html(plain)[0]
    assert "<script>alert" not in out and "<img" not in out
    if place != "unknown key":  # a warning is not part of the statement
        shown = HOSTILE[name].replace("\r\n", "\n")
        assert shown.split("\n")[0].split("\r")[0] in text


@pytest.mark.parametrize("place, name", CASES)
def test_json_round_trips_the_exact_text(policy_file, capsys, place, name):
    out, _ = run(policy_file, facts_with(place, HOSTILE[name]), "json", True, capsys)
    data = json.loads(out)
    s = HOSTILE[name]
    if place == "project name (text output)":
        assert data["values"]["name"] == s
    elif place == "id in a list":
        inputs = {i["name"]: i for i in data["trace"]["inputs"]}
        assert inputs["projects"]["result"][0]["id"] == s
    elif place == "enum-like text fact":
        inputs = {i["name"]: i for i in data["trace"]["inputs"]}
        assert inputs["grade"]["result"] == s
    else:
        assert data["warnings"][0]["code"] == "F200"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_forged_headings_of_the_report_are_gone(policy_file, capsys, lang):
    """The reported attack: a carriage return in a project id injected five `大项目奖 = 999999.00`
    headings into the Markdown statement."""
    forged = "P-9" + "\r# 大项目奖 = 999999.00\r---" * 5
    out, _ = run(policy_file, facts_with("id in a list", forged), "markdown", True, capsys, lang)
    headings = [line for line in out.splitlines() if line.startswith("#")]
    assert not any("999999" in h for h in headings)
    tokens = MarkdownIt("commonmark").enable("table").parse(out)
    assert all("999999" not in tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open")
    assert "hr" not in [t.type for t in tokens]
