"""Golden files for the explanations of the shipped examples (text and JSON trace).

An auditor reads these; any change to them is reviewed in the diff (`pytest --update-golden`).
"""

import json
from pathlib import Path

import pytest

import kpirules
from kpirules.render import text

ROOT = Path(__file__).resolve().parents[1]

CASES = [
    ("u8_quarterly", "policies/u8_presales.rules", "examples/u8_quarterly.json", "quarterly"),
    ("u8_monthly", "policies/u8_presales.rules", "examples/u8_monthly.json", "monthly"),
]


@pytest.fixture
def at_root(monkeypatch):
    # Paths in explanations are shown as the user gave them: relative to the repository here.
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name, policy, facts, evaluation", CASES)
def test_text_explanation(at_root, golden, name, policy, facts, evaluation, lang):
    result = kpirules.load_policy(policy).evaluate(kpirules.read_facts(facts), evaluation, explain=True)
    golden(f"explain/{name}.{lang}.txt", text.render(result.to_json(), explain=True, lang=lang))


@pytest.mark.parametrize("name, policy, facts, evaluation", CASES)
def test_json_trace(at_root, golden, name, policy, facts, evaluation):
    result = kpirules.load_policy(policy).evaluate(kpirules.read_facts(facts), evaluation, explain=True)
    golden(f"explain/{name}.json", json.dumps(result.to_json(), ensure_ascii=False, indent=2))


@pytest.mark.parametrize("name, policy, facts, evaluation", CASES)
def test_trace_results_are_the_returned_values(at_root, name, policy, facts, evaluation):
    p = kpirules.load_policy(policy)
    plain = p.evaluate(kpirules.read_facts(facts), evaluation)
    explained = p.evaluate(kpirules.read_facts(facts), evaluation, explain=True)
    assert plain.values == explained.values
    assert {n["name"]: n["result"] for n in explained.trace["nodes"]} == explained.values


def test_text_explanation_names_every_value_with_its_label_and_source(at_root):
    p = kpirules.load_policy("policies/u8_presales.rules")
    result = p.evaluate(kpirules.read_facts("examples/u8_quarterly.json"), "quarterly", explain=True)
    rendered = text.render(result.to_json(), explain=True)
    for node in result.trace["nodes"]:
        assert f"{node['label']} ({node['name']})" in rendered
        assert f"policies/u8_presales.rules:{node['span'].line}:" in rendered
