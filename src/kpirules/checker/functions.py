"""Functions pass: each function's body typed with its parameters, and its clauses checked."""

from __future__ import annotations

from .. import model as m
from .. import nodes as n
from .expressions import clauses, type_of
from .state import Ctx, State, Symbol, scalar_type

# Runs after names (functions and the tables and bands they may read are declared) and before
# the types pass, which reads each function's result type at its calls. A function calling one
# declared further down types that one first (see `expressions._user_call`).


def run(st: State) -> None:
    for fn in st.policy.functions:
        if st.functions.get(fn.name) is fn and fn.name not in st.function_types:
            check(st, fn)


def check(st: State, fn: n.Function):
    """Type one function; its result type goes to `st.function_types` (None while it is being
    typed, so a call back to it is recursion, E210)."""
    scope = {k: v for k, v in st.top_scope.items() if v.kind in ("table", "bands", "function")}
    for p in fn.params:
        if p.name in scope and scope[p.name].kind == "param":
            st.err("E202", f"duplicate parameter `{p.name}`", p.span)
        scope[p.name] = Symbol("param", scalar_type(p.kind), p, p.span)
    if fn.name in st.calling:
        return None
    st.calling = st.calling + (fn.name,)
    ctx = Ctx(scope=scope)
    t = type_of(st, fn.body, ctx)
    t = clauses(st, fn.clauses, t, ctx)
    for c in fn.clauses:
        if isinstance(c, n.Filter) or (isinstance(c, n.Round) and c.each):
            st.err("E309", "a function takes `floor`, `cap`, `round`, `cite` and `note` only", c.span)
    st.calling = st.calling[:-1]
    if t is not None and t.money is None:
        t = m.NUMBER
    st.function_types[fn.name] = t
    return t
