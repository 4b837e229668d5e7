"""Functions pass: each function's body typed with its parameters, and its clauses checked."""

from __future__ import annotations

from .. import model as m
from .. import nodes as n
from ..limits import MAX_CALL_DEPTH
from .expressions import clauses, type_of
from .state import Ctx, State, Symbol, scalar_type

# Runs after names (functions and the tables and bands they may read are declared) and before
# the types pass, which reads each function's result type at its calls. A function calling one
# declared further down types that one first (see `expressions._user_call`).


def run(st: State) -> None:
    _call_depth(st)
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


def _call_depth(st: State) -> None:
    """E321 for a chain of calls longer than MAX_CALL_DEPTH, found on the call graph before any
    body is typed (typing follows calls, and a chain of hundreds would exhaust Python's stack).
    The functions starting too deep a chain are not typed (their type is unknown, None)."""
    funcs = st.functions
    calls = {name: tuple(dict.fromkeys(c.function for c in n.walk((fn.body, fn.clauses))
                                       if isinstance(c, n.Call) and c.function in funcs and c.function != name))
             for name, fn in funcs.items()}
    depth: dict[str, int] = {}   # name -> functions in the longest chain it starts (itself included)
    nxt: dict[str, str | None] = {}
    for root in funcs:
        if root in depth:
            continue
        # Iterative depth-first search; a call back into the chain (recursion, E210) counts nothing.
        stack: list[tuple[str, int]] = [(root, 0)]
        on_path = {root}
        while stack:
            name, i = stack[-1]
            callees = calls[name]
            if i < len(callees):
                stack[-1] = (name, i + 1)
                c = callees[i]
                if c not in depth and c not in on_path:
                    on_path.add(c)
                    stack.append((c, 0))
                continue
            best, via = 1, None
            for c in callees:
                if c in depth and depth[c] + 1 > best:
                    best, via = depth[c] + 1, c
            depth[name], nxt[name] = best, via
            on_path.discard(name)
            stack.pop()
    too_deep = {name for name, d in depth.items() if d > MAX_CALL_DEPTH}
    called_by_too_deep = {c for name in too_deep for c in calls[name]}
    for name in too_deep:
        st.function_types[name] = None
        if name in called_by_too_deep:
            continue
        chain = [name]
        while (following := nxt[chain[-1]]) is not None:
            chain.append(following)
        shown = chain if len(chain) <= 8 else chain[:5] + ["..."] + chain[-2:]
        fn = funcs[name]
        st.err("E321", f"function `{name}` starts a chain of {len(chain)} functions, each calling the next; at most "
               f"{MAX_CALL_DEPTH} are allowed: " + " -> ".join(c if c == "..." else f"`{c}`" for c in shown),
               fn.name_span, "compute part of the chain in a `let` of the evaluation, or merge functions")
