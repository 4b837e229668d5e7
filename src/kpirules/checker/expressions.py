"""Expression types: the type and unit of an expression, and the checks typing it makes.

Used by the passes that type expressions (types, functions, ladders). One `visit_<Node>` function
per expression node, dispatched from one table; each returns the type, or None after reporting
why there is none (so one mistake is reported once, not again by every expression around it).
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from .. import dates
from .. import model as m
from .. import nodes as n
from ..diagnostics import did_you_mean
from .state import Ctx, State, describe, fmt, line_type, listing, scalar_type, src

FUNCTIONS = {"max", "min", "abs"}


def points(st, expr, ctx, what):
    t = type_of(st, expr, ctx)
    if t is None:
        return
    if t.kind != "number":
        st.err("E301", f"{what} needs a number, not {describe(t)}", expr.span)
    elif t.money not in (0, None):
        st.err("E302", f"{what} needs points or a plain number, not {describe(t)}", expr.span,
               "divide money by money to get a rate")


def boolean(st, expr, ctx, what):
    t = type_of(st, expr, ctx)
    if t is not None and t.kind != "boolean":
        st.err("E303", f"{what} needs a condition (true or false), not {describe(t)}", expr.span,
               f"compare it, e.g. `{src(expr)} > 0`, or use a boolean fact"
               if t.kind == "number" else "a condition is a comparison or a boolean fact")


def same_unit(st, a: m.Type, b: m.Type, span, verb) -> bool:
    if a.kind != "number" or b.kind != "number":
        if a.kind == b.kind and a.kind in ("text", "enum", "boolean", "date") and verb == "compare":
            return True
        if a.kind == b.kind == "period" and a.values == b.values and verb == "compare":
            return True
        st.err("E301", f"cannot {verb} {describe(a)} with {describe(b)}", span)
        return False
    if a.money is None or b.money is None or a.money == b.money:
        return True
    st.err("E302", f"cannot {verb} {describe(a)} with {describe(b)}", span,
           "write money amounts with `元` or `万` (e.g. `10万`), and rates as percentages")
    return False


def type_of(st, expr, ctx: Ctx) -> m.Type | None:
    return _VISIT[type(expr)](st, expr, ctx)


def visit_Number(st, e: n.Number, ctx):
    if e.unit == "money":
        return m.MONEY
    if e.unit == "percent":
        return m.Type(kind="number", display="percent")
    if e.value == 0:
        return m.Type(kind="number", money=None)
    return m.NUMBER


def visit_DateLit(st, e: n.DateLit, ctx):
    try:
        dates.parse_date(e.text)
    except dates.DateProblem as problem:
        st.err("E318", f"`{e.text}` is not a date: {problem}", e.span, "write an existing day as YYYY-MM-DD")
        return None
    return m.DATE


def visit_DaysBetween(st, e: n.DaysBetween, ctx):
    ok = True
    for side in (e.start, e.end):
        t = type_of(st, side, ctx)
        if t is None:
            ok = False
        elif t.kind != "date":
            st.err("E301", f"`days from ... to ...` counts the days between dates, not {describe(t)}", side.span,
                   "give it two dates, e.g. `days from hire_date to 2026-12-31`")
            ok = False
    return m.Type(kind="number", display="count") if ok else None


def visit_Text(st, e, ctx):
    return m.TEXT


def visit_Bool(st, e, ctx):
    return m.BOOLEAN


def visit_Name(st, e: n.Name, ctx: Ctx):
    if e.name in ctx.fields:
        return ctx.fields[e.name]
    sym = ctx.scope.get(e.name)
    if sym is None and e.name == dates.EVALUATION_DATE:
        return m.DATE  # the as-of date of the evaluation (`--as-of`, `as_of=`)
    if sym is None:
        candidates = itertools.chain(ctx.scope, ctx.fields)  # listed only if a suggestion is looked for
        st.err("E201", f"unknown name `{e.name}`", e.span, st.did_you_mean(e.name, candidates))
        return None
    if sym.kind in ("table", "bands"):
        st.err("E301", f"{sym.kind[:-1] if sym.kind == 'bands' else 'table'} `{e.name}` must be "
               f"looked up with a key", e.span, f"write `{e.name}[KEY]`")
        return None
    if sym.kind == "tiers":  # issue 10
        st.err("E301", f"`{e.name}` is a tier schedule, not a value", e.span,
               f"apply it: `marginal {e.name} on VALUE` or `retroactive {e.name} on VALUE`")
        return None
    if sym.kind in ("ladder", "function"):
        st.err("E301", f"`{e.name}` is a {sym.kind}, not a value", e.span,
               f"use it as `using {e.name}`" if sym.kind == "ladder" else f"call it: `{e.name}(...)`")
        return None
    if sym.kind == "param":
        return sym.type
    ctx.deps.append(e.name)
    ctx.used.add(e.name)
    per = per_member(sym)
    if per is not None and ctx.per != per:
        st.err("E332", f"`{e.name}` is per member (one value for each line of `{per}`); a single value is "
               "needed here", e.span,
               f"add the members' values up with `sum over {per} of {e.name}`, read one member's with "
               f"`{e.name}[KEY]`, or compute this inside `for each ... in {per}:`")
        return None
    return sym.type


def per_member(sym) -> str | None:
    """The list a per-member value (defined in `for each ... in LIST:`) has one value per line of."""
    each = getattr(sym.node, "each", None) if sym.kind in ("value", "output") else None
    return each.list_name if each is not None else None


def visit_ItemRef(st, e, ctx: Ctx):
    if not ctx.in_gate:
        st.err("E207", "`item` can only be used in a gate", e.span,
               "`item` names the item a gate decides on, e.g. `only if rollout[item]`")
        return None
    return m.Type(kind="item", money=0, display="text")


def visit_Unary(st, e: n.Unary, ctx):
    t = type_of(st, e.operand, ctx)
    if t is None:
        return None
    if e.op == "not":
        if t.kind != "boolean":
            st.err("E303", f"`not` needs a condition, not {describe(t)}", e.operand.span,
                   "a condition is a comparison (`x >= 90%`) or a boolean fact")
            return None
        return m.BOOLEAN
    if t.kind != "number":
        st.err("E301", f"cannot negate {describe(t)}", e.span)
        return None
    return t


def visit_Binary(st, e: n.Binary, ctx):
    lt, rt = type_of(st, e.left, ctx), type_of(st, e.right, ctx)
    if lt is None or rt is None:
        return None
    if e.op in ("and", "or"):
        for t, side in ((lt, e.left), (rt, e.right)):
            if t.kind != "boolean":
                st.err("E303", f"`{e.op}` needs conditions, not {describe(t)}", side.span)
                return None
        return m.BOOLEAN
    verb = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[e.op]
    for t, side in ((lt, e.left), (rt, e.right)):
        if t.kind != "number":
            other = rt if side is e.left else lt
            help = ("a condition is not a number: write `if CONDITION then AMOUNT else 0`"
                    if t.kind == "boolean" else None)
            if e.op == "+":
                st.err("E301", f"cannot add {describe(lt)} to {describe(rt)}" if lt.kind != "number"
                       else f"cannot add {describe(rt)} to {describe(lt)}", e.span, help)
            else:
                st.err("E301", f"cannot {verb} {describe(t)}", side.span, help)
            del other
            return None
    if e.op in ("+", "-"):
        if not same_unit(st, lt, rt, e.span, "add" if e.op == "+" else "subtract"):
            return None
        money = lt.money if lt.money is not None else rt.money
        display = lt.display if lt.money is not None else rt.display
        if lt.money is not None and rt.money is not None and lt.display != rt.display:
            display = "money" if money == 1 else "number"
        return m.Type(kind="number", money=money, display=display)
    lm, rm = lt.money or 0, rt.money or 0
    money = lm + rm if e.op == "*" else lm - rm
    if lt.money is None and rt.money is None:
        return m.Type(kind="number", money=None)
    display = "money" if money == 1 else "number"
    return m.Type(kind="number", money=money, display=display)


def visit_Compare(st, e: n.Compare, ctx):
    lt, rt = type_of(st, e.left, ctx), type_of(st, e.right, ctx)
    if lt is None or rt is None:
        return m.BOOLEAN
    if lt.kind == "enum" or rt.kind == "enum":
        enum, other, other_node = (lt, rt, e.right) if lt.kind == "enum" else (rt, lt, e.left)
        if e.op not in ("==", "!="):
            st.err("E301", f"`{e.op}` does not apply to {describe(enum)}", e.span)
        elif isinstance(other_node, n.Text) and other_node.value not in enum.values:
            st.err("E203", f"`{other_node.value}` is not one of {listing(enum.values, 'and')}",
                   other_node.span, did_you_mean(other_node.value, enum.values))
        elif other.kind not in ("enum", "text"):
            st.err("E301", f"cannot compare {describe(enum)} with {describe(other)}", e.span)
        return m.BOOLEAN
    ordered = lt.kind == rt.kind and lt.kind in ("number", "date")
    if e.op not in ("==", "!=") and not ordered:
        what = "numbers or dates" if "date" in (lt.kind, rt.kind) else "numbers"
        st.err("E301", f"`{e.op}` compares {what}, not {describe(lt)} and {describe(rt)}", e.span)
        return m.BOOLEAN
    same_unit(st, lt, rt, e.span, "compare")
    return m.BOOLEAN


def visit_Conditional(st, e: n.Conditional, ctx):
    boolean(st, e.condition, ctx, "`if`")
    a, b = type_of(st, e.then, ctx), type_of(st, e.otherwise, ctx)
    if a is None or b is None:
        return None
    if a.kind != b.kind or (a.kind == "number" and not same_unit(st, a, b, e.span, "mix")):
        if a.kind != b.kind:
            st.err("E301", f"the branches of `if` differ: {describe(a)} and {describe(b)}", e.span)
        return None
    return a if a.money is not None else b


def visit_Index(st, e: n.Index, ctx):
    if isinstance(e.target, n.Name) and e.target.name in ctx.scope and ctx.scope[e.target.name].kind == "table":
        return _table_lookup(st, e, ctx.scope[e.target.name].node, ctx)
    if isinstance(e.target, n.Name) and e.target.name in ctx.scope and ctx.scope[e.target.name].kind == "bands":
        kt = type_of(st, e.key, ctx)
        if kt is not None and (kt.kind != "number" or kt.money not in (0, None)):
            st.err("E305", f"bands `{e.target.name}` are looked up with a score, not {describe(kt)}",
                   e.key.span)
        return m.TEXT
    if isinstance(e.target, n.Name) and e.target.name in ctx.scope:
        per = per_member(ctx.scope[e.target.name])
        if per is not None and ctx.per != per:
            # `share["E01"]`: one member's value, by the list's key.
            ctx.deps.append(e.target.name)
            ctx.used.add(e.target.name)
            _line_key(st, e, ctx.scope[per].type, ctx)
            return ctx.scope[e.target.name].type
    tt = type_of(st, e.target, ctx)
    if tt is None:
        return None
    if tt.kind == "list" and tt.fields:
        if tt.key is None:
            st.err("E301", f"a line of `{src(e.target)}` is looked up by its key, and the list has none",
                   e.span, f"declare the list `keyed by` an id field (e.g. `keyed by {tt.fields[0][0]}`), or "
                   f"go over its lines with `sum over {src(e.target)} of ...` or `for each`")
            return None
        _line_key(st, e, tt, ctx)
        name = e.target.name if isinstance(e.target, n.Name) else src(e.target)
        return line_type(tt, name)
    if tt.kind == "record":
        if isinstance(e.key, n.ItemRef):
            type_of(st, e.key, ctx)
            return tt.element
        if isinstance(e.key, n.Text):
            if e.key.value not in tt.keys:
                st.err("E205", f"record `{src(e.target)}` has no key `{e.key.value}`", e.key.span,
                       did_you_mean(e.key.value, tt.keys) or f"its keys are {listing(tt.keys, 'and')}")
            return tt.element
        st.err("E301", "a record is read with a key name, e.g. `rollout.sales_tools`", e.key.span)
        return None
    st.err("E301", f"cannot look up a key in {describe(tt)}", e.span)
    return None


def _line_key(st, e: n.Index, lt: m.Type, ctx) -> None:
    """The key of `members["E01"]` (or `share[id]`) has the type of the list's key field."""
    kt = type_of(st, e.key, ctx)
    want = next((t for name, t, _ in lt.fields if name == lt.key), None)
    if kt is None or want is None:
        return
    if want.kind == "enum" and kt.kind in ("enum", "text") or want.kind == kt.kind:
        return
    st.err("E305", f"the lines are keyed by `{lt.key}` ({describe(want)}); `{src(e.key)}` is {describe(kt)}",
           e.key.span)


def _table_lookup(st, e: n.Index, table: n.Table, ctx):
    kt = type_of(st, e.key, ctx)
    value_type = scalar_type(table.value_type)
    if kt is None:
        return value_type
    row_keys = [r.key for r in table.rows]
    if row_keys and all(isinstance(k, n.Version) for k in row_keys):
        # An effective-dated table is looked up with the date that picks the version in force.
        if kt.kind != "date":
            st.err("E305", f"table `{table.name}` has versions by date; `{src(e.key)}` is {describe(kt)}",
                   e.key.span, "look it up with a date, e.g. `rate[close_date]`")
        return value_type
    if kt.kind == "date":
        st.err("E305", f"table `{table.name}` has no versions by date; `{src(e.key)}` is a date", e.key.span,
               "write its rows as `from 2026-01-01 -> ...` to pick one by date")
        return value_type
    numeric = all(isinstance(k, Decimal) for k in row_keys)
    names = [k.name if isinstance(k, n.Name) else k for k in row_keys if isinstance(k, (n.Name, str))]
    if kt.kind == "enum":
        if numeric:
            st.err("E305", f"table `{table.name}` has number keys; `{src(e.key)}` is "
                   f"{describe(kt)}", e.key.span, "look it up with a number, or give the table "
                   "a row for each value")
            return value_type
        for key, row in zip(names, table.rows, strict=False):
            if key not in kt.values:
                st.err("E203", f"table `{table.name}` has a row `{key}` that is not one of "
                       f"{listing(kt.values, 'and')}", row.span, did_you_mean(key, kt.values))
        missing = [v for v in kt.values if v not in names]
        if missing:
            st.err("E307", f"table `{table.name}` has no row for "
                   + ", ".join(f"`{v}`" for v in missing), table.span,
                   f"add a row `{missing[0]} -> ...`")
    elif kt.kind == "number":
        if not numeric:
            st.err("E305", f"table `{table.name}` has text keys; `{src(e.key)}` is a number",
                   e.key.span)
            return value_type
        _integer_coverage(st, e.key, table, ctx)
    elif kt.kind == "text":
        if numeric:
            st.err("E305", f"table `{table.name}` has number keys; `{src(e.key)}` is text",
                   e.key.span)
    else:
        st.err("E305", f"cannot look up table `{table.name}` with {describe(kt)}", e.key.span)
    return value_type


def _integer_coverage(st, key, table, ctx):
    """`quarter_split[quarter]` with `quarter: integer in 1..4` needs rows 1, 2, 3 and 4."""
    if not isinstance(key, n.Name):
        return
    sym = ctx.scope.get(key.name)
    if sym is None or sym.kind != "fact" or not isinstance(sym.node.type, n.ScalarType):
        return
    low = high = None
    for c in sym.node.type.constraints:
        if isinstance(c, n.RangeConstraint) and isinstance(c.low, n.Number) and isinstance(c.high, n.Number):
            low, high = c.low.value, c.high.value
    if low is None or high - low > 1000 or sym.node.type.kind not in ("integer", "count"):
        return
    keys = {r.key for r in table.rows}
    k = low.to_integral_value(rounding="ROUND_CEILING")
    missing = []
    while k <= high:
        if k not in keys:
            missing.append(k)
        k += 1
    if missing:
        st.err("E307", f"table `{table.name}` has no row for " + ", ".join(f"`{fmt(v)}`" for v in missing)
               + f" (`{key.name}` may be any of {fmt(low)}..{fmt(high)})", table.span,
               f"add a row `{fmt(missing[0])} -> ...`")


def visit_Field(st, e: n.Field, ctx):
    tt = type_of(st, e.target, ctx)
    if tt is None:
        return None
    if tt.kind == "line":
        for name, ftype, _label in tt.fields:
            if name == e.name:
                return ftype
        st.err("E205", f"a line of `{tt.values[0]}` has no field `{e.name}`", e.span,
               did_you_mean(e.name, [f[0] for f in tt.fields])
               or f"its fields are {listing([f[0] for f in tt.fields], 'and')}")
        return None
    if tt.kind == "list" and tt.fields:
        lst = src(e.target)
        st.err("E301", f"`{lst}` is a list of records; `.{e.name}` reads a field of one line", e.span,
               f"add the lines' values up with `sum over {lst} of {e.name}`, go over the members with "
               f"`for each member in {lst}:` and write `member.{e.name}`, or pick a line by its key: "
               f"`{lst}[KEY].{e.name}`")
        return None
    if tt.kind != "record":
        st.err("E301", f"{describe(tt)} has no fields", e.span)
        return None
    if e.name not in tt.keys:
        st.err("E205", f"record `{src(e.target)}` has no key `{e.name}`", e.span,
               did_you_mean(e.name, tt.keys) or f"its keys are {listing(tt.keys, 'and')}")
        return None
    return tt.element


def visit_Call(st, e: n.Call, ctx):
    fn = getattr(st, "functions", {}).get(e.function)
    if fn is not None and e.function not in ctx.fields:
        return _user_call(st, e, fn, ctx)
    if e.function in ("sum", "count"):
        arg = e.args[0]
        t = type_of(st, arg, ctx)
        if t is None:
            return None
        if t.kind != "list":
            st.err("E301", f"`{e.function}` needs a list, not {describe(t)}", arg.span)
            return None
        if e.function == "count":
            return m.Type(kind="number", display="count")
        if t.element is None or t.element.kind != "number":
            st.err("E301", "`sum` of a list of records needs `sum over LIST of FIELD`", e.span)
            return None
        return t.element
    if e.function in dates.FUNCTIONS:
        return _date_call(st, e, ctx)
    if e.function in _TEAM_WORDS:
        st.err("E204", f"`{e.function}` is not a function", e.span, _TEAM_WORDS[e.function])
        for a in e.args:
            type_of(st, a, ctx)
        return None
    if e.function not in FUNCTIONS:
        builtins = sorted(FUNCTIONS | {"sum", "count"})
        st.err("E204", f"unknown function `{e.function}`", e.span,
               did_you_mean(e.function, builtins + sorted(dates.FUNCTIONS)) or "the functions are "
               + listing(builtins) + " (and, for dates, the calendar functions of docs/language.md)")
        for a in e.args:  # still read the arguments: their names are used, their errors real
            type_of(st, a, ctx)
        return None
    if e.function == "abs" and len(e.args) != 1 or e.function != "abs" and len(e.args) < 2:
        st.err("E304", f"`{e.function}` takes {'one argument' if e.function == 'abs' else 'two or more arguments'}"
               f", not {len(e.args)}", e.span,
               "write `abs(x)`" if e.function == "abs" else f"write `{e.function}(a, b)`")
        for a in e.args:
            type_of(st, a, ctx)
        return None
    types = [type_of(st, a, ctx) for a in e.args]
    known = [t for t in types if t is not None]
    if len(known) != len(types):
        return None
    result = known[0]
    if e.function != "abs" and all(t.kind == "date" for t in known):
        return m.DATE  # the later (max) or earlier (min) of dates
    for t, a in zip(known, e.args, strict=True):
        if t.kind != "number":
            st.err("E301", f"`{e.function}` needs numbers (or, for max and min, dates), not {describe(t)}",
                   a.span)
            return None
        if not same_unit(st, result, t, a.span, "compare"):
            return None
        if result.money is None:
            result = t
    return result


_DATE_ARGS = {"date": "a date", "year": "a date or a year", "period": "a period", "integer": "a whole number"}
_DATE_RESULTS = {"date": m.DATE, "integer": m.Type(kind="number", display="integer"),
                 "count": m.Type(kind="number", display="count"), "boolean": m.BOOLEAN}


def _date_call(st, e: n.Call, ctx):
    """A calendar function (dates.FUNCTIONS): its arguments' kinds, its result's type."""
    _, wants, result = dates.FUNCTIONS[e.function]
    if len(e.args) != len(wants):
        st.err("E304", f"`{e.function}` takes {len(wants)} argument{'s' if len(wants) != 1 else ''}, "
               f"not {len(e.args)}", e.span)
        for a in e.args:
            type_of(st, a, ctx)
        return None
    ok = True
    for a, want in zip(e.args, wants, strict=True):
        t = type_of(st, a, ctx)
        if t is None:
            ok = False
            continue
        fits = (t.kind == "date" if want == "date" else t.kind == "period" if want == "period"
                else t.kind == "number" and t.money in (0, None) if want == "integer"
                else t.kind == "date" or (t.kind == "number" and t.money in (0, None)))
        if not fits:
            st.err("E301", f"`{e.function}` needs {_DATE_ARGS[want]}, not {describe(t)}", a.span)
            ok = False
    return _DATE_RESULTS[result] if ok else None


def visit_Blend(st, e: n.Blend, ctx):
    total = sum((w for _, w, _ in e.parts), Decimal(0))
    if total != 1:
        st.err("E316", f"the weights of `blend` add up to {fmt(total * 100)}%, not 100%", e.span,
               "change the weights so they add up to 100%")
    result = None
    for expr, _w, _span in e.parts:
        t = type_of(st, expr, ctx)
        if t is None:
            return None
        if t.kind != "number":
            st.err("E301", f"`blend` averages numbers, not {describe(t)}", expr.span)
            return None
        if result is not None and not same_unit(st, result, t, expr.span, "blend"):
            return None
        if result is None or result.money is None:
            result = t
    assert result is not None  # the grammar gives `blend` at least one part
    return m.Type(kind="number", money=result.money, display="money" if result.money == 1 else "number")


def _user_call(st, e: n.Call, fn: n.Function, ctx):
    if len(e.args) != len(fn.params):
        st.err("E304", f"`{fn.name}` takes {len(fn.params)} argument{'s' if len(fn.params) != 1 else ''}, "
               f"not {len(e.args)}", e.span,
               f"write `{fn.name}(" + ", ".join(p.name for p in fn.params) + ")`")
        for a in e.args:
            type_of(st, a, ctx)
        return None
    ok = True
    for a, p in zip(e.args, fn.params, strict=True):
        t = type_of(st, a, ctx)
        want = scalar_type(p.kind)
        if t is None:
            ok = False
        elif want.kind == "number" and t.kind == "number":
            ok = same_unit(st, want, t, a.span, f"pass as `{p.name}`") and ok
        elif want.kind != t.kind:
            st.err("E301", f"`{p.name}` of `{fn.name}` is {describe(want)}, not {describe(t)}", a.span)
            ok = False
    if fn.name not in st.function_types and fn.name not in st.calling:
        # Declared further down: type it now. (Imported here: the functions pass types bodies
        # with this module.)
        from . import functions
        functions.check(st, fn)
    if fn.name not in st.function_types:
        st.err("E210", f"function `{fn.name}` calls itself, directly or through another function", e.span,
               "functions cannot be recursive")
        return None
    return st.function_types[fn.name] if ok else None


# Calls an author may try for the team constructs, and what to write instead.
_RANKING = ("inside `for each member in members:`, write `rank of member.score highest first` "
            "(or `dense rank of ...`, `percentile of ...`)")
_TEAM_WORDS = {
    "rank": _RANKING, "dense_rank": _RANKING, "percentile": _RANKING, "percent_rank": _RANKING,
    "allocate": "inside `for each member in members:`, write `allocate pool by weight to 0.01`",
}


def visit_Allocate(st, e: n.Allocate, ctx: Ctx):
    if ctx.each is None:
        st.err("E333", "`allocate` gives each member a part: it belongs inside `for each member in LIST:`",
               e.span, "write e.g. `for each member in members:` and under it "
                       "`output share = allocate pool by weight to 0.01`")
        return None
    # The amount is one value for the whole team; the weight is this member's.
    whole = Ctx(scope=ctx.scope, deps=ctx.deps, used=ctx.used)
    at = type_of(st, e.amount, whole)
    wt = type_of(st, e.weight, ctx)
    if e.quantum <= 0:
        st.err("E308", "the quantum of `allocate` must be greater than zero", e.span,
               "write e.g. `allocate pool by weight to 0.01`")
    if wt is not None and wt.kind != "number":
        st.err("E301", f"the weights of `allocate` are numbers, not {describe(wt)}", e.weight.span)
    if at is None:
        return None
    if at.kind != "number":
        st.err("E301", f"`allocate` splits a number, not {describe(at)}", e.amount.span)
        return None
    return at if at.money is not None else m.NUMBER


def visit_Rank(st, e: n.Rank, ctx: Ctx):
    word = {"rank": "rank", "ordinal": "rank", "dense": "dense rank", "percentile": "percentile"}[e.kind]
    if ctx.each is None:
        st.err("E333", f"`{word} of` places a member among the members: it belongs inside "
               "`for each member in LIST:`", e.span,
               f"write e.g. `for each member in members:` and under it `output place = {word} of member.score"
               f"{'' if e.kind == 'percentile' else ' highest first'}`")
        return None
    t = type_of(st, e.value, ctx)
    if t is not None and t.kind not in ("number", "date"):
        st.err("E301", f"`{word} of` orders numbers or dates, not {describe(t)}", e.value.span)
        return None
    if e.kind == "percentile":
        return m.Type(kind="number", display="percent")
    return m.Type(kind="number", display="integer")


_VISIT = {getattr(n, name[len("visit_"):]): f for name, f in list(globals().items()) if name.startswith("visit_")}


# ---- clauses on a value: `floor`, `cap`, `round` (`cite`, `only if` and `round each` say nothing
# about the value's type) -------------------------------------------------------------------------


def clauses(st: State, written, vtype, ctx: Ctx):
    """Check the clauses on a value of type `vtype`; the value keeps its type."""
    for c in written:
        visit = _CLAUSES.get(type(c))
        if visit is not None:
            visit(st, c, vtype, ctx)
    return vtype


def _bound(st: State, c, vtype, ctx: Ctx):
    ct = type_of(st, c.value, ctx)
    if vtype is not None and ct is not None:
        if vtype.kind != "number":
            st.err("E301", f"`{'floor' if isinstance(c, n.Floor) else 'cap'}` applies to numbers, "
                   f"not {describe(vtype)}", c.span)
        else:
            same_unit(st, vtype, ct, c.value.span, "compare")


def _round(st: State, c: n.Round, vtype, ctx: Ctx):
    if c.quantum <= 0:
        st.err("E308", "rounding quantum must be greater than zero", c.span,
               "write e.g. `round half up to 0.01`")
    if vtype is not None and vtype.kind != "number":
        st.err("E301", f"`round` applies to numbers, not {describe(vtype)}", c.span)


_CLAUSES = {n.Floor: _bound, n.Cap: _bound, n.Round: _round}
