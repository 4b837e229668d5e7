"""Example coverage (`kpirules test --coverage`): which branches of a policy its examples take.

The branches come from the checked model, one decision point ("site") per construct as written:
a ladder (below / at / above, and no rate when it has `if none`), a gate (open / closed), a
floor or a cap (bit / did not bite), a conditional deduction, addition or `score` line (applied /
skipped), an `only if` filter (a line included / excluded), an `if ... then ... else` (then /
else), a bands lookup (each band) and a table lookup (each row). A site is its node's source
position, so a shared ladder used by two items is two sites; a site inside a function is one
site per call (its floor bites or not depending on the call's arguments).

Each example is run with explain=True and its trace walked: the trace says how each ladder,
gate, floor, cap, deduction and filter went, matched to the model by source span and, inside an
item, by position. The trace does not say which way an `if` went (its working fills in only the
condition), and it records no table or bands lookup inside an item, a gate, a filter condition
or a function body; those are found by re-evaluating the expression with the exact values the
trace holds (its facts, and each value's result, with `exact` for a fraction), walking only the
parts the evaluation reached. A lookup the trace does record is taken from the trace. Examples
that expect a fact error exercise nothing.
"""

from __future__ import annotations

from collections import defaultdict, deque
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import attrs

from . import exact as x
from . import nodes as n
from .compile import LINE, Compiler, Failure, band_of
from .errors import KpiRulesError

ITEM = "\0item"  # where a gate's condition finds the item it decides on (as compile.py puts it)

LADDER_OUTCOMES = ("below", "at", "above")
OUTCOMES = {
    "gate": ("open", "closed"),
    "floor": ("bit", "not"),
    "cap": ("bit", "not"),
    "adjust": ("applied", "skipped"),
    "score": ("applied", "skipped"),
    "filter": ("included", "excluded"),
    "if": ("then", "else"),
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
}


def _k(span) -> tuple:
    return (span.source.path, span.start, span.end)


@attrs.frozen(kw_only=True)
class Site:
    """One decision point of a policy and the outcomes it can have."""
    key: tuple
    kind: str        # ladder, gate, floor, cap, adjust, score, filter, if, band, row
    outcomes: tuple
    span: object     # where it is reported: the construct, or (inside a function) the outermost call
    head: str        # what it is, for people: "ladder `won / supported` of item project_success"
    order: int = 0

    def message(self, outcome) -> str:
        if self.kind == "band":
            return f"band {outcome} of {self.head}: never chosen"
        if self.kind == "row":
            return f"row {outcome} of {self.head}: never looked up"
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
    def missed(self) -> tuple:
        out = []
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

def _children(e) -> list:
    """The sub-expressions of `e` in the order the evaluator computes them."""
    if isinstance(e, n.Unary):
        return [e.operand]
    if isinstance(e, (n.Binary, n.Compare)):
        return [e.left, e.right]
    if isinstance(e, n.Conditional):
        return [e.condition, e.then, e.otherwise]
    if isinstance(e, n.Index):
        return [e.target, e.key]
    if isinstance(e, n.Field):
        return [e.target]
    if isinstance(e, n.Call):
        return list(e.args)
    if isinstance(e, n.Blend):
        return [p[0] for p in e.parts]
    return []


def _key_label(key) -> str:
    if isinstance(key, str):
        return key
    return x.to_string(x.canonical(key))


class _Sites:
    """Every site of a checked policy, from its evaluations' values (in source order)."""

    def __init__(self, model):
        self.tables = {t.name: t for t in model.tables}
        self.bands = {b.name: b for b in model.bands}
        self.functions = {f.name: f for f in model.functions}
        self.sites: dict = {}
        for ev in model.evaluations:
            facts = {f.name: f for f in ev.facts}
            for d in ev.values:
                self._value(d, facts)

    def add(self, key, kind, outcomes, span, head):
        if key not in self.sites:
            self.sites[key] = Site(key=key, kind=kind, outcomes=tuple(outcomes), span=span, head=head,
                                   order=len(self.sites))

    def ordered(self) -> tuple:
        return tuple(sorted(self.sites.values(), key=lambda s: (s.span.path, s.span.start, s.order)))

    # values
    def _value(self, d, facts):
        owner = {"let": "value", "output": "output", "item": "item", "scorecard": "scorecard"}[d.kind]
        owner = f"{owner} {d.name}"
        if d.kind in ("let", "output"):
            node = d.node
            if isinstance(node.value, n.Aggregate):
                agg = node.value
                decl = facts.get(agg.list_name)
                fields = frozenset(f[0] for f in decl.type.fields) if decl is not None and decl.type.fields \
                    else frozenset({agg.list_name})
                for c in node.clauses:
                    if isinstance(c, n.Filter):
                        self.add(((), "filter", _k(c.span)), "filter", OUTCOMES["filter"], c.span,
                                 f"`{c.span.text}` of {owner}")
                        self.expr(c.condition, fields, (), owner)
                if agg.body is not None:
                    self.expr(agg.body, fields, (), owner)
            else:
                self.expr(node.value, frozenset(), (), owner)
            self._clauses(node.clauses, frozenset(), (), owner)
        elif d.kind == "item":
            for s in d.node.body:
                if isinstance(s, n.Adjust):
                    if s.condition is not None:
                        self.add(((), "adjust", _k(s.span)), "adjust", OUTCOMES["adjust"], s.span,
                                 f"`{s.span.text}` in {owner}")
                        self.expr(s.condition, frozenset(), (), owner)
                    self.expr(s.amount, frozenset(), (), owner)
                    if s.per is not None:
                        self.expr(s.per, frozenset(), (), owner)
                elif isinstance(s, n.Override):
                    self.add(((), "score", _k(s.span)), "score", OUTCOMES["score"], s.span,
                             f"`{s.span.text}` in {owner}")
                    self.expr(s.condition, frozenset(), (), owner)
                    self.expr(s.value, frozenset(), (), owner)
                elif isinstance(s, n.Ladder):
                    # A side without a step line scores as on the standard: it is not a branch.
                    sides = {st.direction for st in s.steps}
                    outcomes = tuple(o for o in LADDER_OUTCOMES if o == "at" or o in sides) + (
                        ("no_rate",) if s.none_rule is not None else ())
                    self.add(((), "ladder", _k(s.span)), "ladder", outcomes, s.span,
                             f"ladder `{s.rate.span.text}` of {owner}")
                    for part in (s.standard, s.rate):
                        self.expr(part, frozenset(), (), owner)
                    if s.none_rule is not None and s.none_rule != "standard":
                        self.expr(s.none_rule, frozenset(), (), owner)
                    for st in s.steps:
                        self.expr(st.step, frozenset(), (), owner)
                        self.expr(st.points, frozenset(), (), owner)
                elif isinstance(s, (n.Floor, n.Cap)):
                    self._clauses((s,), frozenset(), (), owner)
            for g in d.gates:
                self.add(((), "gate", _k(g.span)), "gate", OUTCOMES["gate"], g.span, f"gate {g.tag}")
                self.expr(g.condition, frozenset(), (), f"gate {g.tag}")
        else:
            self._clauses(d.node.clauses, frozenset(), (), owner)

    def _clauses(self, clauses, fields, ctx, owner):
        for c in clauses:
            if isinstance(c, (n.Floor, n.Cap)):
                kind = "floor" if isinstance(c, n.Floor) else "cap"
                where = ctx[0] if ctx else c.span
                inside = f" ({c.span.location()})" if ctx else ""
                self.add((tuple(_k(s) for s in ctx), kind, _k(c.span)), kind, OUTCOMES[kind], where,
                         f"{kind} {c.value.span.text}{inside} of {owner}")
                self.expr(c.value, fields, ctx, owner)

    # expressions
    def expr(self, e, fields, ctx, owner):
        if e is None or isinstance(e, str) or len(ctx) > 16:
            return
        ckey = tuple(_k(s) for s in ctx)
        where = ctx[0] if ctx else e.span
        if isinstance(e, n.Conditional):
            self.add((ckey, "if", _k(e.span)), "if", OUTCOMES["if"], where,
                     f"`if {e.condition.span.text}`{_inside(e, ctx)} in {owner}")
        elif isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name not in fields:
            name = e.target.name
            if name in self.bands:
                bands = self.bands[name]
                self.add((ckey, "band", _k(e.span)), "band", tuple(b[0] for b in bands.bands), where,
                         f"{name} (`{e.span.text}`{_inside(e, ctx)} in {owner})")
            elif name in self.tables:
                table = self.tables[name]
                self.add((ckey, "row", _k(e.span)), "row", tuple(_key_label(r[0]) for r in table.rows), where,
                         f"table {name} (`{e.span.text}`{_inside(e, ctx)} in {owner})")
        elif isinstance(e, n.Call) and e.function in self.functions and e.function not in fields:
            for a in e.args:
                self.expr(a, fields, ctx, owner)
            fn = self.functions[e.function]
            inner = ctx + (e.span,)
            params = frozenset(p.name for p in fn.params)
            fowner = f"function {fn.name} called as `{_outer_call(inner).text}`" if not ctx \
                else f"function {fn.name} (called as `{e.span.text}`) in {owner}"
            self.expr(fn.body, params, inner, fowner)
            self._clauses(fn.clauses, params, inner, fowner)
            return
        for c in _children(e):
            self.expr(c, fields, ctx, owner)


def _outer_call(ctx):
    return ctx[0]


def _inside(e, ctx) -> str:
    """Where a site inside a function is written (its report line points at the call)."""
    return f" ({e.span.location()})" if ctx else ""


# ---- what the examples exercised ---------------------------------------------------------------

class _Mismatch(Exception):
    """The trace does not line up with the model: the value is reported as not measured."""


class _Scope:
    """The lookups and function calls the trace recorded for one value (or one list line)."""

    def __init__(self, lookups=(), calls=None):
        self.lookups = {}
        for node in lookups:
            if node["kind"] in ("band_chosen", "table_lookup"):
                self.lookups.setdefault(_k(node["span"]), node)
        self.calls = calls if calls is not None else defaultdict(deque)

    @staticmethod
    def calls_of(children):
        calls = defaultdict(deque)
        for node in children:
            if node["kind"] == "function_call":
                calls[_k(node["span"])].append(node)
        return calls


class _Walker:
    """Walks one example's trace and records each site's outcome in `seen`."""

    def __init__(self, model, compiler, seen, notes):
        self.tables = {t.name: t for t in model.tables}
        self.bands = {b.name: b for b in model.bands}
        self.functions = {f.name: f for f in model.functions}
        self.compiler = compiler
        self.seen = seen
        self.notes = notes
        self._compiled = {}

    def see(self, key, outcome):
        self.seen[key].add(outcome)

    def ev(self, e, env, fields):
        key = (id(e), fields)
        f = self._compiled.get(key)
        if f is None:
            f = self._compiled[key] = (e, self.compiler.expr(e, fields))
        return f[1](env)

    # one example
    def example(self, ev_model, trace, where):
        env = {node["name"]: node["result"] for node in trace["inputs"]}
        nodes = {}
        for node in trace["nodes"]:
            env[node["name"]] = _exact(node)
            nodes[node["name"]] = node
        facts = {f.name: f for f in ev_model.facts}
        for d in ev_model.values:
            node = nodes.get(d.name)
            if node is None:
                continue
            try:
                self._value(d, node, env, facts)
            except (_Mismatch, Failure, LookupError, TypeError, ArithmeticError) as exc:
                detail = exc.message if isinstance(exc, Failure) else str(exc) or type(exc).__name__
                self.notes.append(f"{where}: `{d.name}`: {detail}")

    def _value(self, d, node, env, facts):
        children = node["children"]
        calls = _Scope.calls_of(children)
        if d.kind in ("let", "output"):
            dn = d.node
            if isinstance(dn.value, n.Aggregate):
                self._aggregate(dn, children, env, facts, calls)
            else:
                self.walk(dn.value, env, frozenset(), (), _Scope(children, calls))
            self._bounds(dn.clauses, children, env, calls)
        elif d.kind == "item":
            self._item(d, children, env, calls)
        else:
            self._bounds(d.node.clauses, children, env, calls)

    def _bounds(self, clauses, children, env, calls):
        """Floors and caps of a value or scorecard: a node for each that bit."""
        for c in clauses:
            if isinstance(c, (n.Floor, n.Cap)):
                kind = "floor" if isinstance(c, n.Floor) else "cap"
                self.walk(c.value, env, frozenset(), (), _Scope((), calls))
                bit = any(ch["kind"] == f"{kind}_applied" and _k(ch["span"]) == _k(c.span) for ch in children)
                self.see(((), kind, _k(c.span)), "bit" if bit else "not")

    def _aggregate(self, dn, children, env, facts, calls):
        agg = dn.value
        decl = facts[agg.list_name]
        records = bool(decl.type.fields)
        fields = frozenset(f[0] for f in decl.type.fields) if records else frozenset({agg.list_name})
        filters = [c for c in dn.clauses if isinstance(c, n.Filter)]
        lines = [ch for ch in children if ch["kind"] in ("line", "filter_excluded")]
        values = env[agg.list_name]
        if len(lines) != len(values):
            raise _Mismatch(f"{len(values)} list lines but {len(lines)} line nodes in the trace")
        for line, tnode in zip(values, lines):
            lenv = dict(env)
            lenv[LINE] = line if records else {agg.list_name: line}
            stop = None
            if tnode["kind"] == "filter_excluded":
                stop = next((i for i, f in enumerate(filters) if _k(f.span) == _k(tnode["span"])), None)
                if stop is None:
                    raise _Mismatch("a line was excluded by a filter the policy does not have")
            for i, f in enumerate(filters):
                self.walk(f.condition, lenv, fields, (), _Scope((), calls))
                self.see(((), "filter", _k(f.span)), "excluded" if i == stop else "included")
                if i == stop:
                    break
            if stop is None and agg.body is not None:
                self.walk(agg.body, lenv, fields, (), _Scope(tnode["children"], calls))

    def _item(self, d, children, env, calls):
        events = [ch for ch in children if ch["kind"] != "function_call"]
        scope = _Scope((), calls)
        pos = 0

        def take(kinds, what):
            nonlocal pos
            if pos >= len(events) or events[pos]["kind"] not in kinds:
                got = events[pos]["kind"] if pos < len(events) else "nothing"
                raise _Mismatch(f"expected the trace of {what}, found {got}")
            pos += 1
            return events[pos - 1]

        nothing = frozenset()
        for s in d.node.body:
            if isinstance(s, n.Adjust):
                if s.condition is not None:
                    self.walk(s.condition, env, nothing, (), scope)
                e = take(("deduction", "deduction_skipped"), f"`{s.span.text}`")
                _same(e, s)
                applied = e["kind"] == "deduction"
                if s.condition is not None:
                    self.see(((), "adjust", _k(s.span)), "applied" if applied else "skipped")
                if applied:
                    self.walk(s.amount, env, nothing, (), scope)
                    if s.per is not None:
                        self.walk(s.per, env, nothing, (), scope)
            elif isinstance(s, n.Override):
                self.walk(s.condition, env, nothing, (), scope)
                e = take(("score_set", "deduction_skipped"), f"`{s.span.text}`")
                _same(e, s)
                applied = e["kind"] == "score_set"
                self.see(((), "score", _k(s.span)), "applied" if applied else "skipped")
                if applied:
                    self.walk(s.value, env, nothing, (), scope)
            elif isinstance(s, n.Ladder):
                self.walk(s.standard, env, nothing, (), scope)
                try:
                    self.walk(s.rate, env, nothing, (), scope)
                except Failure:
                    if s.none_rule is None:
                        raise
                    if s.none_rule != "standard":
                        self.walk(s.none_rule, env, nothing, (), scope)
                e = take(("ladder_step",), f"the ladder `{s.span.text}`")
                code, params = e["reason"]["code"], e["reason"]["params"]
                if code == "ladder.no_rate" or params.get("no_rate"):
                    self.see(((), "ladder", _k(s.span)), "no_rate")
                else:
                    direction = {"ladder.below": "below", "ladder.above": "above", "ladder.at": "at",
                                 "ladder.no_line": "at"}.get(code)
                    direction = direction or params.get("direction")
                    if direction not in LADDER_OUTCOMES:
                        raise _Mismatch(f"a ladder step with reason `{code}`")
                    self.see(((), "ladder", _k(s.span)), direction)
                if code in ("ladder.below", "ladder.above"):
                    st = next(st for st in s.steps if st.direction == code.split(".")[1])
                    self.walk(st.step, env, nothing, (), scope)
                    self.walk(st.points, env, nothing, (), scope)
            elif isinstance(s, (n.Floor, n.Cap)):
                kind = "floor" if isinstance(s, n.Floor) else "cap"
                self.walk(s.value, env, nothing, (), scope)
                bit = pos < len(events) and events[pos]["kind"] == f"{kind}_applied" \
                    and _k(events[pos]["span"]) == _k(s.span)
                if bit:
                    pos += 1
                self.see(((), kind, _k(s.span)), "bit" if bit else "not")
        genv = dict(env)
        genv[ITEM] = d.node.name
        for g in d.gates:
            self.walk(g.condition, genv, nothing, (), scope)
            e = take(("gate_passed", "gate_excluded"), f"gate {g.tag}")
            _same(e, g)
            closed = e["kind"] == "gate_excluded"
            self.see(((), "gate", _k(g.span)), "closed" if closed else "open")
            if closed:
                break
        if pos != len(events):
            raise _Mismatch(f"the trace has a `{events[pos]['kind']}` the item's lines do not account for")

    # expressions: only the parts the evaluation reached
    def walk(self, e, env, fields, ctx, scope):
        if e is None or isinstance(e, str):
            return
        ckey = tuple(_k(s) for s in ctx)
        if isinstance(e, n.Conditional):
            self.walk(e.condition, env, fields, ctx, scope)
            taken = bool(self.ev(e.condition, env, fields))
            self.see((ckey, "if", _k(e.span)), "then" if taken else "else")
            self.walk(e.then if taken else e.otherwise, env, fields, ctx, scope)
            return
        if isinstance(e, n.Binary) and e.op in ("and", "or"):
            self.walk(e.left, env, fields, ctx, scope)
            left = self.ev(e.left, env, fields)
            if (e.op == "and" and left) or (e.op == "or" and not left):
                self.walk(e.right, env, fields, ctx, scope)
            return
        if isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name not in fields \
                and (e.target.name in self.bands or e.target.name in self.tables):
            self.walk(e.key, env, fields, ctx, scope)
            key = self.ev(e.key, env, fields)
            traced = scope.lookups.get(_k(e.span)) if scope is not None and not ctx else None
            if e.target.name in self.bands:
                band = band_of(self.bands[e.target.name], key, e.span)
                if traced is not None:
                    band = traced["reason"]["params"]["band"]
                self.see((ckey, "band", _k(e.span)), band)
            else:
                if traced is not None:
                    key = traced["reason"]["params"]["key"]
                row = next((r[0] for r in self.tables[e.target.name].rows if _equal(r[0], key)), None)
                if row is None:
                    raise Failure(f"table `{e.target.name}` has no row for `{_key_label(key)}`", e.span)
                self.see((ckey, "row", _k(e.span)), _key_label(row))
            return
        if isinstance(e, n.Call) and e.function in self.functions and e.function not in fields:
            args = []
            for a in e.args:
                self.walk(a, env, fields, ctx, scope)
                args.append(self.ev(a, env, fields))
            self._call(self.functions[e.function], args, e, env, ctx, scope)
            return
        for c in _children(e):
            self.walk(c, env, fields, ctx, scope)

    def _call(self, fn, args, call, env, ctx, scope):
        params = frozenset(p.name for p in fn.params)
        fenv = {LINE: dict(zip([p.name for p in fn.params], args))}
        inner = ctx + (call.span,)
        ikey = tuple(_k(s) for s in inner)
        # The trace records the calls a value makes (not the calls inside a function), with their
        # floors, caps and roundings: take this call's node, in order.
        traced = None
        if scope is not None and not ctx:
            queue = scope.calls.get(_k(call.span))
            if queue:
                traced = queue.popleft()
        if len(inner) > 16:
            return
        self.walk(fn.body, fenv, params, inner, None)
        value = self.ev(fn.body, fenv, params)
        for c in fn.clauses:
            if isinstance(c, (n.Floor, n.Cap)):
                kind = "floor" if isinstance(c, n.Floor) else "cap"
                self.walk(c.value, fenv, params, inner, None)
                bound = self.ev(c.value, fenv, params)
                if traced is not None:
                    bit = any(ch["kind"] == f"{kind}_applied" and _k(ch["span"]) == _k(c.span)
                              for ch in traced["children"])
                else:
                    cmp = x.compare(value, bound)
                    bit = cmp < 0 if kind == "floor" else cmp > 0
                if bit:
                    value = bound
                self.see((ikey, kind, _k(c.span)), "bit" if bit else "not")
            elif isinstance(c, n.Round) and not c.each:
                value = x.round_to(value, c.quantum, c.mode)


def _same(event, node):
    if _k(event["span"]) != _k(node.span):
        raise _Mismatch(f"the trace's `{event['kind']}` is at {event['span'].location()}, "
                        f"not at {node.span.location()}")


def _equal(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return x.compare(a, b) == 0


def _exact(node):
    """A value node's exact value: its `exact` fraction when it has one, else its result."""
    if node.get("exact"):
        num, _, den = node["exact"].partition("/")
        return Fraction(int(num), int(den))
    return node["result"]


# ---- entry points ------------------------------------------------------------------------------

def sites(policy) -> tuple:
    """Every site of a loaded policy, in source order."""
    return _Sites(policy._model).ordered()


def measure(policy) -> Coverage:
    """Run every example of a loaded policy with explain=True and see which branches it takes."""
    from .examples import facts_of
    model = policy._model
    found = _Sites(model)
    seen = defaultdict(set)
    notes: list = []
    walker = _Walker(model, Compiler(model), seen, notes)
    ran = 0
    for ex in model.examples:
        if ex.errors:
            continue  # an example expecting a fact error exercises nothing
        evaluation = ex.evaluation or policy.evaluations[0]
        try:
            facts = facts_of(ex, policy.path)
            result = policy.evaluate(facts, evaluation=evaluation, explain=True)
        except KpiRulesError:
            continue  # refused facts or an evaluation error: the example took no branch
        ran += 1
        walker.example(model.evaluation(evaluation), result.trace,
                       f"example \u201c{ex.name}\u201d (line {ex.span.line})")
    return Coverage(path=policy.path, sites=found.ordered(),
                    seen={k: frozenset(v) for k, v in seen.items()}, examples=ran, notes=tuple(notes))


__all__ = ["Coverage", "Missed", "Site", "measure", "sites", "percent", "percent_text", "parse_percent"]
