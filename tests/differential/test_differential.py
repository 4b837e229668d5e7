"""Differential tests: generated policies, evaluated plain, traced, and by the exact reference.

The engine must have one meaning: `explain=False` and `explain=True` give the same values digit
for digit (or the same error class), and both equal what reference.py computes with fractions on
our own copy of the policy tree. A generated policy that the checker refuses is a generator bug.

The default run is kept short for CI; `-m slow` runs the large profile. Nothing is waived: the
shapes of the bugs that once split the two modes (issue 8, pinned by name in
test_regressions.py) are generated like any other.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpirules

from . import gen
from .compare import check_case
from .tree import render

COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
              print_blob=True)


def run(case):
    tree, facts, how, passed = case
    text = render(tree)
    if how == "json":
        passed = kpirules.read_facts(gen.to_json(facts), is_text=True)
    check_case(tree, text, facts, passed)


@settings(max_examples=250, **COMMON)
@given(gen.cases())
def test_plain_traced_and_reference_agree(case):
    run(case)


@pytest.mark.slow
@settings(max_examples=5000, **COMMON)
@given(gen.cases())
def test_plain_traced_and_reference_agree_at_length(case):
    run(case)


def many_fact_sets(data, team: bool, n: int):
    tree = data.draw(gen.policies(team))
    for _ in range(n):
        facts = data.draw(gen.fact_sets(tree))
        how, passed = gen.as_passed(data.draw, facts)
        run((tree, facts, how, passed))


@given(st.data())
@settings(max_examples=60, **COMMON)
def test_one_policy_many_fact_sets(data):
    """The same policy on several fact sets: shapes that only some facts reach (boundaries)."""
    many_fact_sets(data, team=False, n=8)


# ---- teams: every policy has a keyed list of members and a `for each` block over it --------------
# (`policies()` above draws one a third of the time too.) Per-member values, `allocate`, `rank of`,
# `dense rank of`, `percentile of`, `sum over`/`count over` the members with `only if` on
# per-member values, `NAME["id"]` and `LIST["id"].FIELD` (a missing key: an evaluation error), and
# now and then a repeated id (F120 at every later line that has it).

@settings(max_examples=120, **COMMON)
@given(gen.cases(team=True))
def test_teams_plain_traced_and_reference_agree(case):
    run(case)


@given(st.data())
@settings(max_examples=20, **COMMON)
def test_one_team_policy_many_teams(data):
    """One team policy on several teams: ties, equal remainders and all-zero weights come and go."""
    many_fact_sets(data, team=True, n=8)


@pytest.mark.slow
@settings(max_examples=3000, **COMMON)
@given(gen.cases(team=True))
def test_teams_agree_at_length(case):
    run(case)


@pytest.mark.slow
@given(st.data())
@settings(max_examples=300, **COMMON)
def test_one_team_policy_many_teams_at_length(data):
    many_fact_sets(data, team=True, n=12)
