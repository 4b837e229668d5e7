"""Tiers pass: each tier schedule covers its declared domain exactly once (no gap, no overlap,
at exact edges, as bands do), its rates are numbers; and how `marginal`/`retroactive` are typed.

Runs after names (only the first schedule of each name is checked; a second is E202). Its
diagnostics: E340 (a schedule that is not a partition of its domain, with a witness value, or a
rate that is not a plain number) and E341 (an application that does not fit its schedule: an
unknown tier, units that do not match). The typing of `marginal ...` / `retroactive ...` is
registered with expressions.py (`visit_TierApply`), so every pass that types expressions knows it.
"""

from __future__ import annotations

from decimal import Decimal

from .. import model as m
from .. import nodes as n
from . import expressions, partition
from .expressions import same_unit, type_of
from .state import Ctx, State, describe, literal, src
from .state import fmt_any as _fmt_any

_WORDS = partition.Words(code="E340", many="tiers", one="tier", whole="domain",
                         overlap_help="each value must fall in exactly one tier: end one with `to X` "
                                      "and start the next with `above X`")


def run(st: State) -> None:
    for name, t in st.tier_nodes.items():
        st.tiers[name] = _schedule(st, t)


def fmt_edge(v, unit=None) -> str:
    """An edge or witness as written in a schedule of `unit`: `100%` for 1 in percentages."""
    return _fmt_any(v * 100) + "%" if unit == "percent" else _fmt_any(v)


def _unit(expr) -> str | None:
    """How a literal edge is written: money, percent or number; None for 0 (fits any unit)."""
    node = expr.operand if isinstance(expr, n.Unary) else expr
    if not isinstance(node, n.Number) or node.value == 0:
        return None
    return node.unit


def _schedule(st: State, t: n.Tiers) -> m.TiersModel:
    """The tiers must cover the domain exactly once: walked up from the low end, as bands are."""
    low, high = literal(t.low), literal(t.high)
    units = {_unit(e) for e in (t.low, t.high)} | {_unit(e) for tier in t.tiers for e in (tier.low, tier.high)
                                                   if e is not None}
    units.discard(None)
    if "money" in units and len(units) > 1:
        st.err("E340", f"tiers `{t.name}` mix money and plain numbers in their edges", t.span,
               "write every edge in one unit: money (`10万`, `800元`) or percentages of a base (`150%`)")
    unit = next((u for u in ("money", "percent", "number") if u in units), None)
    if low is None or high is None or low >= high:
        st.err("E340", f"tiers `{t.name}` need a domain of two numbers, low first", t.span,
               "write e.g. `tiers commission_rates in 0%..200%:`")
        return m.TiersModel(name=t.name, label=t.label, low=low or Decimal(0), high=high or Decimal(0), tiers=(),
                            unit=unit, span=t.span)
    def fmt_any(v) -> str:  # a value as the schedule writes its edges: `100%` in a percent schedule
        return fmt_edge(v, unit)

    intervals = []
    for tier in t.tiers:
        rate = literal(tier.rate)
        if rate is None or (isinstance(tier.rate, n.Number) and tier.rate.unit == "money"):
            st.err("E340", f"the rate of tier `{tier.name}` must be a plain number or a percentage, "
                   f"not `{src(tier.rate)}`", tier.rate.span, "write e.g. `-> 3%`")
            continue
        edges = partition.interval(st, _WORDS, tier, low, high)
        if edges is not None:
            intervals.append((*edges, tier, rate))
    ordered = partition.prove(st, _WORDS, t, intervals, low, high, fmt_any)
    if ordered and ordered[-1][2] > high:
        st.err("E340", f"tier `{ordered[-1][4].name}` of `{t.name}` ends above the domain's high end "
               f"{fmt_any(high)}", ordered[-1][4].span, f"end it at {fmt_any(high)}")
    return m.TiersModel(name=t.name, label=t.label, low=low, high=high,
                        tiers=tuple((tier.name, tier.label, lo, lo_in, hi, hi_in, rate)
                                    for lo, lo_in, hi, hi_in, tier, rate in ordered),
                        unit=unit, span=t.span)


# ---- `marginal NAME[.TIER] on VALUE [of BASE]`, `retroactive ...` ------------------------------

def visit_TierApply(st: State, e: n.TierApply, ctx: Ctx):
    sym = ctx.scope.get(e.tiers)
    vt = type_of(st, e.value, ctx)
    bt = type_of(st, e.base, ctx) if e.base is not None else None
    if sym is None or sym.kind != "tiers":
        if sym is None:
            schedules = [k for k, s in ctx.scope.items() if s.kind == "tiers"]
            st.err("E201", f"unknown tiers `{e.tiers}`", e.name_span,
                   st.did_you_mean(e.tiers, schedules) or "declare it: `tiers NAME in LOW..HIGH:` with a line per tier")
        else:
            st.err("E341", f"`{e.tiers}` is a {sym.kind if sym.kind != 'bands' else 'bands table'}, not tiers",
                   e.name_span, f"`{e.mode}` applies a `tiers` schedule")
        return None
    schedule = sym.node
    assert isinstance(schedule, n.Tiers)
    model = st.tiers.get(e.tiers)
    if e.tier is not None and e.tier not in [t.name for t in schedule.tiers]:
        names = [t.name for t in schedule.tiers]
        st.err("E341", f"tiers `{e.tiers}` have no tier `{e.tier}`", e.span,
               st.did_you_mean(e.tier, names) or "its tiers are " + ", ".join(f"`{x}`" for x in names))
        return None
    if vt is None or (e.base is not None and bt is None):
        return None
    if vt.kind != "number":
        st.err("E301", f"`{e.mode}` applies tiers to a number, not {describe(vt)}", e.value.span)
        return None
    unit = model.unit if model is not None else None
    if e.base is not None:
        assert bt is not None
        if bt.kind != "number":
            st.err("E301", f"the base of `{e.mode}` must be a number, not {describe(bt)}", e.base.span)
            return None
        if unit == "money":
            st.err("E341", f"tiers `{e.tiers}` are written in money; `of {src(e.base)}` reads edges as "
                   "percentages of a base", e.base.span,
                   f"write the edges as percentages (`150%`), or drop `of {src(e.base)}`")
            return None
        if not same_unit(st, vt, bt, e.span, f"apply tiers of `{src(e.base)}` to"):
            return None
    elif unit == "percent" and vt.money not in (0, None):
        st.err("E341", f"tiers `{e.tiers}` are written in percentages; `{src(e.value)}` is {describe(vt)}",
               e.value.span, f"say what the percentages are of: `{e.mode} {e.tiers} on {src(e.value)} of BASE`"
               " (e.g. `of quota`)")
        return None
    elif unit == "money" and vt.money != 1:
        st.err("E341", f"tiers `{e.tiers}` are written in money; `{src(e.value)}` is {describe(vt)}",
               e.value.span, "apply them to a money value")
        return None
    if vt.money is None:
        return m.NUMBER
    return m.Type(kind="number", money=vt.money, display="money" if vt.money == 1 else "number")


def visit_ChainCompare(st: State, e: n.ChainCompare, ctx: Ctx):
    """`a <= x <= b`: both comparisons are typed; the chain must read one way."""
    a, b, c = e.operands
    op1, op2 = e.ops
    rising, falling = {"<", "<="}, {">", ">="}
    if not ({op1, op2} <= rising or {op1, op2} <= falling):
        st.err("E342", f"a chained comparison reads one way: `{op1}` and `{op2}` do not", e.span,
               "write `LOW <= x <= HIGH` (or `HIGH >= x >= LOW`), or join two comparisons with `and`")
    expressions.visit_Compare(st, n.Compare(op=op1, left=a, right=b, span=e.span), ctx)
    expressions.visit_Compare(st, n.Compare(op=op2, left=b, right=c, span=e.span), ctx)
    return m.BOOLEAN


# Every pass that types expressions finds these through expressions.type_of.
expressions._VISIT[n.TierApply] = visit_TierApply
expressions._VISIT[n.ChainCompare] = visit_ChainCompare
