"""The differential tests' own tiny syntax tree of a policy, and its printer to `.rules` text.

The engine's parser, nodes and checker are never used here: a generated policy exists first as
these plain dataclasses, which `reference.py` interprets exactly and `render()` prints as the text
the engine loads. Keeping the tree our own is what makes the comparison independent.

Every number in the tree is a `Fraction` together with the literal text that spells it, so the
printer never has to invent a spelling (and a spelling is never re-parsed by us).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

# ---- expressions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A literal: `12`, `0.5`, `85%`, `800元`, `1.5万`."""
    value: Fraction
    text: str


@dataclass(frozen=True)
class Ref:
    """A fact, a value, a function parameter, or a field of the current list line."""
    name: str


@dataclass(frozen=True)
class Neg:
    operand: object


@dataclass(frozen=True)
class Bin:
    """`+ - * /`."""
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Cmp:
    """`>= <= == != > <` on numbers; `==`/`!=` also on texts and truth values."""
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Logic:
    """`and` / `or` (evaluated lazily, left first)."""
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class If:
    cond: object
    then: object
    other: object


@dataclass(frozen=True)
class Call:
    """A builtin (`max`, `min`, `abs`, `sum`, `count`) or a declared function."""
    fn: str
    args: tuple


@dataclass(frozen=True)
class Blend:
    """`blend(A W1, B W2, ...)`; parts are (expr, weight, weight text)."""
    parts: tuple


@dataclass(frozen=True)
class Lookup:
    """`TABLE[KEY]` or `BANDS[VALUE]`."""
    target: str
    key: object


@dataclass(frozen=True)
class Field:
    """`RECORD.KEY`."""
    record: str
    key: str


@dataclass(frozen=True)
class ItemKey:
    """`RECORD[item]`, only inside a gate."""
    record: str


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Bool:
    value: bool


@dataclass(frozen=True)
class DateLit:
    """A date literal, `2026-07-01` (printed by `date.isoformat()`)."""
    value: date


@dataclass(frozen=True)
class KeyField:
    """`LIST["id"].FIELD`: a field of the line of a keyed list with that key."""
    list_name: str
    key: str
    field: str


@dataclass(frozen=True)
class Allocate:
    """`allocate AMOUNT by WEIGHT to QUANTUM [ties to first|last listed]`, in a `for each` block."""
    amount: object
    weight: object
    quantum: Fraction
    text: str
    ties: str | None = None   # None (the default: first), "first" or "last"


@dataclass(frozen=True)
class Rank:
    """`rank of V highest|lowest first [ties shared|ties in list order]`, `dense rank of V ...`,
    `percentile of V`; kind "rank", "dense" or "percentile"; ties None, "shared" or "list"."""
    kind: str
    value: object
    order: str = "highest"
    ties: str | None = None


@dataclass(frozen=True)
class Days:
    """`days from START to END`: both ends included, 0 when END is before START."""
    start: object
    end: object


# ---- clauses and definitions -------------------------------------------------------------------


@dataclass(frozen=True)
class Floor:
    bound: object


@dataclass(frozen=True)
class Cap:
    bound: object


@dataclass(frozen=True)
class Round:
    mode: str          # "half up", "half even", "half down", "up", "down", "ceiling", "floor"
    quantum: Fraction
    text: str


@dataclass(frozen=True)
class Fact:
    """kind: number money integer count percent boolean enum record numlist reclist date.

    A date fact keeps its range as `date`s in lo/hi (texts in lo_text/hi_text); `after` names
    the date fact it must be on or after (`date >= after`)."""
    name: str
    kind: str
    lo: Fraction | None = None
    hi: Fraction | None = None
    lo_text: str = ""
    hi_text: str = ""
    options: tuple = ()   # enum names, record keys
    element: str = ""     # numlist: element kind
    fields: tuple = ()    # reclist: tuple of Fact (one per field; an enum field last)
    at_most: int | None = None
    adding_up: tuple | None = None   # (field name, Fraction, text)
    after: str = ""
    key: str = ""         # reclist: `keyed by KEY`


@dataclass(frozen=True)
class Table:
    name: str
    vtype: str            # number, percent, money
    rows: tuple           # (key, Fraction, value text); key an int or a name
    names: bool = False   # keys are bare names (enum values) or quoted texts (band names)
    quoted: bool = False
    key_fact: str = ""    # the fact a number- or name-keyed table is looked up with
    bands_for: tuple = () # a quoted table: the Bands whose names are its keys


@dataclass(frozen=True)
class DatedTable:
    """An effective-dated table: rows `from DATE [until DATE] -> value`, in date order."""
    name: str
    vtype: str            # number, percent, money
    versions: tuple       # (start date, until date or None, Fraction, value text)
    key_fact: str = ""    # the date fact it is looked up with

    @property
    def vtype_unit(self) -> str:
        return "m" if self.vtype == "money" else "p"


@dataclass(frozen=True)
class Band:
    label: str
    lo: tuple | None      # (Fraction, text, inclusive) or None: starts at the range's LOW
    hi: tuple | None


@dataclass(frozen=True)
class Bands:
    name: str
    lo: Fraction
    hi: Fraction
    lo_text: str
    hi_text: str
    bands: tuple


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple         # (name, unit) with unit "p" (number) or "m" (money)
    body: object
    clauses: tuple = ()
    ret: str = "p"        # the unit of the result


@dataclass(frozen=True)
class Aggregate:
    fn: str               # "sum" or "count"
    list_name: str
    body: object | None   # None: `sum over NUMS` adds the elements
    filters: tuple = ()   # (condition, reason or None)
    each: Round | None = None


@dataclass(frozen=True)
class Value:
    kind: str             # "let" or "output"
    name: str
    expr: object          # an expression or an Aggregate
    clauses: tuple = ()
    vtype: str = "p"      # "p", "m", "bool", "text", "date"


@dataclass(frozen=True)
class Each:
    """`for each VAR in LIST:` and its per-member `let`/`output` values (Value), in order."""
    var: str
    list_name: str
    values: tuple


@dataclass(frozen=True)
class Adjust:
    sign: str             # "minus" / "plus"
    amount: object
    per: object | None = None
    cond: object | None = None


@dataclass(frozen=True)
class ScoreSet:
    value: object
    cond: object


@dataclass(frozen=True)
class Step:
    sign: str
    points: object
    rule: str             # full / started / prorated
    step: object
    direction: str        # below / above


@dataclass(frozen=True)
class Ladder:
    rate: object
    standard: object
    none: object | None   # None, "standard", or an expression
    steps: tuple


@dataclass(frozen=True)
class Item:
    name: str
    weight: Fraction
    weight_text: str
    tags: tuple
    lines: tuple          # Adjust, ScoreSet, Ladder, Floor, Cap


@dataclass(frozen=True)
class Gate:
    tag: str
    cond: object
    reason: str | None


@dataclass(frozen=True)
class Scorecard:
    name: str
    items: tuple
    gates: tuple = ()
    clauses: tuple = ()
    total: str | None = None


@dataclass(frozen=True)
class Policy:
    facts: tuple
    values: tuple         # Value, Scorecard and Each, in written (= dependency) order
    tables: tuple = ()
    bands: tuple = ()
    functions: tuple = ()
    notes: dict = field(default_factory=dict, compare=False, hash=False)
    tiers: tuple = ()     # Tiers schedules (issue 10)


# ---- printing ----------------------------------------------------------------------------------


def expr_text(e) -> str:
    """The expression as `.rules` text: every compound part in parentheses, so precedence never
    decides anything (the reference and the engine must read the same tree)."""
    if isinstance(e, Num):
        return e.text if not e.text.startswith("-") else f"({e.text})"
    if isinstance(e, Ref):
        return e.name
    if isinstance(e, Neg):
        return f"(-{expr_text(e.operand)})"
    if isinstance(e, (Bin, Cmp, Logic)):
        return f"({expr_text(e.left)} {e.op} {expr_text(e.right)})"
    if isinstance(e, Not):
        return f"(not {expr_text(e.operand)})"
    if isinstance(e, If):
        return f"(if {expr_text(e.cond)} then {expr_text(e.then)} else {expr_text(e.other)})"
    if isinstance(e, Call):
        return f"{e.fn}({', '.join(expr_text(a) for a in e.args)})"
    if isinstance(e, Blend):
        return "blend(" + ", ".join(f"{expr_text(x)} {w}" for x, _, w in e.parts) + ")"
    if isinstance(e, Lookup):
        return f"{e.target}[{expr_text(e.key)}]"
    if isinstance(e, Field):
        return f"{e.record}.{e.key}"
    if isinstance(e, ItemKey):
        return f"{e.record}[item]"
    if isinstance(e, Text):
        return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(e, Bool):
        return "true" if e.value else "false"
    if isinstance(e, DateLit):
        return e.value.isoformat()
    if isinstance(e, Days):
        return f"(days from {expr_text(e.start)} to {expr_text(e.end)})"
    if isinstance(e, TierApply):
        # The value and the base are single terms: a name, a literal, a call or a parenthesised part.
        tier = f".{e.tier}" if e.tier is not None else ""
        base = f" of {expr_text(e.base)}" if e.base is not None else ""
        return f"({e.mode} {e.tiers}{tier} on {expr_text(e.value)}{base})"
    if isinstance(e, Chain):
        return f"({expr_text(e.a)} {e.ops[0]} {expr_text(e.b)} {e.ops[1]} {expr_text(e.c)})"
    if isinstance(e, KeyField):
        return f"{e.list_name}[{expr_text(Text(e.key))}].{e.field}"
    if isinstance(e, Allocate):
        ties = f" ties to {e.ties} listed" if e.ties else ""
        return f"(allocate {expr_text(e.amount)} by {expr_text(e.weight)} to {e.text}{ties})"
    if isinstance(e, Rank):
        if e.kind == "percentile":
            return f"(percentile of {expr_text(e.value)})"
        ties = {None: "", "shared": " ties shared", "list": " ties in list order"}[e.ties]
        word = "dense rank" if e.kind == "dense" else "rank"
        return f"({word} of {expr_text(e.value)} {e.order} first{ties})"
    raise TypeError(e)


def clause_text(c) -> str:
    if isinstance(c, Floor):
        return f"floor {expr_text(c.bound)}"
    if isinstance(c, Cap):
        return f"cap {expr_text(c.bound)}"
    if isinstance(c, Round):
        return f"round {c.mode} to {c.text}"
    raise TypeError(c)


def _scalar_decl(kind: str, lo_text: str, hi_text: str) -> str:
    rng = f" in {lo_text}..{hi_text}" if lo_text else ""
    return kind + rng


def fact_text(f: Fact) -> str:
    if f.kind in ("number", "money", "integer", "count", "percent"):
        decl = _scalar_decl(f.kind, f.lo_text, f.hi_text)
    elif f.kind == "date":
        decl = _scalar_decl("date", f.lo_text, f.hi_text) + (f" >= {f.after}" if f.after else "")
    elif f.kind == "boolean":
        decl = "boolean"
    elif f.kind == "enum":
        decl = "one of " + ", ".join(f.options)
    elif f.kind == "record":
        decl = "record of boolean (" + ", ".join(f.options) + ")"
    elif f.kind == "numlist":
        decl = "list of " + _scalar_decl(f.element, f.lo_text, f.hi_text)
    elif f.kind == "reclist":
        parts = []
        for sub in f.fields:
            if sub.kind == "enum":
                parts.append(f"{sub.name}: one of {', '.join(sub.options)}")
            else:
                parts.append(f"{sub.name}: {_scalar_decl(sub.kind, sub.lo_text, sub.hi_text)}")
        decl = "list of (" + ", ".join(parts) + ")"
    else:
        raise ValueError(f.kind)
    if f.at_most is not None:
        decl += f" at most {f.at_most}"
    if f.adding_up is not None:
        decl += f" with {f.adding_up[0]} adding up to {f.adding_up[2]}"
    if f.key:
        decl += f" keyed by {f.key}"
    return f"fact {f.name}: {decl}"


def _table_key(key, t: Table) -> str:
    if t.quoted:
        return f'"{key}"'
    return str(key)


def _band_line(b: Band) -> str:
    out = f'"{b.label}"'
    if b.lo is not None:
        out += (" from " if b.lo[2] else " above ") + b.lo[1]
    if b.hi is not None:
        out += (" to " if b.hi[2] else " below ") + b.hi[1]
    return out


def _item_lines(line, ind: str) -> list:
    if isinstance(line, Adjust):
        s = f"{ind}{line.sign} {expr_text(line.amount)}"
        if line.per is not None:
            s += f" per {expr_text(line.per)}"
        if line.cond is not None:
            s += f" if {expr_text(line.cond)}"
        return [s]
    if isinstance(line, ScoreSet):
        return [f"{ind}score {expr_text(line.value)} if {expr_text(line.cond)}"]
    if isinstance(line, Ladder):
        head = f"{ind}ladder {expr_text(line.rate)} standard {expr_text(line.standard)}"
        if line.none == "standard":
            head += ", if none: standard"
        elif line.none is not None:
            head += f", if none: {expr_text(line.none)}"
        out = [head]
        for s in line.steps:
            out.append(f"{ind}    {s.sign} {expr_text(s.points)} per {s.rule} {expr_text(s.step)} {s.direction}")
        return out
    if isinstance(line, (Floor, Cap)):
        return [ind + clause_text(line)]
    raise TypeError(line)


def _value_lines(v: Value, ind: str) -> list:
    out = []
    if isinstance(v.expr, Aggregate):
        a = v.expr
        head = f"{a.fn} over {a.list_name}"
        if a.body is not None:
            head += f" of {expr_text(a.body)}"
        out.append(f"{ind}{v.kind} {v.name} = {head}")
        for cond, reason in a.filters:
            out.append(f"{ind}    only if {expr_text(cond)}" + (f' else "{reason}"' if reason else ""))
        if a.each is not None:
            out.append(f"{ind}    round each {a.each.mode} to {a.each.text}")
    else:
        out.append(f"{ind}{v.kind} {v.name} = {expr_text(v.expr)}")
    for c in v.clauses:
        out.append(f"{ind}    " + clause_text(c))
    return out


def render(p: Policy) -> str:
    """The policy as `.rules` text, one evaluation named `e`."""
    out = ["policy differential", ""]
    for t in p.tables:
        if isinstance(t, DatedTable):
            out.append(f"table {t.name} (day) -> {t.vtype}:")
            for start, until, _, text in t.versions:
                out.append(f"    from {start.isoformat()}" + (f" until {until.isoformat()}" if until else "")
                           + f" -> {text}")
            continue
        out.append(f"table {t.name} (key) -> {t.vtype}:")
        for key, _, text in t.rows:
            out.append(f"    {_table_key(key, t)} -> {text}")
    for b in p.bands:
        out.append(f"bands {b.name} in {b.lo_text}..{b.hi_text}:")
        for band in b.bands:
            out.append("    " + _band_line(band))
    for t in p.tiers:
        out.append(f"tiers {t.name} in {t.lo_text}..{t.hi_text}:")
        for tier in t.tiers:
            line = tier.name
            if tier.lo is not None:
                line += (" from " if tier.lo[2] else " above ") + tier.lo[1]
            if tier.hi is not None:
                line += (" to " if tier.hi[2] else " below ") + tier.hi[1]
            out.append(f"    {line} -> {tier.rate_text}")
    for fn in p.functions:
        params = ", ".join(f"{name}: {'money' if unit == 'm' else 'number'}" for name, unit in fn.params)
        out.append(f"function {fn.name}({params}) = {expr_text(fn.body)}")
        for c in fn.clauses:
            out.append("    " + clause_text(c))
    out.append("")
    out.append("evaluation e:")
    for f in p.facts:
        out.append("    " + fact_text(f))
    for v in p.values:
        if isinstance(v, Assert):
            out.append(f"    assert {expr_text(v.cond)} else \"{v.message}\"")
        elif isinstance(v, Value):
            out.extend(_value_lines(v, "    "))
        elif isinstance(v, Each):
            out.append(f"    for each {v.var} in {v.list_name}:")
            for pv in v.values:
                out.extend(_value_lines(pv, "        "))
        else:
            sc: Scorecard = v
            out.append(f"    scorecard {sc.name}" + (f" total {sc.total}" if sc.total else "") + ":")
            for it in sc.items:
                tags = "".join(f", {t}" for t in it.tags)
                out.append(f"        item {it.name} weight {it.weight_text}{tags}:")
                for line in it.lines:
                    out.extend(_item_lines(line, " " * 12))
                if not it.lines:
                    out.append('            note "no lines"')
            for g in sc.gates:
                out.append(f"        gate {g.tag} items: count only if {expr_text(g.cond)}"
                           + (f' else "{g.reason}"' if g.reason else ""))
            for c in sc.clauses:
                out.append("        " + clause_text(c))
    return "\n".join(out) + "\n"


# ---- tiers, assertions, chained comparisons (issue 10) -----------------------------------------


@dataclass(frozen=True)
class Tier:
    """`NAME [from|above X] [to|below Y] -> RATE`; a missing edge is the schedule's end."""
    name: str
    lo: tuple | None      # (Fraction, text, inclusive) or None
    hi: tuple | None
    rate: Fraction
    rate_text: str


@dataclass(frozen=True)
class Tiers:
    """`tiers NAME in LOW..HIGH:`; unit "percent" (applied `of BASE`) or "money" (applied to money)."""
    name: str
    lo: Fraction
    hi: Fraction
    lo_text: str
    hi_text: str
    tiers: tuple
    unit: str


@dataclass(frozen=True)
class TierApply:
    """`marginal NAME[.TIER] on VALUE [of BASE]` or `retroactive ...`."""
    mode: str
    tiers: str
    tier: str | None
    value: object
    base: object | None


@dataclass(frozen=True)
class Chain:
    """`A op1 B op2 C`: both comparisons (`A op1 B and B op2 C`)."""
    ops: tuple
    a: object
    b: object
    c: object


@dataclass(frozen=True)
class Assert:
    """`assert COND else "message"` among the values; it is not a value."""
    cond: object
    message: str
