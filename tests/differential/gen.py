"""Hypothesis strategies for the differential tests: small policies as our own tree, and valid facts.

`policies()` draws a `tree.Policy` that the checker accepts (a generated policy it refuses is a bug
of this generator, reported by the tests as such), covering: facts of every type with ranges,
`let`/`output` with + - * /, `if`, comparisons, `and`/`or`/`not`, `max`/`min`/`abs`, `sum(list)`,
`count(list)`, tables with number and name keys (and band names as text keys), bands, `blend`,
declared functions (nested calls, rounding in a body, parameters named `max`, `min`, `abs` or like
a fact), `floor`/`cap`/`round` in all seven modes, `sum over`/`count over` with `only if` and
`round each`, scorecards with `minus`/`plus ... per ... if`, `score ... if`, ladders (literal or
fact steps and points, `full`/`started`/`prorated`, `if none`), gates.

`fact_sets(policy)` draws facts the declarations accept, biased to where arithmetic is fragile:
27 to 40 significant digits, sizes near 10^±39 where the ranges allow, values on ladder step
boundaries and band edges, half-unit ties for roundings, and divisions by 3, 7, 9 downstream.

Dates: `date` facts (with a range, `>= another date fact`, or neither; passed as ISO strings or
`datetime.date`s), date literals, date comparisons in conditions, `max`/`min` of dates, `days from
A to B`, the calendar functions (`year_of`, `month_of`, `quarter_of`, `days_in_year`,
`first_day_of_year`, `last_day_of_year`, `last_day_of_month`), date-valued `let`/`output`, and
effective-dated tables (`from DATE [until DATE] -> value`, without gaps or overlaps) looked up
with a date fact, clamped into the versions' span or not (a date before the first version is an
evaluation error in both). Day counts flow into arithmetic, clauses and ladder rates; date facts
are drawn on version starts, the day before, `until`s and the day after, range edges, month and
year ends, and 29 February.

Tiers (issue 10): `tiers` schedules in percentages of a base or in money, their edges `from`/
`above`/`to`/`below` or left to the domain's ends, applied `marginal` or `retroactive`, whole or one
tier, to values clamped into the domain (or not, where an evaluation error is allowed); chained
comparisons `a <= b < c`; `assert` lines that always hold or that the facts may break.

Teams (a third of the policies, every one with `policies(team=True)`): a list of members `keyed by
id` (text ids, one with a quote, one with a space, one not ASCII; 0 to 8 members; small scores and
weights so that ties, equal remainders and all-zero weights are common; now and then a repeated id,
which must be refused with F120 at every later line that has it), `for each` blocks whose
per-member `let`/`output` values read `member.FIELD`, the block's earlier values and top-level
names, `allocate AMOUNT by WEIGHT to QUANTUM [ties to first|last listed]` (alone, inside `if` or
`+`, nested in another's weight), `rank of ... highest|lowest first [ties shared|ties in list
order]`, `dense rank of`, `percentile of`, per-member texts and truth values; and outside the
block `sum over`/`count over` the members with `only if` on per-member values, `NAME["id"]` and
`mem["id"].FIELD` (a missing key is an evaluation error).

It also generates the shapes of the bugs that once split plain from traced evaluation (issue 8):
ladder steps from facts that may be negative, rounding in functions that call functions,
parameters named like functions or like non-number facts, literals of 28 and more whole digits.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import ROUND_DOWN, Context, Decimal
from fractions import Fraction

from hypothesis import strategies as st

from .tree import (
    Adjust,
    Aggregate,
    Allocate,
    Assert,
    Band,
    Bands,
    Bin,
    Blend,
    Call,
    Cap,
    Chain,
    Cmp,
    DatedTable,
    DateLit,
    Days,
    Each,
    Fact,
    Field,
    Floor,
    Function,
    Gate,
    If,
    Item,
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
    Step,
    Table,
    Text,
    Tier,
    TierApply,
    Tiers,
    Value,
)

MODES = ("half up", "half even", "half down", "up", "down", "ceiling", "floor")
QUANTA = ("0.01", "1", "0.05", "10", "0.5", "0.001", "100", "0.1")
# Divisors that make endless decimals (1/3, 2/7, 7/9) as well as ending ones.
DIVISORS = ("3", "7", "9", "6", "11", "0.3", "2", "4", "1.1", "12")
# Date literals: year and month ends, a leap day, mid-month days.
DATE_LITS = tuple(date.fromisoformat(t) for t in (
    "2026-01-01", "2026-07-01", "2026-02-28", "2024-02-29", "2025-12-31", "2026-12-31", "2026-03-15",
    "2024-12-31", "2026-06-30", "2027-01-01"))
DATE_RANGES = ((date(2026, 1, 1), date(2026, 12, 31)), (date(2024, 2, 1), date(2024, 3, 31)),
               (date(2025, 7, 1), date(2026, 6, 30)))
# Where an unranged date fact's value is drawn (besides the interesting dates).
DATE_SPAN = (date(2023, 1, 1), date(2028, 12, 31))
ONE_DAY = timedelta(days=1)
# Teams: member ids (one with a quote, one with a space, one not ASCII), the ids lookups ask for
# (most lists have the first ones; some do not: a missing key is an evaluation error), and small
# scores, weights, pools and quanta, so that ties and equal remainders happen often.
TEAM_IDS = ("E1", "张三", 'q"3', "E4", "a b", "E6", "E7", "E8", "E9", "E10")
LOOKUP_IDS = ("E1", "E1", "E1", "张三", 'q"3', "E10")
TEAM_SIZES = (3, 4, 2, 5, 1, 6, 0, 7, 8, 2, 3, 4, 1)
TEAM_SIZE = 8
SCORES = ("0", "1", "2", "2", "2.5", "3", "3", "5", "7.5", "10", "0.5", "1.25")
PAYS = ("0", "100", "250.5", "1000", "99.99", "1")
POOLS = ("100", "1000", "0", "1", "99.99", "10000", "0.03", "2", "3", "100.005")
TEAM_QUANTA = ("0.01", "1", "0.01", "1", "0.05", "10", "0.5", "100", "0.001")
TEAM_FIELDS = {"id": "text", "sc": "p", "w": "p", "pay": "m", "ok": "bool", "gr": "enum"}
GRADES = ("P1", "P2", "P3")
TIERS = ("A", "B", "C")


def frac(text: str) -> Fraction:
    return Fraction(Decimal(text))


def plain(text: str) -> Num:
    return Num(frac(text), text)


def percent(text: str) -> Num:
    """`85%` is 0.85; `text` is the number before the sign."""
    return Num(frac(text) / 100, text + "%")


def money(text: str, wan: bool = False) -> Num:
    return Num(frac(text) * (10000 if wan else 1), text + ("万" if wan else "元"))


ZERO = Num(Fraction(0), "0")


class _Builder:
    """Draws one policy; keeps what the formulas may read, by type and unit."""

    def __init__(self, draw):
        self.draw = draw
        self.facts: list = []
        self.num = {"p": [], "m": []}       # readable numeric names by unit
        self.bools: list = []
        self.enums: list = []               # (name, options)
        self.records: list = []             # (name, keys)
        self.numlists: list = []            # (name, unit)
        self.reclists: list = []            # Fact
        self.int_facts: list = []           # (name, lo, hi): integer facts with small literal ranges
        self.tables: list = []
        self.bands: list = []
        self.tiers: list = []               # Tiers schedules (issue 10)
        self.functions: list = []
        self.params = None                  # inside a function body: {name: unit}
        self.fields = None                  # inside an aggregate: {name: unit or "bool"/"enum"}
        self.consts: list = []              # interesting numbers for the facts (edges, steps)
        self.dates: list = []               # readable date names (facts and date values)
        self.date_facts: list = []          # Fact
        self.years: list = []               # integer facts holding a year
        self.version_edges: dict = {}       # key fact -> its tables' version starts and ends, and the days beside
        self.date_consts: list = list(DATE_LITS) + [date(2024, 2, 28), date(2024, 3, 1), date(2026, 3, 31)]
        self.allow_error = False
        self.force_team = False
        self.team: Fact | None = None       # the keyed list of members
        self.member: str | None = None      # inside `for each VAR in ...`: VAR
        self.per_vals: dict = {}            # per-member values so far: name -> "p", "m", "bool", "text"
        self.keyed: list = []               # (expr, unit): `mem["E1"].sc`, `share["E1"]`, readable anywhere
        self.team_ops = 0                   # how many more `allocate`/`rank of` num_expr may nest here
        self.blocks = 0
        self.small: dict = {}               # fact -> literal texts its values are mostly drawn from

    def d(self, strategy):
        return self.draw(strategy)

    def choice(self, seq):
        return self.d(st.sampled_from(list(seq)))

    # ---- literals ------------------------------------------------------------------------------
    def lit(self, unit: str) -> Num:
        if unit == "m":
            # Not the bare `0`: it fits any unit, so `0 / 1.5万` would be money^-1 (E302).
            return self.choice([money("800"), money("0.5"), money("1.5", wan=True), money("99.99"), money("0"),
                                money("10", wan=True)])
        kind = self.d(st.integers(0, 9))
        if kind <= 5:
            return plain(self.choice(["0", "1", "2", "3", "0.5", "2.5", "10", "100", "0.05", "0.125", "7",
                                      "1.005", "0.333", "20", "85"]))
        if kind <= 7:
            return percent(self.choice(["85", "5", "1", "12.5", "90", "150", "0.5"]))
        # A long literal: literals may have up to 40 digits.
        digits = self.d(st.integers(20, 38))
        body = self.d(st.text("0123456789", min_size=digits, max_size=digits))
        # Up to 37 whole digits: the linter once crashed on 28 or more.
        point = self.d(st.integers(1, digits - 1))
        text = (body[:point].lstrip("0") or "0") + "." + body[point:]
        return plain(text)

    # ---- numeric expressions -------------------------------------------------------------------
    def leaves(self, unit):
        if self.params is not None:
            return [n for n, u in self.params.items() if u == unit]
        names = list(self.num[unit])
        if self.fields:
            names += [n for n, u in self.fields.items() if u == unit]
        return names

    def num_expr(self, unit: str, depth: int):
        dated = unit == "p" and self.params is None and bool(self.dates)
        if depth <= 0 or self.d(st.integers(0, 9)) < 3:
            if dated and self.d(st.integers(0, 5)) == 0:
                return Days(self.date_expr(0), self.date_expr(0))
            team_leaf = self.team_leaf(unit)
            if team_leaf is not None:
                return team_leaf
            leaves = self.leaves(unit)
            if leaves and self.d(st.integers(0, 3)):
                return Ref(self.choice(leaves))
            return self.lit(unit)
        options = ["add", "sub", "mul", "div", "div", "if", "maxmin", "abs", "neg"]
        # Inside `sum over xs`, `xs` is the current element, not the list (E301).
        numlists = [(n, u) for n, u in self.numlists if not (self.fields and n in self.fields)]
        if self.params is None:
            if self.tiers:
                options += ["tiers", "tiers"]
            if any(u == unit for _, u in numlists):
                options.append("sum")
            if unit == "p" and (numlists or self.reclists):
                options.append("count")
            if self.tables:
                options.append("table")
        options.append("blend")
        if dated:
            options += ["days", "days", "cal", "cal"]
        if self.params is None and any(isinstance(t, DatedTable) and t.vtype_unit == unit for t in self.tables):
            options += ["dtable", "dtable"]
        if any(f.ret == unit for f in self.functions):
            options += ["call", "call"]
        if self.team_ops > 0 and self.member is not None:
            options += ["allocate"] + ["rank"] * (unit == "p")
        op = self.choice(options)
        d = depth - 1
        if op in ("add", "sub"):
            return Bin("+" if op == "add" else "-", self.num_expr(unit, d), self.num_expr(unit, d))
        if op == "mul":
            if unit == "m":
                a, b = self.num_expr("m", d), self.num_expr("p", d)
                return Bin("*", a, b) if self.d(st.booleans()) else Bin("*", b, a)
            return Bin("*", self.num_expr("p", d), self.num_expr("p", d))
        if op == "div":
            top_unit, bottom_unit = ("m", "p") if unit == "m" else self.choice([("p", "p"), ("m", "m")])
            top = self.num_expr(top_unit, d)
            return self.divide(top, bottom_unit, d, unit)
        if op == "if":
            return If(self.bool_expr(d), self.num_expr(unit, d), self.num_expr(unit, d))
        if op == "maxmin":
            n = self.d(st.integers(2, 3))
            return Call(self.choice(["max", "min"]), tuple(self.num_expr(unit, d) for _ in range(n)))
        if op == "abs":
            return Call("abs", (self.num_expr(unit, d),))
        if op == "neg":
            return Neg(self.num_expr(unit, d))
        if op == "sum":
            return Call("sum", (Ref(self.choice([n for n, u in numlists if u == unit])),))
        if op == "count":
            return Call("count", (Ref(self.choice([n for n, _ in numlists] + [f.name for f in self.reclists])),))
        if op == "table":
            return self.table_lookup(unit, d)
        if op == "blend":
            weights = self.choice([("50%", "50%"), ("20%", "30%", "50%"), ("0.4", "0.6"), ("33.3%", "33.3%", "33.4%"),
                                   ("100%",), ("12.5%", "87.5%")])
            parts = []
            for w in weights:
                value = frac(w[:-1]) / 100 if w.endswith("%") else frac(w)
                parts.append((self.num_expr(unit, d), value, w))
            return Blend(tuple(parts))
        if op == "dtable":
            return self.dated_lookup(self.choice([t for t in self.tables if isinstance(t, DatedTable)
                                                  and t.vtype_unit == unit]), d)
        if op == "days":
            return Days(self.date_expr(d), self.date_expr(d))
        if op == "cal":
            fn = self.choice(["year_of", "month_of", "quarter_of", "days_in_year", "days_in_year"])
            arg = self.year_arg(d) if fn == "days_in_year" else self.date_expr(d)
            return Call(fn, (arg,))
        if op == "call":
            fn = self.choice([f for f in self.functions if f.ret == unit])
            return Call(fn.name, tuple(self.num_expr(u, d) for _, u in fn.params))
        if op == "tiers":
            return self.tier_apply(unit, d)
        if op == "allocate":
            return self.allocation(unit)
        if op == "rank":
            return self.ranking()
        raise AssertionError(op)

    # ---- tiers (issue 10) ------------------------------------------------------------------------
    def declare_tiers(self):
        for i in range(self.d(st.sampled_from([0, 1, 1, 2]))):
            unit = self.choice(["percent", "percent", "money"])
            if unit == "percent":
                lo_t, hi_t, edges = self.choice([("0", "200", ["100", "150"]), ("0", "150", ["60", "100", "120"]),
                                                 ("50", "100", ["80"]), ("0", "100", ["33.3"])])
                make = percent
            else:
                lo_t, hi_t, edges = self.choice([("0", "10", ["5"]), ("0", "50", ["10", "20", "30"]),
                                                 ("1", "2", ["1.5"])])

                def make(text):
                    return money(text, wan=True)
            lo, hi = make(lo_t), make(hi_t)
            tiers = []
            lower = (lo.value, lo.text, True) if self.d(st.booleans()) else None
            names = [f"r{i}_{k}" for k in range(len(edges) + 1)]
            for k, edge in enumerate(edges):
                e = make(edge)
                incl_up = self.d(st.booleans())  # the edge belongs to the tier below it
                rate = percent(self.choice(["3", "5", "8", "0", "12.5", "1.5", "100"]))
                tiers.append(Tier(names[k], lower, (e.value, e.text, incl_up), rate.value, rate.text))
                lower = (e.value, e.text, not incl_up)
                if unit == "money":
                    self.consts += [e.value]
            upper = (hi.value, hi.text, True) if self.d(st.booleans()) else None
            rate = percent(self.choice(["3", "5", "8", "0", "12.5", "1.5", "100"]))
            tiers.append(Tier(names[-1], lower, upper, rate.value, rate.text))
            if unit == "money":
                self.consts += [lo.value, hi.value]
            self.tiers.append(Tiers(f"ts{i}", lo.value, hi.value, lo.text, hi.text,
                                    tuple(self.d(st.permutations(tiers))), unit))

    def tier_apply(self, unit, d):
        usable = [t for t in self.tiers if t.unit == "percent" or unit == "m"]
        if not usable:
            return self.lit(unit)
        t = self.choice(usable)
        value = self.num_expr(unit, d)
        positive = [money("800"), money("1.5", wan=True), money("99.99")] if unit == "m" else \
            [plain("100"), plain("2.5"), plain("0.125")]
        if t.unit == "money":
            base = None
            low, high = Num(t.lo, t.lo_text), Num(t.hi, t.hi_text)
        else:
            base = self.choice(positive)
            if self.d(st.booleans()):
                base = Call("max", (self.num_expr(unit, d), self.choice(positive)))
            low, high = Bin("*", base, Num(t.lo, t.lo_text)), Bin("*", base, Num(t.hi, t.hi_text))
        if not (self.allow_error and self.d(st.integers(0, 4)) == 0):
            # Clamped into the domain so that the application cannot fail.
            value = Call("min", (Call("max", (value, low)), high))
        tier = self.choice([None, None] + [x.name for x in t.tiers])
        return TierApply(self.choice(["marginal", "retroactive"]), t.name, tier, value, base)

    def divide(self, top, bottom_unit, d, unit):
        how = self.d(st.integers(0, 9))
        if bottom_unit == "p" and how < 4:
            return Bin("/", top, plain(self.choice(DIVISORS)))
        bottom = self.num_expr(bottom_unit, d)
        if how == 9 and self.allow_error:
            return Bin("/", top, bottom)    # may divide by zero: both modes must stop with R001
        # Guarded the way the language documents (and W408 recognises).
        return If(Cmp("!=", bottom, ZERO), Bin("/", top, bottom), self.num_expr(unit, 0))

    # ---- dates ---------------------------------------------------------------------------------
    def date_expr(self, depth: int):
        if depth <= 0 or self.d(st.integers(0, 9)) < 4:
            if self.dates and self.d(st.integers(0, 3)):
                return Ref(self.choice(self.dates))
            return DateLit(self.choice(DATE_LITS))
        d = depth - 1
        op = self.choice(["maxmin", "maxmin", "year", "month_end", "if"])
        if op == "maxmin":
            n = self.d(st.integers(2, 3))
            return Call(self.choice(["max", "min"]), tuple(self.date_expr(d) for _ in range(n)))
        if op == "year":
            return Call(self.choice(["first_day_of_year", "last_day_of_year"]), (self.year_arg(d),))
        if op == "month_end":
            return Call("last_day_of_month", (self.date_expr(d),))
        return If(self.bool_expr(d), self.date_expr(d), self.date_expr(d))

    def year_arg(self, d: int):
        """A year: a date, a literal, a year fact, or `year_of(DATE) +/- 1` (always whole, 1..9999)."""
        how = self.choice(["date", "date", "lit", "fact", "shift"])
        if how == "lit":
            return plain(self.choice(["2024", "2025", "2026", "2000", "2100"]))
        if how == "fact" and self.years:
            return Ref(self.choice(self.years))
        if how == "shift":
            return Bin(self.choice(["+", "-"]), Call("year_of", (self.date_expr(max(d - 1, 0)),)), plain("1"))
        return self.date_expr(d)

    def dated_lookup(self, t: DatedTable, d):
        key = Ref(t.key_fact)
        how = self.d(st.integers(0, 5))
        if how == 0:
            return Lookup(t.name, self.date_expr(d))
        if how <= 2 or self.allow_error:
            return Lookup(t.name, key)
        # Clamped into the versions' span so that the lookup cannot fail.
        key = Call("max", (key, DateLit(t.versions[0][0])))
        last_until = t.versions[-1][1]
        if last_until is not None:
            key = Call("min", (key, DateLit(last_until)))
        return Lookup(t.name, key)

    def declare_dated_tables(self):
        if not self.date_facts or not self.d(st.integers(0, 2)):
            return
        for i in range(self.d(st.integers(1, 2))):
            kf = self.choice(self.date_facts)
            vtype = self.choice(["number", "percent", "money"])
            steps = [1, 28, 31, 59, 90, 92, 181, 365, 366]
            if kf.lo is not None:
                # Versions inside the key's range, the first on its start or a little before or after.
                firsts = [kf.lo, kf.lo, kf.lo - timedelta(days=31), kf.lo + ONE_DAY, kf.lo + timedelta(days=10)]
                steps = [n for n in steps if n < (kf.hi - kf.lo).days // 2]
            else:
                firsts = [date(2026, 1, 1), date(2025, 7, 1), date(2026, 4, 1), date(2024, 3, 1), DATE_SPAN[0]]
            starts = [self.choice(firsts)]
            for _ in range(self.d(st.integers(0, 3))):
                starts.append(starts[-1] + timedelta(days=self.choice(steps)))
            versions = []
            used = set()
            for j, start in enumerate(starts):
                if j + 1 < len(starts):
                    until = starts[j + 1] - ONE_DAY if self.d(st.booleans()) else None
                elif self.d(st.integers(0, 3)) == 0:
                    until = start + timedelta(days=self.choice([0, 30, 180, 364, 365]))
                else:
                    until = None
                if vtype == "percent":
                    n = percent(self.choice(["1.5", "2", "15", "100", "0.5", "12.5"]))
                else:
                    n = self.lit("m" if vtype == "money" else "p")
                if n.value in used:
                    # Versions that differ, so that picking the wrong one shows.
                    n = {"number": plain, "percent": percent, "money": money}[vtype](str(101 + j))
                used.add(n.value)
                versions.append((start, until, n.value, n.text))
                edges = self.version_edges.setdefault(kf.name, [])
                edges += [start, start - ONE_DAY]
                if until is not None:
                    edges += [until, until + ONE_DAY]
            self.tables.append(DatedTable(f"dt{i}", vtype, tuple(versions), key_fact=kf.name))

    def table_lookup(self, unit, d):
        usable = []
        for t in self.tables:
            t_unit = "m" if t.vtype == "money" else "p"
            if t_unit != unit:
                continue
            usable.append(t)
        if not usable:
            return self.lit(unit)
        t = self.choice(usable)
        if isinstance(t, DatedTable):
            return self.dated_lookup(t, d)
        if t.quoted:
            return Lookup(t.name, self.band_lookup(self.choice(t.bands_for), d))
        return Lookup(t.name, Ref(t.key_fact))

    def band_lookup(self, b: Bands, d):
        key = self.num_expr("p", d)
        if not (self.allow_error and self.d(st.integers(0, 5)) == 0):
            # Clamped into the bands' range so that the lookup cannot fail.
            key = Call("min", (Call("max", (key, Num(b.lo, b.lo_text))), Num(b.hi, b.hi_text)))
        return Lookup(b.name, key)

    # ---- conditions ----------------------------------------------------------------------------
    def bool_expr(self, depth: int):
        options = ["cmp", "cmp", "cmp"]
        if depth > 0:
            options += ["and", "or", "not"]
        if self.params is None:
            if self.bools:
                options += ["leaf", "leaf"]
            if self.records:
                options.append("field")
            if self.enums:
                options.append("enum")
            if self.bands:
                options.append("band")
            if self.fields:
                options.append("fieldcond")
            if self.dates:
                options += ["date", "date"]
            if self.member is not None:
                options += ["member", "member"]
            if any(u in ("bool", "text") for _, u in self.keyed_now()):
                options.append("keyed")
        options.append("chain")
        op = self.choice(options)
        d = max(depth - 1, 0)
        if op == "date":
            return Cmp(self.choice([">=", "<=", "==", "!=", ">", "<"]), self.date_expr(d), self.date_expr(d))
        if op == "chain":
            unit = self.choice(["p", "p", "m"])
            ops = self.choice([("<=", "<="), ("<", "<="), ("<=", "<"), (">=", ">="), (">", ">="), (">=", ">")])
            return Chain(ops, self.num_expr(unit, d), self.num_expr(unit, d), self.num_expr(unit, d))
        if op == "cmp":
            unit = self.choice(["p", "p", "p", "m"])
            return Cmp(self.choice([">=", "<=", "==", "!=", ">", "<"]), self.num_expr(unit, d), self.num_expr(unit, d))
        if op in ("and", "or"):
            return Logic(op, self.bool_expr(d), self.bool_expr(d))
        if op == "not":
            return Not(self.bool_expr(d))
        if op == "leaf":
            return Ref(self.choice(self.bools))
        if op == "field":
            name, keys = self.choice(self.records)
            return Field(name, self.choice(keys))
        if op == "enum":
            name, options_ = self.choice(self.enums)
            return Cmp(self.choice(["==", "!="]), Ref(name), Text(self.choice(options_)))
        if op == "band":
            b = self.choice(self.bands)
            return Cmp(self.choice(["==", "!="]), self.band_lookup(b, d), Text(self.choice([x.label for x in b.bands])))
        if op == "fieldcond":
            bools = [n for n, u in self.fields.items() if u == "bool"]
            enums = [n for n, u in self.fields.items() if u in ("enum", "text")]
            nums = [n for n, u in self.fields.items() if u in ("p", "m")]
            pick = self.choice(["num"] * bool(nums) + ["bool"] * bool(bools) + ["enum"] * bool(enums))
            if pick == "bool":
                return Ref(self.choice(bools))
            if pick == "enum":
                name = self.choice(enums)
                return Cmp(self.choice(["==", "!="]), Ref(name), Text(self.choice(self.texts_of(name))))
            name = self.choice(nums)
            return Cmp(self.choice([">=", ">", "<", "!="]), Ref(name), self.lit(self.fields[name]))
        if op == "member":
            return self.member_cond(d)
        if op == "keyed":
            expr, unit = self.choice([(e, u) for e, u in self.keyed_now() if u in ("bool", "text")])
            if unit == "bool":
                return expr
            return Cmp(self.choice(["==", "!="]), expr, Text(self.choice(TIERS)))
        raise AssertionError(op)

    # ---- teams -----------------------------------------------------------------------------------
    def texts_of(self, name: str) -> tuple:
        """The texts a text or `one of` field (or per-member text value) is compared with."""
        return {"fk": ("u", "v"), "gr": GRADES, "id": LOOKUP_IDS}.get(name, TIERS)

    def keyed_now(self) -> list:
        """The keyed reads allowed here: inside `for each` and `sum over mem`, a per-member name is
        the member's own value (`share`), so `share["E1"]` is not a lookup there."""
        if self.member is None and not self.fields:
            return self.keyed
        return [(e, u) for e, u in self.keyed if not (isinstance(e, Lookup) and e.target in self.per_vals)]

    def team_leaf(self, unit: str):
        """Inside `for each`: `member.FIELD` or a per-member value of this member; anywhere but in a
        function body: sometimes one line's field or one member's value by key. Or None."""
        if self.params is not None:
            return None
        if self.member is not None and self.d(st.integers(0, 2)):
            leaves = [Field(self.member, f) for f, u in TEAM_FIELDS.items() if u == unit]
            leaves += [Ref(n) for n, u in self.per_vals.items() if u == unit]
            if leaves:
                return self.choice(leaves)
        keyed = [e for e, u in self.keyed_now() if u == unit]
        if keyed and self.d(st.integers(0, 9)) == 0:
            return self.choice(keyed)
        return None

    def member_cond(self, d: int):
        var = self.member
        how = self.choice(["ok", "gr", "id", "num", "num"] + ["per"] * bool(self.per_vals))
        if how == "ok":
            return Field(var, "ok")
        if how == "gr":
            return Cmp(self.choice(["==", "!="]), Field(var, "gr"), Text(self.choice(GRADES)))
        if how == "id":
            return Cmp(self.choice(["==", "!="]), Field(var, "id"), Text(self.choice(LOOKUP_IDS)))
        if how == "per":
            name, unit = self.choice(list(self.per_vals.items()))
            if unit == "bool":
                return Ref(name)
            if unit == "text":
                return Cmp(self.choice(["==", "!="]), Ref(name), Text(self.choice(TIERS)))
            return Cmp(self.choice([">=", "<=", ">", "<", "==", "!="]), Ref(name), self.num_expr(unit, d))
        return Cmp(self.choice([">=", "<=", ">", "<", "==", "!="]), Field(var, self.choice(["sc", "w"])),
                   self.choice([plain(x) for x in SCORES] + [Field(var, "sc"), Field(var, "w")]))

    def declare_team(self):
        fields = (Fact("id", "text"),
                  Fact("sc", "number", Fraction(0), Fraction(10), "0", "10"),
                  Fact("w", "count", Fraction(0), Fraction(5), "0", "5"),
                  Fact("pay", "money", Fraction(0), Fraction(5000), "0元", "5000元"),
                  Fact("ok", "boolean"),
                  Fact("gr", "enum", options=GRADES))
        self.team = Fact("mem", "reclist", fields=fields, at_most=TEAM_SIZE, key="id")
        self.facts.append(self.team)
        self.facts.append(Fact("pool", "money", Fraction(0), Fraction(100000), "0元", "100000元"))
        self.num["m"].append("pool")
        self.small["pool"] = POOLS
        for key in dict.fromkeys(LOOKUP_IDS):
            self.keyed += [(KeyField("mem", key, "sc"), "p"), (KeyField("mem", key, "w"), "p"),
                           (KeyField("mem", key, "pay"), "m"), (KeyField("mem", key, "ok"), "bool")]

    def whole_team(self, fn):
        """`fn()` outside the member: an allocation's amount is one value for the whole team."""
        saved = self.member, self.team_ops
        self.member, self.team_ops = None, 0
        try:
            return fn()
        finally:
            self.member, self.team_ops = saved

    def allocation(self, unit: str) -> Allocate:
        self.team_ops -= 1
        if unit == "m" and self.d(st.integers(0, 3)):
            amount = Ref("pool")
        elif unit == "p" and self.d(st.booleans()):
            amount = plain(self.choice(POOLS))
        else:
            amount = self.whole_team(lambda: self.num_expr(unit, self.d(st.integers(0, 2))))
            if not self.allow_error:
                amount = Call("abs", (amount,))
        how = self.choice(["w", "w", "sc", "sc", "pay", "per", "expr"])
        if how in ("w", "sc", "pay"):
            weight = Field(self.member, how)
        else:
            nums = [n for n, u in self.per_vals.items() if u in ("p", "m")]
            weight = Ref(self.choice(nums)) if how == "per" and nums else self.num_expr(
                self.choice(["p", "p", "m"]), self.d(st.integers(0, 2)))
            if not self.allow_error:
                weight = Call("abs", (weight,))
        q = self.choice(TEAM_QUANTA)
        return Allocate(amount, weight, frac(q), q, self.choice([None, None, "first", "last"]))

    def ranking(self) -> Rank:
        self.team_ops -= 1
        how = self.choice(["sc", "sc", "w", "pay", "per", "expr"])
        if how in ("sc", "w", "pay"):
            value = Field(self.member, how)
        else:
            nums = [n for n, u in self.per_vals.items() if u in ("p", "m")]
            value = Ref(self.choice(nums)) if how == "per" and nums else self.num_expr("p", self.d(st.integers(0, 2)))
        kind = self.choice(["rank", "rank", "dense", "percentile"])
        order = self.choice(["highest", "lowest"])
        ties = self.choice([None, "shared", "list", "list"]) if kind == "rank" else None
        return Rank(kind, value, order, ties)

    def each_block(self, index: int) -> Each:
        """`for each member in mem:` with one to four per-member values."""
        self.blocks += 1
        var = self.member = self.choice(["member", "member", "mb"])
        values = []
        for j in range(self.d(st.integers(1, 4))):
            name = f"v{index}_{j}"
            kind = self.choice(["let", "output"])
            self.allow_error = self.d(st.integers(0, 9)) == 0
            what = self.choice(["allocate", "allocate", "rank", "rank", "p", "p", "m", "bool", "text"])
            clauses: tuple = ()
            if what == "allocate":
                self.team_ops = 1 + (self.d(st.integers(0, 3)) == 0)
                unit = self.choice(["m", "m", "p"])
                expr = self.allocation(unit)
                if self.d(st.integers(0, 4)) == 0:
                    # Inside a larger formula: the whole team is still allocated, whatever the branch.
                    expr = If(self.bool_expr(1), expr, self.lit(unit)) if self.d(st.booleans()) else \
                        Bin("+", expr, self.lit(unit))
            elif what == "rank":
                self.team_ops = 1 + (self.d(st.integers(0, 3)) == 0)
                unit = "p"
                expr = self.ranking()
                if self.d(st.integers(0, 4)) == 0:
                    expr = Bin(self.choice(["*", "-"]), expr, self.lit("p"))
            elif what in ("p", "m"):
                self.team_ops = int(self.d(st.integers(0, 2)) == 0)
                unit = what
                expr = self.num_expr(unit, self.d(st.integers(1, 3)))
            elif what == "bool":
                unit = "bool"
                expr = self.bool_expr(2)
            else:
                unit = "text"
                expr = If(self.bool_expr(1), Text(self.choice(TIERS)),
                          If(self.bool_expr(1), Text(self.choice(TIERS)), Text(self.choice(TIERS))))
            self.team_ops = 0
            if unit in ("p", "m") and self.d(st.integers(0, 2)) == 0:
                clauses = self.clauses(unit)
            self.allow_error = False
            values.append(Value(kind, name, expr, clauses, unit))
            self.per_vals[name] = unit
            for key in dict.fromkeys(LOOKUP_IDS):
                self.keyed.append((Lookup(name, Text(key)), unit))
        self.member = None
        return Each(var, "mem", tuple(values))

    # ---- clauses ---------------------------------------------------------------------------------
    def rounding(self) -> Round:
        q = self.choice(QUANTA)
        return Round(self.choice(MODES), frac(q), q)

    def clauses(self, unit: str, allow_round=True) -> tuple:
        out = []
        for _ in range(self.d(st.integers(0, 3))):
            kind = self.choice(["floor", "cap", "round"] if allow_round else ["floor", "cap"])
            if kind == "round":
                out.append(self.rounding())
            else:
                bound = self.lit(unit) if self.d(st.integers(0, 3)) else self.num_expr(unit, 1)
                out.append(Floor(bound) if kind == "floor" else Cap(bound))
        return tuple(out)

    # ---- declarations --------------------------------------------------------------------------
    def number_fact(self, name: str, kind: str) -> Fact:
        ranged = self.d(st.integers(0, 2))
        lo = hi = None
        lo_t = hi_t = ""
        if kind in ("integer", "count"):
            if ranged or kind == "integer":
                a = self.d(st.integers(0 if kind == "count" else -5, 6))
                b = self.d(st.integers(a, a + 8))
                lo, hi, lo_t, hi_t = Fraction(a), Fraction(b), str(a), str(b)
        elif kind == "percent":
            if ranged:
                lo, hi, lo_t, hi_t = Fraction(0), Fraction(2), "0%", "200%"
        elif ranged:
            a, b = self.choice([("0", "100"), ("-1000", "1000"), ("0", "1"), ("60", "100"), ("0.5", "0.5000001")])
            lo, hi, lo_t, hi_t = frac(a), frac(b), a, b
        if kind == "money" and lo_t:
            lo_t, hi_t = lo_t + "元", hi_t + "元"
        return Fact(name, kind, lo, hi, lo_t, hi_t)

    def declare_facts(self):
        kinds = self.d(st.lists(st.sampled_from(["number", "number", "money", "integer", "count", "percent"]),
                                min_size=1, max_size=5))
        for i, kind in enumerate(kinds):
            f = self.number_fact(f"n{i}", kind)
            self.facts.append(f)
            self.num["m" if kind == "money" else "p"].append(f.name)
            if kind == "integer" and f.hi - f.lo <= 8:
                self.int_facts.append((f.name, int(f.lo), int(f.hi)))
        for i in range(self.d(st.integers(0, 2))):
            self.facts.append(Fact(f"b{i}", "boolean"))
            self.bools.append(f"b{i}")
        if self.d(st.booleans()):
            self.facts.append(Fact("k0", "enum", options=("x", "y", "z")))
            self.enums.append(("k0", ("x", "y", "z")))
        if self.d(st.booleans()):
            self.facts.append(Fact("rec0", "record", options=("ka", "kb")))
            self.records.append(("rec0", ("ka", "kb")))
        if self.d(st.booleans()):
            element = self.choice(["number", "money", "count"])
            f = self.number_fact("xs", element)
            self.facts.append(Fact("xs", "numlist", f.lo, f.hi, f.lo_text, f.hi_text, element=element,
                                   at_most=self.choice([None, 5])))
            self.numlists.append(("xs", "m" if element == "money" else "p"))
        if self.d(st.booleans()):
            fields = (Fact("fa", "number", frac("-1000"), frac("1000"), "-1000", "1000"),
                      Fact("fq", "count", Fraction(0), Fraction(50), "0", "50"),
                      Fact("fok", "boolean"),
                      Fact("fk", "enum", options=("u", "v")))
            f = Fact("ls", "reclist", fields=fields, at_most=self.choice([None, 4]))
            self.facts.append(f)
            self.reclists.append(f)
        if self.force_team or self.d(st.integers(0, 2)) == 0:
            self.declare_team()
        self.declare_dates()

    def declare_dates(self):
        for i in range(self.d(st.sampled_from([0, 0, 1, 2, 3]))):
            how = self.choice(["range", "range", "plain"] + ["after", "after"] * bool(self.date_facts))
            if how == "range":
                lo, hi = self.choice(DATE_RANGES)
                f = Fact(f"d{i}", "date", lo, hi, lo.isoformat(), hi.isoformat())
                self.date_consts += [lo, hi, lo - ONE_DAY, hi + ONE_DAY]
            elif how == "after":
                f = Fact(f"d{i}", "date", after=self.choice(self.date_facts).name)
            else:
                f = Fact(f"d{i}", "date")
            self.facts.append(f)
            self.date_facts.append(f)
            self.dates.append(f.name)
        if self.date_facts and self.d(st.integers(0, 2)) == 0:
            self.facts.append(Fact("yr", "integer", Fraction(2020), Fraction(2030), "2020", "2030"))
            self.num["p"].append("yr")
            self.years.append("yr")

    def declare_tables(self):
        keyable = [f for f in self.int_facts if f[1] >= 0]     # a table key cannot be negative (E100)
        if keyable and self.d(st.booleans()):
            name, lo, hi = self.choice(keyable)
            vtype = self.choice(["number", "percent", "money"])
            rows = []
            for k in range(lo, hi + 1):
                n = self.lit("m" if vtype == "money" else "p") if vtype != "percent" else percent(
                    self.choice(["15", "25", "30", "100", "0.5", "12.5"]))
                rows.append((k, n.value, n.text))
            self.tables.append(Table(f"t{len(self.tables)}", vtype, tuple(rows), key_fact=name))
        if self.enums and self.d(st.booleans()):
            name, options = self.enums[0]
            rows = tuple((o, n.value, n.text) for o in options for n in [self.lit("p")])
            self.tables.append(Table(f"t{len(self.tables)}", "number", rows, names=True, key_fact=name))

    def declare_bands(self):
        if not self.d(st.booleans()):
            return
        lo_t, hi_t, edges = self.choice([("0", "100", ["60", "71", "81", "91"]), ("0", "2", ["0.7", "1"]),
                                         ("-10", "10", ["-2.5", "0", "0.333"])])
        labels = ["A", "B", "C", "D", "E"]
        bands = []
        lower = None                         # (value, text, inclusive) of the current band's start
        for i, edge in enumerate(edges):
            incl_up = self.d(st.booleans())  # the edge belongs to the band below it
            bands.append(Band(labels[i], lower, (frac(edge), edge, incl_up)))
            lower = (frac(edge), edge, not incl_up)
        bands.append(Band(labels[len(edges)], lower, None))
        b = Bands(f"g{len(self.bands)}", frac(lo_t), frac(hi_t), lo_t, hi_t, tuple(self.d(st.permutations(bands))))
        self.bands.append(b)
        self.consts += [frac(e) for e in edges]
        # A table keyed by the band names (a text key), as "grade -> factor" tables are.
        if self.d(st.booleans()):
            rows = tuple((band.label, n.value, n.text) for band in b.bands for n in [self.lit("p")])
            self.tables.append(Table(f"t{len(self.tables)}", "number", rows, quoted=True, bands_for=(b,)))

    def declare_functions(self):
        fact_names = [f.name for f in self.facts]
        for i in range(self.d(st.integers(0, 3))):
            name = f"fn{i}"
            params = {}
            for j in range(self.d(st.integers(1, 3))):
                candidates = [f"p{j}", f"p{j}", "max", "min", "abs"]
                candidates += [n for n in self.num["p"] + self.num["m"] if n in fact_names]
                # Names of functions and of non-number facts once changed the plain result.
                candidates += [f.name for f in self.functions] + self.bools + [e for e, _ in self.enums]
                candidates += [f.name for f in self.date_facts]
                pname = self.choice(candidates)
                if pname in params:
                    pname = f"p{j}"
                if pname in params:
                    continue
                params[pname] = self.choice(["p", "p", "m"])
            ret = self.choice(["p"] + ["m"] * ("m" in params.values()))
            saved = self.params
            self.params = params
            # Only functions declared above may be called (E210 otherwise).
            callable_before = list(self.functions)
            self.functions = callable_before
            body = self.num_expr(ret, self.d(st.integers(1, 3)))
            clauses = self.clauses(ret)          # bounds read parameters only, as the body does
            self.params = saved
            fn = Function(name, tuple(params.items()), body, clauses, ret)
            self.functions = callable_before + [fn]

    # ---- values ------------------------------------------------------------------------------
    def aggregate(self):
        lists = [("rec", f) for f in self.reclists] + [("num", n) for n in self.numlists]
        if self.team is not None:
            lists += [("team", self.team)] * (2 + 2 * bool(self.per_vals))
        kind, target = self.choice(lists)
        if kind == "team":
            # Over the members: their fields and per-member values, by bare name.
            self.fields = dict(TEAM_FIELDS, **self.per_vals)
            list_name = target.name
        elif kind == "rec":
            self.fields = {"fa": "p", "fq": "p", "fok": "bool", "fk": "enum"}
            list_name = target.name
        else:
            list_name, unit = target
            self.fields = {list_name: unit}
        fn = self.choice(["sum", "sum", "count"])
        filters = tuple((self.bool_expr(1), self.choice([None, "left out"])) for _ in range(self.d(st.integers(0, 2))))
        unit = "p"
        body = None
        each = None
        if fn == "sum":
            if kind == "num" and self.d(st.booleans()):
                unit = target[1]
            else:
                unit = {"rec": "p", "team": self.choice(["p", "m"])}.get(kind) or target[1]
                body = self.num_expr(unit, self.d(st.integers(1, 3)))
            if self.d(st.booleans()):
                each = self.rounding()
        self.fields = None
        return Aggregate(fn, list_name, body, filters, each), unit

    def scorecard(self, name: str) -> Scorecard:
        items = []
        n_items = self.d(st.integers(1, 3))
        tagged = []
        for i in range(n_items):
            iname = f"{name}_i{i}"
            weight = self.choice(["10", "20", "12.5", "40", "100"])
            tags = ("tg",) if self.d(st.booleans()) else ()
            if tags:
                tagged.append(iname)
            lines = tuple(self.item_line() for _ in range(self.d(st.integers(0, 4))))
            items.append(Item(iname, frac(weight), weight, tags, lines))
        gates = ()
        if tagged:
            if self.d(st.booleans()):
                rec = Fact(f"{name}_roll", "record", options=tuple(tagged))
                self.facts.append(rec)
                cond = ItemKey(rec.name)
            else:
                cond = self.bool_expr(1)
            gates = (Gate("tg", cond, self.choice([None, "not rolled out"])),)
        total = None
        if self.d(st.booleans()):
            t = sum(it.weight for it in items)
            total = str(Decimal(t.numerator) / Decimal(t.denominator))
        clauses = self.clauses("p")
        return Scorecard(name, tuple(items), gates, clauses, total)

    def item_line(self):
        kind = self.choice(["adjust", "adjust", "score", "ladder", "ladder", "floor", "cap"])
        if kind == "adjust":
            per = self.num_expr("p", 1) if self.d(st.booleans()) else None
            cond = self.bool_expr(1) if self.d(st.booleans()) else None
            return Adjust(self.choice(["minus", "plus"]), self.num_expr("p", 1), per, cond)
        if kind == "score":
            return ScoreSet(self.num_expr("p", 1), self.bool_expr(1))
        if kind == "floor":
            return Floor(self.lit("p"))
        if kind == "cap":
            return Cap(self.lit("p"))
        return self.ladder()

    def ladder(self) -> Ladder:
        counts = [f.name for f in self.facts if f.kind == "count"]
        if len(counts) < 2:
            for nm in ("won", "total"):
                if nm not in counts:
                    self.facts.append(Fact(nm, "count"))
                    self.num["p"].append(nm)
            counts = ["won", "total"]
        none = self.choice([None, "standard", "standard", percent("0")])
        if self.dates and self.d(st.integers(0, 2)) == 0:
            # The share of a year worked: a day count over the year's length.
            rate = Bin("/", Days(self.date_expr(1), self.date_expr(1)), Call("days_in_year", (self.year_arg(0),)))
        elif self.d(st.integers(0, 3)):
            a, b = self.d(st.permutations(counts))[:2]
            rate = Bin("/", Ref(a), Ref(b))
        else:
            rate = self.num_expr("p", 1)
        std_text = self.choice(["85", "90", "80", "100"])
        standard = percent(std_text)
        if self.d(st.integers(0, 3)) == 0:
            standard = Ref(self.fact_of("std", "percent", "0", "2"))
        steps = []
        for direction in self.d(st.sampled_from([("below",), ("above",), ("below", "above")])):
            step_text = self.choice(["5", "1", "2.5", "0.3", "10"])
            step = percent(step_text)
            if self.d(st.integers(0, 3)) == 0:
                # A step from a fact may be negative or zero: an evaluation error in both modes.
                step = Ref(self.fact_of("step", "number", "-0.1", "0.2"))
            points = self.lit("p") if self.d(st.integers(0, 3)) else Ref(self.fact_of("pts", "number", "-10", "10"))
            steps.append(Step(self.choice(["minus", "plus"]), points, self.choice(["full", "started", "prorated"]),
                              step, direction))
            if isinstance(standard, Num) and isinstance(step, Num):
                for k in range(0, 4):
                    for sgn in (1, -1):
                        self.consts.append(standard.value + sgn * k * step.value)
        return Ladder(rate, standard, none, tuple(steps))

    def fact_of(self, stem, kind, lo, hi) -> str:
        name = f"{stem}{sum(1 for f in self.facts if f.name.startswith(stem))}"
        self.facts.append(Fact(name, kind, frac(lo), frac(hi), lo, hi))
        self.num["p"].append(name)
        return name

    def values(self) -> tuple:
        out = []
        have_scorecard = False
        for i in range(self.d(st.integers(1, 6))):
            name = f"v{i}"
            kind = self.choice(["let", "output"])
            self.allow_error = self.d(st.integers(0, 9)) == 0
            what = self.choice(["p", "p", "p", "m", "bool", "text", "agg", "scorecard", "date"]
                               + ["team", "team", "agg", "agg"] * (self.team is not None))
            if what == "team" and self.blocks >= 2:
                what = "agg"
            if what == "date" and not self.dates:
                what = "p"
            if what == "agg" and not (self.reclists or self.numlists or self.team):
                what = "p"
            if what == "text" and not self.bands:
                what = "bool"
            if what == "scorecard" and have_scorecard:
                what = "p"
            dated = [t for t in self.tables if isinstance(t, DatedTable) and t.vtype_unit == what]
            if what in ("p", "m") and dated and self.d(st.booleans()):
                # A rate in force on a date, times an amount or a day count, as prorations are.
                expr = Bin("*", self.dated_lookup(self.choice(dated), 1), self.num_expr("p", self.d(st.integers(0, 2))))
                v = Value(kind, name, expr, self.clauses(what), what)
                self.num[what].append(name)
            elif what in ("p", "m") and self.tiers and self.d(st.booleans()):
                # A commission on tiers: the schedule applied to a value, marginally or retroactively.
                v = Value(kind, name, self.tier_apply(what, self.d(st.integers(0, 2))), self.clauses(what), what)
                self.num[what].append(name)
            elif what in ("p", "m"):
                v = Value(kind, name, self.num_expr(what, self.d(st.integers(1, 4))), self.clauses(what), what)
                self.num[what].append(name)
            elif what == "bool":
                v = Value(kind, name, self.bool_expr(2), (), "bool")
                self.bools.append(name)
            elif what == "text":
                v = Value(kind, name, self.band_lookup(self.choice(self.bands), 2), (), "text")
            elif what == "date":
                v = Value(kind, name, self.date_expr(2), (), "date")
                self.dates.append(name)
            elif what == "team":
                v = self.each_block(i)
            elif what == "agg":
                agg, unit = self.aggregate()
                v = Value(kind, name, agg, self.clauses(unit), unit)
                self.num[unit].append(name)
            else:
                have_scorecard = True
                v = self.scorecard(f"sc{i}")
                self.num["p"].extend([it.name for it in v.items] + [v.name])
            self.allow_error = False
            out.append(v)
            if self.d(st.integers(0, 7)) == 0:
                # An assertion: often one that always holds, sometimes one the facts may break.
                if self.d(st.booleans()):
                    cond = Cmp(">=", Call("abs", (self.num_expr("p", 1),)), ZERO)
                else:
                    cond = self.bool_expr(1)
                out.append(Assert(cond, "the check must hold"))
        if self.force_team and not self.blocks:
            n = len(out)
            out.append(self.each_block(n))
            agg, unit = self.aggregate()
            out.append(Value("output", f"v{n + 1}", agg, self.clauses(unit), unit))
            out.append(Value("output", f"v{n + 2}", self.num_expr(self.choice(["p", "m"]), 2), (), "p"))
        return tuple(out)


@st.composite
def policies(draw, team: bool = False) -> Policy:
    """A policy; with `team`, always a keyed list of members and a `for each` block over it."""
    b = _Builder(draw)
    b.force_team = team
    b.declare_facts()
    b.declare_tables()
    b.declare_dated_tables()
    b.declare_bands()
    b.declare_tiers()
    b.declare_functions()
    values = b.values()
    p = Policy(tuple(b.facts), values, tuple(b.tables), tuple(b.bands), tuple(b.functions), tiers=tuple(b.tiers))
    p.notes["consts"] = sorted(set(b.consts))
    p.notes["date_consts"] = sorted(set(b.date_consts).union(*b.version_edges.values()))
    p.notes["version_edges"] = {k: sorted(set(v)) for k, v in b.version_edges.items()}
    p.notes["small"] = b.small
    return p


# ---- facts ---------------------------------------------------------------------------------------

def _long_decimal(draw, lo: Fraction | None, hi: Fraction | None, integer=False) -> Decimal:
    """A number of 27 to 40 significant digits inside [lo, hi] (sizes near 10^±39 when unbounded)."""
    digits = draw(st.integers(27, 38 if integer else 40))
    coefficient = draw(st.integers(10 ** (digits - 1), 10 ** digits - 1))
    if lo is None or hi is None:
        exp_lo, exp_hi = (0, 39 - digits) if integer else (-39 - digits + 1, 39 - digits)
        exponent = draw(st.one_of(st.integers(exp_lo, exp_hi), st.sampled_from([exp_lo, exp_hi])))
        d = Decimal(coefficient).scaleb(exponent)
        if (lo is None or -d >= lo) and draw(st.booleans()):
            d = -d
        return d
    # Inside [lo, hi]: lo + (hi - lo) * u, u in [0, 1), cut to the drawn number of digits (toward lo).
    u = Fraction(coefficient, 10 ** digits)
    x = lo + (hi - lo) * u
    ctx = Context(prec=digits, rounding=ROUND_DOWN)
    d = ctx.divide(Decimal(x.numerator), Decimal(x.denominator))
    if Fraction(d) < lo or Fraction(d) > hi:
        d = Decimal(lo.numerator) / Decimal(lo.denominator)
    if integer:
        d = d.to_integral_value(rounding=ROUND_DOWN)
    return d


def _as_decimal(f: Fraction) -> Decimal | None:
    """`f` as a Decimal when it ends (and fits a fact: at most 40 digits), else None."""
    den = f.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return None
    scale = max(twos, fives)
    d = Decimal(f.numerator * 10 ** scale // f.denominator).scaleb(-scale)
    if len(d.as_tuple().digits) > 40 or (d and not -39 <= d.adjusted() <= 39):
        return None
    return d


@st.composite
def number_value(draw, f: Fact, consts=()) -> Decimal:
    lo, hi = f.lo, f.hi
    if f.kind == "count" and lo is None:
        lo = Fraction(0)
    integer = f.kind in ("integer", "count")
    if integer:
        a = int(lo) if lo is not None else -(10 ** 6)
        b = int(hi) if hi is not None else 10 ** 6
        choice = draw(st.integers(0, 9))
        if choice == 0 and hi is None:
            return _long_decimal(draw, lo, None, integer=True)
        return Decimal(draw(st.one_of(st.integers(a, min(b, a + 40)), st.integers(a, b))))

    def inside(d):
        return d is not None and (lo is None or Fraction(d) >= lo) and (hi is None or Fraction(d) <= hi)

    choice = draw(st.integers(0, 11))
    if choice <= 2 and consts:
        # On an edge, a step boundary, or a hair beside it.
        c = draw(st.sampled_from(list(consts)))
        c += draw(st.sampled_from([Fraction(0), Fraction(0), Fraction(1, 10 ** 30), -Fraction(1, 10 ** 30),
                                   Fraction(1, 100), -Fraction(1, 1000)]))
        d = _as_decimal(c)
        if inside(d):
            return d
    if choice <= 5:
        return _long_decimal(draw, lo, hi)
    if choice <= 7:
        # Ties for roundings: x.xx5, x.5, x.0005.
        whole = draw(st.integers(-200, 200))
        d = Decimal(whole) + Decimal(draw(st.sampled_from(["0.005", "0.5", "0.125", "0.0005", "0.025", "0.015", "5"])))
        if inside(d):
            return d
    if lo is not None and hi is not None and draw(st.booleans()):
        return _as_decimal(draw(st.sampled_from([lo, hi])))
    places = draw(st.integers(0, 4))
    if lo is not None and hi is not None and hi - lo < 1:
        places = 9     # a narrow range (0.5..0.5000001) has no numbers of few places inside
    d = draw(st.decimals(min_value=Decimal(-10 ** 6) if lo is None else _as_decimal(lo),
                         max_value=Decimal(10 ** 6) if hi is None else _as_decimal(hi),
                         places=places, allow_nan=False, allow_infinity=False))
    return d


def date_value(draw, f: Fact, earlier: date | None, dconsts, edges=()) -> date:
    """A date the declaration accepts, often on an interesting date or a day beside it."""
    lo = f.lo if f.lo is not None else DATE_SPAN[0]
    hi = f.hi if f.hi is not None else DATE_SPAN[1]
    if earlier is not None:
        lo, hi = earlier, max(hi, earlier)
        if draw(st.integers(0, 4)) == 0:
            return earlier
    choice = draw(st.integers(0, 5))
    if choice <= 3:
        on_edges = bool(edges) and choice < 3      # the days beside a version's edges are in the list
        c = draw(st.sampled_from(list(edges if on_edges else dconsts) + [lo, hi]))
        if not on_edges:
            c += draw(st.sampled_from([0, 0, 1, -1])) * ONE_DAY
        if lo <= c <= hi:
            return c
    return lo + timedelta(days=draw(st.integers(0, (hi - lo).days)))


@st.composite
def fact_sets(draw, policy: Policy) -> dict:
    consts = policy.notes.get("consts", ())
    dconsts = policy.notes.get("date_consts", ())
    out = {}
    for f in policy.facts:
        if f.kind == "date":
            out[f.name] = date_value(draw, f, out[f.after] if f.after else None, dconsts,
                                     policy.notes.get("version_edges", {}).get(f.name, ()))
        elif f.kind in ("number", "money", "integer", "count", "percent"):
            small = policy.notes.get("small", {}).get(f.name)
            if small and draw(st.integers(0, 3)):
                out[f.name] = Decimal(draw(st.sampled_from(small)))
            else:
                out[f.name] = draw(number_value(f, consts))
        elif f.kind == "boolean":
            out[f.name] = draw(st.booleans())
        elif f.kind == "enum":
            out[f.name] = draw(st.sampled_from(f.options))
        elif f.kind == "record":
            out[f.name] = {k: draw(st.booleans()) for k in f.options}
        elif f.kind == "numlist":
            element = Fact("el", f.element, f.lo, f.hi)
            out[f.name] = draw(st.lists(number_value(element, consts), max_size=f.at_most or 6))
        elif f.kind == "reclist" and f.key:
            out[f.name] = draw(team_lines(f, consts))
        elif f.kind == "reclist":
            lines = []
            for _ in range(draw(st.integers(0, f.at_most or 5))):
                line = {}
                for sub in f.fields:
                    if sub.kind == "boolean":
                        line[sub.name] = draw(st.booleans())
                    elif sub.kind == "enum":
                        line[sub.name] = draw(st.sampled_from(sub.options))
                    else:
                        line[sub.name] = draw(number_value(sub, consts))
                lines.append(line)
            out[f.name] = lines
    return out


@st.composite
def team_lines(draw, f: Fact, consts=()) -> list:
    """0 to 8 members with small scores and weights (ties, equal remainders, all weights 0); their
    ids unique, except now and then a repeat (refused: F120 at every later line that has it)."""
    size = min(draw(st.sampled_from(TEAM_SIZES)), f.at_most or TEAM_SIZE)
    # (Not `== 0`: hypothesis draws the ends of a range often, and most lists should have E1.)
    if draw(st.integers(0, 7)) != 5:
        ids = list(draw(st.permutations(TEAM_IDS[:size])))
    else:
        ids = draw(st.lists(st.sampled_from(TEAM_IDS), min_size=size, max_size=size, unique=True))
    if size >= 2 and draw(st.integers(0, 11)) == 7:
        for _ in range(draw(st.integers(1, 2))):
            j = draw(st.integers(1, size - 1))
            ids[j] = ids[draw(st.integers(0, j - 1))]
    lines = []
    for member_id in ids:
        line: dict = {}
        for sub in f.fields:
            if sub.name == "id":
                line["id"] = member_id
            elif sub.kind == "boolean":
                line[sub.name] = draw(st.booleans())
            elif sub.kind == "enum":
                line[sub.name] = draw(st.sampled_from(sub.options))
            elif sub.kind == "count":
                line[sub.name] = Decimal(draw(st.integers(int(sub.lo), int(sub.hi))))
            elif draw(st.integers(0, 3)):
                line[sub.name] = Decimal(draw(st.sampled_from(SCORES if sub.kind == "number" else PAYS)))
            else:
                line[sub.name] = draw(number_value(sub, consts))
        lines.append(line)
    return lines


def to_json(value) -> str:
    """A fact set as JSON text whose numbers are written with their exact digits."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    raise TypeError(value)


def as_passed(draw, facts: dict):
    """How the facts reach the engine: Decimals, ints and strings as an HR system passes them."""
    how = draw(st.sampled_from(["python", "python", "strings", "json"]))
    if how == "json":
        return how, None

    def convert(v):
        if isinstance(v, Decimal):
            if how == "strings" and draw(st.booleans()):
                return format(v, "f")
            if v == v.to_integral_value() and v.as_tuple().exponent >= 0 and draw(st.booleans()):
                return int(v)
            return v
        if isinstance(v, date):
            return v.isoformat() if how == "strings" or draw(st.booleans()) else v
        if isinstance(v, list):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        return v
    return how, convert(facts)


@st.composite
def cases(draw, team: bool = False):
    """(policy tree, facts as the reference reads them, how they are passed, what is passed)."""
    policy = draw(policies(team))
    facts = draw(fact_sets(policy))
    how, passed = as_passed(draw, facts)
    return policy, facts, how, passed
