"""Teams (issue 10): per-member values, keyed lists, allocation, ranking; P11 and P13 by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpirules
from kpirules import teams
from kpirules.render import markdown

ROOT = Path(__file__).resolve().parent.parent
D = Decimal
CENT = D("0.01")


def _policy(name: str) -> kpirules.Policy:
    return kpirules.load_policy(ROOT / "policies" / f"{name}.rules")


def _facts(name: str) -> dict:
    return kpirules.read_facts(ROOT / "examples" / f"{name}.json")


# ---- teams.allocate: the largest-remainder method ---------------------------------------------

def test_allocation_gives_the_leftover_cents_to_the_largest_remainders():
    # 100 over weights 1, 2, 3 (total 6): 16.666.., 33.333.., 50 -> cut 16.66, 33.33, 50.00 = 99.99;
    # remainders 0.00666.., 0.00333.., 0: the one cent left goes to the first member.
    paid, details = teams.allocate(D(100), [D(1), D(2), D(3)], CENT, "first")
    assert paid == [D("16.67"), D("33.33"), D("50.00")]
    assert details["leftover"] == 1
    assert [m["leftover"] for m in details["members"]] == [True, False, False]
    assert details["members"][0]["share"] == Fraction(50, 3)
    assert details["unallocated"] == 0


def test_equal_remainders_go_to_the_member_listed_first_or_last():
    # 100 / 3 = 33.333..: 33.33 x 3 = 99.99, one cent, three equal remainders.
    first, _ = teams.allocate(D(100), [D(1)] * 3, CENT, "first")
    last, _ = teams.allocate(D(100), [D(1)] * 3, CENT, "last")
    assert first == [D("33.34"), D("33.33"), D("33.33")]
    assert last == [D("33.33"), D("33.33"), D("33.34")]


def test_all_zero_weights_allocate_nothing():
    paid, details = teams.allocate(D("8000"), [D(0), D(0)], CENT, "first")
    assert paid == [D("0.00"), D("0.00")]
    assert details["unallocated"] == D(8000)


def test_a_fraction_of_a_quantum_stays_unallocated():
    # 100.005 / 2 = 50.0025 each -> 50.00 each; 0.005 is less than a cent.
    paid, details = teams.allocate(D("100.005"), [D(1), D(1)], CENT, "first")
    assert paid == [D("50.00"), D("50.00")]
    assert details["unallocated"] == D("0.005")


def test_a_negative_weight_or_amount_is_refused():
    with pytest.raises(teams.TeamProblem):
        teams.allocate(D(100), [D(1), D(-1)], CENT, "first")
    with pytest.raises(teams.TeamProblem):
        teams.allocate(D(-1), [D(1)], CENT, "first")


_MONEY = st.integers(min_value=0, max_value=10**9).map(lambda c: D(c) / 100)
_WEIGHTS = st.lists(st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(amount=_MONEY, weights=_WEIGHTS, ties=st.sampled_from(["first", "last"]))
def test_allocation_adds_up_and_no_part_is_a_quantum_off(amount, weights, ties):
    paid, details = teams.allocate(amount, weights, CENT, ties)
    total = sum(weights, D(0))
    if total == 0:
        assert all(p == 0 for p in paid)
        return
    assert sum(paid, D(0)) == amount  # an amount in cents is allocated to the cent
    for p, w in zip(paid, weights, strict=True):
        exact = Fraction(amount) * Fraction(w) / Fraction(total)
        assert abs(Fraction(p) - exact) < Fraction(CENT)
        assert p == p.quantize(CENT)


# ---- teams.rank --------------------------------------------------------------------------------

def test_rank_kinds_on_a_tie():
    values = [D(90), D(80), D(80), D(70)]
    assert teams.rank(values, "rank", "highest")[0] == [1, 2, 2, 4]       # competition
    assert teams.rank(values, "dense", "highest")[0] == [1, 2, 2, 3]
    assert teams.rank(values, "ordinal", "highest")[0] == [1, 2, 3, 4]    # ties in list order
    assert teams.rank(values, "rank", "lowest")[0] == [4, 2, 2, 1]
    # percentile: how many of the other 3 are lower: 3/3, 1/3, 1/3, 0
    assert teams.rank(values, "percentile", "lowest")[0] == [1, Fraction(1, 3), Fraction(1, 3), 0]
    assert teams.rank([D(5)], "percentile", "lowest")[0] == [0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=15), st.randoms())
def test_ranks_do_not_depend_on_the_order_of_the_list(scores, rnd):
    values = [D(s) for s in scores]
    places = dict(zip(range(len(values)), teams.rank(values, "rank", "highest")[0], strict=True))
    order = list(range(len(values)))
    rnd.shuffle(order)
    shuffled = teams.rank([values[i] for i in order], "rank", "highest")[0]
    for pos, i in enumerate(order):
        assert shuffled[pos] == places[i]
        # a place is 1 + how many are strictly better
        assert places[i] == 1 + sum(1 for v in values if v > values[i])


# ---- P11 team_pool, by hand ----------------------------------------------------------------------

def test_p11_shipped_example_by_hand():
    # weights 92 x 1.0 = 92, 85 x 1.2 = 102, 78 x 0.8 = 62.4, 85 x 1.0 = 85: total 341.4
    # cut: 2694.78 + 2987.69 + 1827.76 + 2489.74 = 9999.97; 3 cents to the largest remainders
    # E04 (0.00809..), E03 (0.00801..), E02 (0.00771..); E01 (0.00617..) gets none.
    result = _policy("team_pool").evaluate(_facts("team_pool"), evaluation="team", explain=True)
    assert result.values["shares"] == {"E01": D("2694.78"), "E02": D("2987.70"), "E03": D("1827.77"),
                                       "E04": D("2489.75")}
    assert result.values["allocated"] == D("10000.00")
    assert result.values["unallocated"] == 0
    doc = result.to_json()
    # JSON: an object from member id to a decimal string, in list order
    assert list(doc["values"]["shares"].items()) == [("E01", "2694.78"), ("E02", "2987.70"), ("E03", "1827.77"),
                                                     ("E04", "2489.75")]
    node = result.node("shares")
    assert node["per"] == "members"
    members = [c for c in node["children"] if c["kind"] == "member"]
    assert [m["label"] for m in members] == ["E01", "E02", "E03", "E04"]
    shares = [c for m in members for c in m["children"] if c["kind"] == "allocation"]
    assert [s["reason"]["params"]["leftover"] for s in shares] == [False, True, True, True]
    # E01's exact share 10000 x 92 / 341.4 = 4600000/1707 has no end: the trace keeps the fraction
    assert shares[0]["reason"]["exact"]["share"] == "4600000/1707"


def test_p11_single_member_zero_weights_and_json_round_trip():
    policy = _policy("team_pool")
    one = policy.evaluate({"pool": "5000.55", "members": [{"id": "S1", "score": 60, "grade": "P1"}]})
    assert one.values["shares"] == {"S1": D("5000.55")}
    zero = policy.evaluate({"pool": "8000", "members": [{"id": "Z1", "score": 0, "grade": "P3"},
                                                        {"id": "Z2", "score": 0, "grade": "P1"}]})
    assert zero.values["shares"] == {"Z1": 0, "Z2": 0}
    assert zero.values["unallocated"] == D(8000)
    assert json.loads(json.dumps(zero.to_json()))["values"]["shares"] == {"Z1": "0.00", "Z2": "0.00"}


def test_p11_a_repeated_id_names_the_second_line():
    with pytest.raises(kpirules.FactError) as info:
        _policy("team_pool").evaluate({"pool": "1", "members": [{"id": "E1", "score": 1, "grade": "P1"},
                                                                {"id": "E2", "score": 1, "grade": "P1"},
                                                                {"id": "E1", "score": 2, "grade": "P2"}]})
    (v,) = info.value.violations
    assert (v.code, v.path) == ("F120", "members[2].id")
    assert "`members[0]`" in v.message


def test_p11_statement_shows_every_member_and_adds_up():
    result = _policy("team_pool").evaluate(_facts("team_pool"), evaluation="team", explain=True)
    st_ = markdown.statement(result.to_json(), "en")
    (team,) = st_["teams"]
    assert [r["key"] for r in team["rows"]] == ["E01", "E02", "E03", "E04"]
    assert team["totals"] == ["¥10,000.00"]  # 2694.78 + 2987.70 + 1827.77 + 2489.75


# ---- P13 forced_distribution, by hand ------------------------------------------------------------

def test_p13_shipped_example_by_hand():
    # scores 95, 92, 92, 88, 85, 80, 78, 75, 70, 60: ranks 1, 2, 2, 4..10; n = 10:
    # A when rank <= ceil(2) = 2 (three members: the tie), C when rank > 10 - floor(1) = 9.
    result = _policy("forced_distribution").evaluate(_facts("forced_distribution"), evaluation="team")
    assert list(result.values["rank"].values()) == [1, 2, 2, 4, 5, 6, 7, 8, 9, 10]
    assert "".join(result.values["grade"].values()) == "AAABBBBBBC"
    assert (result.values["a_count"], result.values["b_count"], result.values["c_count"]) == (3, 6, 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=25))
def test_p13_equal_scores_get_equal_grades_and_counts_add_up(scores):
    members = [{"id": f"m{i}", "score": s} for i, s in enumerate(scores)]
    result = _policy("forced_distribution").evaluate({"members": members})
    grades = result.values["grade"]
    by_score: dict = {}
    for m in members:
        by_score.setdefault(m["score"], set()).add(grades[m["id"]])
    assert all(len(g) == 1 for g in by_score.values())
    counts = result.values["a_count"] + result.values["b_count"] + result.values["c_count"]
    assert counts == len(scores)


# ---- checks and errors a user meets ----------------------------------------------------------------

_TEAM = '''\
policy t

evaluation team:
    fact pool: money >= 0
    fact members: list of (id: text, score: number) keyed by id
    for each member in members:
        output share = allocate pool by member.score to 0.01
'''


def test_a_per_member_value_read_as_one_value_names_both():
    with pytest.raises(kpirules.PolicyError) as info:
        kpirules.load_policy_text(_TEAM + "    output twice = share * 2\n", "t.rules")
    (d,) = [d for d in info.value.diagnostics if d.is_error]
    assert d.code == "E332"
    assert "`share`" in d.message and "`members`" in d.message


def test_members_field_access_on_the_list_says_what_to_write():
    with pytest.raises(kpirules.PolicyError) as info:
        kpirules.load_policy_text(_TEAM + "    output s = members.score\n", "t.rules")
    (d,) = [d for d in info.value.diagnostics if d.is_error]
    assert d.code == "E301"
    assert "sum over members of score" in d.help and "member.score" in d.help


def test_rank_as_a_call_names_the_construct():
    with pytest.raises(kpirules.PolicyError) as info:
        kpirules.load_policy_text(_TEAM + "    output r = rank(pool)\n", "t.rules")
    (d,) = [d for d in info.value.diagnostics if d.is_error]
    assert d.code == "E204"
    assert "rank of member.score highest first" in d.help


def test_a_line_looked_up_by_a_key_no_line_has_is_an_evaluation_error():
    policy = kpirules.load_policy_text(_TEAM + '    output e = members["nobody"].score\n', "t.rules")
    with pytest.raises(kpirules.EvaluationError) as info:
        policy.evaluate({"pool": 1, "members": [{"id": "a", "score": 1}]})
    assert "no line of `members` has the id \"nobody\"" in str(info.value)


def test_a_negative_weight_is_an_evaluation_error():
    policy = kpirules.load_policy_text(_TEAM, "t.rules")
    with pytest.raises(kpirules.EvaluationError) as info:
        policy.evaluate({"pool": 10, "members": [{"id": "a", "score": 1}, {"id": "b", "score": -1}]})
    assert "negative" in str(info.value)


def test_plain_and_traced_agree_on_a_team():
    policy = kpirules.load_policy_text(_TEAM + "        output place = rank of member.score highest first\n",
                                       "t.rules")
    facts = {"pool": "999.99", "members": [{"id": str(i), "score": s} for i, s in enumerate([3, 1, 4, 1, 5, 9, 2])]}
    plain = policy.evaluate(facts)
    traced = policy.evaluate(facts, explain=True)
    assert plain.values == traced.values
    assert sum(plain.values["share"].values()) == D("999.99")


def test_a_list_keyed_by_a_whole_number_gives_json_keys_as_text():
    policy = kpirules.load_policy_text('''\
policy t3

evaluation team:
    fact pool: money >= 0
    fact members: list of (no: integer, score: number) at least 1 keyed by no
    for each m in members:
        output share = allocate pool by m.score to 1
''', "t3.rules")
    result = policy.evaluate({"pool": 10, "members": [{"no": 7, "score": 1}, {"no": 3, "score": 2}]})
    # 10 x 1/3 = 3.33.. -> 3, 10 x 2/3 = 6.66.. -> 6; one unit left, to the larger remainder (0.66..)
    assert result.values["share"] == {7: D(3), 3: D(7)}
    assert json.loads(json.dumps(result.to_json()))["values"]["share"] == {"7": "3", "3": "7"}
