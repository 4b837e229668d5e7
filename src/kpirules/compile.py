"""Compile stage: checked model to closures, built once per policy load.

Each value becomes a function `step(env, events)`: `env` maps names to values computed so far;
`events` is None on the fast path, or a list that collects what shaped the value (floors, caps,
roundings, deductions, ladder steps, gates, list lines) when an explanation is asked for.
Evaluating a fact set then only calls these functions in order; it never looks at the tree.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from . import codegen, facts
from . import exact as x
from . import model as m
from . import nodes as n

LINE = "\0line"  # where an aggregate puts the current list line in env


class Failure(Exception):
    """The value cannot be computed for these facts; `span` says which part of the policy."""

    def __init__(self, message, span):
        self.message = message
        self.span = span
        super().__init__(message)


@attrs.frozen(kw_only=True)
class CompiledValue:
    definition: m.ValueDef
    run: object  # (env, events) -> value


@attrs.frozen(kw_only=True)
class Program:
    evaluation: m.EvaluationModel
    values: tuple  # CompiledValue, in dependency order
    tables: dict   # table name -> {key: value}, for explanations
    table_display: dict  # table name -> how its values read (percent, money, ...)
    fast: object = None  # generated function for evaluations without a trace (codegen.py)
    check_facts: object = None  # facts.compile_fast: the validator for plain valid fact sets
    bands: dict = attrs.Factory(dict)  # bands name -> BandsModel, for explanations
    table_info: dict = attrs.Factory(dict)  # table name -> (label, cites), for explanations


CALLS = "\0calls"  # where a traced evaluation collects the function calls of the current value


class Compiler:
    def __init__(self, policy: m.PolicyModel):
        self.tables = {t.name: t for t in policy.tables}
        self._table_dicts = {t.name: dict(t.rows) for t in policy.tables}
        self.bands = {b.name: b for b in policy.bands}
        self.functions = {f.name: f for f in policy.functions}
        self._compiled_functions = {}
        self.facts = {}

    # ---- expressions -----------------------------------------------------------------------
    def expr(self, e, fields=frozenset()):
        return _EXPR[type(e)](self, e, fields)

    def _number(self, e: n.Number, fields):
        v = e.value
        return lambda env: v

    def _const(self, e, fields):
        v = e.value
        return lambda env: v

    def _name(self, e: n.Name, fields):
        name = e.name
        if name in fields:
            return lambda env: env[LINE][name]
        return lambda env: env[name]

    def _item_ref(self, e, fields):
        return lambda env: env["\0item"]

    def _unary(self, e: n.Unary, fields):
        f = self.expr(e.operand, fields)
        if e.op == "not":
            return lambda env: not f(env)
        return lambda env: x.neg(f(env))

    def _binary(self, e: n.Binary, fields):
        a, b = self.expr(e.left, fields), self.expr(e.right, fields)
        op = e.op
        if op == "and":
            return lambda env: a(env) and b(env)
        if op == "or":
            return lambda env: a(env) or b(env)
        if op == "/":
            span = e.span

            def divide(env):
                try:
                    return x.div(a(env), b(env))
                except x.DivideByZero:
                    raise Failure(f"division by zero in `{span.text}`", span) from None
            return divide
        fn = {"+": x.add, "-": x.sub, "*": x.mul}[op]
        return lambda env: fn(a(env), b(env))

    def _compare(self, e: n.Compare, fields):
        a, b = self.expr(e.left, fields), self.expr(e.right, fields)
        op = e.op
        if op == "==":
            return lambda env: _equal(a(env), b(env))
        if op == "!=":
            return lambda env: not _equal(a(env), b(env))
        test = {">=": lambda c: c >= 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, "<": lambda c: c < 0}[op]
        return lambda env: test(x.compare(a(env), b(env)))

    def _conditional(self, e: n.Conditional, fields):
        c, t, o = self.expr(e.condition, fields), self.expr(e.then, fields), self.expr(e.otherwise, fields)
        return lambda env: t(env) if c(env) else o(env)

    def _index(self, e: n.Index, fields):
        key = self.expr(e.key, fields)
        if isinstance(e.target, n.Name) and e.target.name in self.bands and e.target.name not in fields:
            bands, span = self.bands[e.target.name], e.span
            return lambda env: band_of(bands, key(env), span)
        if isinstance(e.target, n.Name) and e.target.name in self.tables and e.target.name not in fields:
            table = self._table_dicts[e.target.name]
            name, span = e.target.name, e.span

            def lookup(env):
                k = key(env)
                try:
                    return table[k]
                except KeyError:
                    raise Failure(f"table `{name}` has no row for `{_show(k)}`", span) from None
            return lookup
        target = self.expr(e.target, fields)
        return lambda env: target(env)[key(env)]

    def _field(self, e: n.Field, fields):
        target = self.expr(e.target, fields)
        name = e.name
        return lambda env: target(env)[name]

    def _call(self, e: n.Call, fields):
        args = [self.expr(a, fields) for a in e.args]
        fn = e.function
        if fn in self.functions and fn not in fields:
            return self._user_call(self.functions[fn], args, e)
        if fn == "sum":
            a = args[0]

            def total(env):
                acc = x.ZERO
                for v in a(env):
                    acc = x.add(acc, v)
                return acc
            return total
        if fn == "count":
            a = args[0]
            return lambda env: Decimal(len(a(env)))
        if fn == "abs":
            a = args[0]
            return lambda env: (lambda v: x.neg(v) if x.compare(v, 0) < 0 else v)(a(env))
        pick = (lambda c: c > 0) if fn == "max" else (lambda c: c < 0)

        def extreme(env):
            best = args[0](env)
            for f in args[1:]:
                v = f(env)
                if pick(x.compare(v, best)):
                    best = v
            return best
        return extreme

    def _blend(self, e: n.Blend, fields):
        parts = [(self.expr(expr, fields), weight) for expr, weight, _ in e.parts]

        def blend(env):
            acc = x.ZERO
            for f, w in parts:
                acc = x.add(acc, x.mul(f(env), w))
            return acc
        return blend

    def function(self, fn: n.Function):
        """(params, body) of a user function, compiled once however often it is called."""
        if fn.name not in self._compiled_functions:
            params = frozenset(p.name for p in fn.params)
            body = self.expr(fn.body, params)
            post = self.clauses(fn.clauses, params)
            self._compiled_functions[fn.name] = (tuple(p.name for p in fn.params), body, post)
        return self._compiled_functions[fn.name]

    def _user_call(self, fn: n.Function, args, e: n.Call):
        names, body, post = self.function(fn)
        span = e.span

        def call(env):
            line = dict(zip(names, [a(env) for a in args]))
            fenv = {LINE: line}
            log = env.get(CALLS)
            events = [] if log is not None else None
            try:
                raw = body(fenv)
                value = post(raw, fenv, events) if post is not None else raw
            except Failure as f:
                raise Failure(f"in `{fn.name}`: {f.message}", span) from None
            if log is not None:
                log.append({"function": fn.name, "label": fn.label, "args": line, "computed": raw, "body": fn.body,
                            "result": value, "events": events, "span": span, "text": span.text,
                            "cites": tuple(c.text for c in fn.clauses if isinstance(c, n.Cite))})
            return value
        return call

    # ---- clauses -------------------------------------------------------------------------------
    def clauses(self, clauses, fields=frozenset()):
        """Floors, caps and roundings in written order, as one function (value, env, events)."""
        steps = []
        for c in clauses:
            if isinstance(c, n.Floor):
                steps.append(_bound_step("floor", self.expr(c.value, fields), c, lambda cmp: cmp < 0))
            elif isinstance(c, n.Cap):
                steps.append(_bound_step("cap", self.expr(c.value, fields), c, lambda cmp: cmp > 0))
            elif isinstance(c, n.Round) and not c.each:
                steps.append(_round_step(c))
        if not steps:
            return None

        def apply(value, env, events):
            for s in steps:
                value = s(value, env, events)
            return value
        return apply

    # ---- values --------------------------------------------------------------------------------
    def value(self, d: m.ValueDef, gates) -> CompiledValue:
        if d.kind == "item":
            return CompiledValue(definition=d, run=self._item(d, gates))
        if d.kind == "scorecard":
            return CompiledValue(definition=d, run=self._scorecard(d))
        node: n.Definition = d.node
        if isinstance(node.value, n.Aggregate):
            body = self._aggregate(node.value, node.clauses)
        else:
            f = self.expr(node.value)
            body = lambda env, events: f(env)
        post = self.clauses(node.clauses)
        if post is None:
            return CompiledValue(definition=d, run=body)

        def run(env, events):
            raw = body(env, events)
            if events is not None:
                events.append({"kind": "computed", "value": raw})
            return post(raw, env, events)
        return CompiledValue(definition=d, run=run)

    def _aggregate(self, agg: n.Aggregate, clauses):
        list_name = agg.list_name
        decl = self.facts[list_name]
        records = bool(decl.type.fields)
        fields = frozenset(f[0] for f in decl.type.fields) if records else frozenset({list_name})
        body = self.expr(agg.body, fields) if agg.body is not None else (lambda env: env[LINE][list_name])
        filters = [(self.expr(c.condition, fields), c) for c in clauses if isinstance(c, n.Filter)]
        rounding = next((c for c in clauses if isinstance(c, n.Round) and c.each), None)
        counting = agg.function == "count"

        def run(env, events):
            acc = x.ZERO
            line_env = env
            for i, line in enumerate(env[list_name]):
                line_env[LINE] = line if records else {list_name: line}
                excluded = None
                for cond, clause in filters:
                    if not cond(line_env):
                        excluded = clause
                        break
                if excluded is not None:
                    if events is not None:
                        events.append({"kind": "line", "index": i, "line": line, "included": False,
                                       "reason": excluded.reason, "condition": excluded.condition.span.text,
                                       "span": excluded.span, "filter": excluded})
                    continue
                if counting:
                    v = x.ONE
                    acc = x.add(acc, v)
                    if events is not None:
                        events.append({"kind": "line", "index": i, "line": line, "included": True, "value": v})
                    continue
                v = body(line_env)
                before = v
                if rounding is not None:
                    v = x.round_to(v, rounding.quantum, rounding.mode)
                acc = x.add(acc, v)
                if events is not None:
                    ev = {"kind": "line", "index": i, "line": line, "included": True, "value": v}
                    if rounding is not None:
                        ev["round"] = {"mode": rounding.mode, "quantum": rounding.quantum,
                                       "before": before, "after": v, "span": rounding.span}
                    events.append(ev)
            return acc
        return run

    def _item(self, d: m.ValueDef, gates):
        item: n.Item = d.node
        weight = item.weight
        steps = [self._item_step(s) for s in item.body if not isinstance(s, n.Cite)]
        gate_fns = [(self.expr(g.condition), g) for g in gates]
        name = item.name

        def run(env, events):
            value = weight
            for s in steps:
                value = s(value, env, events)
            for cond, gate in gate_fns:
                env["\0item"] = name
                if not cond(env):
                    if events is not None:
                        events.append({"kind": "gate", "passed": False, "tag": gate.tag, "before": value,
                                       "gate": gate,
                                       "reason": gate.reason, "condition": gate.condition.span.text,
                                       "cites": tuple(c.text for c in gate.clauses if isinstance(c, n.Cite)),
                                       "span": gate.span})
                    return x.ZERO
                if events is not None:
                    events.append({"kind": "gate", "passed": True, "tag": gate.tag, "gate": gate,
                                   "condition": gate.condition.span.text, "span": gate.span})
            return value
        return run

    def _item_step(self, s):
        if isinstance(s, n.Adjust):
            return self._adjust(s)
        if isinstance(s, n.Override):
            return self._override(s)
        if isinstance(s, n.Ladder):
            return self._ladder(s)
        clause = self.clauses((s,))
        return clause

    def _adjust(self, s: n.Adjust):
        amount = self.expr(s.amount)
        per = self.expr(s.per) if s.per is not None else None
        cond = self.expr(s.condition) if s.condition is not None else None
        apply_sign = x.sub if s.sign == "minus" else x.add

        def run(value, env, events):
            if cond is not None and not cond(env):
                if events is not None:
                    events.append({"kind": "adjust", "applied": False, "sign": s.sign, "span": s.span,
                                   "text": s.span.text, "value": value})
                return value
            a = amount(env)
            count = per(env) if per is not None else None
            delta = x.mul(a, count) if count is not None else a
            after = apply_sign(value, delta)
            if events is not None:
                events.append({"kind": "adjust", "applied": True, "sign": s.sign, "amount": a,
                               "per": count, "delta": delta, "before": value, "after": after,
                               "span": s.span, "text": s.span.text})
            return after
        return run

    def _override(self, s: n.Override):
        v, cond = self.expr(s.value), self.expr(s.condition)

        def run(value, env, events):
            if not cond(env):
                if events is not None:
                    events.append({"kind": "override", "applied": False, "span": s.span, "text": s.span.text,
                                   "value": value})
                return value
            after = v(env)
            if events is not None:
                events.append({"kind": "override", "applied": True, "before": value, "after": after,
                               "span": s.span, "text": s.span.text})
            return after
        return run

    def _ladder(self, s: n.Ladder):
        rate = self.expr(s.rate)
        standard = self.expr(s.standard)
        none_value = None
        if s.none_rule == "standard":
            none_value = standard
        elif s.none_rule is not None:
            none_value = self.expr(s.none_rule)
        # Rates read as percentages when the standard is written as one (`standard 85%`).
        percent = isinstance(s.standard, n.Number) and s.standard.unit == "percent"
        lines = {}
        for st in s.steps:
            lines[st.direction] = (st, self.expr(st.points), self.expr(st.step))

        def run(value, env, events):
            std = standard(env)
            try:
                r = rate(env)
                undefined = False
            except Failure:
                if none_value is None:
                    raise
                r = none_value(env)
                undefined = True
            c = x.compare(r, std)
            if c == 0 or (("below" if c < 0 else "above") not in lines):
                if events is not None:
                    events.append({"kind": "ladder", "rate": r, "standard": std, "undefined": undefined,
                                   "percent": percent,
                                   "direction": "at" if c == 0 else ("below" if c < 0 else "above"),
                                   "steps": x.ZERO, "delta": x.ZERO, "before": value, "after": value,
                                   "span": s.span, "rate_text": s.rate.span.text})
                return value
            direction = "below" if c < 0 else "above"
            st, points_fn, step_fn = lines[direction]
            gap = x.sub(std, r) if c < 0 else x.sub(r, std)
            step = step_fn(env)
            if x.compare(step, 0) <= 0:
                raise Failure("a ladder's step must be greater than zero", st.step.span)
            quotient = x.div(gap, step)
            if st.rule == "full":
                steps = Decimal(x.floor_int(quotient))
            elif st.rule == "started":
                steps = Decimal(x.ceil_int(quotient))
            else:
                steps = quotient
            points = points_fn(env)
            delta = x.mul(points, steps)
            after = x.sub(value, delta) if st.sign == "minus" else x.add(value, delta)
            if events is not None:
                events.append({"kind": "ladder", "rate": r, "standard": std, "undefined": undefined,
                               "percent": percent, "direction": direction, "gap": gap, "step": step, "rule": st.rule,
                               "steps": steps, "points": points, "sign": st.sign, "delta": delta,
                               "before": value, "after": after, "span": st.span,
                               "rate_text": s.rate.span.text})
            return after
        return run

    def _scorecard(self, d: m.ValueDef):
        sc: n.Scorecard = d.node
        names = [i.name for i in sc.items]
        post = self.clauses(sc.clauses)

        def run(env, events):
            acc = x.ZERO
            for name in names:
                acc = x.add(acc, env[name])
            if post is not None:
                acc = post(acc, env, events)
            return acc
        return run


def _bound_step(kind, bound, clause, bites):
    def run(value, env, events):
        b = bound(env)
        if bites(x.compare(value, b)):
            if events is not None:
                events.append({"kind": kind, "bound": b, "before": value, "after": b, "span": clause.span})
            return b
        return value
    return run


def _round_step(c: n.Round):
    quantum, mode = c.quantum, c.mode

    def run(value, env, events):
        after = x.round_to(value, quantum, mode)
        if events is not None:
            events.append({"kind": "round", "mode": mode, "quantum": quantum, "before": value,
                           "after": after, "span": c.span})
        return after
    return run


def _equal(a, b) -> bool:
    if isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
        return a == b
    return x.compare(a, b) == 0


def _show(v) -> str:
    return x.to_string(v) if not isinstance(v, str) else v


_EXPR = {
    n.Number: Compiler._number, n.Text: Compiler._const, n.Bool: Compiler._const,
    n.Name: Compiler._name, n.ItemRef: Compiler._item_ref, n.Unary: Compiler._unary,
    n.Binary: Compiler._binary, n.Compare: Compiler._compare, n.Conditional: Compiler._conditional,
    n.Index: Compiler._index, n.Field: Compiler._field, n.Call: Compiler._call, n.Blend: Compiler._blend,
}


def band_of(bands: m.BandsModel, value, span):
    """The name of the band that holds `value` (the checker proved exactly one does)."""
    for name, lo, lo_in, hi, hi_in in bands.bands:
        c_lo, c_hi = x.compare(value, lo), x.compare(value, hi)
        if (c_lo > 0 or (c_lo == 0 and lo_in)) and (c_hi < 0 or (c_hi == 0 and hi_in)):
            return name
    raise Failure(f"{x.to_string(value)} is outside the range {x.to_string(bands.low)}.."
                  f"{x.to_string(bands.high)} of bands `{bands.name}`", span)


def compile_policy(policy: m.PolicyModel) -> dict:
    """One Program per evaluation, keyed by evaluation name."""
    compiler = Compiler(policy)
    programs = {}
    for ev in policy.evaluations:
        compiler.facts = {f.name: f for f in ev.facts}
        values = tuple(compiler.value(d, d.gates) for d in ev.values)
        program = Program(evaluation=ev, values=values, tables=compiler._table_dicts,
                          table_display={t.name: t.value_type.display for t in policy.tables},
                          table_info={t.name: (t.label, t.cites) for t in policy.tables},
                          bands=compiler.bands)
        programs[ev.name] = attrs.evolve(program, fast=codegen.generate(program, compiler._table_dicts,
                                                                     compiler.functions),
                                         check_facts=facts.compile_fast(ev))
    return programs
