"""docs/policies.md describes the shipped policies as they are: checked against the files and the engine.

- Every policies/*.rules and ruleset/*.rules file is named on the page.
- Every `kpirules eval ...` command on the page runs with exit 0 (through `kpirules.cli.main`, from
  the repository root), and each evaluation of each policy has one.
- Each policy section gives the header, evaluations, imports and example count of its file; its
  facts are exactly `Policy.facts_of(evaluation)`; its outputs are exactly `Result.outputs` of the
  shipped example, every listed value exists in `Result.values` and has the value shown.
- Every row of a company-set table quotes its file accurately: the text "as written" is on the
  line given, and each quoted marking (`LINE: `text``) is on its line.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import kpirules
from kpirules import examples
from kpirules.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "policies.md"
RULES_FILES = sorted(p.relative_to(ROOT).as_posix()
                     for p in [*(ROOT / "policies").glob("*.rules"), *(ROOT / "ruleset").glob("*.rules")])

_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_CODE = re.compile(r"^`(.*)`$")
_EVAL_CMD = re.compile(r"^kpirules eval .*$", re.M)


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _cells(line: str) -> list[str]:
    parts = _CELL_SPLIT.split(line.strip())[1:-1]
    return [p.strip().replace("\\|", "|") for p in parts]


def _uncode(cell: str) -> str:
    m = _CODE.match(cell)
    return m.group(1) if m else cell


def _tables(lines: list[str]) -> list[tuple[int, list[list[str]]]]:
    """Every table in `lines`: (index of its header line, rows without the header and rule)."""
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and re.match(r"^\|(\s*-+\s*\|)+$", lines[i + 1]):
            start, rows = i, []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            found.append((start, rows))
        else:
            i += 1
    return found


def _table_after(lines: list[str], marker: str) -> list[list[str]] | None:
    """The rows of the first table following the line that starts with `marker`."""
    for k, line in enumerate(lines):
        if line.startswith(marker):
            tables = _tables(lines[k:])
            return tables[0][1] if tables else None
    return None


def _split(lines: list[str], prefix: str) -> list[list[str]]:
    chunks, cur = [], None
    for line in lines:
        if line.startswith(prefix):
            cur = [line]
            chunks.append(cur)
        elif cur is not None:
            cur.append(line)
    return chunks


def _sections() -> dict[str, list[str]]:
    """Level-2 sections that describe a file: file path -> the section's lines."""
    out = {}
    for chunk in _split(_text().splitlines(), "## "):
        rows = _table_after(chunk, "| | |") or []
        info = {r[0]: r[1] for r in rows if len(r) >= 2}
        if "file" in info:
            out[_uncode(info["file"])] = chunk
    return out


def _info(section: list[str]) -> dict[str, str]:
    return {r[0]: r[1] for r in (_table_after(section, "| | |") or [])}


def _evaluations(section: list[str]) -> dict[str, list[str]]:
    out = {}
    for chunk in _split(section, "### Evaluation "):
        m = re.match(r"### Evaluation `(\w+)`", chunk[0])
        assert m, f"docs/policies.md: cannot read the heading {chunk[0]!r}"
        out[m.group(1)] = chunk
    return out


def _eval_command(chunk: list[str]) -> list[str]:
    cmds = _EVAL_CMD.findall("\n".join(chunk))
    assert len(cmds) == 1, f"docs/policies.md: `{chunk[0]}` should show one `kpirules eval` command, has {cmds}"
    return shlex.split(cmds[0])[1:]


def _policy_sections():
    return sorted(f for f in _sections() if f.startswith("policies/"))


def _evaluation_cases():
    cases = []
    for f, section in sorted(_sections().items()):
        for name in _evaluations(section):
            cases.append((f, name))
    return cases


def _load(f):
    return kpirules.load_policy(ROOT / f)


def _run(argv, monkeypatch):
    monkeypatch.chdir(ROOT)
    return main(argv)


# ---- every file is named ----------------------------------------------------------------------

@pytest.mark.parametrize("path", RULES_FILES)
def test_every_rules_file_is_named(path):
    assert path in _text(), f"docs/policies.md does not name `{path}`"
    assert path in _sections(), f"docs/policies.md has no section whose file is `{path}`"


def test_the_overview_lists_every_file_with_its_examples():
    lines = _text().splitlines()
    rows = _table_after(lines, "## Overview")
    assert rows, "docs/policies.md: no overview table"
    listed = {}
    for r in rows:
        m = re.search(r"`((?:policies|ruleset)/\w+\.rules)`", r[0])
        assert m, f"docs/policies.md overview: no file in {r[0]!r}"
        listed[m.group(1)] = r
    assert sorted(listed) == RULES_FILES
    headings = {_slug(line[3:]) for line in lines if line.startswith("## ")}
    for f, r in listed.items():
        p = _load(f)
        assert int(r[-1]) == len(list(examples.run(p))), f"overview: examples of `{f}`"
        evs = tuple(re.findall(r"`(\w+)`", r[3]))
        assert evs == p.evaluations, f"overview: evaluations of `{f}`"
        anchor = re.search(r"\]\(#([^)]+)\)", r[0])
        assert anchor and anchor.group(1) in headings, f"overview: the link of `{f}` leads nowhere"


def _slug(heading: str) -> str:
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


# ---- the commands run -------------------------------------------------------------------------

def _commands():
    return _EVAL_CMD.findall(_text())


@pytest.mark.parametrize("command", _commands())
def test_eval_command_runs(command, monkeypatch, capsys):
    rc = _run(shlex.split(command)[1:], monkeypatch)
    captured = capsys.readouterr()
    assert rc == 0, f"`{command}` exited {rc}:\n{captured.err}"
    assert captured.out.strip(), f"`{command}` printed nothing"


@pytest.mark.parametrize("path", [f for f in RULES_FILES if f.startswith("policies/")])
def test_every_evaluation_has_a_section_and_a_command(path):
    p = _load(path)
    section = _sections()[path]
    evs = _evaluations(section)
    assert tuple(evs) == p.evaluations, f"docs/policies.md: evaluations of `{path}`"
    for name, chunk in evs.items():
        argv = _eval_command(chunk)
        assert argv[0] == "eval" and argv[1] == path, argv
        assert re.fullmatch(r"examples/\w+\.json", argv[2]) and (ROOT / argv[2]).is_file(), \
            f"`{path}` {name}: {argv[2]} is not a shipped example file"
        assert argv[argv.index("--evaluation") + 1] == name


# ---- the header, imports and examples of each file ------------------------------------------------

@pytest.mark.parametrize("path", RULES_FILES)
def test_header_imports_and_examples(path):
    p = _load(path)
    info = _info(_sections()[path])
    head = info.get("policy") or info.get("module")
    assert head is not None, f"`{path}`: no policy/module row"
    assert f"`{p.name}`" in head and f"label {p.label}," in head and f"version {p.version}" in head, head
    assert tuple(re.findall(r"`(\w+)`", info["evaluations"])) == p.evaluations
    text = (ROOT / path).read_text(encoding="utf-8")
    imports = [ln.split()[1] for ln in text.splitlines() if ln.startswith("import ")]
    documented = re.findall(r"`(\w+)` \(`ruleset/\w+\.rules`\)", info["imports"])
    assert documented == imports, f"`{path}`: imports"
    # S1..S8: the schemes of policies.md; P9..P13: the plans of policies-2.md.
    assert re.match(r"S[1-8] |P(9|1[0-3]) ", info["scheme"]), info["scheme"]
    count = int(re.match(r"\d+", info["examples"]).group(0))
    assert count == len(list(examples.run(p))), f"`{path}`: number of examples"


# ---- facts and outputs, as the engine gives them ------------------------------------------------

@pytest.mark.parametrize("path,evaluation", _evaluation_cases())
def test_facts_are_the_engine_facts(path, evaluation):
    p = _load(path)
    chunk = _evaluations(_sections()[path])[evaluation]
    rows = _table_after(chunk, "**Facts**")
    assert rows is not None, f"`{path}` {evaluation}: no facts table"
    listed = tuple((_uncode(r[0]), r[1], _uncode(r[2])) for r in rows)
    assert listed == p.facts_of(evaluation)


@pytest.mark.parametrize("path,evaluation", _evaluation_cases())
def test_listed_outputs_exist_in_the_result(path, evaluation, monkeypatch):
    p = _load(path)
    chunk = _evaluations(_sections()[path])[evaluation]
    argv = _eval_command(chunk)
    monkeypatch.chdir(ROOT)
    result = p.evaluate(kpirules.read_facts(argv[2]), evaluation=evaluation)
    outputs = _table_after(chunk, "**Outputs**")
    assert outputs, f"`{path}` {evaluation}: no outputs table"
    assert tuple(_uncode(r[0]) for r in outputs) == result.outputs, f"`{path}` {evaluation}: outputs"
    rows = outputs + (_table_after(chunk, "**Scorecard values**") or [])
    for r in rows:
        name = _uncode(r[0])
        assert name in result.values, f"`{path}` {evaluation}: `{name}` is not in Result.values"
        assert _uncode(r[-1]) == _shown(result.values[name]), f"`{path}` {evaluation}: the shipped value of `{name}`"


def _shown(value) -> str:
    """A value as the page writes it; a per-member value as `{E01: 2694.78, E02: 2987.70}`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


# ---- company-set values are quoted accurately ----------------------------------------------------

def _quote_rows():
    cases = []
    for f, section in sorted(_sections().items()):
        for start, chunk in enumerate(section):
            if chunk.startswith("### Company-set values"):
                rest = section[start + 1:]
                for _, rows in _tables(rest):
                    for r in rows:
                        cases.append((f, r))
                break
    return cases


def test_every_file_has_a_company_set_section():
    for f, section in _sections().items():
        assert any(line.startswith("### Company-set values") for line in section), f"`{f}`"


@pytest.mark.parametrize("path,row", _quote_rows(), ids=lambda v: v if isinstance(v, str) else v[0])
def test_company_set_quotes_are_accurate(path, row):
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    n = int(row[0])
    written = _uncode(row[1])
    assert written in lines[n - 1], f"`{path}` line {n} does not hold `{written}`: {lines[n - 1]!r}"
    marks = re.findall(r"(\d+): `([^`]*)`", row[2])
    assert marks or row[2] == "(nothing)", f"`{path}` line {n}: unreadable marking {row[2]!r}"
    for line, text in marks:
        assert text in lines[int(line) - 1], f"`{path}` line {line} does not hold `{text}`"
