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
# What the calendar functions that give numbers can give (dates.FUNCTIONS).
_CALENDAR_RANGES: dict[str, Range] = {
    "days_in_year": (Decimal(365), Decimal(366)), "days_in": (Decimal(28), Decimal(366)),
    "year_of": (Decimal(1), Decimal(9999)), "quarter_of": (Decimal(1), Decimal(4)),
    "month_of": (Decimal(1), Decimal(12)),
}


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
            return _CALENDAR_RANGES.get(e.function, UNKNOWN)
        if isinstance(e, n.DaysBetween):
            self.expr(e.start, env, guards, fields)
            self.expr(e.end, env, guards, fields)
            return (Decimal(0), None)  # an empty span counts 0 days
        if isinstance(e, (n.TierApply, n.ChainCompare)):  # issue 10: read what they read
            for part in (e.value, e.base) if isinstance(e, n.TierApply) else e.operands:
                if part is not None:
                    self.expr(part, env, guards, fields)
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
            elif d.kind == "assert":  # issue 10: its condition reads names like any formula
                assert isinstance(d.node, n.Assert)
                self.expr(d.node.condition, env)
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
    rates = RateLint(policy, linter)
    for ev in policy.evaluations:
        linter.evaluation(ev)
        rates.evaluation(ev)
        read: set[str] = set()
        for d in ev.values:
            read.update(d.deps)
        for d in ev.values:
            if d.kind == "let" and d.name not in read and d.span.path == policy.source.path:
                linter.warn("W403", f"value `{d.name}` is computed but never used",
                            getattr(d.node, "name_span", d.span),
                            "use it, make it an `output` if it is a result, or remove it")
    rates.functions()
    for t in policy.tables:
        if t.name not in linter.used_tables and t.span.path == policy.source.path:
            linter.warn("W402", f"table `{t.name}` is never looked up", t.span, "use it, or remove it")
    used = linter.used_names | linter.used_tables | {
        fn.name for fn in policy.functions if _called(policy, fn.name)} | _ladders_used(policy)
    for imp, names in imports:
        if names and not (set(names) & used):
            linter.warn("W404", f"nothing of module `{'.'.join(imp.path)}` is used", imp.span, "remove the import")
    return linter.diags


# ---- W410: a rate written without its percent sign ----------------------------------------------
#
# `sales * 3` where `sales * 3%` was meant pays a hundred times too much, and type-checks: a plain
# number times money is money. A plain multiplier is often right (two months' salary, twice the
# standard bonus), so the lint fires only where the product is meant to be a rate of the money:
# the value is named as a commission or bonus (a), or an alternative of the same choice multiplies
# the same money by a rate near the literal read as a percent (b). docs/diagnostics.md (W410) states
# the rule; every comparison of a literal is exact.

# `_`-separated words of a value's or function's name, and parts of its label, that say it pays a
# commission or bonus.
COMMISSION_WORDS = frozenset({"commission", "commissions", "bonus", "bonuses", "incentive", "incentives"})
COMMISSION_LABELS = ("提成", "佣金", "奖")
# Money named as pay, or as a bonus itself, is multiplied by a plain multiple as a matter of course
# (年终双薪 `monthly_salary * 2`, `standard_bonus * 1.5`): such money is never the base of W410.
PAY_WORDS = frozenset({"salary", "salaries", "wage", "wages", "pay"}) | COMMISSION_WORDS
PAY_LABELS = ("工资", "薪") + COMMISSION_LABELS

# A factor's unit: (power of money, whether it is a percent), or None when not a known number.
Unit = tuple[int, bool] | None


def _says(name: str, label: str | None, words, labels) -> str | None:
    """The word of `words` (a `_`-separated part of `name`) or `labels` (part of `label`) found."""
    for part in name.lower().split("_"):
        if part in words:
            return part
    for word in labels:
        if label and word in label:
            return word
    return None


def _unit_of(t: m.Type | None) -> Unit:
    if t is None or t.kind != "number":
        return None
    return (t.money or 0, t.display == "percent")


_PARAM_UNITS = {"money": (1, False), "percent": (0, True)}


class _Term:
    """A product of factors (`a * b * c`), flattened; `divided` when a `/` is part of it."""

    def __init__(self, e) -> None:
        self.factors: list = []   # (node, the `*` node it is an operand of)
        self.divided = False
        self._flatten(e)

    def _flatten(self, e):
        if isinstance(e, n.Binary) and e.op == "/":
            self.divided = True
            self._flatten(e.left)
            self._flatten(e.right)
        elif isinstance(e, n.Binary) and e.op == "*":
            for side in (e.left, e.right):
                if isinstance(side, n.Binary) and side.op in ("*", "/"):
                    self._flatten(side)
                else:
                    self.factors.append((side, e))


def _is_term(e) -> bool:
    return isinstance(e, n.Binary) and e.op in ("*", "/")


class RateLint:
    """W410: money multiplied by a plain literal above 1 where a rate of it was meant."""

    def __init__(self, policy: m.PolicyModel, linter: Linter):
        self.policy = policy
        self.linter = linter
        self.fns = {f.name: f for f in policy.functions}
        self.tables = {t.name: t for t in policy.tables}
        self.types: dict[str, m.Type] = {}
        self.labels: dict[str, str | None] = {}
        self.fields: dict[str, tuple[m.Type, str | None]] = {}
        self.params: dict[str, Unit] = {}
        self.seen: set = set()

    def _own(self, span) -> bool:
        return span.path == self.policy.source.path

    # ---- what the policy says a name is
    def unit(self, e) -> Unit:
        if isinstance(e, n.Number):
            return {"money": (1, False), "percent": (0, True)}.get(e.unit, (0, False))
        if isinstance(e, n.Name):
            if e.name in self.params:
                return self.params[e.name]
            if e.name in self.fields:
                return _unit_of(self.fields[e.name][0])
            return _unit_of(self.types.get(e.name))
        if isinstance(e, n.Unary):
            return self.unit(e.operand) if e.op == "neg" else None
        if isinstance(e, n.Binary):
            a, b = self.unit(e.left), self.unit(e.right)
            if a is None or b is None:
                return None
            if e.op in ("+", "-"):
                return (max(a[0], b[0]), a[1] and b[1])
            if e.op == "*":
                return (a[0] + b[0], a[1] != b[1] and (a[0] + b[0]) == 0)
            if e.op == "/":
                return (a[0] - b[0], False)
            return None
        if isinstance(e, n.Conditional):
            return self.unit(e.then) or self.unit(e.otherwise)
        if isinstance(e, n.Call):
            if e.function in ("max", "min", "abs"):
                units = [self.unit(a) for a in e.args]
                return units[0] if units and all(u == units[0] for u in units) else None
            fn = self.fns.get(e.function)
            if fn is not None:
                saved, self.params = self.params, {p.name: _PARAM_UNITS.get(p.kind, (0, False)) for p in fn.params}
                try:
                    return self.unit(fn.body)
                finally:
                    self.params = saved
            return None
        if isinstance(e, n.Index) and isinstance(e.target, n.Name):
            if e.target.name in self.tables:
                return _unit_of(self.tables[e.target.name].value_type)
            t = self.types.get(e.target.name)
            return _unit_of(t.element) if t is not None and t.kind == "record" else None
        if isinstance(e, n.Field) and isinstance(e.target, n.Name):
            t = self.types.get(e.target.name)
            return _unit_of(t.element) if t is not None and t.kind == "record" else None
        return None

    def _is_pay(self, e) -> bool:
        """Whether `e` reads a fact or value named as salary, pay or a bonus."""
        for node in n.walk(e):
            if isinstance(node, n.Name):
                label = self.fields[node.name][1] if node.name in self.fields else self.labels.get(node.name)
                if _says(node.name, label, PAY_WORDS, PAY_LABELS):
                    return True
        return False

    # ---- the rule
    def plain(self, term: _Term):
        """(`*` node, literal, money factor) when the term multiplies money by a plain literal
        above 1 and nothing else in it makes a rate of that; else None."""
        if term.divided:
            return None
        units = [self.unit(f) for f, _ in term.factors]
        if any(u is None for u in units) or sum(u[0] for u in units if u is not None) != 1:
            return None
        money = [f for (f, _), u in zip(term.factors, units, strict=True) if u is not None and u[0] == 1]
        if len(money) != 1 or not any(isinstance(node, (n.Name, n.Field)) for node in n.walk(money[0])):
            return None   # a money literal times a number is an amount written out (`3 * 500元`)
        if self._is_pay(money[0]):
            return None
        found = None
        for (f, op), u in zip(term.factors, units, strict=True):
            if u is not None and u[1]:
                return None   # a rate is already there: `sales * rate * 2`
            if isinstance(f, n.Number) and f.unit == "number":
                if f.value < 1:
                    return None   # a scale is already there: `sales * 3 * 0.01`
                if f.value > 1 and found is None:
                    found = (op, f, money[0])
        return found

    def rated(self, e):
        """(money factor's text, rate) when `e` is one money amount times literals, a percent among
        them (`sales * 2%`, `sales * 2 * 1%`); the rate is the literals' exact product. Else None."""
        if not _is_term(e):
            return None
        term = _Term(e)
        if term.divided:
            return None
        money = [f for f, _ in term.factors if not isinstance(f, n.Number)]
        literals = [f for f, _ in term.factors if isinstance(f, n.Number)]
        if len(money) != 1 or self.unit(money[0]) != (1, False):
            return None
        if any(f.unit == "money" for f in literals) or not any(f.unit == "percent" for f in literals):
            return None
        rate = x.ONE
        for f in literals:
            rate = x.mul(rate, f.value)
        return _text(money[0]), rate

    def report(self, hit, why: str):
        op, lit, money = hit
        key = (op.span.path, op.span.start)
        if key in self.seen:
            return
        self.seen.add(key)
        k = lit.span.text
        if op.right is lit:
            written, meant = f"* {k}", f"* {k}%"
        else:
            written, meant = f"{k} *", f"{k}% *"
        self.linter.warn("W410", f"`{op.span.text}` pays {k} times `{money.span.text}` {why}", op.span,
                         f"did you mean `{k}%`? `{written}` pays {k} times the amount; "
                         f"`{meant}` pays {k} in a hundred")

    def paid(self, e, why: str):
        """(a): every product the value pays, outside conditions (`sales * 2 > target` is a test)."""
        if _is_term(e):
            term = _Term(e)
            hit = self.plain(term)
            if hit is not None:
                self.report(hit, why)
            if not term.divided:
                for f, _ in term.factors:
                    self.paid(f, why)
        elif isinstance(e, n.Binary) and e.op in ("+", "-"):
            self.paid(e.left, why)
            self.paid(e.right, why)
        elif isinstance(e, n.Unary):
            self.paid(e.operand, why)
        elif isinstance(e, n.Conditional):
            self.paid(e.then, why)
            self.paid(e.otherwise, why)
        elif isinstance(e, n.Call) and e.function in ("max", "min", "abs"):
            for a in e.args:
                self.paid(a, why)

    def alternatives(self, e):
        """(b): a choice (`if`, `max`/`min`, a comparison) whose other side pays a rate of the same money."""
        for node in n.walk(e):
            if isinstance(node, n.Conditional):
                group = _branches(node)
            elif isinstance(node, n.Call) and node.function in ("max", "min"):
                group = list(node.args)
            elif isinstance(node, n.Compare):
                group = [node.left, node.right]
            else:
                continue
            rated = []
            for alt in group:
                found = self.rated(alt)
                if found is not None:
                    rated.append((found, alt))
            for alt in group:
                hit = self.plain(_Term(alt)) if _is_term(alt) else None
                if hit is None:
                    continue
                k = hit[1].value
                for (text, rate), other in rated:
                    # `k` read as a percent is within ten times the rate beside it: 10p <= k <= 1000p.
                    if text == _text(hit[2]) and x.mul(rate, 10) <= k <= x.mul(rate, 1000):
                        self.report(hit, f"while `{other.span.text}` beside it pays a rate of it")
                        break

    def check(self, name: str, label: str | None, value, what: str):
        word = _says(name, label, COMMISSION_WORDS, COMMISSION_LABELS)
        self.alternatives(value)
        if word is not None:
            self.paid(value, f"into {what} `{name}`, named as a commission or bonus")

    def evaluation(self, ev: m.EvaluationModel):
        self.types = {f.name: f.type for f in ev.facts} | {d.name: d.type for d in ev.values}
        self.labels = {f.name: f.label for f in ev.facts} | {d.name: d.label for d in ev.values}
        for d in ev.values:
            if d.kind not in ("let", "output") or not self._own(d.span):
                continue
            node = d.node
            assert isinstance(node, n.Definition)  # let and output come from definitions
            self.fields = {}
            value = node.value
            if isinstance(value, n.Aggregate):
                listed = self.types.get(value.list_name)
                self.fields = {name: (t, label) for name, t, label in (listed.fields if listed else ())}
                if value.body is None:
                    continue
                value = value.body
            self.check(d.name, d.label, value, d.kind)
        self.fields = {}

    def functions(self):
        self.types, self.labels, self.fields = {}, {}, {}
        for fn in self.policy.functions:
            if not self._own(fn.span):
                continue
            self.params = {p.name: _PARAM_UNITS.get(p.kind, (0, False)) for p in fn.params}
            self.labels = {p.name: None for p in fn.params}
            self.check(fn.name, fn.label, fn.body, "function")
        self.params = {}


def _branches(e) -> list:
    """The values an `if ... else if ...` chain can take."""
    out = []
    while isinstance(e, n.Conditional):
        out.append(e.then)
        e = e.otherwise
    out.append(e)
    return out


def _text(e) -> str:
    return "".join(e.span.text.split())


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
