"""Types pass: the type and unit of every value, item, gate and fact bound, each evaluation in turn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from .. import model as m
from .. import nodes as n
from .. import patterns
from ..diagnostics import did_you_mean
from ..limits import MAX_PATTERN_REPEAT
from .expressions import boolean, clauses, points, same_unit, type_of
from .ladders import steps as ladder_steps
from .state import Ctx, EvaluationState, State, describe, fact_type, line_type

# Runs after dependencies (values are typed in their order, so the type of a name is known when
# it is read) and after ladders (items are typed with `using` resolved). Evaluations are typed one
# after another: a top-level value's type, set while typing one evaluation, is what the next one
# starts from. Names read in expressions are resolved here (E201), where their scope is known.


def run(st: State) -> None:
    for es in st.evaluations:
        with st.within(es.index):
            # Fact declarations first: their bounds may name other facts, never computed values.
            for f in es.facts:
                es.bounds[f.name] = _fact_bounds(st, es, f)
            for d, top in es.order:
                es.values.extend(_value(st, es, d, top, es.used))
            reached = {d.name for d, _ in es.order}
            for d in st.top_defs:  # still checked, though this evaluation does not compute it
                if d.name not in reached:
                    _value(st, es, d, True, set())


def _fact_bounds(st: State, es: EvaluationState, f: n.Fact) -> tuple:
    """(bounds, field bounds) of a fact: for lists, the bounds of each element or field."""
    scope, used = es.scope, es.used
    ftype = scope[f.name].type
    t = f.type
    bounds: tuple[m.Bound, ...] = ()
    field_bounds: tuple[tuple[str, tuple[m.Bound, ...]], ...] = ()
    if isinstance(t, n.ScalarType):
        bounds = _bounds(st, t, ftype, scope, used, f.name)
    elif isinstance(t, n.ListType):
        if isinstance(t.element, tuple):  # a list of records
            # A field's bound is checked within its line: it may name nothing outside it.
            field_bounds = tuple((fd.name, _bounds(st, fd.type, fact_type(fd.type), {}, used, fd.name))
                                 for fd in t.element if isinstance(fd.type, n.ScalarType))
        elif isinstance(t.element, n.ScalarType):
            bounds = _bounds(st, t.element, ftype.element, scope, used, f.name)
    elif isinstance(t, n.RecordType):
        if t.constraints:
            bounds = _bounds(st, n.ScalarType(kind=t.kind, constraints=t.constraints, span=t.span),
                             ftype.element, scope, used, f.name)
    return bounds, field_bounds


def _bounds(st: State, t: n.ScalarType, ftype: m.Type, scope, used, owner) -> tuple[m.Bound, ...]:
    out: list[m.Bound] = []
    for c in t.constraints:
        if isinstance(c, n.PatternConstraint):
            if t.kind != "text":
                st.err("E301", f"`matching` applies to text facts, not {t.kind}", c.span,
                       "declare the fact as `text matching \"...\"`")
            try:
                patterns.compile(c.pattern)
            except patterns.PatternError as exc:
                if exc.code == "E320":
                    st.err("E320", f"pattern `{c.pattern}` is too costly: {exc.message}", c.span,
                           f"a part of a pattern may repeat at most {MAX_PATTERN_REPEAT} times; "
                           f"write `+` or `*` for longer runs")
                else:
                    st.err("E312", f"invalid pattern `{c.pattern}`: {exc.message}", c.span,
                           "a pattern is a regular expression (RE2 syntax: no backreferences or "
                           "lookaround), e.g. `\"[0-9]{4}-[0-9]{2}\"`")
            out.append(m.Bound(op="matching", value=c.pattern, span=c.span))
            continue
        if t.kind in ("text", "boolean"):
            st.err("E301", f"a {t.kind} fact cannot have a range", c.span,
                   "ranges and comparisons bound numbers; use `matching` for text"
                   if t.kind == "text" else "remove the bound")
            continue
        pairs = [(">=", c.low), ("<=", c.high)] if isinstance(c, n.RangeConstraint) else [(c.op, c.bound)]
        for op, expr in pairs:
            ctx = Ctx(scope=scope)
            bt = type_of(st, expr, ctx)
            used.update(ctx.used)
            if any(dep == owner for dep in ctx.deps):
                st.err("E210", f"fact `{owner}` is bounded by itself", expr.span,
                       "bound it with a literal or another fact")
            computed = [dep for dep in ctx.deps if scope.get(dep) and scope[dep].kind != "fact"]
            if computed:
                st.err("E212", f"the bound of fact `{owner}` reads `{computed[0]}`, which is "
                       "computed; a bound may use only literals and other facts", expr.span,
                       "facts are checked before anything is computed; move the check into a "
                       "value, e.g. with `cap`")
            _bound_form(st, expr, owner)
            if bt is not None:
                same_unit(st, ftype, bt, expr.span, "compare")
            out.append(m.Bound(op=op, value=expr, span=c.span))
    return tuple(out)


def _bound_form(st: State, expr, owner: str) -> None:
    """A bound is checked on the facts as given, before anything is computed: literals, other
    facts, `-` and `+ - * /` of those (facts.py resolves exactly these). Anything else would
    pass unchecked, so it is refused here (E212)."""
    for node in n.walk(expr):
        if isinstance(node, (n.Number, n.DateLit, n.Name)) or (isinstance(node, n.Unary) and node.op == "neg"):
            continue
        if isinstance(node, n.Binary) and node.op in ("+", "-", "*", "/"):
            if node.op == "/" and isinstance(node.right, n.Number) and node.right.value == 0:
                st.err("E212", f"the bound of fact `{owner}` divides by zero", node.span,
                       "bound it with a literal or another fact")
            continue
        st.err("E212", f"the bound of fact `{owner}` uses `{node.span.text}`; a bound may use only "
               "literals, other facts and + - * / of them", node.span,
               "facts are checked before anything is computed; move the check into a value, "
               "e.g. with `cap`")
        return


def _value(st: State, es: EvaluationState, d, top: bool, used: set) -> list:
    """The ValueDef of a definition (or of a scorecard and its items), typed in `es`."""
    scope = es.scope
    if isinstance(d, n.Scorecard):
        return _scorecard(st, es, d, used)
    if isinstance(d, n.Assert):  # issue 10: checker/assertions.py
        from . import assertions
        return assertions.value(st, es, d, used)
    ctx = Ctx(scope=scope if not top else {k: v for k, v in scope.items() if v.kind in ("table", "value")})
    value = d.value
    written = d.clauses
    cites, notes = n.cite_texts(written), n.note_texts(written)
    per = _each(st, d.each, ctx) if d.each is not None else None
    if per is not None and isinstance(value, n.Aggregate):
        st.err("E331", f"`{value.function} over` computes one value for the whole team; it cannot be "
               "a per-member value", value.span,
               f"define it before `for each` (e.g. `let total = {value.function} over {value.list_name}"
               f"{' of ...' if value.function == 'sum' else ''}`) and read it here")
        vtype = None
    elif isinstance(value, n.Aggregate):
        vtype = _aggregate(st, value, written, ctx)
    else:
        vtype = type_of(st, value, ctx)
        for c in written:
            if isinstance(c, n.Filter) or (isinstance(c, n.Round) and c.each):
                word = "only if" if isinstance(c, n.Filter) else "round each"
                st.err("E309", f"`{word}` applies only to `sum over` or `count over` values",
                       c.span, "move it under a definition of the form `= sum over LIST of ...`")
    vtype = clauses(st, written, vtype, ctx)
    used.update(ctx.used)
    if vtype is not None and vtype.money is None:
        vtype = m.NUMBER
    scope[d.name].type = vtype
    return [m.ValueDef(kind=d.kind, name=d.name, label=d.label, type=vtype or m.NUMBER, node=d,
                       deps=tuple(dict.fromkeys(ctx.deps)), cites=cites, notes=notes, span=d.span,
                       per=d.each.list_name if d.each is not None else None)]


def _each(st: State, each: n.Each, ctx: Ctx) -> str | None:
    """`for each member in members:`: `member` names the current line of a keyed list of records."""
    sym = ctx.scope.get(each.list_name)
    if sym is None or sym.kind != "fact" or sym.type is None or sym.type.kind != "list" or not sym.type.fields:
        if sym is None:
            _unknown_list(st, each.list_name, each.span, ctx)
        else:
            st.err("E331", f"`for each` goes over a list of records; `{each.list_name}` is not one", each.span,
                   "declare it as e.g. `fact members: list of (id: text, score: number) keyed by id`")
        return None
    if sym.type.key is None:
        # Reported once; the block is still typed (its `member.score` is known) so nothing cascades.
        st.err("E331", f"`for each` needs to know what names each member: `{each.list_name}` has no key",
               each.span, f"declare the list `keyed by` an id field, e.g. `... keyed by "
               f"{sym.type.fields[0][0]}`; per-member values are reported by that key")
    if each.var in ctx.scope:
        st.err("E202", f"`{each.var}` already names something else; `for each` needs a new name for the "
               "current member", each.span, f"write e.g. `for each line in {each.list_name}:`")
        return None
    ctx.deps.append(each.list_name)
    ctx.used.add(each.list_name)
    ctx.fields[each.var] = line_type(sym.type, each.list_name)
    ctx.per = each.list_name
    ctx.each = each
    return each.list_name


def _unknown_list(st: State, name: str, span, ctx: Ctx) -> None:
    st.err("E201", f"unknown list `{name}`", span,
           st.did_you_mean(name, [k for k, s in ctx.scope.items() if s.kind == "fact"]))


def _aggregate(st: State, agg: n.Aggregate, written, ctx: Ctx):
    sym = ctx.scope.get(agg.list_name)
    if sym is None or sym.kind != "fact" or sym.type is None or sym.type.kind != "list":
        if sym is None:
            _unknown_list(st, agg.list_name, agg.list_span, ctx)
        else:
            st.err("E301", f"`{agg.list_name}` is not a list fact", agg.list_span,
                   "`sum over` and `count over` read a fact declared `list of ...`")
        return None
    ctx.deps.append(agg.list_name)
    ctx.used.add(agg.list_name)
    ltype = sym.type
    if ltype.fields:
        line_fields = {name: ftype for name, ftype, _ in ltype.fields}
    else:
        assert ltype.element is not None  # a list of scalars has its element type (state.fact_type)
        line_fields = {agg.list_name: ltype.element}
    line_ctx = Ctx(scope=ctx.scope, fields=line_fields, deps=ctx.deps, used=ctx.used, per=agg.list_name)
    for c in written:
        if isinstance(c, n.Filter):
            boolean(st, c.condition, line_ctx, "`only if`")
        elif isinstance(c, n.Round) and c.each and agg.function != "sum":
            st.err("E309", "`round each` applies only to `sum over`", c.span)
    if agg.function == "count":
        if agg.body is not None:
            st.err("E301", "`count over` counts lines; it takes no `of` expression", agg.body.span,
                   "use `sum over LIST of ...` to add values up")
        return m.Type(kind="number", display="count")
    if agg.body is None:
        if ltype.fields:
            st.err("E301", "`sum over` a list of records needs `of` and the value of each line",
                   agg.span, f"write `sum over {agg.list_name} of FIELD`")
            return None
        body_type = ltype.element
    else:
        body_type = type_of(st, agg.body, line_ctx)
    if body_type is not None and body_type.kind != "number":
        st.err("E301", f"`sum over` adds numbers, not {describe(body_type)}", agg.span)
        return None
    return body_type


def _scorecard(st: State, es: EvaluationState, sc: n.Scorecard, used: set) -> list:
    scope = es.scope
    # The items as the ladders pass left them (`using` resolved); the model keeps these.
    sc = attrs.evolve(sc, items=tuple(es.items[id(i)] for i in sc.items))
    out = []
    tags: dict[str, list[n.Item]] = {}
    for item in sc.items:
        for tag in item.tags:
            tags.setdefault(tag, []).append(item)
    gates_by_tag: dict[str, list[n.Gate]] = {}
    for gate in sc.gates:
        if gate.tag not in tags:
            st.err("E206", f"no item of scorecard `{sc.name}` is tagged `{gate.tag}`", gate.span,
                   did_you_mean(gate.tag, tags) or f"tag items with `weight N, {gate.tag}:`")
            continue
        gates_by_tag.setdefault(gate.tag, []).append(gate)
    gate_deps = {}
    for gate in sc.gates:
        ctx = Ctx(scope=scope, in_gate=True)
        boolean(st, gate.condition, ctx, "a gate")
        used.update(ctx.used)
        gate_deps[id(gate)] = ctx.deps
        for item in tags.get(gate.tag, ()):
            _gate_keys(st, gate.condition, item, scope)
    for item in sc.items:
        ctx = Ctx(scope=scope)
        _item(st, item, ctx)
        used.update(ctx.used)
        gates = tuple(g for tag in item.tags for g in gates_by_tag.get(tag, ()))
        deps = list(ctx.deps) + [d for g in gates for d in gate_deps[id(g)]]
        ladder_lines = tuple(c for s in item.body if isinstance(s, n.Ladder) for c in s.cites)
        cites = n.cite_texts(item.body) + n.cite_texts(ladder_lines)
        notes = n.note_texts(item.body) + n.note_texts(ladder_lines)
        out.append(m.ValueDef(kind="item", name=item.name, label=item.label, type=m.POINTS, node=item,
                              deps=tuple(dict.fromkeys(deps)), cites=cites, notes=notes, span=item.span,
                              scorecard=sc.name, gates=gates))
    ctx = Ctx(scope=scope)
    clauses(st, sc.clauses, m.POINTS, ctx)
    used.update(ctx.used)
    cites, notes = n.cite_texts(sc.clauses), n.note_texts(sc.clauses)
    deps = [i.name for i in sc.items] + ctx.deps
    out.append(m.ValueDef(kind="scorecard", name=sc.name, label=sc.label, type=m.POINTS, node=sc,
                          deps=tuple(dict.fromkeys(deps)), cites=cites, notes=notes, span=sc.span))
    return out


def _gate_keys(st: State, cond, item, scope):
    """A gate that reads `record[item]` needs a record key for every item it decides on."""
    for node in n.walk(cond):
        if isinstance(node, n.Index) and isinstance(node.key, n.ItemRef) and isinstance(node.target, n.Name):
            sym = scope.get(node.target.name)
            if sym is not None and sym.type is not None and sym.type.kind == "record":
                if item.name not in sym.type.keys:
                    st.err("E205", f"record `{node.target.name}` has no key `{item.name}` for item "
                           f"`{item.name}`", node.span,
                           f"add `{item.name}` to the keys of `{node.target.name}`")


def _item(st: State, item: n.Item, ctx: Ctx) -> None:
    for s in item.body:
        visit = _ITEM_LINES.get(type(s))
        if visit is not None:
            visit(st, s, ctx)


def _adjust(st: State, s: n.Adjust, ctx: Ctx) -> None:
    points(st, s.amount, ctx, f"`{s.sign}`")
    if s.per is not None:
        points(st, s.per, ctx, "`per`")
    if s.condition is not None:
        boolean(st, s.condition, ctx, "`if`")


def _override(st: State, s: n.Override, ctx: Ctx) -> None:
    points(st, s.value, ctx, "`score`")
    boolean(st, s.condition, ctx, "`if`")


def _ladder(st: State, s: n.Ladder, ctx: Ctx) -> None:
    points(st, s.rate, ctx, "a ladder's rate")
    points(st, s.standard, ctx, "a ladder's standard")
    if s.none_rule is not None and s.none_rule != "standard":
        points(st, s.none_rule, ctx, "`if none`")
    if not s.steps and s.using is None:
        st.err("E313", "a ladder needs at least one step line", s.span,
               "add e.g. `minus 2 per full 5% below`, or `using` a shared ladder")
    ladder_steps(st, s.steps, ctx)


def _floor(st: State, s: n.Floor, ctx: Ctx) -> None:
    points(st, s.value, ctx, "`floor`")


def _cap(st: State, s: n.Cap, ctx: Ctx) -> None:
    points(st, s.value, ctx, "`cap`")


# What each line of an item's body says about types (a `cite` says nothing).
_ITEM_LINES: dict[type, Callable[[State, Any, Ctx], None]] = {
    n.Adjust: _adjust, n.Override: _override, n.Ladder: _ladder, n.Floor: _floor, n.Cap: _cap}
