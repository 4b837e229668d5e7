"""`note "..."`: the author's own words, allowed wherever `cite` is, kept by `kpirules fmt`, carried
into the trace beside the cites (`notes`), and shown by every renderer as a note, never in
quotation marks (a quotation claims the source's words)."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

import kpirules
from kpirules import nodes as n
from kpirules.fmt import format_text
from kpirules.parser import parse_text
from kpirules.render import html, markdown, text
from test_fmt import ROOT, round_trip, tree

# A note in every place a cite may stand: a table body, a shared ladder, a function, a fact's
# block, a definition, an item, a ladder's block, a gate, a scorecard.
POLICY = '''policy notes "说明的位置"

table t "T" (k) -> number:
    1 -> 2
    note "table note"

ladder steps "S":
    minus 2 per full 5% below
    note "shared ladder note"

function f "F" (a: number) = a * 2
    note "function note"

evaluation e:
    fact k: integer in 1..1
        cite "k cite"
        note "fact note"
    fact r: number

    output v "V" = t[k] + f(r)
        cite "value cite"
        note "value note"

    scorecard s "S" total 100:
        item a "A" weight 100, g:
            ladder r standard 85% using steps
                note "ladder line note"
            floor 0
            note "item note"
        gate g items: count only if r > 100 else "too low"
            note "gate note"
        note "scorecard note"
'''
NOTES = ("table note", "shared ladder note", "function note", "fact note", "value note", "ladder line note",
         "item note", "gate note", "scorecard note")
FACTS = {"k": 1, "r": 90}


def _all(tree_, cls):
    return [x.text for x in n.walk(tree_) if isinstance(x, cls)]


def test_note_parses_as_its_own_node_wherever_a_cite_may_stand():
    policy = parse_text(POLICY)
    assert sorted(_all(policy, n.Note)) == sorted(NOTES)
    assert sorted(_all(policy, n.Cite)) == ["k cite", "value cite"]
    (note,) = [x for x in n.walk(policy) if isinstance(x, n.Note) and x.text == "value note"]
    assert note != n.Cite(text="value note", span=note.span)  # never mistaken for the source's words


def test_note_round_trips_through_fmt():
    assert round_trip(POLICY) == POLICY  # already in canonical layout
    messy = POLICY.replace('        note "value note"', '        note   "value note"   # why')
    out = round_trip(messy)
    assert '        note "value note"  # why' in out
    assert tree(parse_text(format_text(messy))) == tree(parse_text(messy))


def test_a_definition_takes_a_note_after_a_comma_too():
    text_ = 'policy p\nevaluation e:\n    fact a: number\n    output b = a, note "own words"\n'
    (ev,) = parse_text(text_).evaluations
    (d,) = ev.body
    assert [(type(c).__name__, c.text) for c in d.clauses] == [("Note", "own words")]
    assert round_trip(text_).endswith('    output b = a\n        note "own words"\n')


def _trace():
    return kpirules.load_policy_text(POLICY).evaluate(FACTS, explain=True).trace


def _nodes(trace):
    stack = [*trace["inputs"], *trace["nodes"]]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node["children"])


def test_the_trace_carries_notes_beside_cites():
    trace = _trace()
    notes = {c for node in _nodes(trace) for c in node["notes"]}
    cites = {c for node in _nodes(trace) for c in node["cites"]}
    assert notes == set(NOTES)
    assert cites == {"k cite", "value cite"}
    by_id = {node["id"]: node for node in _nodes(trace)}
    assert by_id["e/v"]["cites"] == ["value cite"] and by_id["e/v"]["notes"] == ["value note"]
    assert by_id["e/fact/k"]["notes"] == ["fact note"]
    assert by_id["e/a"]["notes"] == ["item note", "shared ladder note", "ladder line note"]
    kinds = {node["kind"]: node["notes"] for node in _nodes(trace) if node["notes"]}
    assert kinds["table_lookup"] == ["table note"]
    assert kinds["function_call"] == ["function note"]
    assert kinds["gate_excluded"] == ["gate note"]
    assert kinds["scorecard"] == ["scorecard note"]


def test_the_trace_with_notes_is_valid_against_the_schema():
    schema = json.loads((ROOT / "docs" / "trace-schema.json").read_text(encoding="utf-8"))
    result = kpirules.load_policy_text(POLICY).evaluate(FACTS, explain=True)
    doc = json.loads(json.dumps(result.to_json()))
    errors = list(Draft202012Validator(schema).iter_errors(doc["trace"]))
    assert errors == []


def _rendered(fmt: str, lang: str) -> str:
    result = kpirules.load_policy_text(POLICY).evaluate(FACTS, explain=True).to_json()
    if fmt == "text":
        return text.render(result, explain=True, lang=lang)
    if fmt == "markdown":
        return markdown.render(result, explain=True, lang=lang)
    return html.render(result, explain=True, lang=lang)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_renderer_shows_each_note_as_a_note_never_quoted(fmt, lang):
    out = _rendered(fmt, lang)
    label = "note" if lang == "en" else "说明"
    for note in NOTES:
        assert note in out, note
        assert f"\u201c{note}\u201d" not in out and f'"{note}"' not in out, f"{note} is quoted"
        assert f"&ldquo;{note}" not in out
    assert f"{label}: value note" in out or f"{label}:  value note" in out or (
        fmt == "html" and f'<dt>{label}</dt><dd class="note">value note</dd>' in out)
    # The cites are still quoted as the source's words.
    assert "\u201cvalue cite\u201d" in out


def test_html_shows_notes_outside_blockquotes():
    out = _rendered("html", "en")
    assert '<p class="note">note: fact note</p>' in out
    assert '<dd class="note">value note</dd>' in out
    assert "<blockquote>" in out and "blockquote>\u201cvalue note" not in out
    for note in NOTES:
        assert f"<blockquote>{note}" not in out
