"""Names pass: every declared name, once per scope; what may not be a name; where outputs live."""

from __future__ import annotations

from .. import model as m
from .. import nodes as n
from . import versions
from .state import EvaluationState, State, Symbol, fact_type

# Runs after tables (only the first table of each name is declared) and before every pass that
# reads a scope. Imports were resolved by the loader: their definitions are in the tree already.
# Names *read* in expressions are resolved where they are typed (the types pass), because what a
# name may refer to depends on where the expression sits (a list line, a function, a top value).

# Words that can start or join an expression: a fact or value so named could never be read back
# in a formula (elsewhere the parser tells keywords and names apart by position).
RESERVED = frozenset({"if", "then", "else", "not", "and", "or", "true", "false", "item", "sum", "count",
                      "blend", "days", "allocate", "dense",
                      "marginal", "retroactive"})


def run(st: State) -> None:
    policy, top = st.policy, st.top_scope
    for t in policy.tables:
        if t.name in st.tables and st.tables[t.name].span is t.span:
            st.declare(top, t.name, Symbol("table", None, t, t.span), t.span)
    for b in policy.bands:
        if st.declare(top, b.name, Symbol("bands", m.TEXT, b, b.span), b.span):
            st.band_nodes[b.name] = b
    for sched in policy.tiers:
        if st.declare(top, sched.name, Symbol("tiers", None, sched, sched.span), sched.span):
            st.tier_nodes[sched.name] = sched
    for lad in policy.ladders:
        if st.declare(top, lad.name, Symbol("ladder", None, lad, lad.span), lad.span):
            st.ladders[lad.name] = lad
    for fn in policy.functions:
        if st.declare(top, fn.name, Symbol("function", None, fn, fn.name_span), fn.name_span):
            st.functions[fn.name] = fn
    for d in policy.definitions:
        if d.kind == "output":
            st.err("E209", f"output `{d.name}` must be inside an evaluation", d.name_span,
                   "use `let` for a value shared by every evaluation")
        if st.declare(top, d.name, Symbol("value", None, d, d.name_span), d.name_span):
            st.top_defs.append(d)
    if not policy.evaluations and not policy.is_module:
        st.err("E211", "the policy has no evaluation", policy.span,
               "add an evaluation with its facts and values, e.g. `evaluation monthly:`")
    seen: dict[str, n.Evaluation] = {}
    dated: dict[str, list] = {}
    for ev in policy.evaluations:
        first = seen.get(ev.name)
        # Several evaluations of one name are versions when each says when it is in force.
        if first is not None and (ev.effective is None or first.effective is None):
            st.err("E202", f"duplicate evaluation `{ev.name}`", ev.span,
                   f"the first is at line {first.span.line}; to keep both as versions, give each "
                   "`effective from DATE`")
            continue
        seen.setdefault(ev.name, ev)
        if ev.effective is not None:
            key = versions.effective(st, ev.effective)
            if key is None:
                continue
            dated.setdefault(ev.name, []).append((key, ev))
        st.evaluations.append(_evaluation(st, ev, len(st.evaluations)))
    for name, items in dated.items():
        versions.in_order(st, f"evaluation `{name}`", items)
    _not_reserved(st)


def _evaluation(st: State, ev: n.Evaluation, index: int) -> EvaluationState:
    # The top-level symbols are shared, not copied: a top-level value's type, once known, is
    # known in every evaluation.
    es = EvaluationState(node=ev, index=index, scope=dict(st.top_scope))
    for f in ev.facts:
        if st.declare(es.scope, f.name, Symbol("fact", fact_type(f.type), f, f.span), f.span):
            es.facts.append(f)
    for stmt in ev.body:
        if isinstance(stmt, n.Assert):  # named by its position: no formula can read it
            es.local_defs.append(stmt)
        elif isinstance(stmt, n.Definition):
            if st.declare(es.scope, stmt.name, Symbol("value", None, stmt, stmt.name_span), stmt.name_span):
                es.local_defs.append(stmt)
        else:  # scorecard
            if st.declare(es.scope, stmt.name, Symbol("scorecard", m.POINTS, stmt, stmt.name_span),
                          stmt.name_span):
                es.local_defs.append(stmt)
            for item in stmt.items:
                st.declare(es.scope, item.name, Symbol("item", m.POINTS, item, item.name_span), item.name_span)
    return es


_DECLARATIONS = {n.Fact: "span", n.Definition: "name_span", n.Scorecard: "name_span", n.Item: "name_span",
                 n.Table: "span"}


def _not_reserved(st: State) -> None:
    """Declared names that the grammar reserves can never be read back in a formula (E215)."""
    for x in n.walk(st.policy):
        where = _DECLARATIONS.get(type(x))
        if where is not None and x.name in RESERVED:
            st.err("E215", f"`{x.name}` is a keyword and cannot name a fact or value", getattr(x, where),
                   f"rename it, e.g. `{x.name}_value`")
