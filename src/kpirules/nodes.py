"""Syntax stage: the surface tree of a policy, one frozen class per construct, each with its span.

Equality ignores spans, so two texts that say the same thing parse to equal trees.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from .source import Span


def _span():
    return attrs.field(eq=False, repr=False)



_SPANS = ("span", "name_span", "list_span", "using_span")


def walk(root):
    """Every node under `root`, itself included (iterative; tuples of children are entered)."""
    stack = [root]
    while stack:
        x = stack.pop()
        if isinstance(x, tuple):
            stack.extend(x)
            continue
        if not attrs.has(type(x)):
            continue
        yield x
        for a in attrs.fields(type(x)):
            if a.name not in _SPANS:
                stack.append(getattr(x, a.name))


# ---- expressions ------------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class Number:
    """`20`, `0.5`, `85%` (value 0.85, unit percent), `10万` and `800元` (unit money)."""
    value: Decimal
    unit: str  # "number", "percent" or "money"
    span: Span = _span()


@attrs.frozen(kw_only=True)
class DateLit:
    """`2026-07-01`: a calendar date (as written; the checker proves the day exists)."""
    text: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class DaysBetween:
    """`days from hire_date to last_day`: the days of the span, both ends included (0 if empty)."""
    start: Expr
    end: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Text:
    """`"开拓型"`."""
    value: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Bool:
    """`true`, `false`."""
    value: bool
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Name:
    """`projects_won`: a fact, value, table or list field."""
    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ItemRef:
    """`item`: inside a gate, the name of the item the gate is deciding on."""
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Unary:
    """`-x` (op "neg"), `not x` (op "not")."""
    op: str
    operand: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Binary:
    """`a + b`, `a - b`, `a * b`, `a / b`, `a and b`, `a or b`."""
    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Compare:
    """`a >= b` and the other comparisons."""
    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Conditional:
    """`if cond then a else b`."""
    condition: Expr
    then: Expr
    otherwise: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Index:
    """`quarter_split[quarter]` (table lookup), `rollout[item]` (record key)."""
    target: Expr
    key: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Field:
    """`rollout.sales_tools`."""
    target: Expr
    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Call:
    """`sum(attendance_violations)`, `max(a, b)`."""
    function: str
    args: tuple[Expr, ...]
    span: Span = _span()


# ---- fact types -------------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class RangeConstraint:
    """`in 1..4` (both ends included)."""
    low: Expr
    high: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class CompareConstraint:
    """`>= 0`, `<= proposals_total`."""
    op: str
    bound: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class PatternConstraint:
    """`matching "^[0-9]{4}-[0-9]{2}$"`."""
    pattern: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ScalarType:
    """`integer in 1..4`, `money >= 0`, `count <= proposals_total`, `boolean`, `text`."""
    kind: str
    constraints: tuple[Constraint, ...] = ()
    span: Span = _span()


@attrs.frozen(kw_only=True)
class EnumType:
    """`one of senior, assistant`."""
    values: tuple[str, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class PeriodType:
    """`period of quarter` (`"2026-Q2"`), `period of month` (`"2026-05"`), `period of year` (`"2026"`)."""
    unit: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class FieldDecl:
    """`contract_amount "成交金额": money >= 0` inside a list of records."""
    name: str
    label: str | None
    type: ScalarType | EnumType
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ListType:
    """`list of number in 1..2`, `list of (id: text, points: number) at most 4 with points adding up to 80`."""
    element: ScalarType | EnumType | tuple[FieldDecl, ...]  # a tuple of FieldDecl for records
    limit: int | None = None
    minimum: int | None = None
    total: tuple[str, Expr] | None = None  # (field name, expression) of `with FIELD adding up to EXPR`
    key: str | None = None  # `keyed by id`: the field whose values are unique and name the lines
    span: Span = _span()

    @property
    def is_records(self) -> bool:
        return isinstance(self.element, tuple)


@attrs.frozen(kw_only=True)
class RecordType:
    """`record of boolean (market_activity, sales_training)`, `record of number in 0..100 (self, peer)`."""
    kind: str
    keys: tuple[str, ...]
    constraints: tuple[Constraint, ...] = ()
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Fact:
    """`fact base_salary "季度基本工资": money >= 0`."""
    name: str
    label: str | None
    type: FactType
    cites: tuple[Cite | Note, ...] = ()  # cites and notes, in written order
    span: Span = _span()


# ---- clauses ----------------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class Floor:
    """`floor 0`: the value is raised to at least this."""
    value: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Cap:
    """`cap 100`: the value is lowered to at most this."""
    value: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Round:
    """`round half up to 0.01`; with `each`, applies to every line of an aggregate."""
    mode: str  # "half up", "half even", "half down", "up", "down", "ceiling", "floor"
    quantum: Decimal
    each: bool = False
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Cite:
    """`cite "原文"`: the source's words for the clause it sits on."""
    text: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Note:
    """`note "公司自定"`: the author's own words for the clause it sits on (a company-set value,
    a reading of the source); allowed wherever `cite` is, shown as a note, never quoted."""
    text: str
    span: Span = _span()


def cite_texts(clauses) -> tuple[str, ...]:
    """The texts of the `cite` lines among these clauses, in written order."""
    return tuple(c.text for c in clauses if isinstance(c, Cite))


def note_texts(clauses) -> tuple[str, ...]:
    """The texts of the `note` lines among these clauses, in written order."""
    return tuple(c.text for c in clauses if isinstance(c, Note))


@attrs.frozen(kw_only=True)
class Filter:
    """`only if contract_amount >= 10万 else "成交金额不足10万元"`."""
    condition: Expr
    reason: str | None
    span: Span = _span()


# ---- definitions ------------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class Aggregate:
    """`sum over projects of collected * 1.5%`, `count over projects`."""
    function: str
    list_name: str
    body: Expr | None
    list_span: Span = _span()
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Definition:
    """`let NAME "label" = expr` or `output NAME "label" = expr`, with clauses."""
    kind: str  # "let" or "output"
    name: str
    label: str | None
    value: Expr | Aggregate
    clauses: tuple[Clause, ...]
    each: Each | None = None  # inside `for each member in members:`: one value per member
    name_span: Span = _span()
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Table:
    """`table quarter_split "季度任务分解" (quarter) -> percent:` with rows `1 -> 15%`."""
    name: str
    label: str | None
    key_name: str
    value_type: str
    rows: tuple[Row, ...]
    cites: tuple[Cite | Note, ...] = ()  # cites and notes, in written order
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Version:
    """`from 2026-07-01` (or `from 2026-01-01 until 2026-06-30`): a row of an effective-dated table."""
    start: DateLit
    until: DateLit | None = None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Row:
    """`1 -> 15%` in a table; `from 2026-07-01 -> 2%` in an effective-dated one."""
    key: Decimal | str | Name | Version  # str: a text key
    value: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Adjust:
    """`minus 5 if not sales_training_on_plan`, `minus 2 per shortfall`, `plus 1`."""
    sign: str  # "minus" or "plus"
    amount: Expr
    per: Expr | None
    condition: Expr | None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Override:
    """`score 0 if not competitor_analysis_delivered`."""
    value: Expr
    condition: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class LadderStep:
    """`minus 2 per full 5% below`."""
    sign: str
    points: Expr
    rule: str  # "full", "started" or "prorated"
    step: Expr
    direction: str  # "below" or "above"
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Ladder:
    """`ladder won / supported standard 85%, if none: standard` with its step lines,
    or `ladder won / supported standard 85% using u8_steps` with a shared ladder's lines."""
    rate: Expr
    standard: Expr
    none_rule: Expr | str | None  # None, "standard" or an expression
    steps: tuple[LadderStep, ...]
    cites: tuple[Cite | Note, ...] = ()  # cites and notes, in written order
    using: str | None = None
    using_span: Span | None = attrs.field(eq=False, repr=False, default=None)
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Item:
    """`item proposal_excellence "售前优秀方案率" weight 20, knowledge:` with its body."""
    name: str
    label: str | None
    weight: Decimal
    tags: tuple[str, ...]
    body: tuple[ItemClause, ...]  # in written order
    name_span: Span = _span()
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Gate:
    """`gate knowledge items: count only if rollout[item] else "reason"`."""
    tag: str
    condition: Expr
    reason: str | None
    clauses: tuple[Cite | Note, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Scorecard:
    """`scorecard kpi_score "KPI得分" total 100:` with items, gates and clauses."""
    name: str
    label: str | None
    total: Decimal | None
    items: tuple[Item, ...]
    gates: tuple[Gate, ...]
    clauses: tuple[Clause, ...]
    name_span: Span = _span()
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Evaluation:
    """`evaluation quarterly "季度考核":` with facts, definitions and scorecards; a version of an
    evaluation says when it is in force: `evaluation annual effective from 2027-01-01:`."""
    name: str
    label: str | None
    facts: tuple[Fact, ...]
    body: tuple[Definition | Scorecard, ...]  # in written order
    effective: Version | None = None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Import:
    """`import ladders.success_rate`."""
    path: tuple[str, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Policy:
    """A whole policy file (or, with is_module, a `module` of shared definitions in ruleset/)."""
    name: str
    label: str | None
    version: str | None
    imports: tuple[Import, ...]
    tables: tuple[Table, ...]
    definitions: tuple[Definition, ...]
    evaluations: tuple[Evaluation, ...]
    bands: tuple[Bands, ...] = ()
    ladders: tuple[LadderDef, ...] = ()
    functions: tuple[Function, ...] = ()
    examples: tuple[Example, ...] = ()
    is_module: bool = False
    tiers: tuple[Tiers, ...] = ()  # rate schedules (issue 10)
    span: Span = _span()


# ---- shared definitions (issue: every scheme as a policy) ------------------------------------

@attrs.frozen(kw_only=True)
class Blend:
    """`blend(self_score 20%, peer_score 30%, manager_score 50%)`: a weighted average."""
    parts: tuple[tuple[Expr, Decimal, Span], ...]  # (expr, weight, weight span)
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Band:
    """`"良好" from 81 below 91` in a bands table; a missing end is open."""
    name: str
    low: Expr | None
    low_inclusive: bool
    high: Expr | None
    high_inclusive: bool
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Bands:
    """`bands five_grades "五级评定" in 0..100:` with one band per line."""
    name: str
    label: str | None
    low: Expr
    high: Expr
    bands: tuple[Band, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class LadderDef:
    """`ladder u8_steps "U8 rate ladder":` with step lines, used as `ladder ... using u8_steps`."""
    name: str
    label: str | None
    steps: tuple[LadderStep, ...]
    cites: tuple[Cite | Note, ...]  # cites and notes, in written order
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Param:
    """`actual: money` in a function's parameter list."""
    name: str
    kind: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Function:
    """`function completion_rate "完成率" (actual: money, target: money) = expr` with clauses."""
    name: str
    label: str | None
    params: tuple[Param, ...]
    body: Expr
    clauses: tuple[Clause, ...]
    name_span: Span = _span()
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Example:
    """`example "16 of 20" for quarterly:` with `from`, `given`, `expect` lines."""
    name: str
    evaluation: str | None
    base: str | None          # a JSON fact file, relative to the policy file
    given: tuple              # ((path tuple, value), ...)
    expect: tuple             # ((name, value, span), ...)
    errors: tuple             # ((fact path, span), ...)
    span: Span = _span()


# ---- teams: values per member, allocation, ranking ---------------------------------------------

@attrs.frozen(kw_only=True)
class Each:
    """`for each member in members:`, the block a per-member definition sits in (the parser
    gives each definition of the block its `Each`; fmt writes consecutive ones as one block)."""
    var: str
    list_name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Allocate:
    """`allocate pool by weight to 0.01 [ties to last listed]`: this member's part of an amount
    split by weights, paid in a quantum by the largest-remainder method."""
    amount: Expr
    weight: Expr
    quantum: Decimal
    ties: str  # "first" or "last": who of equal remainders gets a leftover quantum
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Rank:
    """`rank of member.score highest first [ties in list order]`, `dense rank of ...`,
    `percentile of member.score`: this member's place among the members."""
    kind: str    # "rank" (ties share, the next skips), "dense" (no skip), "ordinal", "percentile"
    value: Expr
    order: str   # "highest" or "lowest" first (a percentile is always of the lower values)
    span: Span = _span()


# ---- unions of the node classes above, for annotations ------------------------------------------

Expr = (Number | DateLit | DaysBetween | Text | Bool | Name | ItemRef | Unary | Binary | Compare | Conditional
        | Index | Field | Call | Blend | Allocate | Rank)
Constraint = RangeConstraint | CompareConstraint | PatternConstraint
FactType = ScalarType | EnumType | ListType | RecordType | PeriodType
Clause = Floor | Cap | Round | Cite | Note | Filter  # after a definition, a function or a scorecard
ItemClause = Adjust | Override | Ladder | Floor | Cap | Round | Cite | Note


# ---- tiers, assertions, chained comparisons (issue 10) ---------------------------------------

@attrs.frozen(kw_only=True)
class Tier:
    """`tier_2 "第二档" above 100% to 150% -> 5%` in a tiers schedule; a missing edge is open."""
    name: str
    label: str | None
    low: Expr | None
    low_inclusive: bool
    high: Expr | None
    high_inclusive: bool
    rate: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Tiers:
    """`tiers commission_rates "提成阶梯" in 0%..200%:` with one tier per line (a rate schedule)."""
    name: str
    label: str | None
    low: Expr
    high: Expr
    tiers: tuple[Tier, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class TierApply:
    """`marginal commission_rates on credited_sales of quota` (each part at its own tier's rate),
    `retroactive commission_rates on sales` (the whole value at the rate of the tier it falls in);
    `marginal commission_rates.tier_1 on ...`: one tier's amount."""
    mode: str  # "marginal" or "retroactive"
    tiers: str
    tier: str | None
    value: Expr
    base: Expr | None  # `of BASE`: the tiers' edges are fractions (percentages) of BASE
    name_span: Span = _span()
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ChainCompare:
    """`60% <= attainment <= 100%`: both comparisons hold (`60% <= attainment and attainment <= 100%`)."""
    ops: tuple[str, str]
    operands: tuple[Expr, Expr, Expr]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Assert:
    """`assert allocated == pool else "shares must add up to the pool"` in an evaluation."""
    condition: Expr
    message: str
    span: Span = _span()

    @property
    def name(self) -> str:
        """How the evaluation's values name it (never a name a formula can read)."""
        return f"assert@{self.span.line}:{self.span.column}"
