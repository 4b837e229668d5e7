"""An exact reference interpreter for the differential tests' own policy tree (tree.py).

It shares no code with kpirules: every number is a `fractions.Fraction`, rounding is written out
here for all seven modes, ladders follow their definition in docs/language.md (gap ÷ step, `full`
= floor, `started` = ceiling, `prorated` = the exact quotient). It answers either the values of
an evaluation (name -> Fraction, bool or str, in written order) or `RefError` where the engine
must stop with an `EvaluationError` (R001).

Laziness follows the language: `and`, `or` and `if` evaluate only what they need; a `minus`/`plus`
line evaluates its amount only when its condition holds, a `score` line its value only then, a
ladder its step line only for the side the rate is on, an aggregate its body only for lines its
filters keep.

Dates are `datetime.date`s and the calendar is written out here (leap years, month lengths, day
counts with both ends included); an effective-dated table answers the last version starting on or
before the date, within its `until`, and a date no version covers is a `RefError`.

Teams follow docs/language.md "Teams: values per member": a `for each` block is computed one value
at a time for every member in list order (a per-member value is a dict from key to value); an
allocation or a place needs the whole team, so its weights or values are computed for every member
first (innermost first, whatever branch a member then takes), and an allocation's amount once,
even for an empty team. Allocation is the largest-remainder method written out here; places are
counted from their definitions (1 + how many are better, ...). A repeated key refuses the facts
(`RefFactError`, F120 at every later line that has it); a missing key is a `RefError`.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

from .tree import (
    Adjust,
    Aggregate,
    Allocate,
    Assert,
    Bin,
    Blend,
    Bool,
    Call,
    Cap,
    Chain,
    Cmp,
    DatedTable,
    DateLit,
    Days,
    Each,
    Field,
    Floor,
    If,
    ItemKey,
    KeyField,
    Ladder,
    Logic,
    Lookup,
    Neg,
    Not,
    Num,
    Policy,
    Rank,
    Ref,
    Round,
    Scorecard,
    ScoreSet,
    Text,
    TierApply,
    Value,
)


class RefError(Exception):
    """The value cannot be computed (division by zero, a step <= 0, a band outside its range)."""


class RefFactError(Exception):
    """The facts are refused before anything is computed: `violations` is [(code, path)], in order."""

    def __init__(self, violations):
        super().__init__(", ".join(f"{code} at {path}" for code, path in violations))
        self.violations = violations


class Shown(Fraction):
    """An exact value that the engine must also show with exactly `places` decimal places: an
    allocated part keeps its quantum's digits (`33.30`, `0.00`), a place is a whole number."""

    places: int

    @classmethod
    def of(cls, value: Fraction, places: int) -> Shown:
        out = cls(value)
        out.places = places
        return out


def to_fraction(v) -> Fraction:
    """A fact's number as given (int, Decimal or decimal string) as an exact fraction."""
    if isinstance(v, bool):
        raise TypeError(v)
    if isinstance(v, (int, Fraction)):
        return Fraction(v)
    return Fraction(Decimal(v))


def round_units(n: Fraction, mode: str) -> int:
    """`n` to a whole number by the named mode (the quantum is applied by the caller)."""
    fl = math.floor(n)
    if n == fl:
        return fl
    ce = fl + 1
    if mode == "floor":
        return fl
    if mode == "ceiling":
        return ce
    if mode == "down":
        return fl if n > 0 else ce
    if mode == "up":
        return ce if n > 0 else fl
    diff = n - fl
    if diff < Fraction(1, 2):
        return fl
    if diff > Fraction(1, 2):
        return ce
    # An exact tie between fl and ce.
    if mode == "half up":
        return ce if n > 0 else fl
    if mode == "half down":
        return fl if n > 0 else ce
    if mode == "half even":
        return fl if fl % 2 == 0 else ce
    raise ValueError(mode)


def round_to(v: Fraction, quantum: Fraction, mode: str) -> Fraction:
    return round_units(v / quantum, mode) * quantum


def terminates(f: Fraction) -> bool:
    """True when `f` has a finite decimal expansion (its denominator is 2^a 5^b)."""
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


# ---- the calendar, written out for the test ----------------------------------------------------

MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def leap(year: int) -> bool:
    """Gregorian: every fourth year, but not centuries unless divisible by 400."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def month_length(year: int, month: int) -> int:
    return 29 if month == 2 and leap(year) else MONTH_DAYS[month - 1]


def year_arg(v) -> int:
    """A year given as a date or as a whole number."""
    if isinstance(v, date):
        return v.year
    if v.denominator != 1 or not 1 <= v <= 9999:
        raise RefError(f"not a year: {v}")
    return int(v)


def days_from(a: date, b: date) -> Fraction:
    """Days from `a` to `b`, both included; 0 when `b` is before `a`."""
    if b < a:
        return Fraction(0)
    n = 1
    # Counted by whole years and months first, then days, so that the count does not rest on
    # `date` subtraction alone.
    cur = a
    while cur.year < b.year:
        rest = (date(cur.year, 12, 31) - cur).days + 1
        n += rest
        cur = date(cur.year + 1, 1, 1)
    return Fraction(n - 1 + (b - cur).days + 1)


def dated_lookup(t: DatedTable, d: date):
    chosen = None
    for start, until, value, _ in t.versions:
        if start <= d:
            chosen = (until, value)
    if chosen is None:
        raise RefError(f"{d} is before the first version of {t.name}")
    until, value = chosen
    if until is not None and d > until:
        raise RefError(f"{d} is after the last version's until in {t.name}")
    return value


DATE_FUNCTIONS = {
    "year_of": lambda d: Fraction(d.year),
    "month_of": lambda d: Fraction(d.month),
    "quarter_of": lambda d: Fraction((d.month + 2) // 3),
    "days_in_year": lambda y: Fraction(366 if leap(year_arg(y)) else 365),
    "first_day_of_year": lambda y: date(year_arg(y), 1, 1),
    "last_day_of_year": lambda y: date(year_arg(y), 12, 31),
    "last_day_of_month": lambda d: date(d.year, d.month, month_length(d.year, d.month)),
}


# ---- teams: allocation and places, written out from docs/language.md ------------------------------

def allocate_parts(amount: Fraction, weights: list, quantum: Fraction, ties: str) -> list:
    """Each member's part of `amount`, in proportion to `weights`, paid in whole quanta.

    Largest remainder: every exact share amount * w / sum(w) is cut down to a multiple of the
    quantum; the whole quanta still left of the amount are handed out one at a time, each to the
    member with the largest remainder not served yet (equal remainders: the one listed first, or
    last with `ties to last listed`). All weights 0: every part is 0. A negative amount or weight
    cannot be shared.
    """
    if amount < 0:
        raise RefError(f"a negative amount to allocate: {amount}")
    if any(w < 0 for w in weights):
        raise RefError("a negative weight")
    total = sum(weights, Fraction(0))
    if total == 0:
        return [Fraction(0) for _ in weights]
    quanta = []
    remainders = []
    for w in weights:
        share = amount * w / total
        k = math.floor(share / quantum)
        quanta.append(k)
        remainders.append(share - k * quantum)
    left = math.floor((amount - sum(quanta) * quantum) / quantum)
    assert 0 <= left <= len(weights), (left, weights)
    served: set = set()
    scan = list(range(len(weights))) if ties == "first" else list(reversed(range(len(weights))))
    for _ in range(left):
        best = None
        for i in scan:      # strictly larger only: of equal remainders the first scanned wins
            if i not in served and (best is None or remainders[i] > remainders[best]):
                best = i
        served.add(best)
        quanta[best] += 1
    return [k * quantum for k in quanta]


def places(values: list, kind: str, order: str, ties: str | None) -> list:
    """Each member's place: competition (1, 2, 2, 4), in list order (1, 2, 3, 4), dense (1, 2, 2, 3),
    or the percentile (how many others are strictly lower, over n - 1; 0 for a team of one)."""
    n = len(values)
    out = []
    for i, v in enumerate(values):
        if kind == "percentile":
            lower = sum(1 for u in values if u < v)
            out.append(Fraction(0) if n == 1 else Fraction(lower, n - 1))
            continue
        better = [u for u in values if (u > v if order == "highest" else u < v)]
        if kind == "dense":
            out.append(Fraction(1 + len(set(better))))
        elif ties == "list":
            out.append(Fraction(1 + len(better) + sum(1 for u in values[:i] if u == v)))
        else:
            out.append(Fraction(1 + len(better)))
    return out


def postorder(node):
    """Every node of an expression tree, children before their parent."""
    if isinstance(node, tuple):
        for x in node:
            yield from postorder(x)
        return
    if not hasattr(node, "__dataclass_fields__"):
        return
    for name in node.__dataclass_fields__:
        yield from postorder(getattr(node, name))
    yield node


def decimal_places(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


TEAM = "__team__"   # in a member's environment: (the block value's team columns, the member's index)


class Interpreter:
    def __init__(self, policy: Policy):
        self.p = policy
        self.tables = {t.name: t for t in policy.tables}
        self.bands = {b.name: b for b in policy.bands}
        self.functions = {f.name: f for f in policy.functions}
        self.tiers = {t.name: t for t in policy.tiers}
        self.key_of = {f.name: f.key for f in policy.facts if f.kind == "reclist" and f.key}
        self.lines: dict = {}    # keyed list -> its lines
        self.per: dict = {}      # per-member value -> its list
        self.cols: dict = {}     # per-member value -> its values in list order

    # ---- expressions ---------------------------------------------------------------------------
    def ev(self, e, env, item=None):
        if isinstance(e, Num):
            return e.value
        if isinstance(e, (Text, Bool, DateLit)):
            return e.value
        if isinstance(e, Days):
            return days_from(self.ev(e.start, env, item), self.ev(e.end, env, item))
        if isinstance(e, (Allocate, Rank)):
            columns, i = env[TEAM]
            return columns[id(e)][i]
        if isinstance(e, KeyField):
            return self.lines[e.list_name][self.index(e.list_name, e.key)][e.field]
        if isinstance(e, Lookup) and e.target in self.per:
            key = self.ev(e.key, env, item)
            return self.cols[e.target][self.index(self.per[e.target], key)]
        if isinstance(e, Ref):
            return env[e.name]
        if isinstance(e, Neg):
            return -self.ev(e.operand, env, item)
        if isinstance(e, Bin):
            a = self.ev(e.left, env, item)
            b = self.ev(e.right, env, item)
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            if e.op == "*":
                return a * b
            if b == 0:
                raise RefError("division by zero")
            return a / b
        if isinstance(e, Cmp):
            a = self.ev(e.left, env, item)
            b = self.ev(e.right, env, item)
            return {">=": a >= b, "<=": a <= b, "==": a == b, "!=": a != b, ">": a > b, "<": a < b}[e.op]
        if isinstance(e, Logic):
            a = self.ev(e.left, env, item)
            if e.op == "and":
                return a and self.ev(e.right, env, item)
            return a or self.ev(e.right, env, item)
        if isinstance(e, Not):
            return not self.ev(e.operand, env, item)
        if isinstance(e, If):
            return self.ev(e.then if self.ev(e.cond, env, item) else e.other, env, item)
        if isinstance(e, Call):
            return self.call(e, env, item)
        if isinstance(e, Blend):
            return sum((self.ev(x, env, item) * w for x, w, _ in e.parts), Fraction(0))
        if isinstance(e, Lookup):
            key = self.ev(e.key, env, item)
            if isinstance(self.tables.get(e.target), DatedTable):
                return dated_lookup(self.tables[e.target], key)
            if e.target in self.tables:
                rows = {k if isinstance(k, str) else Fraction(k): v for k, v, _ in self.tables[e.target].rows}
                if key not in rows:
                    raise RefError("no row")
                return rows[key]
            return self.band(self.bands[e.target], key)
        if isinstance(e, Field):
            return env[e.record][e.key]
        if isinstance(e, ItemKey):
            return env[e.record][item]
        if isinstance(e, TierApply):
            return self.tier_apply(e, env, item)
        if isinstance(e, Chain):
            ops = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
                   "<": lambda a, b: a < b}
            a, b = self.ev(e.a, env, item), self.ev(e.b, env, item)
            if not ops[e.ops[0]](a, b):
                return False
            return ops[e.ops[1]](self.ev(e.b, env, item), self.ev(e.c, env, item))
        raise TypeError(e)

    def tier_apply(self, e: TierApply, env, item):
        """Each tier's part: its edges times the base (or as they are); marginal: the part of the
        value between its edges at its rate; retroactive: the whole value at the rate of the first
        tier that holds it (edges as declared)."""
        t = self.tiers[e.tiers]
        v = self.ev(e.value, env, item)
        scale = Fraction(1)
        if e.base is not None:
            scale = self.ev(e.base, env, item)
            if scale <= 0:
                raise RefError("tiers need a base above zero")
        low, high = t.lo * scale, t.hi * scale
        if v < low or v > high:
            raise RefError("outside the tiers' domain")
        amounts = {}
        reached = None
        for tier in t.tiers:
            lo = low if tier.lo is None else tier.lo[0] * scale
            hi = high if tier.hi is None else tier.hi[0] * scale
            lo_in = True if tier.lo is None else tier.lo[2]
            hi_in = True if tier.hi is None else tier.hi[2]
            holds = (v > lo or (lo_in and v == lo)) and (v < hi or (hi_in and v == hi))
            if e.mode == "marginal":
                amounts[tier.name] = max(Fraction(0), min(v, hi) - lo) * tier.rate
            else:
                if holds and reached is None:
                    reached = tier.name
                amounts[tier.name] = v * tier.rate if reached == tier.name and holds else Fraction(0)
        if e.tier is not None:
            return amounts[e.tier]
        return sum(amounts.values(), Fraction(0))

    def call(self, e: Call, env, item):
        # A name in call position is the declared function, even where a parameter has its name.
        if e.fn in self.functions:
            fn = self.functions[e.fn]
            args = [self.ev(a, env, item) for a in e.args]
            fenv = dict(zip((name for name, _ in fn.params), args, strict=True))
            return self.clauses(fn.clauses, self.ev(fn.body, fenv), fenv)
        args = [self.ev(a, env, item) for a in e.args]
        if e.fn == "max":
            return max(args)
        if e.fn == "min":
            return min(args)
        if e.fn == "abs":
            return abs(args[0])
        if e.fn == "sum":
            return sum(args[0], Fraction(0))
        if e.fn == "count":
            return Fraction(len(args[0]))
        if e.fn in DATE_FUNCTIONS:
            return DATE_FUNCTIONS[e.fn](args[0])
        raise ValueError(e.fn)

    def band(self, b, v):
        if v < b.lo or v > b.hi:
            raise RefError("outside the bands' range")
        for band in b.bands:
            lo_ok = v >= b.lo if band.lo is None else (v >= band.lo[0] if band.lo[2] else v > band.lo[0])
            hi_ok = v <= b.hi if band.hi is None else (v <= band.hi[0] if band.hi[2] else v < band.hi[0])
            if lo_ok and hi_ok:
                return band.label
        raise AssertionError("bands are complete by construction")

    # ---- clauses, values ------------------------------------------------------------------------
    def clauses(self, clauses, v, env):
        for c in clauses:
            if isinstance(c, Floor):
                b = self.ev(c.bound, env)
                if v < b:
                    v = b
            elif isinstance(c, Cap):
                b = self.ev(c.bound, env)
                if v > b:
                    v = b
            elif isinstance(c, Round):
                v = round_to(v, c.quantum, c.mode)
        return v

    def index(self, list_name: str, key) -> int:
        keys = [line[self.key_of[list_name]] for line in self.lines[list_name]]
        if key not in keys:
            raise RefError(f"no line of {list_name} has the key {key!r}")
        return keys.index(key)

    def member_values(self, list_name: str, i: int) -> dict:
        """The per-member values of line `i` of `list_name` computed so far, by name."""
        return {name: self.cols[name][i] for name, owner in self.per.items() if owner == list_name}

    def aggregate(self, a: Aggregate, env):
        total = Fraction(0)
        for i, line in enumerate(env[a.list_name]):
            lenv = dict(env)
            if isinstance(line, dict):
                lenv.update(line)
                if a.list_name in self.key_of:
                    lenv.update(self.member_values(a.list_name, i))
            else:
                lenv[a.list_name] = line
            if not all(self.ev(cond, lenv) for cond, _ in a.filters):
                continue
            if a.fn == "count":
                total += 1
                continue
            x = self.ev(a.body, lenv) if a.body is not None else line
            if a.each is not None:
                x = round_to(x, a.each.quantum, a.each.mode)
            total += x
        return total

    def item(self, it, gates, env):
        score = it.weight
        for line in it.lines:
            if isinstance(line, Adjust):
                if line.cond is not None and not self.ev(line.cond, env):
                    continue
                amount = self.ev(line.amount, env)
                if line.per is not None:
                    amount *= self.ev(line.per, env)
                score = score - amount if line.sign == "minus" else score + amount
            elif isinstance(line, ScoreSet):
                if self.ev(line.cond, env):
                    score = self.ev(line.value, env)
            elif isinstance(line, Ladder):
                score = self.ladder(line, score, env)
            else:
                score = self.clauses((line,), score, env)
        for tag in it.tags:
            for g in gates:
                if g.tag == tag and not self.ev(g.cond, env, item=it.name):
                    return Fraction(0)
        return score

    def ladder(self, lad: Ladder, score, env):
        std = self.ev(lad.standard, env)
        try:
            rate = self.ev(lad.rate, env)
        except RefError:
            if lad.none is None:
                raise
            rate = std if lad.none == "standard" else self.ev(lad.none, env)
        if rate == std:
            return score
        direction = "below" if rate < std else "above"
        for s in lad.steps:
            if s.direction != direction:
                continue
            step = self.ev(s.step, env)
            if step <= 0:
                raise RefError("a ladder's step must be greater than zero")
            q = abs(rate - std) / step
            n = {"full": math.floor(q), "started": math.ceil(q), "prorated": q}[s.rule]
            delta = self.ev(s.points, env) * n
            score = score - delta if s.sign == "minus" else score + delta
        return score

    def each(self, blk: Each, env: dict, out: dict) -> None:
        """A `for each` block, one value at a time for the whole team (list order). An allocation or
        a place needs every member's weight or value: those columns are computed first, innermost
        first, for every member (and an allocation's amount once), whatever branch a member takes."""
        lines = self.lines[blk.list_name]
        keys = [line[self.key_of[blk.list_name]] for line in lines]

        def member_env(i, columns):
            menv = dict(env)
            menv.update(self.member_values(blk.list_name, i))
            menv[blk.var] = lines[i]
            menv[TEAM] = (columns, i)
            return menv

        for v in blk.values:
            columns: dict = {}
            for node in postorder((v.expr, v.clauses)):
                if isinstance(node, Allocate) and id(node) not in columns:
                    amount = self.ev(node.amount, env)
                    weights = [self.ev(node.weight, member_env(i, columns)) for i in range(len(lines))]
                    columns[id(node)] = allocate_parts(amount, weights, node.quantum, node.ties or "first")
                elif isinstance(node, Rank) and id(node) not in columns:
                    values = [self.ev(node.value, member_env(i, columns)) for i in range(len(lines))]
                    columns[id(node)] = places(values, node.kind, node.order, node.ties)
            col = []
            for i in range(len(lines)):
                menv = member_env(i, columns)
                x = self.clauses(v.clauses, self.ev(v.expr, menv), menv)
                col.append(x)
            self.per[v.name] = blk.list_name
            self.cols[v.name] = col
            if isinstance(v.expr, Allocate) and not v.clauses:
                col = [Shown.of(x, decimal_places(v.expr.text)) for x in col]
            elif isinstance(v.expr, Rank) and v.expr.kind != "percentile" and not v.clauses:
                col = [Shown.of(x, 0) for x in col]
            out[v.name] = dict(zip(keys, col, strict=True))

    def run(self, facts: dict) -> dict:
        """Values by name in written order (items, then their scorecard; a per-member value as a
        dict from key to value in list order), or RefError."""
        env = dict(facts)
        self.lines = {name: facts[name] for name in self.key_of}
        out = {}
        for v in self.p.values:
            if isinstance(v, Assert):
                if not self.ev(v.cond, env):
                    raise RefError(f"assertion failed: {v.message}")
                continue
            if isinstance(v, Each):
                self.each(v, env, out)
            elif isinstance(v, Value):
                if isinstance(v.expr, Aggregate):
                    x = self.aggregate(v.expr, env)
                else:
                    x = self.ev(v.expr, env)
                if v.clauses:
                    x = self.clauses(v.clauses, x, env)
                env[v.name] = out[v.name] = x
            else:
                sc: Scorecard = v
                total = Fraction(0)
                for it in sc.items:
                    s = self.item(it, sc.gates, env)
                    env[it.name] = out[it.name] = s
                    total += s
                total = self.clauses(sc.clauses, total, env)
                env[sc.name] = out[sc.name] = total
        return out


def facts_as_fractions(policy: Policy, facts: dict) -> dict:
    """The fact set as the reference reads it: numbers exact, everything else as given; facts the
    declarations refuse (a repeated key) raise RefFactError."""
    out = {}
    refused: list = []
    for f in policy.facts:
        v = facts[f.name]
        if f.kind in ("number", "money", "integer", "count", "percent"):
            out[f.name] = to_fraction(v)
        elif f.kind == "numlist":
            out[f.name] = [to_fraction(x) for x in v]
        elif f.kind == "reclist":
            kinds = {sub.name: sub.kind for sub in f.fields}
            out[f.name] = [{k: (to_fraction(x) if kinds[k] not in ("boolean", "enum", "text") else x)
                            for k, x in line.items()} for line in v]
            if f.key:
                # `keyed by`: each key once; a repeat is refused at every later line that has it.
                seen: set = set()
                for i, line in enumerate(v):
                    if line[f.key] in seen:
                        refused.append(("F120", f"{f.name}[{i}].{f.key}"))
                    seen.add(line[f.key])
        elif f.kind == "date":
            out[f.name] = v if isinstance(v, date) else parse_iso(v)
        else:
            out[f.name] = v
    if refused:
        raise RefFactError(refused)
    return out


def parse_iso(text: str) -> date:
    y, m, d = (int(x) for x in text.split("-"))
    return date(y, m, d)


def evaluate(policy: Policy, facts: dict):
    """(values, None) or (None, RefError or RefFactError)."""
    try:
        return Interpreter(policy).run(facts_as_fractions(policy, facts)), None
    except (RefError, RefFactError) as exc:
        return None, exc
