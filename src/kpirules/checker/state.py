"""Checker state: what the passes share (scopes, checked parts, diagnostics) and their small helpers."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import attrs

from .. import model as m
from .. import nodes as n
from ..diagnostics import Diagnostic, did_you_mean, error, warning
from ..limits import MAX_SUGGESTIONS
from ..source import SourceFile, Span

# Passes that run before any evaluation is checked record their suggestions under this index;
# the examples pass, after every evaluation, under EXAMPLES.
TOP = -1
EXAMPLES = 1 << 30


@attrs.define
class Symbol:
    kind: str          # fact, value, item, scorecard, table, bands, ladder, function, param
    type: m.Type | None
    node: object
    span: Span | None


@attrs.define
class Ctx:
    """Where an expression is being typed: its scope, a list line's fields, what it reads."""
    scope: dict[str, Symbol]
    fields: dict[str, m.Type] = attrs.Factory(dict)
    in_gate: bool = False
    per: str | None = None      # a list whose line is current: its per-member values may be read
    each: n.Each | None = None  # inside `for each`: the block (allocation and ranking are allowed)
    deps: list[str] = attrs.Factory(list)
    used: set[str] = attrs.Factory(set)


@attrs.define
class EvaluationState:
    """One evaluation as the passes see it; each pass fills in its part."""
    node: n.Evaluation
    index: int
    scope: dict                                    # names: top-level names and the evaluation's own
    facts: list = attrs.Factory(list)              # names: declared facts, first of each name
    local_defs: list = attrs.Factory(list)         # names: definitions and scorecards, first of each
    fact_parts: dict = attrs.Factory(dict)         # facts: per fact, what its declaration says
    order: list = attrs.Factory(list)              # dependencies: (definition, is top-level) in order
    items: dict = attrs.Factory(dict)              # ladders: id(item) -> item with `using` resolved
    bounds: dict = attrs.Factory(dict)             # types: per fact, (bounds, field bounds)
    values: list = attrs.Factory(list)             # types: ValueDef in order
    used: set = attrs.Factory(set)                 # types: the names its values and bounds read


@attrs.define
class State:
    """Shared by every pass: the policy, what the passes found so far, and the diagnostics."""
    policy: n.Policy
    source: SourceFile
    diags: list[Diagnostic] = attrs.Factory(list)
    tables: dict[str, m.TableModel] = attrs.Factory(dict)
    top_scope: dict = attrs.Factory(dict)          # names
    top_defs: list = attrs.Factory(list)           # names: top-level definitions, first of each name
    band_nodes: dict = attrs.Factory(dict)         # names: bands tables, first of each name
    bands: dict[str, m.BandsModel] = attrs.Factory(dict)
    tier_nodes: dict = attrs.Factory(dict)         # names: tier schedules, first of each name
    tiers: dict = attrs.Factory(dict)              # tiers: name -> m.TiersModel
    ladders: dict = attrs.Factory(dict)            # names: shared ladders
    functions: dict = attrs.Factory(dict)          # names: functions, first of each name
    function_types: dict = attrs.Factory(dict)     # functions: name -> result type
    suggestions: int = 0                           # did-you-mean looked for so far (limits.py)
    calling: tuple = ()                            # functions: those being typed, to find recursion
    evaluations: list = attrs.Factory(list)        # names: EvaluationState, duplicates left out
    # "did you mean" offers, by the evaluation being checked when they were made (see `unused`).
    suggested: dict = attrs.Factory(dict)
    at: int = TOP                                  # the evaluation being checked (its index)

    @contextmanager
    def within(self, at: int):
        """While a pass checks evaluation `at` (an index, TOP or EXAMPLES): its "did you mean"
        offers are recorded under it."""
        before, self.at = self.at, at
        try:
            yield
        finally:
            self.at = before

    # ---- diagnostics -----------------------------------------------------------------------------
    def err(self, code, message, span, help=None):
        self.diags.append(error(code, message, span, help))

    def warn(self, code, message, span, help=None):
        self.diags.append(warning(code, message, span, help))

    def did_you_mean(self, name, candidates) -> str | None:
        """The help for a misspelled name; the name offered is remembered as meant to be used."""
        # Only MAX_DIAGNOSTICS diagnostics are shown: past MAX_SUGGESTIONS, none is looked for,
        # so that a policy of thousands of unknown names is checked in time linear in its size.
        self.suggestions += 1
        if self.suggestions > MAX_SUGGESTIONS:
            return None
        candidates = list(candidates)
        help = did_you_mean(name, candidates)
        if help is not None:
            self.suggested.setdefault(self.at, set()).update(
                c for c in candidates if help == f"did you mean `{c}`?")
        return help

    def declare(self, scope, name, symbol, span) -> bool:
        if name in scope:
            first = scope[name].span
            where = f"line {first.line}" if first is not None else "elsewhere"
            self.err("E202", f"duplicate name `{name}`", span, f"`{name}` is already defined at {where}")
            return False
        scope[name] = symbol
        return True


# ---- words for messages ------------------------------------------------------------------------


def listing(words, last="or") -> str:
    """`a`, `b` or `c`: user words in backticks, for messages."""
    words = [f"`{w}`" for w in words]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def describe(t: m.Type) -> str:
    """A type in words, for messages; enum values are user text, so they go in backticks."""
    if t.kind == "enum":
        return "one of " + ", ".join(f"`{v}`" for v in t.values)
    if t.kind == "list" and not t.fields and t.element is not None:
        return f"list of {describe(t.element)}"
    if t.kind == "record" and t.element is not None:
        return f"record of {describe(t.element)}"
    return t.describe()


def show_key(key) -> str:
    return fmt(key) if isinstance(key, Decimal) else str(key)


def fmt_any(d) -> str:
    d = Decimal(d) if not isinstance(d, Decimal) else d
    return format(d.normalize(), "f")


def fmt(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def src(node) -> str:
    return node.span.text


# ---- declared types ----------------------------------------------------------------------------


def literal(expr):
    """The value of a plain number literal (`80`, `-5`, `85%`), else None."""
    if isinstance(expr, n.Number):
        return expr.value
    if isinstance(expr, n.Unary) and expr.op == "neg" and isinstance(expr.operand, n.Number):
        return -expr.operand.value
    return None


def scalar_type(kind: str) -> m.Type:
    return {
        "integer": m.Type(kind="number", display="integer"),
        "count": m.Type(kind="number", display="count"),
        "number": m.NUMBER,
        "money": m.MONEY,
        "percent": m.Type(kind="number", display="percent"),
        "boolean": m.BOOLEAN,
        "text": m.TEXT,
        "date": m.DATE,
    }[kind]


def line_type(list_type: m.Type, list_name: str) -> m.Type:
    """One line of a list of records (`member` in `for each`, `members["E01"]`): its fields by name."""
    return m.Type(kind="line", money=0, display="record", fields=list_type.fields, key=list_type.key,
                  values=(list_name,))


def fact_type(t) -> m.Type:
    if isinstance(t, n.ScalarType):
        return scalar_type(t.kind)
    if isinstance(t, n.EnumType):
        return m.Type(kind="enum", money=0, display="text", values=t.values)
    if isinstance(t, n.PeriodType):
        return m.period(t.unit)
    if isinstance(t, n.RecordType):
        return m.Type(kind="record", money=0, display="record", element=scalar_type(t.kind), keys=t.keys)
    if isinstance(t, n.ListType):
        if isinstance(t.element, tuple):  # a list of records
            return m.Type(kind="list", money=0, display="list", key=t.key,
                          fields=tuple((f.name, fact_type(f.type), f.label) for f in t.element))
        return m.Type(kind="list", money=0, display="list", element=fact_type(t.element))
    raise TypeError(t)
