"""Examples pass: an example names an evaluation, facts it declares and values it computes (E214)."""

from __future__ import annotations

from .. import dates
from .. import nodes as n
from .state import EXAMPLES, State

# Runs after types: the values of an evaluation are known once it is typed.


def run(st: State) -> None:
    with st.within(EXAMPLES):
        for ex in st.policy.examples:
            _example(st, ex)


def _example(st: State, ex: n.Example) -> None:
    evaluations = st.evaluations
    if ex.evaluation is None:
        if len(evaluations) != 1:
            st.err("E214", f"example `{ex.name}` must say which evaluation it is for", ex.span,
                   "add `for` and its name after the title: "
                   + ", ".join(f"`for {e.node.name}`" for e in evaluations))
            return
        es = evaluations[0]
    else:
        es = next((e for e in evaluations if e.node.name == ex.evaluation), None)
        if es is None:
            st.err("E214", f"example `{ex.name}` is for an unknown evaluation `{ex.evaluation}`", ex.span,
                   st.did_you_mean(ex.evaluation, [e.node.name for e in evaluations]))
            return
    # The versions of an evaluation: an example may be for any of them (its `evaluation_date`).
    versions = [e for e in evaluations if e.node.name == es.node.name]
    facts = {f.name: f for e in versions for f in e.facts}
    for path, _value in ex.given:
        if path[0] == dates.EVALUATION_DATE and path[0] not in facts:
            continue  # the date the example is evaluated as of
        if path[0] not in facts:
            st.err("E214", f"example `{ex.name}` gives an unknown fact `{path[0]}`", ex.span,
                   st.did_you_mean(path[0], facts))
    values = {d.name for e in versions for d in e.values}
    for name, _value, span in ex.expect:
        if name not in values:
            st.err("E214", f"example `{ex.name}` expects an unknown value `{name}`", span,
                   st.did_you_mean(name, values) or f"evaluation `{es.node.name}` computes: "
                   + ", ".join(sorted(values)))
    if not ex.expect and not ex.errors:
        st.err("E214", f"example `{ex.name}` expects nothing", ex.span,
               "add a line such as `expect total_score = 90` or `expect error at \"daily\"`")
