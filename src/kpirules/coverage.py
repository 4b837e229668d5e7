"""Example coverage (`kpirules test --coverage`): which branches of a policy its examples take.

The branches come from the IR, one decision point ("site") per construct as written: a ladder
(below / at / above, and no rate when it has `if none`), a gate (open / closed), a floor or a
cap (bit / did not bite), a conditional deduction, addition or `score` line (applied /
skipped), an `only if` filter (a line included / excluded), an `if ... then ... else` (then /
else), a bands lookup (each band), a table lookup (each row), a `marginal`/`retroactive` tier
schedule (each tier, reached when the value falls in it) and a `min`/`max` (each argument, chosen
when it is the result; the first of equal ones). A site is its node's source
position, so a shared ladder used by two items is two sites; a site inside a function is one
site per call (its floor bites or not depending on the call's arguments).

Each example is run through the traced generated code, whose records say how each branch went
(keyed by the IR node's record id, and for a function by the chain of calls): nothing is
evaluated here. Examples that expect a fact error exercise nothing.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import attrs

from . import exact as x
from . import facts as fact_stage
from . import ir
from .errors import KpiRulesError
from .runtime import AS_OF, Failure
from .source import Span

LADDER_OUTCOMES = ("below", "at", "above")
OUTCOMES = {
    "gate": ("open", "closed"),
    "floor": ("bit", "not"),
    "cap": ("bit", "not"),
    "adjust": ("applied", "skipped"),
    "score": ("applied", "skipped"),
    "filter": ("included", "excluded"),
    "if": ("then", "else"),
    # Team constructs: an allocation that gave leftover quanta, and one whose weights were all 0;
    # a ranking where members tied.
    "allocate": ("leftover", "all_zero"),
    "rank": ("tied",),
}

_PHRASES = {
    ("ladder", "below"): "never below the standard",
    ("ladder", "at"): "never exactly on the standard",
    ("ladder", "above"): "never above the standard",
    ("ladder", "no_rate"): "never without a rate (`if none`)",
    ("gate", "open"): "never open",
    ("gate", "closed"): "never closed",
    ("floor", "bit"): "never bit",
    ("floor", "not"): "always bit (never seen leaving the value as it was)",
    ("cap", "bit"): "never bit",
    ("cap", "not"): "always bit (never seen leaving the value as it was)",
    ("adjust", "applied"): "never applied",
    ("adjust", "skipped"): "never skipped",
    ("score", "applied"): "never applied",
    ("score", "skipped"): "never skipped",
    ("filter", "included"): "never let a line through",
    ("filter", "excluded"): "never excluded a line",
    ("if", "then"): "never true (`then` never taken)",
    ("if", "else"): "never false (`else` never taken)",
    ("allocate", "leftover"): "never gave a leftover quantum to a largest remainder",
    ("allocate", "all_zero"): "never met weights that are all 0",
    ("rank", "tied"): "never saw members tie",
}


def _k(span) -> tuple:
    return (span.source.path, span.start, span.end)


@attrs.frozen(kw_only=True)
class Site:
    """One decision point of a policy and the outcomes it can have."""
    key: tuple
    kind: str        # ladder, gate, floor, cap, adjust, score, filter, if, band, row
    outcomes: tuple
    span: Span       # where it is reported: the construct, or (inside a function) the outermost call
    head: str        # what it is, for people: "ladder `won / supported` of item project_success"
    order: int = 0

    def message(self, outcome) -> str:
        if self.kind == "band":
            return f"band {outcome} of {self.head}: never chosen"
        if self.kind == "row":
            return f"row {outcome} of {self.head}: never looked up"
        if self.kind == "tier":
            return f"tier {outcome} of {self.head}: never reached"
        if self.kind in ("min", "max"):
            return f"{self.head}: `{outcome}` never the {'smallest' if self.kind == 'min' else 'largest'}"
        return f"{self.head}: {_PHRASES[(self.kind, outcome)]}"


@attrs.frozen(kw_only=True)
class Missed:
    site: Site
    outcome: str

    @property
    def location(self) -> str:
        return self.site.span.location()

    @property
    def line(self) -> int:
        return self.site.span.line

    def render(self) -> str:
        return f"{self.location}: {self.site.message(self.outcome)}"


@attrs.frozen(kw_only=True)
class Coverage:
    """The branches of one policy and which of them its examples took."""
    path: str
    sites: tuple            # Site, in source order
    seen: dict              # site key -> frozenset of outcomes seen
    examples: int = 0       # examples that ran (an example expecting a fact error runs nothing)
    notes: tuple = ()       # what could not be measured, and why

    @property
    def total(self) -> int:
        return sum(len(s.outcomes) for s in self.sites)

    @property
    def covered(self) -> int:
        return sum(len(set(s.outcomes) & self.seen.get(s.key, frozenset())) for s in self.sites)

    @property
    def missed(self) -> tuple[Missed, ...]:
        out: list[Missed] = []
        for s in self.sites:
            got = self.seen.get(s.key, frozenset())
            out.extend(Missed(site=s, outcome=o) for o in s.outcomes if o not in got)
        return tuple(out)

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.covered, self.total) if self.total else Fraction(1)

    @property
    def percent(self) -> str:
        return percent(self.covered, self.total)

    def below(self, minimum: Decimal) -> bool:
        """True when the covered share is under `minimum` percent (compared exactly)."""
        return self.ratio * 100 < Fraction(minimum)

    def render(self) -> str:
        lines = [f"{self.path}: {self.covered}/{self.total} branches ({self.percent})"]
        lines.extend("    " + m.render() for m in self.missed)
        lines.extend("    not measured: " + note for note in self.notes)
        return "\n".join(lines)


def percent(covered: int, total: int) -> str:
    """`92.5%`, `100%`: one decimal, half up, and never 100% while a branch is missed."""
    if not total:
        return "100%"
    value = (Decimal(covered) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if covered < total and value >= 100:
        value = Decimal("99.9")
    text = format(value, "f")
    return (text[:-2] if text.endswith(".0") else text) + "%"


def percent_text(value: Decimal) -> str:
    """A `--min-coverage` threshold as people wrote it: `100%`, `90.5%`."""
    text = format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))
    return text + "%"


def parse_percent(text: str) -> Decimal:
    """The PERCENT of `--min-coverage`: a number from 0 to 100, `%` optional. ValueError if not."""
    raw = text.strip()
    if raw.endswith("%"):
        raw = raw[:-1].strip()
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise ValueError(f"`{text}` is not a percentage (write e.g. 100 or 90.5)") from None
    if not value.is_finite() or value < 0 or value > 100:
        raise ValueError(f"`{text}` is not a percentage from 0 to 100")
    return value


# ---- the branches of a policy ------------------------------------------------------------------

def _key_label(key) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, tuple):  # a version of an effective-dated table: (from, until)
        return f"from {key[0].isoformat()}"
    return x.to_string(x.canonical(key))


class _Sites:
    """Every site of a lowered policy, from its evaluations' values (in source order), and for
    each record id the site its records speak of."""

    def __init__(self, policy: ir.Policy):
        self.tables = {t.name: t for t in policy.tables}
        self.bands = {b.name: b for b in policy.bands}
        self.functions = {f.name: f for f in policy.functions}
        self.sites: dict = {}
        self.by_rid: dict = {}   # (call chain, rid) -> site key
        for ev in policy.evaluations:
            for v in ev.values:
                self._value(v)

    def add(self, ctx, rid, kind, outcomes, span, head):
        key = (tuple(_k(s) for s in ctx), kind, _k(span))
        self.by_rid[(tuple(_k(s) for s in ctx), rid)] = key
        if key not in self.sites:
            where = ctx[0] if ctx else span
            self.sites[key] = Site(key=key, kind=kind, outcomes=tuple(outcomes), span=where, head=head,
                                   order=len(self.sites))

    def ordered(self) -> tuple:
        return tuple(sorted(self.sites.values(), key=lambda s: (s.span.path, s.span.start, s.order)))

    def _value(self, v: ir.Value):
        owner = {"let": "value", "output": "output", "item": "item", "scorecard": "scorecard",
                 "assert": "assertion"}[v.kind]
        owner = f"{owner} {v.name}"
        c = v.compute
        if isinstance(c, ir.Assert):  # issue 10: its condition's sites (it holds, or the run stops)
            self.expr(c.condition, (), owner)
        elif isinstance(c, ir.Aggregate):
            for f in c.filters:
                self.add((), f.rid, "filter", OUTCOMES["filter"], f.span, f"`{f.span.text}` of {owner}")
                self.expr(f.condition, (), owner)
            if c.body is not None:
                self.expr(c.body, (), owner)
            self._clauses(c.clauses, (), owner)
        elif isinstance(c, ir.Formula):
            self.expr(c.expr, (), owner)
            self._clauses(c.clauses, (), owner)
        elif isinstance(c, ir.Item):
            for s in c.steps:
                if isinstance(s, ir.Adjust):
                    if s.condition is not None:
                        self.add((), s.rid, "adjust", OUTCOMES["adjust"], s.span, f"`{s.span.text}` in {owner}")
                        self.expr(s.condition, (), owner)
                    self.expr(s.amount, (), owner)
                    if s.per is not None:
                        self.expr(s.per, (), owner)
                elif isinstance(s, ir.Override):
                    self.add((), s.rid, "score", OUTCOMES["score"], s.span, f"`{s.span.text}` in {owner}")
                    self.expr(s.condition, (), owner)
                    self.expr(s.value, (), owner)
                elif isinstance(s, ir.Ladder):
                    # A side without a step line scores as on the standard: it is not a branch.
                    sides = {line.direction for line in (s.below, s.above) if line is not None}
                    outcomes = tuple(o for o in LADDER_OUTCOMES if o == "at" or o in sides) + (
                        ("no_rate",) if s.none is not None else ())
                    self.add((), s.rid, "ladder", outcomes, s.span, f"ladder `{s.rate.span.text}` of {owner}")
                    for part in (s.standard, s.rate):
                        self.expr(part, (), owner)
                    if s.none not in (None, "standard"):
                        self.expr(s.none, (), owner)
                    for line in (s.below, s.above):
                        if line is not None:
                            self.expr(line.step, (), owner)
                            self.expr(line.points, (), owner)
                else:
                    self._clauses((s,), (), owner)
            for g in c.gates:
                self.add((), g.rid, "gate", OUTCOMES["gate"], g.span, f"gate {g.tag}")
                self.expr(g.condition, (), f"gate {g.tag}")
        elif isinstance(c, ir.ScorecardSum):
            self._clauses(c.clauses, (), owner)

    def _clauses(self, clauses, ctx, owner):
        for c in clauses:
            if isinstance(c, (ir.Floor, ir.Cap)):
                kind = "floor" if isinstance(c, ir.Floor) else "cap"
                inside = f" ({c.span.location()})" if ctx else ""
                self.add(ctx, c.rid, kind, OUTCOMES[kind], c.span, f"{kind} {c.bound.span.text}{inside} of {owner}")
                self.expr(c.bound, ctx, owner)

    def expr(self, e, ctx, owner):
        if len(ctx) > 16:
            return
        if isinstance(e, ir.Allocate):
            self.add(ctx, e.rid, "allocate", OUTCOMES["allocate"], e.span, f"`{e.span.text}` in {owner}")
        elif isinstance(e, ir.Rank) and e.kind in ("rank", "dense"):
            self.add(ctx, e.rid, "rank", OUTCOMES["rank"], e.span, f"`{e.span.text}` in {owner}")
        elif isinstance(e, ir.Cond):
            self.add(ctx, e.rid, "if", OUTCOMES["if"], e.span,
                     f"`if {e.condition.span.text}`{_inside(e, ctx)} in {owner}")
        elif isinstance(e, ir.BandLookup):
            self.add(ctx, e.rid, "band", tuple(b[0] for b in self.bands[e.bands].bands), e.span,
                     f"{e.bands} (`{e.span.text}`{_inside(e, ctx)} in {owner})")
        elif isinstance(e, ir.TierApply):  # issue 10: each tier is a branch, reached or not
            self.add(ctx, e.rid, "tier", tuple(t[0] for t in e.schedule.tiers), e.span,
                     f"tiers {e.schedule.name} (`{e.span.text}`{_inside(e, ctx)} in {owner})")
        elif isinstance(e, ir.Extreme):  # issue 10: each side of `min`/`max` is a branch
            self.add(ctx, e.rid, e.fn, _sides(e), e.span, f"`{e.span.text}`{_inside(e, ctx)} in {owner}")
        elif isinstance(e, ir.TableLookup):
            self.add(ctx, e.rid, "row", tuple(_key_label(r[0]) for r in self.tables[e.table].rows), e.span,
                     f"table {e.table} (`{e.span.text}`{_inside(e, ctx)} in {owner})")
        elif isinstance(e, ir.Call):
            for a in e.args:
                self.expr(a, ctx, owner)
            fn = self.functions[e.function]
            inner = ctx + (e.span,)
            fowner = f"function {fn.name} called as `{inner[0].text}`" if not ctx \
                else f"function {fn.name} (called as `{e.span.text}`) in {owner}"
            self.expr(fn.body, inner, fowner)
            self._clauses(fn.clauses, inner, fowner)
            return
        for c in ir.children(e):
            self.expr(c, ctx, owner)


def _sides(e: ir.Extreme) -> tuple:
    """The outcomes of `min(a, b)`: each argument as written (numbered when two read the same)."""
    texts = [a.span.text for a in e.args]
    return tuple(t if texts.count(t) == 1 else f"{t} (#{i + 1})" for i, t in enumerate(texts))


def _inside(e, ctx) -> str:
    """Where a site inside a function is written (its report line points at the call)."""
    return f" ({e.span.location()})" if ctx else ""


# ---- what the examples exercised ---------------------------------------------------------------

def _outcomes(kind: str, got, site=None) -> tuple:
    """The outcomes a branch record shows (a whole team's allocation or ranking can show several)."""
    if kind == "allocate":
        return (("leftover",) if got["leftover"] else ()) + (("all_zero",) if got["total_weight"] == 0 else ())
    if kind == "rank":
        return ("tied",) if any(t > 1 for t in got["tied"]) else ()
    return (_outcome(kind, got, site),)


def _outcome(kind: str, got, site=None) -> str:
    """A branch record as the outcome of its site."""
    if kind == "band":
        return got[1][0]
    if kind == "row":
        # The row's key, as the table's outcomes name it (a version by its effective date).
        return _key_label(got[2] if len(got) == 3 else got[0])
    if kind == "ladder":
        return got  # below, at, above or no_rate
    if kind == "tier":
        return got[3]  # the tier reached
    if kind in ("min", "max"):
        return site.outcomes[got]  # the argument chosen (the first of equal ones)
    return OUTCOMES[kind][0 if got else 1]


class _Seen:
    def __init__(self, found: _Sites):
        self.found = found
        self.seen: dict = defaultdict(set)

    def records(self, xs: dict, ctx: tuple):
        for rid, got in xs.items():
            key = self.found.by_rid.get((ctx, rid))
            if key is None:
                continue  # a list sum or a call: not a branch
            site = self.found.sites[key]
            self.seen[key].update(_outcomes(site.kind, got, site))

    def calls(self, calls, ctx: tuple):
        for call in calls:
            inner = ctx + (_k(call["span"]),)
            if len(inner) > 17:
                continue
            self.records(call["x"], inner)
            self.calls(call["calls"], inner)

    def value(self, record):
        events, calls, xs = record
        self.records(xs, ())
        for e in events:
            if e["kind"] in ("line", "member"):
                self.records(e["x"], ())
            if e["kind"] == "member":
                self.calls(e["calls"], ())
        self.calls(calls, ())


# ---- entry points ------------------------------------------------------------------------------

def sites(policy) -> tuple:
    """Every site of a loaded policy, in source order."""
    return _Sites(_ir_of(policy)).ordered()


def _ir_of(policy) -> ir.Policy:
    return next(iter(policy._programs.values())).policy


def measure(policy) -> Coverage:
    """Run every example of a loaded policy through the traced code and see which branches it takes."""
    from . import _as_of_date
    from .examples import _as_of, facts_of
    found = _Sites(_ir_of(policy))
    seen = _Seen(found)
    ran = 0
    for ex in policy._model.examples:
        if ex.errors:
            continue  # an example expecting a fact error exercises nothing
        evaluation = ex.evaluation or policy.evaluations[0]
        try:
            facts, as_of = _as_of(policy, evaluation, facts_of(ex, policy.path))
            day = _as_of_date(as_of)
            program = policy._program(evaluation, day)
            valid, _ = fact_stage.validate(program.model, facts, program.check_facts)
            if day is not None:
                valid = {**valid, AS_OF: day}
            _, records = program.traced(valid)
        except (KpiRulesError, Failure):
            continue  # refused facts or an evaluation error: the example took no branch
        ran += 1
        for record in records:
            seen.value(record)
    return Coverage(path=policy.path, sites=found.ordered(),
                    seen={k: frozenset(v) for k, v in seen.seen.items()}, examples=ran, notes=())


__all__ = ["Coverage", "Missed", "Site", "measure", "sites", "percent", "percent_text", "parse_percent"]
