"""Checked-model stage: a policy with every name resolved, every type known, values in order.

The checker builds these from the surface tree; the compiler turns them into closures.
Expressions stay surface nodes (they are already resolved by the checker's scope rules).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from . import nodes as n
from .diagnostics import Diagnostic
from .source import SourceFile, Span


@attrs.frozen(kw_only=True)
class Type:
    """The type of a fact or value.

    kind: number, boolean, text, enum, list, record, item (an item's name, inside a gate).
    For numbers, `money` is the power of money (0 plain, 1 money; None for the literal 0, which
    fits any unit) and `display` says how people read it (number, integer, count, percent, money,
    points).
    """
    kind: str
    money: int | None = 0
    display: str = "number"
    values: tuple[str, ...] = ()  # enum values
    element: Type | None = None  # list element
    fields: tuple[tuple[str, Type, str | None], ...] = ()  # list of records: (name, Type, label)
    keys: tuple[str, ...] = ()  # record keys
    key: str | None = None  # lists of records `keyed by`: the field naming each line; a line: too

    def describe(self) -> str:
        if self.kind == "number":
            if self.money is None:
                return "number"
            if self.money == 1:
                return "money"
            if self.money == 0:
                return "percent" if self.display == "percent" else self.display
            return f"money^{self.money}"
        if self.kind == "enum":
            return "one of " + ", ".join(self.values)
        if self.kind == "line":
            return f"a line of `{self.values[0]}`"
        if self.kind == "list":
            if self.fields:
                return "list of records"
            assert self.element is not None  # a list of scalars always has its element type
            return f"list of {self.element.describe()}"
        if self.kind == "period":
            return f"period of {self.values[0]}"
        if self.kind == "record":
            assert self.element is not None  # so does a record
            return f"record of {self.element.describe()}"
        return self.kind


NUMBER = Type(kind="number")
POINTS = Type(kind="number", display="points")
MONEY = Type(kind="number", money=1, display="money")
BOOLEAN = Type(kind="boolean", money=0, display="boolean")
TEXT = Type(kind="text", money=0, display="text")
DATE = Type(kind="date", money=0, display="date")


def period(unit: str) -> Type:
    """`period of quarter`: its unit is kept in `values`."""
    return Type(kind="period", money=0, display="period", values=(unit,))


@attrs.frozen(kw_only=True)
class Bound:
    """A constraint on a fact: `op` is one of >=, <=, >, <, ==, !=, or `matching`."""
    op: str
    value: n.Expr | str    # an expression node (literal or fact name), or a regex string
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class FactDecl:
    name: str
    label: str | None
    type: Type
    bounds: tuple[Bound, ...]  # for scalars; for lists, the bounds of each element
    field_bounds: tuple[tuple[str, tuple[Bound, ...]], ...] = ()  # lists of records: (field, bounds)
    limit: int | None = None
    rule: str = ""            # the declaration as written, e.g. `integer in 1..4`
    span: Span = attrs.field(eq=False, repr=False)
    cites: tuple[str, ...] = ()  # the source's words for the fact's rule
    notes: tuple[str, ...] = ()  # the author's own words on it (`note`)
    minimum: int | None = None  # lists: `at least N`
    total: tuple[str, Decimal] | None = None  # lists of records: `with FIELD adding up to N`
    key: str | None = None  # lists of records: `keyed by FIELD` (unique, names each line)


@attrs.frozen(kw_only=True)
class BandsModel:
    """A checked bands table: ((name, low, low_included, high, high_included), ...) in order."""
    name: str
    label: str | None
    low: Decimal
    high: Decimal
    bands: tuple[tuple[str, Decimal, bool, Decimal, bool], ...]
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class TableModel:
    name: str
    label: str | None
    key_kind: str           # number, text, enum (keys written as bare names), or version (effective-dated)
    value_type: Type
    # (key, exact value); None: a bad cell. A version's key is (from, until or None), in date order.
    rows: tuple[tuple[Decimal | str | tuple[date, date | None], Decimal | str | bool | None], ...]
    span: Span = attrs.field(eq=False, repr=False)
    cites: tuple[str, ...] = ()     # the source's words for the whole table
    notes: tuple[str, ...] = ()     # the author's own words on it (`note`)


@attrs.frozen(kw_only=True)
class ValueDef:
    """A computed value: `let`, `output`, a scorecard item, or a scorecard total.

    kind: let, output, item, scorecard. `node` is the surface node it came from.
    `deps` are the names it reads, in first-use order.
    """
    kind: str
    name: str
    label: str | None
    type: Type
    node: n.Definition | n.Item | n.Scorecard | n.Assert
    deps: tuple[str, ...]
    cites: tuple[str, ...]
    span: Span = attrs.field(eq=False, repr=False)
    notes: tuple[str, ...] = ()    # the author's own words (`note`), beside the source's (`cites`)
    scorecard: str | None = None   # items: the scorecard they belong to
    gates: tuple[n.Gate, ...] = ()            # items: the Gate nodes that decide whether they count
    per: str | None = None         # `for each member in LIST`: one value per line of LIST


@attrs.frozen(kw_only=True)
class EvaluationModel:
    name: str
    label: str | None
    facts: tuple[FactDecl, ...]    # in written order
    values: tuple[ValueDef, ...]   # in an order where each follows what it reads
    span: Span = attrs.field(eq=False, repr=False)
    effective: tuple[date, date | None] | None = None  # a version: (from, until or None)


@attrs.frozen(kw_only=True)
class PolicyModel:
    name: str
    label: str | None
    version: str | None
    source: SourceFile = attrs.field(eq=False, repr=False)
    sha256: str
    tables: tuple[TableModel, ...]
    evaluations: tuple[EvaluationModel, ...]
    bands: tuple[BandsModel, ...] = ()
    functions: tuple[n.Function, ...] = ()  # checked
    examples: tuple[n.Example, ...] = ()    # checked against the evaluations
    diagnostics: tuple[Diagnostic, ...] = ()  # warnings that did not stop the load
    tiers: tuple[TiersModel, ...] = ()      # rate schedules (issue 10)

    def evaluation(self, name: str) -> EvaluationModel | None:
        for ev in self.evaluations:
            if ev.name == name:
                return ev
        return None

    def table(self, name: str) -> TableModel | None:
        for t in self.tables:
            if t.name == name:
                return t
        return None


@attrs.frozen(kw_only=True)
class TiersModel:
    """A checked tier schedule: ((name, label, low, low_included, high, high_included, rate), ...)
    in order from the domain's low end; `unit` is how its edges are written (money, percent,
    number; None when every edge is 0); with `of BASE` they are fractions of BASE."""
    name: str
    label: str | None
    low: Decimal
    high: Decimal
    tiers: tuple[tuple[str, str | None, Decimal, bool, Decimal, bool, Decimal], ...]
    unit: str | None
    span: Span = attrs.field(eq=False, repr=False)
