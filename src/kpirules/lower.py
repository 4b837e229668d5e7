"""Lowering stage: the checked model (model.py with surface expressions) to the IR (ir.py).

Names are bound here, once, by the checker's scope rules: inside `sum over LIST` a list's fields
(or, for a list of numbers, the list's own name) come first; inside a function its parameters;
then the evaluation's facts and values. `table[key]` and `bands[key]` become lookups, `record[key]`
and `record.key` reads; a call is a policy function unless a list field of the same name hides
it; `ladder ... using` already carries its shared lines (the checker put them there). Every IR
node keeps the span of the construct it came from.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from . import dates, ir
from . import model as m
from . import nodes as n


class _Scope:
    """What a bare name means where an expression stands."""

    def __init__(self, *, fields=frozenset(), elem=None, params=None, member=None, columns=frozenset()):
        self.fields = fields      # names of the current line's fields
        self.elem = elem          # the list of numbers whose element is being read
        self.params = params or {}  # parameter name -> index
        self.member = member      # `for each member in ...`: the name of the current line
        self.columns = columns    # per-member values of the current line's list

    def shadows(self, name: str) -> bool:
        return name in self.fields or name == self.elem or name in self.params


_TOP = _Scope()


class Lowerer:
    def __init__(self, policy: m.PolicyModel):
        self.policy = policy
        self.tables = {t.name for t in policy.tables}
        self.bands = {b.name for b in policy.bands}
        self.function_names = {f.name for f in policy.functions}
        self.facts: dict = {}
        self.values: set[str] = set()
        self.per: dict[str, str] = {}  # per-member value -> its list
        self.rids = 0

    def rid(self) -> int:
        self.rids += 1
        return self.rids - 1

    # ---- expressions ---------------------------------------------------------------------------
    def expr(self, e, scope: _Scope = _TOP):
        return _EXPR[type(e)](self, e, scope)

    def _number(self, e: n.Number, scope):
        return ir.Const(value=e.value, percent=e.unit == "percent", span=e.span)

    def _date(self, e: n.DateLit, scope):
        return ir.Const(value=dates.parse_date(e.text), span=e.span)  # the checker proved the day exists

    def _days(self, e: n.DaysBetween, scope):
        return ir.DaysBetween(start=self.expr(e.start, scope), end=self.expr(e.end, scope), span=e.span,
                              rid=self.rid())

    def _const(self, e, scope):
        return ir.Const(value=e.value, span=e.span)

    def _name(self, e: n.Name, scope: _Scope):
        name = e.name
        if name in scope.fields:
            return ir.FieldRef(name=name, span=e.span)
        if name == scope.elem:
            return ir.ElemRef(name=name, span=e.span)
        if name in scope.params:
            return ir.ParamRef(name=name, index=scope.params[name], span=e.span)
        if name in scope.columns:
            return ir.ColumnRef(name=name, span=e.span)
        if name in self.facts:
            return ir.FactRef(name=name, span=e.span)
        if name == dates.EVALUATION_DATE and name not in self.values:
            return ir.AsOf(span=e.span)
        return ir.ValueRef(name=name, span=e.span)

    def _item_ref(self, e, scope):
        return ir.ItemName(span=e.span)

    def _unary(self, e: n.Unary, scope):
        operand = self.expr(e.operand, scope)
        if e.op == "not":
            return ir.Not(operand=operand, span=e.span)
        return ir.Neg(operand=operand, span=e.span)

    def _binary(self, e: n.Binary, scope):
        left, right = self.expr(e.left, scope), self.expr(e.right, scope)
        if e.op in ("and", "or"):
            return ir.Logic(op=e.op, left=left, right=right, span=e.span)
        return ir.Arith(op=e.op, left=left, right=right, span=e.span)

    def _compare(self, e: n.Compare, scope):
        return ir.Compare(op=e.op, left=self.expr(e.left, scope), right=self.expr(e.right, scope), span=e.span)

    def _conditional(self, e: n.Conditional, scope):
        return ir.Cond(condition=self.expr(e.condition, scope), then=self.expr(e.then, scope),
                       otherwise=self.expr(e.otherwise, scope), span=e.span, rid=self.rid())

    def _index(self, e: n.Index, scope: _Scope):
        target = e.target
        # The checker looks a table or bands name up before the line's fields (checker._t_index);
        # only a function's parameter can stand in its way.
        if isinstance(target, n.Name) and target.name not in scope.params:
            if target.name in self.tables:
                return ir.TableLookup(table=target.name, key=self.expr(e.key, scope), span=e.span, rid=self.rid())
            if target.name in self.bands:
                return ir.BandLookup(bands=target.name, key=self.expr(e.key, scope), span=e.span, rid=self.rid())
        if isinstance(target, n.Name) and target.name in self.per and target.name not in scope.columns:
            lst = self.per[target.name]
            return ir.Pick(name=target.name, list_name=lst, key_field=self.facts[lst].key,
                           key=self.expr(e.key, scope), span=e.span)
        if isinstance(target, n.Name) and target.name in self.facts and self.facts[target.name].key is not None \
                and not scope.shadows(target.name):
            return ir.LineGet(target=self.expr(target, scope), key_field=self.facts[target.name].key,
                              key=self.expr(e.key, scope), span=e.span)
        return ir.KeyGet(target=self.expr(target, scope), key=self.expr(e.key, scope), span=e.span)

    def _field(self, e: n.Field, scope):
        if isinstance(e.target, n.Name) and e.target.name == scope.member:
            return ir.FieldRef(name=e.name, span=e.span)  # `member.score`: a field of the current line
        return ir.FieldGet(target=self.expr(e.target, scope), name=e.name, span=e.span)

    def _allocate(self, e: n.Allocate, scope):
        return ir.Allocate(amount=self.expr(e.amount), weight=self.expr(e.weight, scope), quantum=e.quantum,
                           ties=e.ties, span=e.span, rid=self.rid())

    def _rank(self, e: n.Rank, scope):
        return ir.Rank(kind=e.kind, value=self.expr(e.value, scope), order=e.order, span=e.span, rid=self.rid())

    def _call(self, e: n.Call, scope: _Scope):
        args = tuple(self.expr(a, scope) for a in e.args)
        fn = e.function
        if fn in self.function_names and fn not in scope.fields:
            return ir.Call(function=fn, args=args, span=e.span, rid=self.rid())
        if fn == "sum":
            return ir.ListSum(arg=args[0], span=e.span, rid=self.rid())
        if fn == "count":
            return ir.ListCount(arg=args[0], span=e.span, rid=self.rid())
        if fn == "abs":
            return ir.Abs(arg=args[0], span=e.span)
        if fn in dates.FUNCTIONS:
            return ir.DateFn(fn=fn, args=args, span=e.span)
        return ir.Extreme(fn=fn, args=args, span=e.span, rid=self.rid())

    def _blend(self, e: n.Blend, scope):
        return ir.Blend(parts=tuple((self.expr(expr, scope), w) for expr, w, _ in e.parts), span=e.span)

    # ---- clauses -------------------------------------------------------------------------------
    def clauses(self, clauses, scope: _Scope = _TOP) -> tuple:
        """Floors, caps and roundings of a value, in written order (filters and `round each`
        belong to the aggregate; citations to the value)."""
        out: list[ir.Clause] = []
        for c in clauses:
            if isinstance(c, n.Floor):
                out.append(ir.Floor(bound=self.expr(c.value, scope), span=c.span, rid=self.rid()))
            elif isinstance(c, n.Cap):
                out.append(ir.Cap(bound=self.expr(c.value, scope), span=c.span, rid=self.rid()))
            elif isinstance(c, n.Round) and not c.each:
                out.append(ir.Round(mode=c.mode, quantum=c.quantum, span=c.span))
        return tuple(out)

    # ---- values --------------------------------------------------------------------------------
    def value(self, d: m.ValueDef) -> ir.Value:
        compute: ir.Formula | ir.Aggregate | ir.Item | ir.ScorecardSum | ir.Assert
        if d.kind == "assert":  # issue 10
            compute = assertion(self, d)
            keeps = False
        elif d.kind == "item":
            compute = self.item(d)
            keeps = False
        elif d.kind == "scorecard":
            sc = d.node
            assert isinstance(sc, n.Scorecard)  # the checker makes a scorecard's ValueDef from one
            compute = ir.ScorecardSum(items=tuple(i.name for i in sc.items), clauses=self.clauses(sc.clauses),
                                      span=sc.span)
            keeps = any(isinstance(c, n.Round) for c in sc.clauses)
        else:
            node = d.node
            assert isinstance(node, n.Definition)  # let and output come from definitions
            # A declared rounding, or an allocation paid in a quantum: shown with its digits (`320.00`).
            keeps = any(isinstance(c, n.Round) for c in node.clauses) or isinstance(node.value, n.Allocate)
            if isinstance(node.value, n.Aggregate):
                compute = self.aggregate(node.value, node.clauses)
            else:
                scope = _TOP
                if node.each is not None:
                    scope = _Scope(member=node.each.var, columns=self.columns(node.each.list_name))
                compute = ir.Formula(expr=self.expr(node.value, scope), clauses=self.clauses(node.clauses, scope),
                                     span=node.span)
        return ir.Value(kind=d.kind, name=d.name, label=d.label, type=d.type, compute=compute, deps=d.deps,
                        cites=d.cites, notes=d.notes, keeps_digits=keeps, scorecard=d.scorecard,
                        per=d.per, key=self.facts[d.per].key if d.per is not None else None, span=d.span)

    def columns(self, list_name: str) -> frozenset:
        return frozenset(name for name, lst in self.per.items() if lst == list_name)

    def aggregate(self, agg: n.Aggregate, clauses) -> ir.Aggregate:
        decl = self.facts[agg.list_name]
        records = bool(decl.type.fields)
        scope = (_Scope(fields=frozenset(f[0] for f in decl.type.fields), columns=self.columns(agg.list_name))
                 if records else _Scope(elem=agg.list_name))
        rounding = next((c for c in clauses if isinstance(c, n.Round) and c.each), None)
        return ir.Aggregate(
            counting=agg.function == "count", list_name=agg.list_name, records=records,
            body=self.expr(agg.body, scope) if agg.body is not None else None,
            filters=tuple(ir.Filter(condition=self.expr(c.condition, scope), reason=c.reason, span=c.span,
                                    rid=self.rid())
                          for c in clauses if isinstance(c, n.Filter)),
            round_each=(ir.Round(mode=rounding.mode, quantum=rounding.quantum, span=rounding.span)
                        if rounding is not None else None),
            clauses=self.clauses(clauses), span=agg.span)

    def item(self, d: m.ValueDef) -> ir.Item:
        item = d.node
        assert isinstance(item, n.Item)  # the checker makes an item's ValueDef from one
        steps: list[ir.Step] = []
        for s in item.body:
            if isinstance(s, n.Adjust):
                steps.append(ir.Adjust(sign=s.sign, amount=self.expr(s.amount),
                                       per=self.expr(s.per) if s.per is not None else None,
                                       condition=self.expr(s.condition) if s.condition is not None else None,
                                       span=s.span, rid=self.rid()))
            elif isinstance(s, n.Override):
                steps.append(ir.Override(value=self.expr(s.value), condition=self.expr(s.condition), span=s.span,
                                         rid=self.rid()))
            elif isinstance(s, n.Ladder):
                steps.append(self.ladder(s))
            elif isinstance(s, (n.Floor, n.Cap)):
                steps.extend(self.clauses((s,)))
        gates = tuple(ir.Gate(tag=g.tag, condition=self.expr(g.condition), reason=g.reason,
                              cites=n.cite_texts(g.clauses), notes=n.note_texts(g.clauses), span=g.span,
                              rid=self.rid())
                      for g in d.gates)
        return ir.Item(weight=item.weight, tags=item.tags, steps=tuple(steps), gates=gates, span=item.span)

    def ladder(self, s: n.Ladder) -> ir.Ladder:
        lines = {}
        for st in s.steps:
            # The checker allows one line per side; were there two, the last would be the one read.
            lines[st.direction] = ir.LadderLine(sign=st.sign, points=self.expr(st.points), rule=st.rule,
                                                step=self.expr(st.step), direction=st.direction, span=st.span)
        none = s.none_rule if s.none_rule in (None, "standard") else self.expr(s.none_rule)
        return ir.Ladder(rate=self.expr(s.rate), standard=self.expr(s.standard), none=none,
                         below=lines.get("below"), above=lines.get("above"),
                         percent=isinstance(s.standard, n.Number) and s.standard.unit == "percent",
                         span=s.span, rid=self.rid())

    def function(self, fn: n.Function) -> ir.Function:
        scope = _Scope(params={p.name: i for i, p in enumerate(fn.params)})
        return ir.Function(name=fn.name, label=fn.label, params=tuple(p.name for p in fn.params),
                           body=self.expr(fn.body, scope), clauses=self.clauses(fn.clauses, scope),
                           cites=n.cite_texts(fn.clauses), notes=n.note_texts(fn.clauses), span=fn.span)


_EXPR: dict[type, Callable[..., ir.Expr]] = {
    n.Number: Lowerer._number, n.DateLit: Lowerer._date, n.DaysBetween: Lowerer._days,
    n.Text: Lowerer._const, n.Bool: Lowerer._const, n.Name: Lowerer._name,
    n.ItemRef: Lowerer._item_ref, n.Unary: Lowerer._unary, n.Binary: Lowerer._binary,
    n.Compare: Lowerer._compare, n.Conditional: Lowerer._conditional, n.Index: Lowerer._index,
    n.Field: Lowerer._field, n.Call: Lowerer._call, n.Blend: Lowerer._blend,
    n.Allocate: Lowerer._allocate, n.Rank: Lowerer._rank,
}


def lower(policy: m.PolicyModel) -> ir.Policy:
    """The IR of a checked policy."""
    lowerer = Lowerer(policy)
    functions = tuple(lowerer.function(f) for f in policy.functions)
    evaluations = []
    for ev in policy.evaluations:
        lowerer.facts = {f.name: f for f in ev.facts}
        lowerer.values = {d.name for d in ev.values}
        lowerer.per = {d.name: d.per for d in ev.values if d.per is not None}
        evaluations.append(ir.Evaluation(name=ev.name, label=ev.label, facts=ev.facts,
                                         values=tuple(lowerer.value(d) for d in ev.values), span=ev.span))
    out = ir.Policy(name=policy.name, label=policy.label, version=policy.version, tables=policy.tables,
                    bands=policy.bands, functions=functions, evaluations=tuple(evaluations))
    return attrs.evolve(out, records=lowerer.rids)


# ---- tiers, chained comparisons, assertions (issue 10) ----------------------------------------

def _tier_apply(self: Lowerer, e: n.TierApply, scope: _Scope):
    schedule = next(t for t in self.policy.tiers if t.name == e.tiers)
    return ir.TierApply(mode=e.mode, schedule=schedule, tier=e.tier, value=self.expr(e.value, scope),
                        base=self.expr(e.base, scope) if e.base is not None else None, span=e.span,
                        rid=self.rid())


def _chain_compare(self: Lowerer, e: n.ChainCompare, scope: _Scope):
    """`a <= x <= b` is `a <= x and x <= b` (x is computed for each comparison: formulas are pure)."""
    a, b, c = e.operands
    first = ir.Compare(op=e.ops[0], left=self.expr(a, scope), right=self.expr(b, scope),
                       span=_joined(a.span, b.span))
    second = ir.Compare(op=e.ops[1], left=self.expr(b, scope), right=self.expr(c, scope),
                        span=_joined(b.span, c.span))
    return ir.Logic(op="and", left=first, right=second, span=e.span)


def _joined(start, end):
    return attrs.evolve(start, end=end.end)


def assertion(self: Lowerer, d: m.ValueDef) -> ir.Assert:
    node = d.node
    assert isinstance(node, n.Assert)
    return ir.Assert(condition=self.expr(node.condition), message=node.message, reads=d.deps, span=node.span,
                     rid=self.rid())


_EXPR[n.TierApply] = _tier_apply
_EXPR[n.ChainCompare] = _chain_compare
