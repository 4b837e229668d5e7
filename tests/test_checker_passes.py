"""Each checker pass on its own: the passes before it run, then the pass, and only the
diagnostics *it* adds (and what it leaves in the state) are asserted."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from kpirules import checker
from kpirules import nodes as n
from kpirules.checker import (bands, dependencies, examples, facts, functions, ladders, names, tables, tiers,
                              typecheck, unused, weights)
from kpirules.checker.state import State
from kpirules.parser import ParseFailure, parse_text


def run_to(text: str, pass_run, tail: str = ""):
    """Run the passes up to `pass_run`; the state, and what `pass_run` itself reported as
    (code, line, message) triples."""
    try:
        policy = parse_text(textwrap.dedent(text).lstrip("\n") + textwrap.dedent(tail), "t.rules")
    except ParseFailure as failure:
        raise AssertionError("\n".join(d.render() for d in failure.diagnostics)) from None
    st = State(policy=policy, source=policy.span.source)
    for run in checker.PASSES:
        before = len(st.diags)
        run(st)
        if run is pass_run:
            return st, [(d.code, d.span.line if d.span else None, d.message) for d in st.diags[before:]]
    raise AssertionError("not a pass")


def helps(st) -> list:
    return [d.help for d in st.diags]


EVAL = """
    evaluation e:
        fact x: number
        output y = x
"""


# ---- the order ------------------------------------------------------------------------------------

def test_the_passes_run_from_one_tuple_in_order():
    assert checker.PASSES == (tables.run, names.run, bands.run, tiers.run, ladders.run, functions.run, facts.run,
                              dependencies.run, typecheck.run, weights.run, unused.run, examples.run)


def test_check_returns_the_model_or_none_and_every_diagnostic():
    ok = parse_text(textwrap.dedent("""
        policy p
        evaluation e:
            fact x: money
            output y = x * 2
    """).lstrip(), "t.rules")
    model, diags = checker.check(ok, ok.span.source)
    assert diags == [] and model.evaluations[0].values[0].type.describe() == "money"
    bad = parse_text("policy p\nevaluation e:\n    output y = z\n", "t.rules")
    model, diags = checker.check(bad, bad.span.source)
    assert model is None and [d.code for d in diags] == ["E201"]


# ---- tables --------------------------------------------------------------------------------------

def test_tables_pass_reports_a_key_twice_and_a_cell_of_the_wrong_unit():
    st, found = run_to("""
        policy p
        table t (q) -> percent:
            1 -> 10%
            1 -> 20%
            2 -> 5元
    """, tables.run, EVAL)
    assert found == [("E311", 4, "table `t` has two rows for key `1`"),
                     ("E306", 5, "table `t` holds percent, not money")]
    assert st.tables["t"].rows == ((Decimal(1), Decimal("0.1")), (Decimal(2), Decimal(5)))
    assert st.tables["t"].key_kind == "number"


def test_tables_pass_reports_mixed_keys_and_a_second_table_of_one_name():
    _, found = run_to("""
        policy p
        table t (q) -> number:
            1 -> 1
            "a" -> 2
        table t (q) -> number:
            1 -> 1
    """, tables.run, EVAL)
    assert found == [("E305", 2, "table `t` mixes number keys and text keys"),
                     ("E202", 5, "duplicate table `t`")]


# ---- names ---------------------------------------------------------------------------------------

def test_names_pass_declares_each_name_once_per_scope():
    st, found = run_to("""
        policy p
        let a = 1
        output b = 2
        evaluation e:
            fact a: number
            fact x: number
            fact x: money
            output y = x
    """, names.run)
    assert found == [("E209", 3, "output `b` must be inside an evaluation"),
                     ("E202", 5, "duplicate name `a`"),
                     ("E202", 7, "duplicate name `x`")]
    assert helps(st)[1] == "`a` is already defined at line 2"
    es = st.evaluations[0]
    assert [f.name for f in es.facts] == ["x"] and es.scope["x"].type.describe() == "number"
    assert [d.name for d in st.top_defs] == ["a", "b"]


def test_names_pass_refuses_keywords_as_names_and_a_policy_without_evaluation():
    _, found = run_to("""
        policy p
        let count = 1
    """, names.run)
    assert found == [("E211", 1, "the policy has no evaluation"),
                     ("E215", 2, "`count` is a keyword and cannot name a fact or value")]


def test_names_pass_leaves_a_duplicate_evaluation_out():
    st, found = run_to("policy p\n" + textwrap.dedent(EVAL) * 2, names.run)
    assert found == [("E202", 7, "duplicate evaluation `e`")]
    assert len(st.evaluations) == 1


# ---- bands ---------------------------------------------------------------------------------------

def test_bands_pass_finds_a_gap_and_an_overlap():
    st, found = run_to("""
        policy p
        bands g in 0..100:
            "low" from 0 below 50
            "mid" from 60 below 80
            "high" from 70
    """, bands.run, EVAL)
    assert found == [("E315", 4, "bands `g` leave a gap: 50 falls in no band"),
                     ("E315", 5, "bands `g` overlap: 75 falls in both `mid` and `high`")]
    assert [b[0] for b in st.bands["g"].bands] == ["low", "mid", "high"]


def test_bands_pass_refuses_a_first_band_below_the_range():
    # `from -5` reaches below 0..100: an error with a position, not a crash.
    _, found = run_to("""
        policy p
        bands g in 0..100:
            "low" from -5 below 50
            "high" from 50 to 100
    """, bands.run, EVAL)
    assert found == [("E315", 3, "band `low` of `g` starts below the range's low end 0")]


def test_bands_pass_accepts_bands_that_cover_the_range_once():
    st, found = run_to("""
        policy p
        bands g in 0..100:
            "low" below 50
            "high" from 50
    """, bands.run, EVAL)
    assert found == []
    assert st.bands["g"].bands == (("low", 0, True, 50, False), ("high", 50, True, 100, True))


# ---- ladders -------------------------------------------------------------------------------------

LADDER_POLICY = """
    policy p
    ladder steps:
        minus 2 per full 5% below
        minus 1 per full 0% below
    evaluation e:
        fact won: count
        fact all: count
        scorecard s total 10:
            item a weight 10:
                ladder won / all standard 85% using step
            item b weight 0:
                ladder won / all standard 85% using steps
        output y = s
"""


def test_ladders_pass_checks_shared_lines_and_resolves_using():
    st, found = run_to(LADDER_POLICY, ladders.run)
    assert found == [("E313", 4, "the ladder has two `below` lines"),
                     ("E314", 4, "a ladder's step must be greater than zero"),
                     ("E216", 10, "unknown ladder `step`")]
    assert helps(st)[2] == "did you mean `steps`?"
    items = list(st.evaluations[0].items.values())
    assert items[0].body[0].steps == ()                       # unknown: left as written
    assert [s.points.value for s in items[1].body[0].steps] == [2, 1]  # the shared lines


# ---- functions -----------------------------------------------------------------------------------

def test_functions_pass_types_bodies_and_finds_recursion():
    st, found = run_to("""
        policy p
        function half(a: money) = a / 2
        function f(a: number) = g(a)
        function g(a: number) = f(a)
        function h(a: number) = a
            only if a > 0
    """, functions.run, EVAL)
    # Typing `f` types `g` (declared further down), whose call back to `f` is the recursion.
    assert found == [("E210", 4, "function `f` calls itself, directly or through another function"),
                     ("E309", 6, "a function takes `floor`, `cap`, `round`, `cite` and `note` only")]
    assert st.function_types["half"].describe() == "money"


# ---- facts ---------------------------------------------------------------------------------------

def test_facts_pass_checks_list_rules_and_fields():
    st, found = run_to("""
        policy p
        evaluation e:
            fact rows: list of (id: text, id: number, pts: number) at least 5 at most 2 with idd adding up to 10
            fact kind: one of a, b, a
            output y = count(rows)
    """, facts.run)
    assert [f[:2] for f in found] == [("E317", 3), ("E317", 3), ("E202", 3), ("E202", 4)]
    assert found[0][2] == "list `rows` must have at least 5 and at most 2 entries"
    assert found[1][2] == "`idd` is not a number field of list `rows`"
    assert found[2][2] == "duplicate field `id`"
    assert found[3][2] == "an enum value is listed twice"
    assert st.evaluations[0].fact_parts["rows"] == {"limit": 2, "minimum": 5, "total": None}


# ---- dependencies --------------------------------------------------------------------------------

def test_dependencies_pass_orders_values_by_what_they_read():
    st, found = run_to("""
        policy p
        let unused_top = 1
        let rate = 2
        evaluation e:
            fact x: number
            output c = b + rate
            let b = a * 2
            let a = x
    """, dependencies.run)
    assert found == []
    # `c` reads `b + rate`: each read value comes before it, and `unused_top` is not computed.
    assert [d.name for d, _ in st.evaluations[0].order] == ["rate", "a", "b", "c"]


def test_dependencies_pass_reports_a_cycle_once_with_its_path():
    _, found = run_to("""
        policy p
        evaluation e:
            let a = b
            let b = c
            let c = a
    """, dependencies.run)
    assert found == [("E210", 3, "`a` depends on itself: `a` -> `b` -> `c` -> `a`")]


# ---- types ---------------------------------------------------------------------------------------

def test_types_pass_types_values_and_checks_units():
    st, found = run_to("""
        policy p
        evaluation e:
            fact salary: money
            fact rate: percent
            fact projets: count
            let bonus = salary * rate
            let wrong = salary + rate
            let unknown = projects
            output y = bonus
    """, typecheck.run)
    assert found == [("E302", 7, "cannot add money with percent"),
                     ("E201", 8, "unknown name `projects`")]
    assert helps(st)[1] == "did you mean `projets`?"
    types = {v.name: v.type.describe() for v in st.evaluations[0].values}
    assert types["bonus"] == "money" and types["y"] == "money"


def test_types_pass_checks_fact_bounds():
    st, found = run_to("""
        policy p
        evaluation e:
            fact total: count
            fact part: count <= total
            fact own: number <= own
            fact limit: money >= 5%
            output y = total + part + own + limit / 1元
    """, typecheck.run)
    assert found == [("E210", 5, "fact `own` is bounded by itself"),
                     ("E302", 6, "cannot compare money with percent")]
    bound = st.evaluations[0].bounds["part"][0][0]
    assert bound.op == "<=" and isinstance(bound.value, n.Name) and bound.value.name == "total"


def test_types_pass_refuses_a_bound_the_fact_validator_could_not_check():
    # A bound is resolved by the validator from literals, facts and + - * /; `max(...)` would
    # otherwise pass unchecked, and `/ 0` never has a value to compare with.
    _, found = run_to("""
        policy p
        evaluation e:
            fact total: count
            fact part: count <= max(total, 1)
            fact other: count <= total / 0
            fact fine: count <= total - part + 2 * other / 4
            output y = total + part + other + fine
    """, typecheck.run)
    assert found == [
        ("E212", 4, "the bound of fact `part` uses `max(total, 1)`; a bound may use only literals, other "
                    "facts and + - * / of them"),
        ("E212", 5, "the bound of fact `other` divides by zero"),
    ]


# ---- weights -------------------------------------------------------------------------------------

def test_weights_pass_adds_item_weights_up():
    _, found = run_to("""
        policy p
        evaluation e:
            scorecard s total 100:
                item a weight 60:
                    floor 0
                item b weight 30:
                    floor 0
            scorecard t total 10:
                item c weight 10:
                    floor 0
            output y = s + t
    """, weights.run)
    assert found == [("E310", 3, "item weights of `s` add up to 90, not the declared total 100")]


# ---- unused --------------------------------------------------------------------------------------

def test_unused_pass_warns_of_facts_nothing_reads_but_not_of_a_suggested_one():
    _, found = run_to("""
        policy p
        evaluation e:
            fact spare: number
            fact projects_won: count
            output y = projets_won
    """, unused.run)
    assert found == [("W401", 3, "fact `spare` is declared but never used")]


# ---- examples ------------------------------------------------------------------------------------

def test_examples_pass_checks_names_against_the_evaluation():
    st, found = run_to("""
        policy p
        evaluation e:
            fact x: number
            output total = x
        example "one":
            given x = 1
            given z = 2
            expect totl = 1
        example "two" for ee:
            expect total = 1
    """, examples.run)
    assert found == [("E214", 5, "example `one` gives an unknown fact `z`"),
                     ("E214", 8, "example `one` expects an unknown value `totl`"),
                     ("E214", 9, "example `two` is for an unknown evaluation `ee`")]
    assert helps(st)[1] == "did you mean `total`?"
    assert helps(st)[2] == "did you mean `e`?"


@pytest.mark.parametrize("pass_run", checker.PASSES)
def test_no_pass_raises_on_a_policy_full_of_mistakes(pass_run):
    st, _ = run_to("""
        policy p
        table t (q) -> percent:
            1 -> true
        bands g in 10..0:
            "x" from 5
        ladder l:
            minus 1 per full 0 below
        function f(a: number, a: text) = f(a)
        evaluation e:
            fact rows: list of (v: text) with v adding up to x
            let a = a + nothing
            scorecard s total 5:
                item i weight 1:
                    ladder a standard "x" using nope
                gate tag items: count only if item
            output y = t
        example "x" for e:
            expect nothing = 1
    """, pass_run)
    assert isinstance(st.diags, list)
