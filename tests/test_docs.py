"""The language reference is executable: its examples load, its stated results hold, its keywords match.

Rules for docs/language.md (see the top of that page):

- Every ```` ```rules ```` block is extracted. A block whose first line of code starts with `policy`
  is a complete policy and is loaded as it is. Any other block is a fragment of an evaluation's
  body and is loaded indented under `policy doc_example` / `evaluation example:`. A block whose
  info string is ```` ```rules fragment ```` is not loadable on its own and is skipped.
- Loading must succeed (warnings such as an unused fact are fine).
- An HTML comment right after a block, `<!-- check {"facts": {...}, "evaluation": NAME,
  "values": {NAME: VALUE}} -->` (invisible when the page is rendered), evaluates the block on those
  facts and compares the named values with their JSON form (decimal strings, texts, booleans).
  With `"violations": [[PATH, CODE], ...]` instead, the facts must be refused with exactly those
  violations, in that order. Several checks may follow one block. The facts are read as
  `read_facts` reads a JSON file (numbers exactly).
- Blocks are loaded as if they were files in docs/, so `import NAME` finds the repository's
  ruleset/ modules. The `example` blocks of a loaded block must pass, as `kpirules test` runs them,
  unless its info string is ```` ```rules failing ````.
- A marker `<!-- kpirules test PATH exit N -->` after a complete policy block runs `kpirules test PATH`
  on it (written to PATH in a temporary folder that also holds a copy of ruleset/): the exit status
  must be N and the standard output exactly the ```` ```text ```` block that follows the marker
  (`pytest --update-golden` rewrites that block from the real output; review the diff).
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import kpirules
from kpirules import examples
from kpirules.cli import main

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = ROOT / "docs" / "language.md"
API = ROOT / "docs" / "api.md"
GRAMMAR = ROOT / "src" / "kpirules" / "grammar.lark"

_FENCE = re.compile(r"^```rules(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_CHECK = re.compile(r"\s*<!--\s*check\s+(?P<json>\{.*?\})\s*-->", re.S)
_WRAP_HEAD = "policy doc_example\n\nevaluation example:\n"


@attrs.frozen
class Block:
    line: int       # 1-based line of the opening fence in the document
    info: str       # what follows ```rules on the fence line
    body: str
    checks: tuple   # parsed check comments

    @property
    def is_fragment_only(self) -> bool:
        return "fragment" in self.info.split()

    @property
    def examples_may_fail(self) -> bool:
        return "failing" in self.info.split()

    @property
    def is_policy(self) -> bool:
        for line in self.body.splitlines():
            code = line.strip()
            if code and not code.startswith("#"):
                return code.split()[0] == "policy"
        return False

    def source(self) -> str:
        if self.is_policy:
            return self.body
        return _WRAP_HEAD + textwrap.indent(self.body, "    ")


def rules_blocks(text: str) -> list[Block]:
    blocks = []
    for m in _FENCE.finditer(text):
        checks = []
        pos = m.end()
        while True:
            c = _CHECK.match(text, pos)
            if c is None:
                break
            checks.append(json.loads(c.group("json"), parse_float=Decimal))
            pos = c.end()
        blocks.append(Block(line=text.count("\n", 0, m.start()) + 1, info=m.group("info").strip(),
                            body=m.group("body"), checks=tuple(checks)))
    return blocks


def grammar_keywords() -> set[str]:
    """The quoted lowercase words of the grammar (comments left out)."""
    text = "\n".join(line for line in GRAMMAR.read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith("//"))
    return set(re.findall(r'"([a-z]+)"', text))


DOC_TEXT = LANGUAGE.read_text(encoding="utf-8")
BLOCKS = rules_blocks(DOC_TEXT)


def _load(block: Block) -> kpirules.Policy:
    # An absolute path in docs/: imports are found in the repository's ruleset/, from any folder.
    try:
        return kpirules.load_policy_text(block.source(), f"{LANGUAGE}:{block.line}")
    except kpirules.PolicyError as exc:
        pytest.fail(f"the example at docs/language.md line {block.line} does not load:\n{exc.render()}\n"
                    f"--- source as loaded ---\n{block.source()}")


# ---- the examples ----------------------------------------------------------------------------

def test_the_page_has_examples_of_both_kinds_and_checks():
    assert len(BLOCKS) >= 20
    assert any(b.is_policy for b in BLOCKS)
    assert any(not b.is_policy and not b.is_fragment_only for b in BLOCKS)
    assert sum(len(b.checks) for b in BLOCKS) >= 20
    # A check comment that is malformed would be silently ignored: make sure every one was read.
    assert DOC_TEXT.count("<!-- check") == sum(len(b.checks) for b in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"line{b.line}" for b in BLOCKS])
def test_example_loads(block: Block):
    if block.is_fragment_only:
        pytest.skip("marked ```rules fragment")
    policy = _load(block)
    assert policy.evaluations
    if not block.examples_may_fail:
        failed = [case.render() for case in examples.run(policy) if not case.passed]
        assert not failed, f"docs/language.md line {block.line}: examples fail:\n" + "\n".join(failed)


CHECKS = [(b, i, c) for b in BLOCKS for i, c in enumerate(b.checks)]
_CHECK_IDS = [f"line{b.line}-check{i}" for b, i, _ in CHECKS]

def _explained(block, i, check):
    return pytest.param(block, i, check)


def _check(block: Block, check: dict, explain: bool):
    assert not block.is_fragment_only, "a fragment that cannot be loaded cannot be checked"
    policy = _load(block)
    evaluation = check.get("evaluation")
    if evaluation is None and not block.is_policy:
        evaluation = "example"
    if "violations" in check:
        with pytest.raises(kpirules.FactError) as refused:
            policy.evaluate(check.get("facts", {}), evaluation=evaluation, explain=explain)
        found = [[v.path, v.code] for v in refused.value.violations]
        assert found == check["violations"], f"docs/language.md line {block.line}"
        return
    result = policy.evaluate(check.get("facts", {}), evaluation=evaluation, explain=explain,
                             as_of=check.get("as_of"))
    values = result.to_json()["values"]
    for name, expected in check.get("values", {}).items():
        assert name in values, f"docs/language.md line {block.line}: no value `{name}`"
        assert values[name] == expected, (
            f"docs/language.md line {block.line} (explain={explain}): `{name}` is "
            f"{values[name]!r}, the page says {expected!r}")


@pytest.mark.parametrize("block, index, check", CHECKS, ids=_CHECK_IDS)
def test_stated_results_hold(block: Block, index: int, check: dict):
    _check(block, check, explain=False)


@pytest.mark.parametrize("block, index, check", [_explained(*c) for c in CHECKS], ids=_CHECK_IDS)
def test_stated_results_hold_when_explained(block: Block, index: int, check: dict):
    """The explaining evaluator gives the same values (it may run a different path than the fast one)."""
    _check(block, check, explain=True)


def test_fragments_are_wrapped_in_an_evaluation():
    block = Block(line=1, info="", body="fact x: number\noutput y = x * 2\n", checks=())
    assert not block.is_policy
    policy = _load(block)
    assert policy.evaluate({"x": 2}, evaluation="example").values["y"] == 4


def test_a_policy_is_recognised_after_leading_comments():
    assert Block(line=1, info="", body="# title\n\npolicy p\n", checks=()).is_policy


# ---- `kpirules test` runs shown on the page ------------------------------------------------

_RUN = re.compile(r"<!--\s*kpirules test (?P<path>\S+) exit (?P<exit>\d+)\s*-->\s*\n```text\n(?P<out>.*?)^```",
                  re.M | re.S)


def _runs():
    out = []
    for m in _RUN.finditer(DOC_TEXT):
        before = [b for b in BLOCKS if b.line <= DOC_TEXT.count("\n", 0, m.start()) + 1]
        out.append(pytest.param(before[-1], m.group("path"), int(m.group("exit")), m.group("out"),
                                id=f"line{DOC_TEXT.count(chr(10), 0, m.start()) + 1}"))
    return out


RUNS = _runs()


def test_the_page_shows_a_kpirules_test_run():
    assert RUNS
    assert DOC_TEXT.count("<!-- kpirules test") == len(RUNS), "a `kpirules test` marker was not read"


@pytest.mark.parametrize("block, path, exit_code, expected", RUNS)
def test_kpirules_test_output_shown_is_real(block, path, exit_code, expected, tmp_path, monkeypatch, capsys,
                                            request):
    """The output shown is what `kpirules test` prints; `pytest --update-golden` rewrites it in the page."""
    assert block.is_policy, "a `kpirules test` run needs a complete policy block before it"
    shutil.copytree(ROOT / "ruleset", tmp_path / "ruleset")
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(block.body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = main(["test", path])
    out = capsys.readouterr().out
    if out != expected and request.config.getoption("--update-golden"):
        text = LANGUAGE.read_text(encoding="utf-8")
        marker = f"<!-- kpirules test {path} exit {exit_code} -->\n```text\n"
        assert text.count(marker + expected) == 1
        LANGUAGE.write_text(text.replace(marker + expected, marker + out), encoding="utf-8")
        expected = out
    assert out == expected, (f"docs/language.md line {block.line}: `kpirules test {path}` prints (run "
                             f"`pytest --update-golden` to rewrite the page's copy, and review it):\n{out}")
    assert code == exit_code


# ---- keywords --------------------------------------------------------------------------------

KEYWORDS = sorted(grammar_keywords())


def test_the_grammar_has_keywords():
    assert {"policy", "ladder", "prorated", "gate", "matching"} <= set(KEYWORDS)


@pytest.mark.parametrize("keyword", KEYWORDS)
def test_every_keyword_is_documented(keyword: str):
    assert re.search(rf"(?<![\w]){keyword}(?![\w])", DOC_TEXT), (
        f"keyword `{keyword}` of grammar.lark does not appear in docs/language.md")


def test_the_reserved_keyword_list_matches_the_grammar():
    section = DOC_TEXT.split("## Reserved keywords", 1)[1]
    listed = re.search(r"^```\n(.*?)^```", section, re.M | re.S).group(1).split()
    assert len(listed) == len(set(listed)), "a keyword is listed twice"
    assert set(listed) == set(KEYWORDS)


# ---- docs/api.md -----------------------------------------------------------------------------

_PYTHON = re.compile(r"^```python\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)


def test_api_examples_run(monkeypatch):
    """The Python examples of docs/api.md run, in order, from the repository root."""
    text = API.read_text(encoding="utf-8")
    bodies = [m.group("body") for m in _PYTHON.finditer(text)]
    assert bodies
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for body in bodies:
        exec(compile(body, str(API), "exec"), namespace)  # noqa: S102 - our own documentation
