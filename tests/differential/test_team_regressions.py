"""Named regression tests for the team constructs: allocation, places, keyed lists.

Each case is a policy of the differential tests' own tree (tree.py), so that it is checked three
ways: the engine plain, the engine traced, and the exact reference (check_case), and then against
the values worked out by hand in its comments, digit for digit as the engine shows them.
"""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest

import kpirules

from . import reference
from .compare import check_case
from .tree import (
    Aggregate,
    Allocate,
    Bin,
    Cmp,
    Each,
    Fact,
    Field,
    KeyField,
    Lookup,
    Num,
    Policy,
    Rank,
    Ref,
    Text,
    Value,
)
from .tree import render as render_tree

MEM = Fact("mem", "reclist", fields=(Fact("id", "text"),
                                     Fact("sc", "number", Fraction(0), Fraction(10), "0", "10"),
                                     Fact("w", "count", Fraction(0), Fraction(5), "0", "5")),
           at_most=8, key="id")
POOL = Fact("pool", "money", Fraction(0), Fraction(100000), "0元", "100000元")


def members(*lines) -> list:
    """(id, score, weight) -> the list fact's lines."""
    return [{"id": i, "sc": D(str(sc)), "w": D(w)} for i, sc, w in lines]


def block(*values) -> Each:
    return Each("member", "mem", tuple(Value("output", name, expr, (), unit) for name, expr, unit in values))


POOL_REF = Ref("pool")
WEIGHT = Field("member", "w")


def allocate(quantum: str, ties=None, amount=POOL_REF, weight=WEIGHT) -> Allocate:
    return Allocate(amount, weight, Fraction(D(quantum)), quantum, ties)


def evaluate(values, mem, pool="100"):
    """Checked three ways; then the engine's values (plain) as shown, by name."""
    tree = Policy((MEM, POOL), tuple(values))
    text = render_tree(tree)
    facts = {"mem": mem, "pool": D(pool)}
    check_case(tree, text, facts, facts)
    result = kpirules.load_policy_text(text).evaluate(facts)
    return {name: ({k: str(x) for k, x in v.items()} if isinstance(v, dict) else str(v))
            for name, v in result.values.items()}


# ---- allocation ------------------------------------------------------------------------------------

def test_equal_remainders_go_to_the_first_listed_or_the_last():
    # 100 x 1/3 = 33.333.. each: cut to 33.33 (99.99 together), one cent left over, and the three
    # remainders 0.00333.. are equal: the cent goes to the member listed first, or with
    # `ties to last listed` to the last.
    team = members(("A", 1, 1), ("B", 1, 1), ("C", 1, 1))
    got = evaluate([block(("plain", allocate("0.01"), "m"), ("first", allocate("0.01", "first"), "m"),
                          ("last", allocate("0.01", "last"), "m"))], team)
    assert got["plain"] == got["first"] == {"A": "33.34", "B": "33.33", "C": "33.33"}
    assert got["last"] == {"A": "33.33", "B": "33.33", "C": "33.34"}
    # 0.05 x 1/3 = 0.01666..: cut to 0.01 each (0.03), two cents left over for three equal remainders.
    got = evaluate([block(("first", allocate("0.01"), "m"), ("last", allocate("0.01", "last"), "m"))], team,
                   pool="0.05")
    assert got["first"] == {"A": "0.02", "B": "0.02", "C": "0.01"}
    assert got["last"] == {"A": "0.01", "B": "0.02", "C": "0.02"}


def test_a_larger_remainder_wins_over_the_list_order():
    # 10 by weights 1, 2 (total 3) to 1: 3.33.. and 6.66.. cut to 3 and 6, one unit left; the
    # remainders are 0.33.. and 0.66..: the second member gets it whichever way ties go.
    team = members(("A", 1, 1), ("B", 1, 2))
    got = evaluate([block(("first", allocate("1"), "m"), ("last", allocate("1", "last"), "m"))], team, pool="10")
    assert got["first"] == got["last"] == {"A": "3", "B": "7"}


def test_all_zero_weights_allocate_nothing():
    # Every weight 0: every part is 0 (with the quantum's digits), nothing is allocated.
    team = members(("Z1", 5, 0), ("Z2", 7, 0))
    got = evaluate([block(("share", allocate("0.01"), "m"), ("tens", allocate("10"), "m")),
                    Value("output", "allocated", Aggregate("sum", "mem", Ref("share")), (), "m"),
                    Value("output", "left", Bin("-", Ref("pool"), Ref("allocated")), (), "m")], team, pool="8000")
    assert got["share"] == {"Z1": "0.00", "Z2": "0.00"}
    assert got["tens"] == {"Z1": "0", "Z2": "0"}
    assert got["left"] == "8000"


def test_an_endless_amount_is_allocated_exactly():
    # 0.5元 / 7 = 1/14 = 0.0714..: by weights 3 and 0 the first member's share is all of it, cut to
    # 0.07 (a remainder of 0.0014.. is less than a cent: nothing left over), the second's is 0.
    # The engine once crashed here: 1/14 x 0 ends, and a Decimal could not be divided by a Fraction.
    team = members(("A", 1, 3), ("B", 1, 0))
    amount = Bin("/", Num(Fraction(1, 2), "0.5元"), Num(Fraction(7), "7"))
    got = evaluate([block(("share", allocate("0.01", amount=amount), "m"))], team)
    assert got["share"] == {"A": "0.07", "B": "0.00"}


@pytest.mark.parametrize("amount, weight", [
    (Bin("-", Ref("pool"), Num(Fraction(101), "101元")), Field("member", "w")),     # 100 - 101 = -1
    (Ref("pool"), Bin("-", Field("member", "w"), Num(Fraction(2), "2"))),          # weights -1 and 1
])
def test_a_negative_amount_or_weight_is_an_evaluation_error(amount, weight):
    tree = Policy((MEM, POOL), (block(("share", allocate("0.01", amount=amount, weight=weight), "m")),))
    facts = {"mem": members(("A", 1, 1), ("B", 1, 3)), "pool": D(100)}
    check_case(tree, render_tree(tree), facts, facts)
    assert isinstance(reference.evaluate(tree, facts)[1], reference.RefError)
    with pytest.raises(kpirules.EvaluationError, match="negative"):
        kpirules.load_policy_text(render_tree(tree)).evaluate(facts)


# ---- places --------------------------------------------------------------------------------------------

def test_a_tie_at_a_rank_boundary():
    # Scores 9, 7, 7, 5. Competition: 1, 2, 2, 4 (both 7s share place 2, place 3 is skipped); in list
    # order: 1, 2, 3, 4; dense: 1, 2, 2, 3; lowest first: 4, 2, 2, 1. "The top two" by place <= 2 are
    # three members: the tie at the boundary keeps both; in list order only two.
    team = members(("A", 9, 1), ("B", 7, 1), ("C", 7, 1), ("D", 5, 1))
    sc = Field("member", "sc")
    two = Num(Fraction(2), "2")
    got = evaluate([block(("place", Rank("rank", sc, "highest"), "p"),
                          ("shared", Rank("rank", sc, "highest", "shared"), "p"),
                          ("listed", Rank("rank", sc, "highest", "list"), "p"),
                          ("dplace", Rank("dense", sc, "highest"), "p"),
                          ("low", Rank("rank", sc, "lowest"), "p"),
                          ("pct", Rank("percentile", sc), "p")),
                    Value("output", "top2", Aggregate("count", "mem", None, ((Cmp("<=", Ref("place"), two), None),)),
                          (), "p"),
                    Value("output", "top2_listed", Aggregate("count", "mem", None,
                                                             ((Cmp("<=", Ref("listed"), two), None),)), (), "p")],
                   team)
    assert got["place"] == got["shared"] == {"A": "1", "B": "2", "C": "2", "D": "4"}
    assert got["listed"] == {"A": "1", "B": "2", "C": "3", "D": "4"}
    assert got["dplace"] == {"A": "1", "B": "2", "C": "2", "D": "3"}
    assert got["low"] == {"A": "4", "B": "2", "C": "2", "D": "1"}
    # Percentile: how many of the 3 others are strictly lower: 3/3, 1/3, 1/3, 0.
    assert got["pct"] == {"A": "1", "B": "0.3333333333333333333333333333", "C": "0.3333333333333333333333333333",
                          "D": "0"}
    assert (got["top2"], got["top2_listed"]) == ("3", "2")


def test_a_single_member():
    # A team of one: place 1, dense place 1, percentile 0 (no others), and the whole pool.
    sc = Field("member", "sc")
    got = evaluate([block(("place", Rank("rank", sc, "lowest"), "p"), ("dplace", Rank("dense", sc, "highest"), "p"),
                          ("pct", Rank("percentile", sc), "p"), ("share", allocate("0.01"), "m"))],
                   members(("S1", 6, 2)), pool="5000.55")
    assert got == {"place": {"S1": "1"}, "dplace": {"S1": "1"}, "pct": {"S1": "0"}, "share": {"S1": "5000.55"}}


# ---- keyed lists -----------------------------------------------------------------------------------

def test_a_repeated_id_is_refused_at_every_later_line():
    tree = Policy((MEM, POOL), (block(("share", allocate("0.01"), "m")),))
    facts = {"mem": members(("E1", 1, 1), ("E2", 1, 1), ("E1", 1, 1), ("E1", 2, 2)), "pool": D(100)}
    check_case(tree, render_tree(tree), facts, facts)
    with pytest.raises(kpirules.FactError) as info:
        kpirules.load_policy_text(render_tree(tree)).evaluate(facts)
    assert [(v.code, v.path) for v in info.value.violations] == [("F120", "mem[2].id"), ("F120", "mem[3].id")]


@pytest.mark.parametrize("read", [Lookup("share", Text("E9")), KeyField("mem", "E9", "sc")])
def test_a_missing_key_is_an_evaluation_error(read):
    tree = Policy((MEM, POOL), (block(("share", allocate("0.01"), "m")), Value("output", "x", read, (), "p")))
    facts = {"mem": members(("E1", 1, 1)), "pool": D(100)}
    check_case(tree, render_tree(tree), facts, facts)
    with pytest.raises(kpirules.EvaluationError, match="E9"):
        kpirules.load_policy_text(render_tree(tree)).evaluate(facts)


def test_keyed_reads_and_a_quoted_id():
    # `share["q\"3"]` and `mem["张三"].sc` read one member by key, whatever its place in the list
    # (read alone, a member's part is shown as any single value is: 75, not 75.00).
    team = members(("张三", "2.5", 1), ('q"3', 1, 3))
    got = evaluate([block(("share", allocate("0.01"), "m")),
                    Value("output", "q", Lookup("share", Text('q"3')), (), "m"),
                    Value("output", "z", KeyField("mem", "张三", "sc"), (), "p")], team)
    assert got["share"] == {"张三": "25.00", 'q"3': "75.00"}
    assert (got["q"], got["z"]) == ("75", "2.5")
