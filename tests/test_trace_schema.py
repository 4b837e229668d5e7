"""Every trace kpirules produces is valid against docs/trace-schema.json; every reason code has its
sentences in both languages and its entry in docs/reasons.md.

Traces checked: each shipped policy on each shipped fact file it accepts (both U8 examples
among them), every `example` block written in the policies, every checked example of
docs/language.md (they exercise every construct), a policy written here for the reason codes
no shipped policy produces, and hypothesis-generated U8 fact sets. Besides the schema, a few
invariants JSON Schema cannot state are checked in Python (ids unique, a child's id is its
parent's id and its position, a value node's result is the returned value).
"""

from __future__ import annotations

import functools
import json
import re
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

import kpirules
from kpirules import examples, trace
from kpirules.errors import EvaluationError, FactError
from kpirules.render import reasons
from test_docs import BLOCKS as DOC_BLOCKS, Block
from test_u8_properties import monthly_facts, quarterly_facts

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "trace-schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)
POLICIES = sorted((ROOT / "policies").glob("*.rules"))
FACT_FILES = sorted((ROOT / "examples").glob("*.json"))
U8 = kpirules.load_policy(ROOT / "policies" / "u8_presales.rules")

# The reason codes no shipped policy happens to produce, written here once each.
RARE = """policy rare "少见的理由"
evaluation e:
    fact late: count
    fact bonus_points: number
    fact delivered: boolean
    fact won: count
    fact supported: count
    scorecard s "得分":
        item additions "加分" weight 10:
            plus 2
            plus 1 per late
            plus 5 if late > 100
            score 0 if not delivered
            score 7 if delivered
        item no_line "只有低于档" weight 10:
            ladder won / supported standard 50%, if none: 0%
                minus 1 per full 10% below
        item above_no_line "只有高于档" weight 10:
            ladder won / supported standard 50%, if none: 80%
                minus 1 per full 10% below
        item none_at "无比率" weight 10:
            ladder won / supported standard 50%, if none: standard
                minus 1 per full 10% below
"""
RARE_FACTS = [
    {"late": 3, "bonus_points": "0.5", "delivered": True, "won": 0, "supported": 0},
    {"late": 3, "bonus_points": "0.5", "delivered": False, "won": 9, "supported": 10},
    {"late": 0, "bonus_points": "0", "delivered": True, "won": 1, "supported": 10},
]


# ---- the traces ------------------------------------------------------------------------------

def _shipped():
    """(id, policy, facts, evaluation) for each policy x fact file x evaluation that evaluates."""
    used = set()
    cases = []
    for path in POLICIES:
        policy = kpirules.load_policy(path)
        for facts_path in FACT_FILES:
            facts = kpirules.read_facts(facts_path)
            for ev in policy.evaluations:
                try:
                    policy.evaluate(facts, evaluation=ev)
                except (FactError, EvaluationError):
                    continue
                used.add(facts_path.name)
                cases.append((f"{path.stem}:{facts_path.name}:{ev}", policy, facts, ev))
    return cases, used


SHIPPED, USED_FACT_FILES = _shipped()


def _policy_examples():
    for path in POLICIES:
        policy = kpirules.load_policy(path)
        for ex in policy._model.examples:
            if ex.errors:  # an example of refused facts has no trace
                continue
            yield pytest.param(policy, examples.facts_of(ex, policy.path), ex.evaluation,
                               id=f"{path.stem}:{ex.span.line}")


def _doc_examples():
    for block in DOC_BLOCKS:
        if block.is_fragment_only:
            continue
        for i, check in enumerate(block.checks):
            if "violations" in check:
                continue
            evaluation = check.get("evaluation") or (None if block.is_policy else "example")
            yield pytest.param(block, check.get("facts", {}), evaluation, check.get("as_of"),
                               id=f"language.md:{block.line}:{i}")


def _errors(doc) -> list:
    """Schema errors and broken invariants of one trace document (as JSON), as readable lines."""
    out = []
    for err in sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.absolute_path))[:10]:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path) or "(top)"
        out.append(f"{where}: {err.message[:300]}")
    if out:
        return out
    seen = set()

    def walk(node, expected_id=None):
        if node["id"] in seen:
            out.append(f"{node['id']}: id used twice")
        seen.add(node["id"])
        if expected_id is not None and node["id"] != expected_id:
            out.append(f"{node['id']}: a child's id is its parent's id and its position, {expected_id}")
        for i, child in enumerate(node["children"]):
            walk(child, f"{node['id']}/{i}")

    for node in doc["inputs"] + doc["nodes"]:
        walk(node)
    evaluation = doc["evaluation"]["name"]
    for node in doc["nodes"]:
        if node["id"] != f"{evaluation}/{node['name']}":
            out.append(f"{node['id']}: a value's id is EVALUATION/NAME")
    for node in doc["inputs"]:
        if node["id"] != f"{evaluation}/fact/{node['name']}":
            out.append(f"{node['id']}: a fact's id is EVALUATION/fact/NAME")
    return out


def check(result: kpirules.Result) -> dict:
    """Assert the trace of `result` is valid; return its JSON form."""
    data = result.to_json()
    doc = data["trace"]
    problems = _errors(doc)
    assert not problems, "the trace does not match docs/trace-schema.json:\n" + "\n".join(problems)
    # (an assertion that held is a node of the trace, not a value of the result)
    assert {n["name"]: n["result"] for n in doc["nodes"] if n["kind"] != "assertion"} == data["values"]
    return doc


# ---- the schema itself -----------------------------------------------------------------------

def test_the_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["properties"]["schema"]["const"] == trace.SCHEMA


def test_the_schema_lists_every_kind_and_every_reason_code():
    assert SCHEMA["$defs"]["node"]["properties"]["kind"]["enum"] == list(trace.KINDS)
    assert set(SCHEMA["$defs"]["reason"]["properties"]["code"]["enum"]) == set(reasons.TEMPLATES)


def test_the_schema_refuses_what_is_not_a_trace():
    doc = U8.evaluate(kpirules.read_facts(ROOT / "examples" / "u8_quarterly.json"), "quarterly",
                      explain=True).to_json()["trace"]
    assert _errors(doc) == []
    node = doc["nodes"][-1]
    bad = [
        {**doc, "schema": "kpirules.trace/2"},
        {**doc, "nodes": [{**node, "result": 7488.0}]},           # a JSON float
        {**doc, "nodes": [{**node, "result": "7,488.00"}]},       # a number for people, not exact
        {**doc, "nodes": [{**node, "kind": "bonus"}]},
        {**doc, "nodes": [{**node, "reason": {**node["reason"], "code": "output.magic"}}]},
        {**doc, "nodes": [{**node, "reason": {**node["reason"], "params": {}}}]},
        {**doc, "nodes": [{**node, "span": {**node["span"], "line": 0}}]},
        {**doc, "nodes": [{k: v for k, v in node.items() if k != "cites"}]},
        {**doc, "nodes": [{**node, "weight": "10"}]},              # only items have a weight
        {**doc, "nodes": [{**node, "children": [{**node["children"][0], "kind": "input"}]}]},
    ]
    for i, b in enumerate(bad):
        assert _errors(b), f"case {i} should be refused"


# ---- every trace the suite can produce -------------------------------------------------------

def test_every_shipped_fact_file_is_checked():
    assert {p.name for p in FACT_FILES} <= USED_FACT_FILES
    ids = [c[0] for c in SHIPPED]
    assert "u8_presales:u8_quarterly.json:quarterly" in ids and "u8_presales:u8_monthly.json:monthly" in ids


@pytest.mark.parametrize("policy, facts, evaluation", [c[1:] for c in SHIPPED], ids=[c[0] for c in SHIPPED])
def test_shipped_examples(policy, facts, evaluation):
    check(policy.evaluate(facts, evaluation=evaluation, explain=True))


@pytest.mark.parametrize("policy, facts, evaluation", list(_policy_examples()))
def test_examples_written_in_policies(policy, facts, evaluation):
    check(policy.evaluate(facts, evaluation=evaluation, explain=True))


@pytest.mark.parametrize("block, facts, evaluation, as_of", list(_doc_examples()))
def test_examples_of_the_language_reference(block: Block, facts, evaluation, as_of):
    policy = kpirules.load_policy_text(block.source(), f"docs/language.md:{block.line}")
    check(policy.evaluate(facts, evaluation=evaluation, explain=True, as_of=as_of))


@pytest.mark.parametrize("facts", RARE_FACTS, ids=["no_rate", "not_delivered", "exact"])
def test_the_rarer_reason_codes(facts):
    policy = kpirules.load_policy_text(RARE, "rare.rules")
    check(policy.evaluate(facts, explain=True))


HYPOTHESIS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPOTHESIS
@given(quarterly_facts())
def test_generated_quarterly_facts(facts):
    check(U8.evaluate(facts, "quarterly", explain=True))


@HYPOTHESIS
@given(monthly_facts())
def test_generated_monthly_facts(facts):
    check(U8.evaluate(facts, "monthly", explain=True))


# ---- reason codes: templates in both languages, docs/reasons.md ---------------------------------

# How trace.py spells a code with a placeholder, and the codes it can stand for. A new spelling
# fails test_every_code_trace_py_can_emit_has_a_template until it is added here.
_EXPANSIONS = {
    "{kind}": ("value", "output"),
    "{name}": ("floor", "cap"),
    "{e['sign']}": ("minus", "plus"),
    "{e['direction']}": ("below", "above"),
}


def _codes_in_trace_py() -> set:
    source = Path(trace.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'(?<![\w{])"([a-z_]+\.[a-z_]+)"', source))
    for pattern in re.findall(r'\bf"((?:\{[^}"]+\}|[a-z_]+)\.(?:\{[^}"]+\}|[a-z_]+))"', source):
        parts = re.split(r"(\{[^}]*\})", pattern)
        options = [""]
        for part in parts:
            if part.startswith("{"):
                assert part in _EXPANSIONS, f"trace.py builds a reason code as f\"{pattern}\": add {part} to _EXPANSIONS"
                options = [o + v for o in options for v in _EXPANSIONS[part]]
            else:
                options = [o + part for o in options]
        codes.update(options)
    return codes


def test_every_code_trace_py_can_emit_has_a_template():
    codes = _codes_in_trace_py()
    assert len(codes) >= 25  # the scan found them
    missing = sorted(codes - set(reasons.TEMPLATES))
    assert not missing, f"reason codes without a template in render/reasons.py: {missing}"
    unused = sorted(set(reasons.TEMPLATES) - codes)
    assert not unused, f"templates for codes trace.py never emits: {unused}"


@pytest.mark.parametrize("code", sorted(reasons.TEMPLATES))
def test_every_code_has_a_chinese_and_an_english_template(code):
    templates = reasons.TEMPLATES[code]
    assert set(templates) == set(reasons.LANGUAGES) == {"en", "zh"}
    for lang in reasons.LANGUAGES:
        assert templates[lang].strip(), f"{code}: empty {lang} template"
    fields = {lang: {f for _, f, _, _ in string.Formatter().parse(templates[lang]) if f}
              for lang in reasons.LANGUAGES}
    assert fields["en"] == fields["zh"], f"{code}: the languages use different parameters"


def test_a_missing_template_is_a_test_failure(monkeypatch):
    """The check above would catch a code that lost a language (the 'missing template' rule)."""
    monkeypatch.setitem(reasons.TEMPLATES, "gate.passed", {"en": reasons.TEMPLATES["gate.passed"]["en"]})
    with pytest.raises(AssertionError):
        test_every_code_has_a_chinese_and_an_english_template("gate.passed")


@functools.cache
def produced() -> tuple:
    """The traces of every deterministic case above (shipped, policy examples, docs, rare)."""
    cases = [c[1:] for c in SHIPPED] + [p.values for p in _policy_examples()]
    out = [policy.evaluate(facts, evaluation=ev, explain=True).to_json()["trace"] for policy, facts, ev in cases]
    for p in _doc_examples():
        block, facts, ev, as_of = p.values
        policy = kpirules.load_policy_text(block.source(), f"docs/language.md:{block.line}")
        out.append(policy.evaluate(facts, evaluation=ev, explain=True, as_of=as_of).to_json()["trace"])
    rare = kpirules.load_policy_text(RARE, "rare.rules")
    out.extend(rare.evaluate(f, explain=True).to_json()["trace"] for f in RARE_FACTS)
    return tuple(out)


def test_the_produced_traces_use_every_code():
    used = {n["reason"]["code"] for doc in produced() for n in _all_nodes(doc)}
    assert used == set(reasons.TEMPLATES), f"never produced: {sorted(set(reasons.TEMPLATES) - used)}"


# Placeholders sentence() fills in itself, from the parameters (not parameters themselves).
_DERIVED = {"rate_exact", "range", "id", "reason", "args", "tied_text", "leftover_text", "of"}
# No template may name a parameter its reason does not carry.
_KNOWN_GAPS = set()


def test_every_template_parameter_is_given():
    problems = set()
    for doc in produced():
        for node in _all_nodes(doc):
            reason = node["reason"]
            for lang in reasons.LANGUAGES:
                template = reasons.TEMPLATES[reason["code"]][lang]
                fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
                for field in fields - set(reason["params"]) - _DERIVED:
                    problems.add((reason["code"], field))
                text = reasons.sentence(reason, lang, node["display"])
                for field in fields - {f for _, f in _KNOWN_GAPS if _ == reason["code"]}:
                    assert "{" + field + "}" not in text, (reason["code"], lang, text)
    assert problems == _KNOWN_GAPS


def _all_nodes(doc):
    stack = list(doc["inputs"]) + list(doc["nodes"])
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node["children"])


@functools.cache
def reasons_md() -> str:
    return (ROOT / "docs" / "reasons.md").read_text(encoding="utf-8")


def _section(code: str) -> str:
    parts = re.split(r"^### ", reasons_md(), flags=re.M)
    found = [p for p in parts if p.startswith(f"`{code}`")]
    assert len(found) == 1, f"docs/reasons.md has no section `### \\`{code}\\``"
    return found[0]


_TEMPLATE_BLOCK = re.compile(r"^(### `(?P<code>[^`]+)`.*?^```text\n)(?P<body>.*?)(^```$)", re.M | re.S)


@pytest.fixture(scope="module")
def reasons_doc(request):
    """docs/reasons.md; under `pytest --update-golden`, its template blocks are first rewritten
    from render/reasons.py (the parameter tables stay hand-written)."""
    if request.config.getoption("--update-golden"):
        path = ROOT / "docs" / "reasons.md"

        def block(m):
            templates = reasons.TEMPLATES.get(m.group("code"))
            if templates is None:
                return m.group(0)
            body = "".join(f"{lang}: {templates[lang]}\n" for lang in reasons.LANGUAGES)
            return m.group(1) + body + m.group(4)
        text = path.read_text(encoding="utf-8")
        path.write_text(_TEMPLATE_BLOCK.sub(block, text), encoding="utf-8", newline="\n")
        reasons_md.cache_clear()
    return reasons_md()


@pytest.mark.parametrize("code", sorted(reasons.TEMPLATES))
def test_docs_reasons_md_lists_the_code_with_both_templates_and_its_parameters(reasons_doc, code):
    section = _section(code)
    for lang in reasons.LANGUAGES:
        assert f"{lang}: {reasons.TEMPLATES[code][lang]}\n" in section, (
            f"docs/reasons.md: the {lang} template of `{code}` differs from render/reasons.py "
            "(`pytest --update-golden` rewrites the templates there; review the diff)")
    rules = [r["then"] for r in SCHEMA["$defs"]["reason"]["allOf"] if r["if"]["properties"]["code"]["const"] == code]
    assert len(rules) == 1
    for param in rules[0]["properties"]["params"]["properties"]:
        assert f"`{param}`" in section, f"docs/reasons.md: `{code}` does not describe its parameter `{param}`"


def test_docs_reasons_md_lists_no_unknown_code(reasons_doc):
    listed = re.findall(r"^### `([^`]+)`", reasons_md(), flags=re.M)
    assert sorted(listed) == sorted(reasons.TEMPLATES)


# ---- docs/explanations.md shows real output ----------------------------------------------------

# A fenced block right after `<!-- output: ARGS -->` is the output of `kpirules ARGS` run at the
# repository root; after `<!-- json: ARGS :: SELECT -->`, the part SELECT of that JSON output
# (dotted keys; `nodes@NAME` is the node named NAME). `pytest --update-golden` rewrites them.
_GENERATED = re.compile(r"^<!-- (?P<how>output|json): (?P<args>.*?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)^```$",
                        re.M | re.S)


def _generated(how: str, args: str, capsys) -> str:
    from kpirules.cli import main
    argv, _, select = args.partition(" :: ")
    code = main(argv.split())
    out = capsys.readouterr().out
    assert code == 0, f"`kpirules {argv}` failed"
    if how == "output":
        return out
    value = json.loads(out)
    for key in select.split("."):
        name, _, wanted = key.partition("@")
        value = value[name]
        if wanted:
            value = next(n for n in value if n["name"] == wanted)
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def test_docs_explanations_md_shows_real_output(request, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = ROOT / "docs" / "explanations.md"
    text = path.read_text(encoding="utf-8")
    blocks = list(_GENERATED.finditer(text))
    assert len(blocks) >= 3
    if request.config.getoption("--update-golden"):
        text = _GENERATED.sub(lambda m: m.group(0)[:m.start("body") - m.start()] + _generated(
            m.group("how"), m.group("args"), capsys) + "```", text)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    for m in blocks:
        assert m.group("body") == _generated(m.group("how"), m.group("args"), capsys), (
            f"docs/explanations.md: the block after `<!-- {m.group('how')}: {m.group('args')} -->` is not what "
            "kpirules prints now (`pytest --update-golden` rewrites it; review the diff)")
