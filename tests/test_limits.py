"""Limits (docs/limits.md): each one met with input far beyond it, refused with its own code in
under a second (time.perf_counter) and with bounded memory (tracemalloc's peak).

The input is built before the clock starts; what is measured is kpirules refusing it. The bounds
are generous (the machine running the suite may be busy): a limit is there to turn seconds and
gigabytes into milliseconds and megabytes, and these tests catch a limit that stops working.
`python -m pytest tests/test_limits.py -s` prints each measurement.
"""

from __future__ import annotations

import json
import re
import time
import tracemalloc
from pathlib import Path

import pytest

import kpirules
from kpirules import EvaluationError, FactError, PolicyError, load_policy_text, read_facts
from kpirules import limits as L
from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 1.0
MEGABYTES = 32


def measure(fn):
    """(seconds, peak MiB, what fn raised or returned): timed without tracemalloc, then run once
    more under it for the memory peak."""
    start = time.perf_counter()
    try:
        out = fn()
    except kpirules.KpiRulesError as exc:
        out = exc
    seconds = time.perf_counter() - start
    tracemalloc.start()
    try:
        fn()
    except kpirules.KpiRulesError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return seconds, peak / 2**20, out


def refused(fn, error, code, label, seconds=SECONDS, megabytes=MEGABYTES):
    took, peak, out = measure(fn)
    print(f"\n[limit] {label}: refused with {code} in {took * 1000:.1f} ms, peak {peak:.1f} MiB")
    assert isinstance(out, error), f"{label}: expected {error.__name__}, got {out!r}"[:500]
    assert code in _codes(out), f"{label}: {_codes(out)}"
    assert took < seconds, f"{label}: took {took:.2f} s"
    assert peak < megabytes, f"{label}: peak {peak:.1f} MiB"
    return out


def _codes(exc) -> list:
    if isinstance(exc, PolicyError):
        return [d.code for d in exc.diagnostics]
    if isinstance(exc, FactError):
        return [v.code for v in exc.violations]
    if isinstance(exc, EvaluationError):
        return [exc.code]
    return []


FACTS_POLICY = '''\
policy limits_demo version "1"

evaluation monthly:
    fact role: one of senior, assistant
    fact project: text
    fact code: text matching "(a+)+$"
    fact hours: list of integer
    fact rollout: record of boolean (training, tools)
    fact projects: list of (id: text, amount: money)
    output pay = if role == "senior" and rollout.training then 1 else count(hours) + count(projects)
    output tag = project
'''
GOOD = {"role": "senior", "project": "P-1", "code": "aaa", "hours": [8], "rollout": {"training": True, "tools": False},
        "projects": [{"id": "P-1", "amount": "100"}]}


@pytest.fixture(scope="module")
def facts_policy():
    return load_policy_text(FACTS_POLICY, "limits_demo.rules")


def test_the_demo_policy_takes_good_facts(facts_policy):
    assert facts_policy.evaluate(GOOD).values["tag"] == "P-1"


# ---- fact sets ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fact", ["role", "project"])
def test_f115_a_50_mb_text(facts_policy, fact):
    huge = "x" * 50_000_000
    exc = refused(lambda: facts_policy.evaluate(dict(GOOD, **{fact: huge})), FactError, "F115", f"50 MB `{fact}`")
    assert len(exc.render()) < 500  # no did-you-mean, no echo of the value


def test_f115_a_long_text_in_a_list_line(facts_policy):
    lines = [{"id": "P" * 1_000_000, "amount": "1"}] * 3
    exc = refused(lambda: facts_policy.evaluate(dict(GOOD, projects=lines)), FactError, "F115", "1 MB ids")
    assert [v.path for v in exc.violations] == ["projects[0].id", "projects[1].id", "projects[2].id"]


def test_f116_a_list_of_a_million_bad_entries(facts_policy):
    bad = ["x"] * 1_000_000
    exc = refused(lambda: facts_policy.evaluate(dict(GOOD, hours=bad)), FactError, "F116", "1,000,000 bad entries")
    assert len(exc.violations) == 1


def test_f117_a_million_unknown_keys(facts_policy):
    facts = dict(GOOD, **{f"k{i}": i for i in range(1_000_000)})
    exc = refused(lambda: facts_policy.evaluate(facts), FactError, "F117", "1,000,000 unknown keys")
    assert len(exc.violations) == 1 and not exc.warnings


def test_f117_a_record_of_a_million_keys(facts_policy):
    record = {f"k{i}": True for i in range(1_000_000)}
    refused(lambda: facts_policy.evaluate(dict(GOOD, rollout=record)), FactError, "F117", "record of 1,000,000 keys")


def test_f003_a_million_keys_as_json_text():
    text = "{" + ", ".join(f'"k{i}": {i}' for i in range(1_000_000)) + "}"
    refused(lambda: read_facts(text, is_text=True), FactError, "F003", "1,000,000 keys of JSON text")


def test_f003_a_50_mb_fact_file_is_read_no_further(tmp_path):
    path = tmp_path / "huge.json"
    path.write_text('{"project": "' + "x" * 50_000_000 + '"}', encoding="utf-8")
    # Reading stops after MAX_FACT_CHARS characters: memory is bounded by the limit, not the file.
    refused(lambda: read_facts(path), FactError, "F003", "50 MB fact file", megabytes=64)


def test_f118_the_first_violations_and_the_count_of_the_rest(facts_policy):
    bad = ["x"] * L.MAX_LIST_ENTRIES
    exc = refused(lambda: facts_policy.evaluate(dict(GOOD, hours=bad)), FactError, "F118",
                  f"{L.MAX_LIST_ENTRIES} bad entries")
    assert len(exc.violations) == L.MAX_VIOLATIONS + 1
    assert [v.path for v in exc.violations[:3]] == ["hours[0]", "hours[1]", "hours[2]"]
    last = exc.violations[-1]
    assert (last.code, last.path) == ("F118", "$")
    assert last.message == (f"{L.MAX_LIST_ENTRIES - L.MAX_VIOLATIONS} more violations not shown "
                            f"({L.MAX_LIST_ENTRIES} in all)")


def test_f118_warnings_are_capped_too(facts_policy):
    facts = dict(GOOD, **{f"extra_{i}": i for i in range(L.MAX_KEYS - len(GOOD))})
    start = time.perf_counter()
    result = facts_policy.evaluate(facts)
    took = time.perf_counter() - start
    print(f"\n[limit] {L.MAX_KEYS - len(GOOD)} unknown facts: {took * 1000:.1f} ms")
    assert len(result.warnings) == L.MAX_VIOLATIONS + 1
    assert result.warnings[-1].code == "F118" and result.warnings[-1].severity == "warning"
    assert took < SECONDS


def test_did_you_mean_only_on_short_words(facts_policy):
    long_key = "rol" + "e" * 1_000_000
    out = refused(lambda: facts_policy.evaluate(dict(GOOD, role="senio" + "r" * 5000)), FactError, "F106",
                  "5,005-character enum value")
    assert "did you mean" not in out.render()
    start = time.perf_counter()
    result = facts_policy.evaluate(dict(GOOD, **{long_key: 1}))
    took = time.perf_counter() - start
    print(f"\n[limit] a 1 MB unknown key: {took * 1000:.1f} ms")
    assert "did you mean" not in result.warnings[0].message and took < SECONDS
    assert len(result.warnings[0].path) < 100
    # A short misspelling still gets its suggestion.
    with pytest.raises(FactError) as info:
        facts_policy.evaluate(dict(GOOD, role="senoir"))
    assert "did you mean `senior`?" in info.value.render()


def test_a_backtracking_pattern_is_matched_in_linear_time(facts_policy):
    text = "a" * (L.MAX_TEXT_CHARS - 1) + "!"
    refused(lambda: facts_policy.evaluate(dict(GOOD, code=text)), FactError, "F111", "`(a+)+$` on 10,000 characters")
    # ... and still matches what it matched.
    assert facts_policy.evaluate(dict(GOOD, code="a" * L.MAX_TEXT_CHARS)).values["pay"] == 1


def test_f119_a_lone_surrogate_in_a_text(facts_policy):
    with pytest.raises(FactError) as info:
        facts_policy.evaluate(dict(GOOD, project="P-\udc80"))
    assert [v.code for v in info.value.violations] == ["F119"]
    info.value.render().encode("utf-8")  # the message itself can be written out


# ---- policies ----------------------------------------------------------------------------------

def _policy(fact: str, output: str = "output r = x") -> str:
    return f'policy demo version "1"\n\nevaluation monthly:\n    {fact}\n    {output}\n'


@pytest.mark.parametrize("pattern", ["a{99999999999}", "a{2,99999999999999999999999999}", "[0-9]{1001}",
                                     "((a{100}){100}){100}", "(((a{30}){30}){30}){30}"])
def test_e320_a_pattern_too_costly(pattern):
    text = _policy(f'fact x: text matching "{pattern}"')
    refused(lambda: load_policy_text(text, "p.rules"), PolicyError, "E320", f"pattern `{pattern}`")


@pytest.mark.parametrize("pattern", ["(a)\\\\1", "(?=a)a", "[0-9"])
def test_e312_what_re2_does_not_take(pattern):
    with pytest.raises(PolicyError) as info:
        load_policy_text(_policy(f'fact x: text matching "{pattern}"'), "p.rules")
    assert [d.code for d in info.value.diagnostics] == ["E312"]


@pytest.mark.parametrize("pattern, good, bad", [
    ("\\\\w+", "项目_1", "a b"), ("\\\\d{4}", "２０２６", "20x6"), ("[\\\\w-]+", "P-项目", "P/1"),
    ("\\\\S+\\\\s\\\\S+", "a\u3000b", "ab"), ("[0-9]{4}-(0[1-9]|1[0-2])", "2026-05", "2026-13"),
])
def test_patterns_mean_what_python_gives_them(pattern, good, bad):
    p = load_policy_text(_policy(f'fact x: text matching "{pattern}"'), "p.rules")
    assert p.evaluate({"x": good}).values["r"] == good
    with pytest.raises(FactError):
        p.evaluate({"x": bad})
    py = re.compile(pattern.replace("\\\\", "\\"))
    assert py.fullmatch(good) and not py.fullmatch(bad)


def _chain(n: int) -> str:
    funcs = "".join(f"function f{i}(x: number) = f{i + 1}(x) + 1\n" for i in range(n - 1))
    return (f'policy demo version "1"\n\n{funcs}function f{n - 1}(x: number) = x\n\n'
            "evaluation monthly:\n    fact a: number\n    output r = f0(a)\n")


def test_e321_a_chain_of_1000_functions():
    text = _chain(1000)
    exc = refused(lambda: load_policy_text(text, "p.rules"), PolicyError, "E321", "chain of 1000 functions")
    assert [d.code for d in exc.diagnostics] == ["E321"]
    assert "`f0` -> `f1` -> `f2` -> `f3` -> `f4` -> ... -> `f998` -> `f999`" in exc.diagnostics[0].message


def test_a_chain_at_the_limit_loads_and_runs_traced():
    p = load_policy_text(_chain(L.MAX_CALL_DEPTH), "p.rules")
    assert p.evaluate({"a": 1}).values["r"] == L.MAX_CALL_DEPTH
    assert p.evaluate({"a": 1}, explain=True).values["r"] == L.MAX_CALL_DEPTH
    with pytest.raises(PolicyError):
        load_policy_text(_chain(L.MAX_CALL_DEPTH + 1), "p.rules")


def _table(rows: str) -> str:
    return ('policy demo version "1"\n\ntable t (k) -> number:\n' + rows
            + "\nevaluation monthly:\n    fact k: integer\n    output r = t[k]\n")


def test_e322_a_table_past_the_limit():
    # 180,000 rows is as far past the limit as a policy file can go (E106: 2,000,000 characters).
    text = _table("    " + ";".join(f"{i}->1" for i in range(180_000)) + "\n")
    assert len(text) < 2_000_000
    refused(lambda: load_policy_text(text, "p.rules"), PolicyError, "E322", "table of 180,000 rows")


def test_a_table_of_100000_rows_loads_fast():
    """It took 78 s (Lark parses ~30,000 tokens a second); plain rows are now read beside it."""
    text = _table("".join(f"    {i} -> {i}" + ("  # row 0 -> 1\n" if i < 100 else "\n") for i in range(L.MAX_TABLE_ROWS)))
    start = time.perf_counter()
    policy = load_policy_text(text, "p.rules")
    took = time.perf_counter() - start
    print(f"\n[limit] a table of {L.MAX_TABLE_ROWS:,} rows loaded in {took:.2f} s")
    assert took < 10  # about 2 s; generous for a busy machine
    assert policy.evaluate({"k": L.MAX_TABLE_ROWS - 1}).values["r"] == L.MAX_TABLE_ROWS - 1
    # The arrows of the comments are not counted before parsing; one more row is.
    more = text.replace("\nevaluation", f"    {L.MAX_TABLE_ROWS} -> 0\n\nevaluation")
    with pytest.raises(PolicyError) as info:
        load_policy_text(more, "p.rules")
    assert [d.code for d in info.value.diagnostics] == ["E322"]


def test_e106_a_policy_of_50_mb():
    text = 'policy demo version "1"\n' + "# x\n" * 12_500_000
    refused(lambda: load_policy_text(text, "p.rules"), PolicyError, "E106", "50 MB policy")


def _unknown_names(n: int) -> str:
    return 'policy demo version "1"\n\nevaluation q:\n' + "".join(f"    output r{i} = zz{i}\n" for i in range(n))


def test_check_is_linear_in_unknown_names(tmp_path, capsys):
    """6,000 unknown names took 48 s (a did-you-mean against every name, for every name)."""
    times = {}
    for n in (3000, 6000):
        path = tmp_path / f"u{n}.rules"
        path.write_text(_unknown_names(n), encoding="utf-8")
        start = time.perf_counter()
        assert main(["check", str(path)]) == 2
        times[n] = time.perf_counter() - start
    err = capsys.readouterr().err
    assert "error[E001]: 5950 more diagnostics not shown" in err
    print(f"\n[limit] check of 3,000 / 6,000 unknown names: {times[3000]:.2f} s / {times[6000]:.2f} s")
    assert times[6000] < 5.0  # about 1-2 s; generous for a busy machine
    assert times[6000] < 3.5 * times[3000]  # linear, not quadratic (which would be 4x)


# ---- evaluation --------------------------------------------------------------------------------

def _powers(levels: int, tail: str = "") -> str:
    lets = "".join(f"    let b{i + 1} = " + " * ".join([f"b{i}"] * 10) + "\n" for i in range(levels))
    return ('policy demo version "1"\n\nevaluation q:\n    fact b0: number\n' + lets
            + f"    output r = b{levels}{tail}\n        round half up to 0.01\n")


def test_rounding_near_1e117_is_exact():
    a = 10**39 - 1
    p = load_policy_text(_policy("fact a: number", "output r = a * a * a\n        round half up to 0.01"), "p.rules")
    assert p.evaluate({"a": str(a)}).values["r"] == a ** 3
    p = load_policy_text(_policy("fact a: number", "output r = a * a * a / 7\n        round half up to 0.01"),
                         "p.rules")
    value = p.evaluate({"a": str(a)}).values["r"]
    cents = (a ** 3 * 200 + 7) // 14  # half up, to the cent
    assert str(value) == f"{cents // 100}.{cents % 100:02d}"


@pytest.mark.parametrize("tail", ["", " / 3"])
def test_r002_a_value_too_large_to_round(tail):
    p = load_policy_text(_powers(2, tail), "p.rules")  # about 10^3900
    exc = refused(lambda: p.evaluate({"b0": "9" * 39}), EvaluationError, "R002", f"round of 10^3900{tail}")
    assert exc.span.text == "round half up to 0.01"
    refused(lambda: p.evaluate({"b0": "9" * 39}, explain=True), EvaluationError, "R002", "the same, traced")


def test_r003_a_number_too_large_to_compute_with():
    p = load_policy_text(_powers(4), "p.rules")  # would be 10^390000: took 24 s
    refused(lambda: p.evaluate({"b0": "9" * 39}), EvaluationError, "R003", "10^390000 computed")


def test_r002_example_in_the_docs_is_real():
    p = load_policy_text(_powers(2).replace("policy demo", "policy limits_demo"), "limits_demo.rules")
    with pytest.raises(EvaluationError) as info:
        p.evaluate({"b0": "9" * 39})
    first = info.value.render().splitlines()[0]
    assert first in (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")


# ---- the list of limits ------------------------------------------------------------------------

def test_every_limit_is_in_docs_limits_md():
    doc = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    for name in dir(L):
        if name.isupper():
            assert f"`{name}`" in doc, f"docs/limits.md does not list {name}"
            value = getattr(L, name)
            assert f"{value:,}" in doc or str(value) in doc or name == "PATTERN_MEMORY", name
    codes = set(re.findall(r'"([EFR]\d{3})"', (ROOT / "src" / "kpirules" / "facts.py").read_text(encoding="utf-8")))
    for code in ("E320", "E321", "E322", "F003", "F115", "F116", "F117", "F118", "F119", "R002", "R003"):
        assert code in doc, code
    assert {"F115", "F116", "F117", "F118", "F119"} <= codes


def test_a_fact_message_never_echoes_control_characters(facts_policy):
    with pytest.raises(FactError) as info:
        facts_policy.evaluate(dict(GOOD, role="\x1b[31m\x9b2J\u202e", **{"\x9b\u2028key": 1}))
    text = info.value.render() + "".join(w.render() for w in info.value.warnings)
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u202e]", text), text
    assert "\\u001b" in text and "\\u009b" in text
    json.dumps([v.as_json() for v in info.value.violations])


@pytest.mark.parametrize("where", ["keyword", "name", "type"])
def test_a_megabyte_long_word_in_a_policy(where):
    word = "x" * 1_500_000
    text = {"keyword": _policy("fact a: number", "outptu" + word + " = a"),
            "name": _policy("fact a: number", "output r = a" + word),
            "type": _policy("fact a: " + word, "output r = a")}[where]
    exc = refused(lambda: load_policy_text(text, "p.rules"), PolicyError, "E100" if where != "name" else "E201",
                  f"1.5 MB word ({where})", megabytes=64)
    assert len(exc.render()) < 5000  # the message and the line are cut; no did-you-mean is looked for


def test_e323_a_megabyte_of_terms():
    """`a + a + ...` over a megabyte took ~25 s to parse before its nesting (E104) was seen."""
    text = _policy("fact a: number", "output r = " + "a + " * 400_000 + "a")
    refused(lambda: load_policy_text(text, "p.rules"), PolicyError, "E323", "a 1.6 MB formula")


def test_the_shipped_policies_are_far_below_the_token_limit():
    from kpirules.parser import _TOKEN
    for path in sorted((ROOT / "policies").glob("*.rules")):
        assert len(_TOKEN.findall(path.read_text(encoding="utf-8"))) < L.MAX_TOKENS // 10, path.name
