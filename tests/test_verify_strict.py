"""`kpirules verify` refuses results that could be read two ways, or that carry what kpirules never writes
(audit.py): duplicate keys, unknown fields, numbers for decimal strings, a removed trace, forged warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kpirules import audit
from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
U8 = "policies/u8_presales.rules"
QUARTERLY = "examples/u8_quarterly.json"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def result_text(capsys):
    def make(explain=False, facts=QUARTERLY):
        code, out, err = run(capsys, "eval", U8, facts, "--evaluation", "quarterly", "--format", "json",
                             *(["--explain"] if explain else []))
        assert code == 0, err
        return out
    return make


def verify(capsys, tmp_path, text, facts=QUARTERLY):
    path = tmp_path / "r.json"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "verify", str(path), facts, U8)
    return code, out, err.replace(str(path), "r.json")


def test_the_result_as_written_verifies(capsys, tmp_path, result_text):
    code, out, _ = verify(capsys, tmp_path, result_text())
    assert code == 0 and out == "verified: 16 values match\n"


def test_a_value_given_twice_is_refused(capsys, tmp_path, result_text):
    """The issue's case: `quarterly_bonus` twice, the forged value first (a reader keeping the first
    key shows 99999.00; Python's json keeps the last, which re-evaluates fine)."""
    text = result_text().replace('"quarterly_bonus": "7488.00"',
                                 '"quarterly_bonus": "99999.00",\n    "quarterly_bonus": "7488.00"')
    assert text.count('"quarterly_bonus"') == 2
    code, out, err = verify(capsys, tmp_path, text)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "r.json: error[V101]: `values.quarterly_bonus`: the key `quarterly_bonus` appears twice in the same object; "
        "a reader may take either value, so the result is ambiguous",
        "not verified: `r.json` is not a result as kpirules writes it (1 problem)",
    ]


@pytest.mark.parametrize("where, old, new, path", [
    ("stamp", '"engine": "0.1.0"', '"engine": "0.1.0", "engine": "0.1.0"', "stamp.engine"),
    ("top", '"evaluation": "quarterly"', '"evaluation": "quarterly", "evaluation": "quarterly"', "evaluation"),
    ("trace", '"kind": "item"', '"kind": "item", "kind": "item"', "trace.nodes[7].kind"),
])
def test_a_duplicate_key_anywhere_is_refused(capsys, tmp_path, result_text, where, old, new, path):
    text = result_text(explain=where == "trace")
    assert old in text
    code, _, err = verify(capsys, tmp_path, text.replace(old, new, 1))
    assert code == 2
    assert f"error[V101]: `{path}`: the key " in err


@pytest.mark.parametrize("change, path", [
    (lambda d: d.update(approved_by="CFO"), "approved_by"),
    (lambda d: d["stamp"].update(approved_by="CFO"), "stamp.approved_by"),
    (lambda d: d["policy"].update(owner="HR"), "policy.owner"),
    (lambda d: d.update(warnings=[{"code": "F200", "severity": "warning", "path": "x", "message": "m",
                                   "by": "me"}]), "warnings[0].by"),
])
def test_an_unknown_field_is_refused(capsys, tmp_path, result_text, change, path):
    data = json.loads(result_text())
    change(data)
    code, out, err = verify(capsys, tmp_path, json.dumps(data, ensure_ascii=False, indent=2))
    assert code == 2 and out == ""
    key = path.rsplit(".", 1)[-1]
    assert f"r.json: error[V102]: `{path}`: kpirules never writes a field `{key}` here (it writes: " in err


@pytest.mark.parametrize("old, new, path", [
    ('"quarterly_bonus": "7488.00"', '"quarterly_bonus": 7488.00', "values.quarterly_bonus"),
    ('"kpi_score": "78"', '"kpi_score": 78', "values.kpi_score"),
    ('"quarterly_bonus": "7488.00"', '"quarterly_bonus": 7.488e3', "values.quarterly_bonus"),
    ('"version": "2026.1"', '"version": 2026.1', "policy.version"),
])
def test_a_number_where_a_decimal_string_is_written_is_refused(capsys, tmp_path, result_text, old, new, path):
    text = result_text()
    assert old in text
    code, _, err = verify(capsys, tmp_path, text.replace(old, new, 1))
    assert code == 2
    number = new.split(": ", 1)[1]
    assert f"r.json: error[V103]: `{path}`: the number {number} is written where kpirules writes a decimal" in err


def test_the_trace_may_hold_its_line_numbers_but_no_other_number(capsys, tmp_path, result_text):
    text = result_text(explain=True)
    code, _, _ = verify(capsys, tmp_path, text)
    assert code == 0  # spans' lines and columns, item counts and indexes are integers
    data = json.loads(text)
    data["trace"]["nodes"][0]["result"] = 11600000
    code, _, err = verify(capsys, tmp_path, json.dumps(data, ensure_ascii=False))
    assert code == 2 and "error[V103]: `trace.nodes[0].result`: the number 11600000" in err


def test_a_removed_trace_is_refused(capsys, tmp_path, result_text):
    data = json.loads(result_text(explain=True))
    assert data["stamp"]["explained"] is True
    del data["trace"]
    code, out, err = verify(capsys, tmp_path, json.dumps(data, ensure_ascii=False))
    assert code == 2 and out == ""
    assert err.splitlines()[0] == (
        'r.json: error[V104]: `trace`: the stamp says the result carries its trace (`"explained": true`), '
        "and the result has none: it was removed")


def test_an_added_trace_is_refused(capsys, tmp_path, result_text):
    data = json.loads(result_text())
    data["trace"] = json.loads(result_text(explain=True))["trace"]
    code, _, err = verify(capsys, tmp_path, json.dumps(data, ensure_ascii=False))
    assert code == 2 and "error[V104]: `trace`: the stamp says the result carries no trace" in err


def test_a_stamp_that_no_longer_says_explained_is_a_difference(capsys, tmp_path, result_text):
    data = json.loads(result_text(explain=True))
    del data["trace"], data["stamp"]["explained"]
    code, out, _ = verify(capsys, tmp_path, json.dumps(data, ensure_ascii=False))
    assert code == 1
    assert "stamp explained: result says nothing, re-evaluation gives false" in out


def test_every_problem_is_listed_at_once_in_a_stable_order(capsys, tmp_path, result_text):
    text = result_text().replace('"quarterly_bonus": "7488.00"', '"quarterly_bonus": 7488.00')
    text = text.replace('"engine": "0.1.0"', '"engine": "0.1.0", "engine": "0.1.0", "approved_by": "CFO"')
    code, _, err = verify(capsys, tmp_path, text)
    assert code == 2
    assert [line.split("`")[1] for line in err.splitlines()[:-1]] == [
        "stamp.engine", "stamp.approved_by", "values.quarterly_bonus"]
    assert err.splitlines()[-1].endswith("(3 problems)")


def test_a_forged_warning_is_a_difference(capsys, tmp_path, result_text):
    data = json.loads(result_text())
    data["warnings"] = [{"code": "F200", "severity": "warning", "path": "approved",
                         "message": "unknown fact, ignored (evaluation `quarterly` does not declare it)"}]
    code, out, _ = verify(capsys, tmp_path, json.dumps(data, ensure_ascii=False))
    assert code == 1
    assert out.splitlines()[0].startswith('warnings[0]: result says {"code": "F200"')
    assert out.splitlines()[0].endswith("re-evaluation gives no such warning")


def test_a_real_warning_verifies(capsys, tmp_path, result_text):
    facts = json.loads((ROOT / QUARTERLY).read_text(encoding="utf-8"))
    facts["note"] = "added"
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    text = result_text(facts=str(path))
    assert '"warnings"' in text
    code, out, _ = verify(capsys, tmp_path, text, facts=str(path))
    assert code == 0, out


def test_audit_reads_only_what_kpirules_writes():
    data, problems = audit.check(audit.loads('{"evaluation": "q", "values": {"a": "1"}, "trace": '
                                             '{"span": {"line": 3}, "n": [{"index": 2}]}}'))
    assert problems == []
    assert data["trace"] == {"span": {"line": 3}, "n": [{"index": 2}]}
    _, problems = audit.check(audit.loads('{"trace": {"span": {"line": 3.0}}, "values": {"a": NaN}}'))
    assert [(p.code, p.path) for p in problems] == [("V103", "trace.span.line"), ("V103", "values.a")]


@pytest.mark.parametrize("depth", [900, 100_000])
def test_a_deeply_nested_result_is_refused_without_a_traceback(capsys, tmp_path, depth):
    text = '{"evaluation": "q", "values": {}, "x": ' + "[" * depth + "]" * depth + "}"
    code, out, err = verify(capsys, tmp_path, text)
    assert code == 2 and out == ""
    assert err.startswith("kpirules: error: result file `r.json` is ")
    assert "internal error" not in err and "Traceback" not in err


def test_every_result_kpirules_writes_passes_the_strict_reader(monkeypatch):
    """Every value case of the conformance corpus, explained and stamped: audit.py finds nothing."""
    import kpirules
    from kpirules import conformance, stamp
    checked = 0
    for folder in conformance.cases(ROOT / "tests" / "conformance"):
        case = conformance.load_case(folder)
        if "values" not in case["expect"] or "policy_padding" in case:
            continue
        monkeypatch.chdir(folder)
        policy = kpirules.load_policy(case["policy"])
        facts = kpirules.read_facts(case["facts"])
        for explain in (False, True):
            result = policy.evaluate(facts, evaluation=case.get("evaluation"), as_of=case.get("as_of"),
                                     explain=explain)
            text = json.dumps(result.to_json(stamp=stamp.make(result.policy, facts, result.as_of, explain)),
                              ensure_ascii=False, indent=2)
            _, problems = audit.check(audit.loads(text))
            assert problems == [], (folder.name, explain, problems)
        checked += 1
    assert checked >= 100


# ---- any file at all: the strict reader and the comparison never fail with an exception ----------

def _fresh_and_claimed():
    import kpirules
    from kpirules import stamp
    policy = kpirules.load_policy(ROOT / U8)
    facts = kpirules.read_facts(ROOT / QUARTERLY)
    result = policy.evaluate(facts, evaluation="quarterly", explain=True)
    fresh = result.to_json(stamp=stamp.make(result.policy, facts, result.as_of, True))
    return fresh, json.dumps(fresh, ensure_ascii=False)


def test_hostile_results_are_refused_or_compared_never_crash():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from kpirules import stamp
    fresh, text = _fresh_and_claimed()
    texts = st.text(alphabet=st.characters(codec=None), max_size=8)  # lone surrogates included
    leaves = st.none() | st.booleans() | st.integers(-10**60, 10**60) | texts \
        | st.sampled_from(["7488.00", "NaN", "1e400", "-0"])
    values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(texts, inner, max_size=3), max_leaves=8)
    paths = st.lists(st.sampled_from(["policy", "evaluation", "values", "stamp", "trace", "warnings", "nodes",
                                      "signature", "explained", "kpi_score", "as_of", "evaluation_version", 0, 1]),
                     min_size=1, max_size=4)

    def put(doc, path, value):
        node = doc
        for step in path[:-1]:
            if isinstance(node, dict) and isinstance(step, str):
                node = node.setdefault(step, {})
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                node = node[step]
            else:
                return
        last = path[-1]
        if isinstance(node, dict) and isinstance(last, str):
            node[last] = value
        elif isinstance(node, list) and isinstance(last, int) and last < len(node):
            node[last] = value

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(changes=st.lists(st.tuples(paths, values), min_size=1, max_size=3))
    def run(changes):
        doc = json.loads(text)
        for path, value in changes:
            put(doc, path, value)
        raw = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
        data, problems = audit.check(audit.loads(raw))
        if not problems and isinstance(data, dict) and isinstance(data.get("evaluation"), str) \
                and isinstance(data.get("values"), dict):
            found, _notes, _count = stamp.compare(data, fresh)
            for line in found:
                line.encode("utf-8")  # printable: no lone surrogate reaches the output
    run()


@pytest.mark.parametrize("change, code, path", [
    (lambda d: d.update(policy=["x"]), "V105", "policy"),
    (lambda d: d["policy"].update(name=True), "V105", "policy.name"),
    (lambda d: d["stamp"].update(explained="yes"), "V105", "stamp.explained"),
    (lambda d: d["stamp"].update(signature="x"), "V105", "stamp.signature"),
    (lambda d: d.update(evaluation_version="x"), "V105", "evaluation_version"),
    (lambda d: d.update(warnings=["x"]), "V105", "warnings[0]"),
    (lambda d: d["values"].update(kpi_score="\ud800"), "V106", "values.kpi_score"),
    (lambda d: d["values"].update({"\udc00": "1"}), "V106", "values"),
])
def test_a_field_of_another_kind_is_refused(capsys, tmp_path, result_text, change, code, path):
    data = json.loads(result_text())
    change(data)
    text = json.dumps(data, ensure_ascii=True)  # a lone surrogate as an escape, as a forger would write it
    code_, out, err = verify(capsys, tmp_path, text)
    assert code_ == 2 and out == ""
    assert f"r.json: error[{code}]: `{path}`: " in err
    assert "internal error" not in err


def test_an_added_as_of_is_a_difference(capsys, tmp_path, result_text):
    data = json.loads(result_text())
    data["as_of"] = "2026-01-01"
    code, out, _ = verify(capsys, tmp_path, json.dumps(data, ensure_ascii=False))
    assert code == 1 and out.splitlines()[0] == "as_of: result says 2026-01-01, re-evaluation gives nothing"


def test_forged_text_cannot_write_to_the_terminal(capsys, tmp_path, result_text):
    data = json.loads(result_text())
    data["values"]["quarterly_bonus"] = "\x1b[2J\x1b[Hverified: 16 values match\r"
    data["values"]["kpi\u202eerocs"] = "1"
    code, out, _ = verify(capsys, tmp_path, json.dumps(data, ensure_ascii=False))
    assert code == 1
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert ("quarterly_bonus: result says <U+001B>[2J<U+001B>[Hverified: 16 values match<U+000D>, "
            "re-evaluation gives 7488.00") in out
    assert "kpi<U+202E>erocs: result says 1, re-evaluation gives nothing" in out
    data = json.loads(result_text())
    data["values"]["a\x1b[31m"] = "1"
    key = '"a\\u001b[31m": "1"'
    text = json.dumps(data, ensure_ascii=False).replace(key, key + ', "a\\u001b[31m": "2"')
    code, _, err = verify(capsys, tmp_path, text)
    assert code == 2 and "\x1b" not in err and "`values.a<U+001B>[31m`" in err


@pytest.mark.parametrize("explain", [False, True])
def test_a_stamp_made_without_saying_explained_says_it_from_the_result(explain):
    import kpirules
    from kpirules import stamp
    policy = kpirules.load_policy(ROOT / U8)
    facts = kpirules.read_facts(ROOT / QUARTERLY)
    result = policy.evaluate(facts, evaluation="quarterly", explain=explain)
    made = stamp.make(result.policy, facts, result.as_of)
    assert "explained" not in made
    data = result.to_json(stamp=made)
    assert list(data["stamp"]) == ["schema", "trace_schema", "engine", "policy_sha256", "facts_sha256", "explained"]
    assert data["stamp"]["explained"] is explain
    assert audit.check(audit.loads(json.dumps(data)))[1] == []
