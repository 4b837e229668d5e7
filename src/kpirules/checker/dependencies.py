"""Dependencies pass: each evaluation's values in an order where each follows what it reads; cycles."""

from __future__ import annotations

from .. import nodes as n
from .state import State

# Runs after names and before types: values are typed in this order, so a name's type is known
# when it is read. The order is found from the names each value mentions, before anything is
# typed (a name that is not in scope is left for the types pass to report).


def run(st: State) -> None:
    for es in st.evaluations:
        defs = [(d, True) for d in st.top_defs] + [(d, False) for d in es.local_defs]
        es.order = _order(st, defs)


def _order(st: State, defs) -> list:
    """Definitions sorted so each follows what it reads; cycles are reported (E210)."""
    by_name = {}
    for d, top in defs:
        by_name[d.name] = (d, top)
        if isinstance(d, n.Scorecard):
            for item in d.items:
                by_name.setdefault(item.name, (item, top))  # a clash is E202; keep the first
    reads = {}
    for name, (d, _) in by_name.items():
        reads[name] = [x for x in names_read(d) if x in by_name and x != name or
                       (x == name and not isinstance(d, n.Scorecard))]
    order: list[str] = []
    state: dict[str, str] = {}  # name -> "active" while visited, then "done"
    # An evaluation computes its own values and the top-level values they read, no others.
    for d, top in defs:
        if not top:
            _visit(st, d.name, reads, by_name, state, order, [])
    result, seen = [], set()
    for name in order:
        d, top = by_name[name]
        if isinstance(d, n.Item):
            continue  # items are typed with their scorecard
        if name not in seen:
            seen.add(name)
            result.append((d, top))
    return result


def _visit(st: State, name, reads, by_name, state, order, path):
    s = state.get(name)
    if s == "done":
        return
    if s == "active":
        cycle = path[path.index(name):] + [name]
        d = by_name[name][0]
        span = getattr(d, "name_span", d.span)
        st.err("E210", f"`{name}` depends on itself: " + " -> ".join(f"`{c}`" for c in cycle), span,
               "break the cycle: one of these values must not read the other")
        return
    state[name] = "active"
    d = by_name[name][0]
    deps = list(reads[name])
    if isinstance(d, n.Scorecard):
        deps = [i.name for i in d.items if by_name.get(i.name, (None,))[0] is i] + deps
    for dep in deps:
        if dep in by_name:
            _visit(st, dep, reads, by_name, state, order, path + [name])
    state[name] = "done"
    order.append(name)


def names_read(d) -> list:
    """Names mentioned by a definition, item or scorecard (for ordering; scope is checked later)."""
    out = []
    for x in n.walk(d):
        if isinstance(x, n.Name):
            out.append(x.name)
        elif isinstance(x, n.Aggregate):
            out.append(x.list_name)
    return out
