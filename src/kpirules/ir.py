"""IR stage: a checked policy as resolved, typed operations, the one input of code generation.

Lowering (lower.py) builds these from the checker's model: every name is bound to what it reads
(a fact, a value, a function parameter, a field of the current list line), every lookup says
whether it reads a table, a bands table or a record, sugar (`ladder ... using`, `item`) is gone,
and every node keeps the span of the surface construct it came from. What a construct computes
is stated once, by codegen.py's translation of these nodes; the trace renders them (trace.py),
coverage counts their branch records (coverage.py).

Nodes are frozen, keyword-only attrs classes; children are tuples; spans and record ids are
ignored by equality. `walk` is the one generic traversal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from . import model as m
from .source import Span


def _span():
    return attrs.field(eq=False, repr=False)


def _rid():
    # Record id: how a traced evaluation names the node in its records (unique per policy).
    return attrs.field(eq=False, repr=False, default=-1)


# ---- expressions ------------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class Const:
    """A literal: a number (`85%` holds 0.85 with percent=True), a date, a text or a boolean."""
    value: Decimal | date | str | bool
    percent: bool = False
    span: Span = _span()


@attrs.frozen(kw_only=True)
class FactRef:
    """A fact of the evaluation."""
    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ValueRef:
    """A value computed earlier in the evaluation (let, output, item, scorecard)."""
    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ParamRef:
    """A parameter of the function being defined."""
    name: str
    index: int
    span: Span = _span()


@attrs.frozen(kw_only=True)
class FieldRef:
    """A field of the current line of a list of records, inside `sum over ... of` or `only if`."""
    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ElemRef:
    """The current element of a list of numbers, named by the list, inside `sum over LIST ...`."""
    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ColumnRef:
    """A per-member value (`for each`) of the current line: inside its block, or `sum over` its list."""
    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class LineGet:
    """`members["E01"]`: the line of a keyed list whose key field holds the key (an error if none)."""
    target: Expr
    key_field: str
    key: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Pick:
    """`share["E01"]`: one member's value of a per-member value, by the list's key."""
    name: str
    list_name: str
    key_field: str
    key: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Allocate:
    """`allocate AMOUNT by WEIGHT to QUANTUM`: this member's paid part. The whole split is made once
    (runtime.ALLOCATE): exact shares, each cut down to the quantum, the leftover quanta one each to
    the largest remainders, ties to the member listed first (or last). The parts add up to the
    amount, less what is below one quantum (nothing, when the amount is a multiple of it)."""
    amount: Expr
    weight: Expr      # per member
    quantum: Decimal
    ties: str         # first, last
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class Rank:
    """`rank of VALUE highest first` and its kinds (runtime.RANK): this member's place."""
    kind: str         # rank, dense, ordinal, percentile
    value: Expr       # per member
    order: str        # highest, lowest
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class ItemName:
    """`item` in a gate: the name of the item the gate decides on."""
    span: Span = _span()


@attrs.frozen(kw_only=True)
class AsOf:
    """`evaluation_date`: the date the evaluation is made as of (given by the caller)."""
    span: Span = _span()


@attrs.frozen(kw_only=True)
class DaysBetween:
    """`days from A to B`: the days of the span, both ends included, 0 when it is empty."""
    start: Expr
    end: Expr
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class DateFn:
    """A calendar function (`year_of(d)`, `last_day_of_year(year)`, `days_in(p)`; dates.FUNCTIONS)."""
    fn: str
    args: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Neg:
    """`-x`."""
    operand: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Not:
    """`not x`."""
    operand: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Arith:
    """`a + b`, `a - b`, `a * b`, `a / b` (exact; a division by zero is an evaluation error)."""
    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Logic:
    """`a and b`, `a or b` (the right side is evaluated only when needed)."""
    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Compare:
    """`a >= b` and the other comparisons, exact across decimals and fractions."""
    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Cond:
    """`if c then a else b`; only the branch taken is evaluated, and recorded when traced."""
    condition: Expr
    then: Expr
    otherwise: Expr
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class TableLookup:
    """`quarter_split[quarter]`: the row of a table for a key."""
    table: str
    key: Expr
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class BandLookup:
    """`five_grades[total_score]`: the band of a bands table holding a value."""
    bands: str
    key: Expr
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class KeyGet:
    """`rollout[item]`, `rollout["sales_tools"]`: a record's value for a key."""
    target: Expr
    key: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class FieldGet:
    """`rollout.sales_tools`."""
    target: Expr
    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ListSum:
    """`sum(list)`: the exact sum of a list of numbers."""
    arg: Expr
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class ListCount:
    """`count(list)`."""
    arg: Expr
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class Abs:
    """`abs(x)`."""
    arg: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Extreme:
    """`max(a, b, ...)` (fn "max") or `min(...)`: the first extreme argument."""
    fn: str
    args: tuple[Expr, ...]
    span: Span = _span()
    rid: int = _rid()  # traced: which argument was chosen (coverage counts each side)


@attrs.frozen(kw_only=True)
class Blend:
    """`blend(a 20%, b 80%)`: the sum of each part times its weight."""
    parts: tuple[tuple[Expr, Decimal], ...]  # (expr, weight)
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Call:
    """A call of a policy function (`completion_rate(own_revenue, own_target)`)."""
    function: str
    args: tuple[Expr, ...]
    span: Span = _span()
    rid: int = _rid()


# ---- clauses ------------------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class Floor:
    """`floor X`: the value is raised to at least X."""
    bound: Expr
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class Cap:
    """`cap X`: the value is lowered to at most X."""
    bound: Expr
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class Round:
    """`round MODE to QUANTUM`."""
    mode: str
    quantum: Decimal
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Filter:
    """`only if COND else "reason"` on a list line."""
    condition: Expr
    reason: str | None
    span: Span = _span()
    rid: int = _rid()


# ---- how a value is computed --------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class Formula:
    """`let x = EXPR` with its floors, caps and roundings in written order."""
    expr: Expr
    clauses: tuple[Clause, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Aggregate:
    """`sum over LIST of EXPR` / `count over LIST`, its filters, `round each`, then its clauses."""
    counting: bool
    list_name: str
    records: bool               # a list of records (fields) or of numbers (the element)
    body: Expr | None           # None: the element itself (sum) or 1 (count)
    filters: tuple[Filter, ...]
    round_each: Round | None
    clauses: tuple[Clause, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Adjust:
    """`minus AMOUNT [per COUNT] [if COND]` or `plus ...` in an item."""
    sign: str
    amount: Expr
    per: Expr | None
    condition: Expr | None
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class Override:
    """`score VALUE if COND` in an item."""
    value: Expr
    condition: Expr
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class LadderLine:
    """`minus 2 per full 5% below`: points per step on one side of the standard."""
    sign: str
    points: Expr
    rule: str       # full, started, prorated
    step: Expr
    direction: str  # below, above
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Ladder:
    """`ladder RATE standard STD [, if none: ...]` with at most one line per side."""
    rate: Expr
    standard: Expr
    none: Expr | str | None  # None, "standard", or an expression for an undefined rate
    below: LadderLine | None
    above: LadderLine | None
    percent: bool         # the standard is written as a percentage
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class Gate:
    """`gate TAG items: count only if COND else "reason"`, as it applies to one item."""
    tag: str
    condition: Expr
    reason: str | None
    cites: tuple[str, ...]
    notes: tuple[str, ...] = ()  # the author's own words (`note`), never quoted
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class Item:
    """A scorecard item: its weight, then its steps in written order, then its gates."""
    weight: Decimal
    tags: tuple[str, ...]
    steps: tuple[Step, ...]
    gates: tuple[Gate, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ScorecardSum:
    """A scorecard: the sum of its items, then its clauses."""
    items: tuple[str, ...]  # item names in written order
    clauses: tuple[Clause, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Value:
    """One computed name of an evaluation, in an order where each follows what it reads."""
    kind: str            # let, output, item, scorecard
    name: str
    label: str | None
    type: m.Type
    compute: Formula | Aggregate | Item | ScorecardSum | Assert
    deps: tuple[str, ...]
    cites: tuple[str, ...]
    notes: tuple[str, ...] = ()  # the author's own words (`note`), never quoted
    keeps_digits: bool   # a declared rounding: shown with its quantum's digits (`7488.00`)
    scorecard: str | None = None
    per: str | None = None   # `for each`: one value per line of this list (a column, in list order)
    key: str | None = None   # ... and the list's key field, which names each member
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Function:
    """`function NAME(params) = EXPR` with its clauses."""
    name: str
    label: str | None
    params: tuple[str, ...]  # parameter names
    body: Expr
    clauses: tuple[Clause, ...]
    cites: tuple[str, ...]
    notes: tuple[str, ...] = ()  # the author's own words (`note`), never quoted
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Evaluation:
    name: str
    label: str | None
    facts: tuple[m.FactDecl, ...]  # in written order
    values: tuple[Value, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Policy:
    """The lowered policy: what codegen, trace and coverage read."""
    name: str
    label: str | None
    version: str | None
    tables: tuple[m.TableModel, ...]
    bands: tuple[m.BandsModel, ...]
    functions: tuple[Function, ...]
    evaluations: tuple[Evaluation, ...]
    records: int = attrs.field(eq=False, default=0)  # how many record ids were given out

    def evaluation(self, name: str) -> Evaluation | None:
        return next((ev for ev in self.evaluations if ev.name == name), None)


# ---- unions of the node classes above, for annotations ------------------------------------------

Expr = (Const | FactRef | ValueRef | ParamRef | FieldRef | ElemRef | ItemName | Neg | Not | Arith | Logic | Compare
        | Cond | TableLookup | BandLookup | KeyGet | FieldGet | ListSum | ListCount | Abs | Extreme | Blend | Call
        | DaysBetween | DateFn | AsOf | ColumnRef | LineGet | Pick | Allocate | Rank)
Clause = Floor | Cap | Round
Step = Adjust | Override | Ladder | Floor | Cap  # in an item


_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(a.name for a in reversed(attrs.fields(cls))
                                     if a.name not in ("span", "rid", "type"))
    return names


def children(node) -> list:
    """The IR nodes directly under `node`, in field order (tuples and pairs are entered)."""
    out: list = []
    stack = [getattr(node, name) for name in _child_fields(type(node))]
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            stack.extend(reversed(v))
        elif type(v).__module__ == __name__:
            out.append(v)
    return out


def walk(root):
    """`root` and every IR node under it, depth first, in field order."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


# ---- tiers and assertions (issue 10) ------------------------------------------------------------

@attrs.frozen(kw_only=True)
class TierApply:
    """`marginal commission_rates[.tier_1] on VALUE [of BASE]` / `retroactive ...`: the checked
    schedule applied to a value (tiers.py states the meaning); records the tier reached."""
    mode: str                 # marginal or retroactive
    schedule: m.TiersModel
    tier: str | None          # one tier's amount, or None for the sum over the tiers
    value: Expr
    base: Expr | None         # `of BASE`: the schedule's edges are fractions of BASE
    span: Span = _span()
    rid: int = _rid()


@attrs.frozen(kw_only=True)
class Assert:
    """`assert CONDITION else "message"`: the evaluation stops with the message when it is false."""
    condition: Expr
    message: str
    reads: tuple[str, ...]    # the facts and values the condition reads (shown when it fails)
    span: Span = _span()
    rid: int = _rid()
