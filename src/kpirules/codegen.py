"""Compile stage, fast path: the checked model as generated Python, for evaluations without a trace.

The generated function reads like a hand-written calculation: Decimal operators on local
variables, under a 60-digit context that only *flags* inexact results. Exactness is kept by
proof, not by hope: every decision (a comparison, a step count, a rounding, a table key) whose
operands were touched by an inexact operation must be at least MARGIN away from its boundary,
else the function gives up (`Fallback`) and the exact evaluator (compile.py, with fractions)
computes the same values. Any other trouble (a division by zero, a missing table row) also
falls back, so the exact evaluator is the one that reports errors, with their positions.
"""

from __future__ import annotations

from decimal import (ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, DivisionByZero,
                     Inexact, InvalidOperation, Overflow)

from . import exact as x
from . import model as m
from . import nodes as n

PRECISION = 60
# Decisions closer than this (relative) to their boundary are left to exact arithmetic. The error
# of PRECISION-digit arithmetic after any realistic number of operations is far below it.
MARGIN = Decimal("1e-30")
_HALF = Decimal("0.5")
_DISPLAY = Context(prec=x.DISPLAY_DIGITS, rounding=ROUND_HALF_EVEN)
TEMPLATE = Context(prec=PRECISION, rounding=ROUND_HALF_EVEN, Emax=999999, Emin=-999999,
                   traps=[DivisionByZero, InvalidOperation, Overflow])


class Fallback(Exception):
    """The fast path cannot prove its answer exact; the exact evaluator takes over."""


def _close(a, b) -> bool:
    scale = max(abs(a), abs(b))
    return abs(a - b) <= MARGIN * scale


def cmp(a, b, inexact) -> int:
    if inexact and _close(a, b):
        raise Fallback()
    return (a > b) - (a < b)


def floor_steps(q, inexact):
    f = q.to_integral_value(rounding=ROUND_FLOOR)
    if inexact and (q - f <= MARGIN * max(abs(q), 1) or f + 1 - q <= MARGIN * max(abs(q), 1)):
        raise Fallback()
    return f


def ceil_steps(q, inexact):
    c = q.to_integral_value(rounding=ROUND_CEILING)
    if inexact and (c - q <= MARGIN * max(abs(q), 1) or q - c + 1 <= MARGIN * max(abs(q), 1)):
        raise Fallback()
    return c


def round_to(v, quantum, mode, inexact):
    if inexact:
        units = v / quantum
        frac = units - units.to_integral_value(rounding=ROUND_FLOOR)
        m_ = MARGIN * max(abs(units), 1)
        # Half modes jump only at a tie; directed modes jump at every multiple of the quantum.
        if mode.startswith("half"):
            if abs(frac - _HALF) <= m_:
                raise Fallback()
        elif frac <= m_ or 1 - frac <= m_:
            raise Fallback()
    return x.round_to(v, quantum, mode)


def lookup(table, key, inexact):
    if inexact and not isinstance(key, str):
        raise Fallback()
    try:
        return table[key]
    except KeyError:
        raise Fallback() from None


def shown(v):
    """An inexact value as the exact path shows it (28 digits), provably the same digits."""
    lo = _DISPLAY.plus(v - abs(v) * MARGIN)
    hi = _DISPLAY.plus(v + abs(v) * MARGIN)
    if lo != hi:
        raise Fallback()
    return _DISPLAY.plus(v)


class _Gen:
    def __init__(self, program, tables):
        self.program = program
        self.tables = tables
        self.consts: list = []
        self.const_index: dict = {}
        self.var: dict = {}
        self.lines: list = []
        self.tmp = 0
        self.in_function = False

    def const(self, value) -> str:
        if isinstance(value, dict):
            key = ("table", id(value))
        else:
            key = (type(value), value if not isinstance(value, Decimal) else str(value))
        if key not in self.const_index:
            self.const_index[key] = len(self.consts)
            self.consts.append(value)
        return f"K{self.const_index[key]}"

    def fresh(self) -> str:
        self.tmp += 1
        return f"t{self.tmp}"

    def emit(self, line: str, depth: int):
        self.lines.append("    " * depth + line)

    # ---- expressions: return Python expression text ---------------------------------------
    def expr(self, e, fields=frozenset(), item=None) -> str:
        if isinstance(e, n.Number):
            return self.const(e.value)
        if isinstance(e, (n.Text, n.Bool)):
            return self.const(e.value)
        if isinstance(e, n.Name):
            if e.name in fields:
                return f"L[{e.name!r}]"
            return self.var[e.name]
        if isinstance(e, n.ItemRef):
            return self.const(item)
        if isinstance(e, n.Unary):
            inner = self.expr(e.operand, fields, item)
            return f"(not {inner})" if e.op == "not" else f"(-{inner})"
        if isinstance(e, n.Binary):
            a, b = self.expr(e.left, fields, item), self.expr(e.right, fields, item)
            op = {"and": "and", "or": "or"}.get(e.op, e.op)
            return f"({a} {op} {b})"
        if isinstance(e, n.Compare):
            a, b = self.expr(e.left, fields, item), self.expr(e.right, fields, item)
            if _is_textual(e.left) or _is_textual(e.right) or self._non_numeric(e, fields):
                return f"({a} {e.op} {b})"
            return f"(cmp({a}, {b}, DI or FL[I]) {e.op} 0)"
        if isinstance(e, n.Conditional):
            c = self.expr(e.condition, fields, item)
            return f"({self.expr(e.then, fields, item)} if {c} else {self.expr(e.otherwise, fields, item)})"
        if isinstance(e, n.Blend):
            parts = " + ".join(f"{self.expr(expr, fields, item)} * {self.const(w)}" for expr, w, _ in e.parts)
            return f"({parts})"
        if isinstance(e, n.Index) and isinstance(e.target, n.Name) and e.target.name in self.bands \
                and e.target.name not in fields:
            key = self.expr(e.key, fields, item)
            return f"band({self.const(self.bands[e.target.name])}, {key}, DI or FL[I])"
        if isinstance(e, n.Index):
            key = self.expr(e.key, fields, item)
            if isinstance(e.target, n.Name) and e.target.name in self.tables and e.target.name not in fields:
                return f"lookup({self.const(self.tables[e.target.name])}, {key}, DI or FL[I])"
            return f"{self.expr(e.target, fields, item)}[{key}]"
        if isinstance(e, n.Field):
            return f"{self.expr(e.target, fields, item)}[{e.name!r}]"
        if isinstance(e, n.Call) and e.function in self.functions and e.function not in fields:
            args = [self.expr(a, fields, item) for a in e.args]
            return f"{self.function(self.functions[e.function])}(FL, DI, {', '.join(args)})"
        if isinstance(e, n.Call):
            args = [self.expr(a, fields, item) for a in e.args]
            if e.function == "sum":
                return f"sum({args[0]}, ZERO)"
            if e.function == "count":
                return f"D(len({args[0]}))"
            return f"{e.function}({', '.join(args)})"
        raise AssertionError(type(e))

    def _non_numeric(self, e: n.Compare, fields) -> bool:
        """Booleans, texts and enums compare with plain == (the checker typed them)."""
        for side in (e.left, e.right):
            if isinstance(side, n.Bool):
                return True
            if isinstance(side, n.Name) and side.name not in fields:
                t = self.types.get(side.name)
                if t is not None and t.kind != "number":
                    return True
            if isinstance(side, n.Name) and side.name in fields:
                t = self.field_types.get(side.name)
                if t is not None and t.kind != "number":
                    return True
        return False

    def function(self, fn: n.Function) -> str:
        """The name of the generated Python function for a policy function (generated once)."""
        if fn.name in self.function_names:
            return self.function_names[fn.name]
        pyname = f"F{len(self.function_names)}"
        self.function_names[fn.name] = pyname
        saved_var, saved_lines = self.var, self.lines
        self.var = dict(self.var)
        params = []
        for i, p in enumerate(fn.params):
            self.var[p.name] = f"p{i}"
            params.append(f"p{i}")
        self.lines = []
        self.in_function = True
        self.emit(f"def {pyname}(FL, DI, {', '.join(params)}):", 0)
        self.emit(f"r = {self.expr(fn.body)}", 1)
        self.clauses(fn.clauses, "r", 1)
        self.emit("return r", 1)
        self.functions_source.extend(self.lines)
        self.var, self.lines = saved_var, saved_lines
        self.in_function = False
        return pyname

    # ---- statements -----------------------------------------------------------------------------
    def clauses(self, clauses, target, depth, fields=frozenset()):
        for c in clauses:
            if isinstance(c, n.Floor):
                b = self.fresh()
                self.emit(f"{b} = {self.expr(c.value, fields)}", depth)
                self.emit(f"if cmp({target}, {b}, DI or FL[I]) < 0: {target} = {b}", depth)
            elif isinstance(c, n.Cap):
                b = self.fresh()
                self.emit(f"{b} = {self.expr(c.value, fields)}", depth)
                self.emit(f"if cmp({target}, {b}, DI or FL[I]) > 0: {target} = {b}", depth)
            elif isinstance(c, n.Round) and not c.each:
                self.emit(f"{target} = round_to({target}, {self.const(c.quantum)}, {c.mode!r}, DI or FL[I])",
                          depth)
                # A proven rounding is exact: what follows is exact again. Not inside a function,
                # where the caller's expression may hold inexact parts of its own.
                if not self.in_function:
                    self.emit("FL[I] = False", depth)

    def value(self, d: m.ValueDef, index: int):
        var = self.var[d.name]
        deps = [self.dep_index[dep] for dep in d.deps if dep in self.dep_index]
        self.emit(f"# {d.kind} {d.name}", 1)
        self.emit("FL[I] = False", 1)
        if deps:
            self.emit(f"DI = bool(INX) and ({' or '.join(f'{i} in INX' for i in deps)})", 1)
        else:
            self.emit("DI = False", 1)
        if d.kind == "item":
            self.item(d, var)
        elif d.kind == "scorecard":
            sc: n.Scorecard = d.node
            # A scorecard of clauses alone adds up no item: 0, as the interpreter starts its sum.
            self.emit(f"{var} = " + (" + ".join(self.var[i.name] for i in sc.items) or "ZERO"), 1)
            self.clauses(sc.clauses, var, 1)
        elif isinstance(d.node.value, n.Aggregate):
            self.aggregate(d.node.value, d.node.clauses, var)
            self.clauses(d.node.clauses, var, 1)
        else:
            self.emit(f"{var} = {self.expr(d.node.value)}", 1)
            self.clauses(d.node.clauses, var, 1)
        clauses = getattr(d.node, "clauses", ())
        numeric = [c for c in clauses if isinstance(c, (n.Floor, n.Cap, n.Round)) and not getattr(c, "each", False)]
        if not (numeric and isinstance(numeric[-1], n.Round)):
            # A copy of an inexact value is inexact too, even with no operation of its own.
            self.emit(f"if FL[I] or DI: INX.add({index})", 1)

    def aggregate(self, agg: n.Aggregate, clauses, var):
        decl = self.facts[agg.list_name]
        records = bool(decl.type.fields)
        fields = frozenset(f[0] for f in decl.type.fields) if records else frozenset({agg.list_name})
        self.field_types = ({f[0]: f[1] for f in decl.type.fields} if records
                            else {agg.list_name: decl.type.element})
        rounding = next((c for c in clauses if isinstance(c, n.Round) and c.each), None)
        start = self.const(x.mul(x.ZERO, rounding.quantum) if rounding is not None else x.ZERO)
        self.emit(f"{var} = {start}", 1)
        loop_var = "L" if records else "E"
        self.emit(f"for {loop_var} in {self.var[agg.list_name]}:", 1)
        if not records:
            self.emit(f"L = {{{agg.list_name!r}: E}}", 2)
        for c in clauses:
            if isinstance(c, n.Filter):
                self.emit(f"if not {self.expr(c.condition, fields)}: continue", 2)
        if agg.function == "count":
            self.emit(f"{var} += {self.const(x.ONE)}", 2)
            return
        body = self.expr(agg.body, fields) if agg.body is not None else f"L[{agg.list_name!r}]"
        if rounding is not None:
            body = f"round_to({body}, {self.const(rounding.quantum)}, {rounding.mode!r}, DI or FL[I])"
        self.emit(f"{var} += {body}", 2)

    def item(self, d: m.ValueDef, var):
        item: n.Item = d.node
        self.emit(f"{var} = {self.const(item.weight)}", 1)
        for s in item.body:
            if isinstance(s, n.Adjust):
                amount = self.expr(s.amount)
                if s.per is not None:
                    amount = f"({amount} * {self.expr(s.per)})"
                op = "-=" if s.sign == "minus" else "+="
                if s.condition is not None:
                    self.emit(f"if {self.expr(s.condition)}: {var} {op} {amount}", 1)
                else:
                    self.emit(f"{var} {op} {amount}", 1)
            elif isinstance(s, n.Override):
                self.emit(f"if {self.expr(s.condition)}: {var} = {self.expr(s.value)}", 1)
            elif isinstance(s, n.Ladder):
                self.ladder(s, var)
            elif isinstance(s, (n.Floor, n.Cap)):
                self.clauses((s,), var, 1)
        for gate in d.gates:
            self.emit(f"if not {self.expr(gate.condition, item=item.name)}: {var} = ZERO", 1)

    def ladder(self, s: n.Ladder, var):
        std, r, before = self.fresh(), self.fresh(), self.fresh()
        self.emit(f"{std} = {self.expr(s.standard)}", 1)
        self.emit(f"{before} = FL[I]", 1)
        none = None
        if s.none_rule == "standard":
            none = std
        elif s.none_rule is not None:
            none = self.expr(s.none_rule)
        if isinstance(s.rate, n.Binary) and s.rate.op == "/":
            num, den = self.fresh(), self.fresh()
            self.emit(f"{num} = {self.expr(s.rate.left)}", 1)
            self.emit(f"{den} = {self.expr(s.rate.right)}", 1)
            self.emit(f"if {den} == 0:", 1)
            self.emit(f"{r} = {none}" if none is not None else "raise Fallback()", 2)
            self.emit("else:", 1)
            self.emit(f"{r} = {num} / {den}", 2)
        else:
            self.emit(f"{r} = {self.expr(s.rate)}", 1)
        c = self.fresh()
        self.emit(f"{c} = cmp({r}, {std}, DI or FL[I])", 1)
        for step in s.steps:
            test = "<" if step.direction == "below" else ">"
            gap = f"({std} - {r})" if step.direction == "below" else f"({r} - {std})"
            q = self.fresh()
            self.emit(f"if {c} {test} 0:", 1)
            self.emit(f"{q} = {gap} / {self.expr(step.step)}", 2)
            if step.rule in ("full", "started"):
                fn = "floor_steps" if step.rule == "full" else "ceil_steps"
                self.emit(f"{q} = {fn}({q}, DI or FL[I])", 2)
                # A proven whole number of steps is exact, whatever the rate's division flagged.
                self.emit(f"FL[I] = {before}", 2)
            op = "-=" if step.sign == "minus" else "+="
            self.emit(f"{var} {op} {self.expr(step.points)} * {q}", 2)


def _is_textual(e) -> bool:
    return isinstance(e, (n.Text, n.ItemRef))


def band(bands, value, inexact):
    """The band holding `value`; an inexact value too close to an edge goes to the exact path."""
    for name, lo, lo_in, hi, hi_in in bands.bands:
        if inexact and (_close(value, lo) or _close(value, hi)):
            raise Fallback()
        if (value > lo or (value == lo and lo_in)) and (value < hi or (value == hi and hi_in)):
            return name
    raise Fallback()  # outside the range: the exact evaluator reports it


def generate(program, tables: dict, functions=None):
    """A function facts -> (values by name, names of inexact values), or None if not generated."""
    ev: m.EvaluationModel = program.evaluation
    g = _Gen(program, tables)
    g.facts = {f.name: f for f in ev.facts}
    g.types = {f.name: f.type for f in ev.facts}
    g.types.update({d.name: d.type for d in ev.values})
    g.field_types = {}
    names = [f.name for f in ev.facts] + [d.name for d in ev.values]
    for i, name in enumerate(names):
        g.var[name] = f"v{i}"
    g.dep_index = {d.name: i for i, d in enumerate(ev.values)}
    g.bands = program.bands
    g.functions = functions or {}
    g.function_names = {}
    g.functions_source = []
    g.lines.append("def evaluate(F):")
    g.emit("with localcontext(TEMPLATE) as CTX:", 1)
    body_start = len(g.lines)
    g.emit("FL = CTX.flags", 1)
    g.emit("INX = set()", 1)
    for f in ev.facts:
        g.emit(f"{g.var[f.name]} = F[{f.name!r}]", 1)
    for i, d in enumerate(ev.values):
        g.value(d, i)
    g.emit("return (" + ", ".join(g.var[d.name] for d in ev.values) + ("," if len(ev.values) == 1 else "")
           + "), INX", 1)
    # Indent the body under the `with` block.
    g.lines[body_start:] = ["    " + line for line in g.lines[body_start:]]
    source = "\n".join(g.functions_source + g.lines) + "\n"
    namespace = {
        "localcontext": __import__("decimal").localcontext, "TEMPLATE": TEMPLATE, "I": Inexact,
        "D": Decimal, "ZERO": x.ZERO, "cmp": cmp, "floor_steps": floor_steps, "ceil_steps": ceil_steps,
        "round_to": round_to, "lookup": lookup, "Fallback": Fallback, "max": max, "min": min, "abs": abs,
        "sum": sum, "len": len, "bool": bool, "band": band,
    }
    for i, c in enumerate(g.consts):
        namespace[f"K{i}"] = c
    code = compile(source, f"<kpirules {program.evaluation.name}>", "exec")
    exec(code, namespace)
    fn = namespace["evaluate"]
    fn.source = source
    return fn
