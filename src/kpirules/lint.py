"""Lint stage: warnings about a valid policy that is probably not what its author meant.

Runs on the checked model. The value ranges come from the facts' declared ranges carried
through the arithmetic (an over-approximation), so a lint that claims "never" is sound: a cap
that can never bind, a condition that is always true, a floor above its cap. A possible division
by zero is reported with a witness fact set when no fallback guards it. `kpirules check --strict`
makes these warnings errors.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from . import exact as x
from . import model as m
from . import nodes as n
from .diagnostics import warning

# A value's range, (low, high): exact numbers (Decimal, or an exact.Ratio), None where unbounded.
Range = tuple[Decimal | Fraction | None, Decimal | Fraction | None]
UNKNOWN: Range = (None, None)


# Interval arithmetic is exact (exact.py): a bound rounded in some decimal context could turn a
# sound "never" into a false one, and long literals must not depend on the caller's context.

def _add(a, b):
    return None if a is None or b is None else x.add(a, b)


def _neg(r):
    lo, hi = r
    return (None if hi is None else x.neg(hi), None if lo is None else x.neg(lo))


def _mul(a, b):
    (al, ah), (bl, bh) = a, b
    if None not in (al, ah, bl, bh):
        products = [x.mul(al, bl), x.mul(al, bh), x.mul(ah, bl), x.mul(ah, bh)]
        return (min(products), max(products))
    if al is not None and bl is not None and al >= 0 and bl >= 0:
        return (x.mul(al, bl), None)
    return UNKNOWN


def _div(a, b):
    (al, ah), (bl, bh) = a, b
    if bl is not None and bl > 0 and None not in (al, ah, bh):
        quotients = [x.div(al, bl), x.div(al, bh), x.div(ah, bl), x.div(ah, bh)]
        return (min(quotients), max(quotients))
    if al is not None and al >= 0 and bl is not None and bl > 0:
        return (Decimal(0), None if ah is None else x.div(ah, bl))
    return UNKNOWN


def _union(a, b):
    lo = None if a[0] is None or b[0] is None else min(a[0], b[0])
    hi = None if a[1] is None or b[1] is None else max(a[1], b[1])
    return (lo, hi)


def _fmt(d) -> str:
    return x.to_string(x.canonical(d)) if not isinstance(d, x.Ratio) else x.approximate(d)


class Linter:
    def __init__(self, policy: m.PolicyModel, functions):
        self.policy = policy
        self.functions = {f.name: f for f in functions}
        self.tables = {t.name: t for t in policy.tables}
        self.diags: list = []
        self.used_tables: set = set()
        self.used_names: set = set()
        self._seen_division: set = set()
        self.facts: dict = {}
        self.nonzero: set = set()   # facts whose declaration excludes zero (`> 0`, `!= 0`)
        self.aggregating: str | None = None  # the list a `sum over` is walking, while its body is analysed
        self.counts: dict = {}    # values that are `count(L)` of a list L

    def warn(self, code, message, span, help=None):
        self.diags.append(warning(code, message, span, help))

    # ---- ranges -----------------------------------------------------------------------------
    def fact_ranges(self, ev: m.EvaluationModel) -> dict[str, Range]:
        env: dict[str, Range] = {}
        self.nonzero = set()
        for f in ev.facts:
            if f.type.kind != "number":
                continue
            lo: Decimal | Fraction | None = Decimal(0) if f.type.display == "count" else None
            hi: Decimal | Fraction | None = None
            for b in f.bounds:
                if b.op == "matching":
                    continue
                value: Decimal | Fraction | None = b.value.value if isinstance(b.value, n.Number) else None
                if value is None and isinstance(b.value, n.Name) and b.value.name in env:
                    other = env[b.value.name]
                    value = other[1] if b.op in ("<=", "<") else other[0]
                if value is None:
                    continue
                if (b.op == ">" and value >= 0) or (b.op == "<" and value <= 0) or (b.op == "!=" and value == 0):
                    self.nonzero.add(f.name)
                if b.op in (">=", ">"):
                    lo = value if lo is None else max(lo, value)
                elif b.op in ("<=", "<"):
                    hi = value if hi is None else min(hi, value)
                elif b.op == "==":
                    lo = hi = value
            env[f.name] = (lo, hi)
        return env

    def expr(self, e, env, guards=frozenset(), fields=None) -> tuple:
        """The range of a numeric expression (or UNKNOWN); booleans give (True/False/None, None)."""
        fields = fields or {}
        if isinstance(e, n.Number):
            return (e.value, e.value)
        if isinstance(e, n.Name):
            self.used_names.add(e.name)
            if e.name in fields:
                return fields[e.name]
            return env.get(e.name, UNKNOWN)
        if isinstance(e, n.Unary):
            inner = self.expr(e.operand, env, guards, fields)
            return _neg(inner) if e.op == "neg" else UNKNOWN
        if isinstance(e, n.Binary):
            if e.op in ("and", "or"):
                # `total > 0 and won / total >= 50%`: the right side runs only after the left's test.
                self.expr(e.left, env, guards, fields)
                self.expr(e.right, env, guards | _names(e.left), fields)
                return UNKNOWN
            same = _scaled_self(e)
            if same is not None:
                # `x - x * 70%` is x * 30%: interval arithmetic alone would lose that x is one value.
                name, factor = same
                self.used_names.add(name)
                return _mul(fields.get(name, env.get(name, UNKNOWN)), (factor, factor))
            a = self.expr(e.left, env, guards, fields)
            b = self.expr(e.right, env, guards, fields)
            if e.op == "+":
                return (_add(a[0], b[0]), _add(a[1], b[1]))
            if e.op == "-":
                nb = _neg(b)
                return (_add(a[0], nb[0]), _add(a[1], nb[1]))
            if e.op == "*":
                return _mul(a, b)
            self._division(e, b, guards)
            return _div(a, b)
        if isinstance(e, n.Compare):
            self._condition(e, env, guards, fields)
            return UNKNOWN
        if isinstance(e, n.Conditional):
            self._condition(e.condition, env, guards, fields)
            guarded = guards | _names(e.condition)
            return _union(self.expr(e.then, env, guarded, fields), self.expr(e.otherwise, env, guarded, fields))
        if isinstance(e, n.Index):
            self.expr(e.key, env, guards, fields)
            if isinstance(e.target, n.Name) and e.target.name in self.tables:
                self.used_tables.add(e.target.name)
                values = [v for _, v in self.tables[e.target.name].rows if isinstance(v, Decimal)]
                return (min(values), max(values)) if values else UNKNOWN
            if isinstance(e.target, n.Name):
                self.used_names.add(e.target.name)
            return UNKNOWN
        if isinstance(e, n.Field):
            self.expr(e.target, env, guards, fields)
            return UNKNOWN
        if isinstance(e, n.Blend):
            lo: Decimal | Fraction | None = Decimal(0)
            hi: Decimal | Fraction | None = Decimal(0)
            for expr, w, _ in e.parts:
                r = self.expr(expr, env, guards, fields)
                lo = _add(lo, None if r[0] is None else x.mul(r[0], w))
                hi = _add(hi, None if r[1] is None else x.mul(r[1], w))
            return (lo, hi)
        if isinstance(e, n.Call):
            args = [self.expr(a, env, guards, fields) for a in e.args]
            if e.function in self.functions:
                fn = self.functions[e.function]
                penv = {p.name: r for p, r in zip(fn.params, args, strict=True)}
                r = self.expr(fn.body, {}, frozenset(), penv)
                return self.clauses(fn.clauses, r, {}, f"`{fn.name}`", fields=penv)
            if e.function == "max":
                lo = max((a[0] for a in args if a[0] is not None), default=None)
                hi = None if any(a[1] is None for a in args) else max(a[1] for a in args)
                return (lo, hi)
            if e.function == "min":
                lo = None if any(a[0] is None for a in args) else min(a[0] for a in args)
                hi = min((a[1] for a in args if a[1] is not None), default=None)
                return (lo, hi)
            if e.function == "count":
                return self.count_range(e.args[0], fields)
            return UNKNOWN
        return UNKNOWN

    def count_range(self, arg, fields) -> tuple:
        """`count(L)`: at least the list's `at least`, and at least 1 inside `sum over L`."""
        if isinstance(arg, n.Name):
            decl = self.facts.get(arg.name)
            lo = Decimal(decl.minimum or 0) if decl is not None else Decimal(0)
            if arg.name == self.aggregating:
                lo = max(lo, Decimal(1))
            hi = Decimal(decl.limit) if decl is not None and decl.limit is not None else None
            return (lo, hi)
        return (Decimal(0), None)

    def _division(self, e: n.Binary, divisor, guards):
        lo, hi = divisor
        if lo is not None and lo > 0 or hi is not None and hi < 0:
            return
        if isinstance(e.right, n.Name) and e.right.name in self.nonzero:
            return  # declared `> 0` or `!= 0`
        if _names(e.right) & guards:
            return  # inside `if ... then ... else` that tests the divisor
        key = (e.span.path, e.span.start)
        if key in self._seen_division:
            return
        self._seen_division.add(key)
        if isinstance(e.right, n.Name):
            witness = f"`{e.right.name} = 0`"
        else:
            witness = f"facts where `{e.right.span.text}` is 0"
        self.warn("W408", f"`{e.span.text}` divides by zero for some allowed facts, e.g. {witness}", e.span,
                  "guard it with `if ... then ... else`, or declare the divisor's range above zero")

    def _condition(self, cond, env, guards, fields):
        if not isinstance(cond, n.Compare):
            self.expr(cond, env, guards, fields)
            return
        a = self.expr(cond.left, env, guards, fields)
        b = self.expr(cond.right, env, guards, fields)
        verdict = _compare(cond.op, a, b)
        if verdict is not None:
            self.warn("W407", f"`{cond.span.text}` is always {'true' if verdict else 'false'} for the declared "
                      f"fact ranges ({_describe(cond.left, a)}; {_describe(cond.right, b)})", cond.span,
                      "remove the condition, or correct the facts' declared ranges")

    def clauses(self, clauses, r, env, what, fields=None):
        floor = cap = None
        rounds = []
        for c in clauses:
            if isinstance(c, n.Floor):
                f = self.expr(c.value, env, fields=fields)
                if f[0] is not None and f == (f[0], f[0]):
                    floor = (f[0], c)
                    if r[0] is not None and r[0] >= f[0]:
                        self.warn("W406", f"`floor {_fmt(f[0])}` never binds: {what} is at least {_fmt(r[0])} "
                                  f"for the declared fact ranges", c.span, "remove it, or check the formula")
                    r = (f[0] if r[0] is None else max(r[0], f[0]), r[1] if r[1] is None else max(r[1], f[0]))
            elif isinstance(c, n.Cap):
                k = self.expr(c.value, env, fields=fields)
                if k[0] is not None and k == (k[0], k[0]):
                    cap = (k[0], c)
                    if r[1] is not None and r[1] <= k[0]:
                        self.warn("W406", f"`cap {_fmt(k[0])}` never binds: {what} is at most {_fmt(r[1])} "
                                  f"for the declared fact ranges", c.span, "remove it, or check the formula")
                    r = (r[0] if r[0] is None else min(r[0], k[0]), k[0] if r[1] is None else min(r[1], k[0]))
            elif isinstance(c, n.Round):
                rounds.append(c)
        if floor and cap and floor[0] > cap[0]:
            self.warn("W405", f"the floor {_fmt(floor[0])} is above the cap {_fmt(cap[0])}", floor[1].span,
                      "swap them, or correct one of them")
        if len(rounds) > 1:
            self.warn("W409", f"{what} is rounded {len(rounds)} times", rounds[1].span,
                      "round once, at the end")
        return r

    # ---- values ---------------------------------------------------------------------------------
    def evaluation(self, ev: m.EvaluationModel):
        env = self.fact_ranges(ev)
        facts = {f.name: f for f in ev.facts}
        self.facts = facts
        self.counts = {}
        for d in ev.values:
            what = f"`{d.name}`"
            if d.kind in ("let", "output"):
                node = d.node
                assert isinstance(node, n.Definition)  # let and output come from definitions
                if isinstance(node.value, n.Aggregate):
                    r = self.aggregate(node.value, node.clauses, env, facts)
                    each = [c for c in node.clauses if isinstance(c, n.Round) and c.each]
                    total = [c for c in node.clauses if isinstance(c, n.Round) and not c.each]
                    if each and total and each[0].quantum == total[0].quantum:
                        self.warn("W409", f"{what} rounds each line and the total to the same {each[0].quantum}",
                                  total[0].span, "the sum of rounded lines needs no second rounding")
                else:
                    r = self.expr(node.value, env)
                    if isinstance(node.value, n.Call) and node.value.function == "count" and \
                            isinstance(node.value.args[0], n.Name):
                        self.counts[d.name] = node.value.args[0].name
                env[d.name] = self.clauses(node.clauses, r, env, what)
            elif d.kind == "item":
                assert isinstance(d.node, n.Item)  # the checker makes an item's ValueDef from one
                env[d.name] = self.item(d.node, env, what)
                for gate in d.gates:
                    self.expr(gate.condition, env)
                    env[d.name] = _union(env[d.name], (Decimal(0), Decimal(0)))
            else:
                sc = d.node
                assert isinstance(sc, n.Scorecard)  # the remaining kind
                lo: Decimal | Fraction | None = Decimal(0)
                hi: Decimal | Fraction | None = Decimal(0)
                for item in sc.items:
                    r = env.get(item.name, UNKNOWN)
                    lo, hi = _add(lo, r[0]), _add(hi, r[1])
                env[d.name] = self.clauses(sc.clauses, (lo, hi), env, what)

    def aggregate(self, agg: n.Aggregate, clauses, env, facts):
        self.used_names.add(agg.list_name)
        decl = facts.get(agg.list_name)
        fields = {}
        if decl is not None and decl.type.fields:
            for name, ftype, _ in decl.type.fields:
                lo: Decimal | None = None
                hi: Decimal | None = None
                for b in dict(decl.field_bounds).get(name, ()):
                    if b.op != "matching" and isinstance(b.value, n.Number):
                        if b.op in (">=", ">"):
                            lo = b.value.value
                        elif b.op in ("<=", "<"):
                            hi = b.value.value
                fields[name] = (lo, hi) if ftype.kind == "number" else UNKNOWN
        # Inside the body a line exists: the list's count, and values that are it, are at least 1.
        inner = dict(env)
        for name, listed in self.counts.items():
            if listed == agg.list_name and name in inner:
                lo, hi = inner[name]
                inner[name] = (Decimal(1) if lo is None else max(lo, Decimal(1)), hi)
        saved, self.aggregating = self.aggregating, agg.list_name
        try:
            for c in clauses:
                if isinstance(c, n.Filter):
                    self.expr(c.condition, inner, fields=fields)
            if agg.function == "count":
                return (Decimal(0), None)
            body = self.expr(agg.body, inner, fields=fields) if agg.body is not None else UNKNOWN
        finally:
            self.aggregating = saved
        return (Decimal(0), None) if body[0] is not None and body[0] >= 0 else UNKNOWN

    def item(self, item: n.Item, env, what):
        r: Range = (item.weight, item.weight)
        for s in item.body:
            if isinstance(s, n.Adjust):
                amount = self.expr(s.amount, env)
                if s.per is not None:
                    amount = _mul(amount, self.expr(s.per, env))
                if s.condition is not None:
                    self._condition(s.condition, env, frozenset(), None)
                delta = amount if s.sign == "plus" else _neg(amount)
                moved = (_add(r[0], delta[0]), _add(r[1], delta[1]))
                r = _union(r, moved) if s.condition is not None else moved
            elif isinstance(s, n.Override):
                self._condition(s.condition, env, frozenset(), None)
                r = _union(r, self.expr(s.value, env))
            elif isinstance(s, n.Ladder):
                guards = frozenset() if s.none_rule is None else _names(s.rate)
                self.expr(s.rate, env, guards)
                self.expr(s.standard, env)
                r = UNKNOWN if not any(st.direction == "below" for st in s.steps) else (None, None)
                if not any(st.direction == "above" for st in s.steps) and not any(
                        st.direction == "below" for st in s.steps):
                    r = (item.weight, item.weight)
            elif isinstance(s, (n.Floor, n.Cap)):
                r = self.clauses((s,), r, env, what)
        return r


def _scaled_self(e: n.Binary):
    """(name, factor) when `e` is `x - x * c` or `x + x * c` (c a literal), else None."""
    if e.op not in ("+", "-") or not isinstance(e.left, n.Name) or not isinstance(e.right, n.Binary):
        return None
    r = e.right
    if r.op != "*":
        return None
    if isinstance(r.left, n.Name) and r.left.name == e.left.name and isinstance(r.right, n.Number):
        c = r.right.value
    elif isinstance(r.right, n.Name) and r.right.name == e.left.name and isinstance(r.left, n.Number):
        c = r.left.value
    else:
        return None
    return (e.left.name, x.sub(x.ONE, c) if e.op == "-" else x.add(x.ONE, c))


def _names(e) -> frozenset:
    """Every name an expression reads, whatever construct it stands in (`blend(...)` too)."""
    return frozenset(x.name for x in n.walk(e) if isinstance(x, n.Name))


def _compare(op, a, b):
    """True or False when the comparison has one outcome over the ranges, else None."""
    (al, ah), (bl, bh) = a, b
    if op in (">=", ">"):
        if al is not None and bh is not None and (al >= bh if op == ">=" else al > bh):
            return True
        if ah is not None and bl is not None and (ah < bl if op == ">=" else ah <= bl):
            return False
    if op in ("<=", "<"):
        if ah is not None and bl is not None and (ah <= bl if op == "<=" else ah < bl):
            return True
        if al is not None and bh is not None and (al > bh if op == "<=" else al >= bh):
            return False
    return None


def _describe(e, r) -> str:
    lo, hi = r
    if lo is not None and hi is not None and lo == hi:
        return f"`{e.span.text}` is {_fmt(lo)}"
    parts = []
    if lo is not None:
        parts.append(f"at least {_fmt(lo)}")
    if hi is not None:
        parts.append(f"at most {_fmt(hi)}")
    return f"`{e.span.text}` is " + (" and ".join(parts) if parts else "any number")


def lint(policy: m.PolicyModel, imports=()) -> list:
    """Lint warnings of a checked policy. `imports` are (Import node, names the module defines)."""
    linter = Linter(policy, policy.functions)
    for ev in policy.evaluations:
        linter.evaluation(ev)
        read: set[str] = set()
        for d in ev.values:
            read.update(d.deps)
        for d in ev.values:
            if d.kind == "let" and d.name not in read and d.span.path == policy.source.path:
                linter.warn("W403", f"value `{d.name}` is computed but never used", d.node.name_span,
                            "use it, make it an `output` if it is a result, or remove it")
    for t in policy.tables:
        if t.name not in linter.used_tables and t.span.path == policy.source.path:
            linter.warn("W402", f"table `{t.name}` is never looked up", t.span, "use it, or remove it")
    used = linter.used_names | linter.used_tables | {
        fn.name for fn in policy.functions if _called(policy, fn.name)} | _ladders_used(policy)
    for imp, names in imports:
        if names and not (set(names) & used):
            linter.warn("W404", f"nothing of module `{'.'.join(imp.path)}` is used", imp.span, "remove the import")
    return linter.diags


def _called(policy: m.PolicyModel, name: str) -> bool:
    for ev in policy.evaluations:
        for d in ev.values:
            for node in n.walk(d.node):
                if isinstance(node, n.Call) and node.function == name:
                    return True
    for fn in policy.functions:
        for node in n.walk(fn.body):
            if isinstance(node, n.Call) and node.function == name:
                return True
    return False


def _ladders_used(policy: m.PolicyModel) -> set:
    out = set()
    for ev in policy.evaluations:
        for d in ev.values:
            if d.kind == "item":
                assert isinstance(d.node, n.Item)  # the checker makes an item's ValueDef from one
                for s in d.node.body:
                    if isinstance(s, n.Ladder) and s.using:
                        out.add(s.using)
    return out
