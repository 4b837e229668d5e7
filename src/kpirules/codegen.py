"""Code generation stage: each evaluation of the IR as one Python function, plain or traced.

One generator, one meaning: the traced function is the plain one with statements added that
record what shaped each value (branches taken, lookups, ladder steps, floors and caps that bit,
roundings, gates, list lines, function calls). Nothing else in the engine evaluates a policy.

The generated code is three-address code on local variables. Every arithmetic operation is a
plain Decimal operator under runtime.ENGINE (which traps Inexact), guarded by an `except` that
hands the same operation to runtime's exact fallback: zero cost while results fit, exact
fractions when they do not (Python 3.11 `try` costs nothing until something is raised).
Comparisons are Python's, which are exact between Decimals and Fractions.

Records of a traced run, per value: `events` (dicts, in the order things happened), `calls` (one
dict per policy-function call) and `x`, a dict from an IR node's record id to what it did (a
conditional's branch, a lookup's key and row, a list sum). trace.py turns them into the
explanation; coverage.py counts their branches.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from . import ir
from . import runtime as rt

_CMP = {"==": "==", "!=": "!=", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}
_ARITH = {"+": ("+", "ADD"), "-": ("-", "SUB"), "*": ("*", "MUL"), "/": ("/", "DIV")}


class _Where:
    """What names mean at the point being generated."""

    def __init__(self, *, xvar=None, calls=None, item=None, line="L", params=None, events=None):
        self.xvar = xvar        # traced: the dict receiving expression records
        self.calls = calls      # traced: the list receiving call records (None inside functions)
        self.item = item        # inside a gate: the item decided on
        self.line = line        # the current list line (or element)
        self.params = params    # inside a function: parameter variables
        self.events = events    # traced: the list receiving events


class _Gen:
    def __init__(self, policy: ir.Policy, evaluation: ir.Evaluation, traced: bool):
        self.policy = policy
        self.ev = evaluation
        self.traced = traced
        self.consts: dict = {}      # name -> object, for the namespace
        self.const_ids: dict = {}
        self.lines: list = []
        self.depth = 0
        self.tmp = 0
        self.var: dict = {}
        self.tables = {t.name: t for t in policy.tables}
        self.bands = {b.name: b for b in policy.bands}
        self.functions = {f.name: f for f in policy.functions}
        self.function_names: dict = {}
        self.function_lines: list = []
        self.columns: dict = {}     # record id of an allocation or ranking -> its variable (whole team)

    # ---- output helpers -------------------------------------------------------------------------
    def emit(self, line: str):
        self.lines.append("    " * self.depth + line)

    def fresh(self) -> str:
        self.tmp += 1
        return f"t{self.tmp}"

    def const(self, value) -> str:
        """A name for an object the code reads (a number, a table, a span, a node)."""
        key: tuple[str, object]
        if isinstance(value, (Decimal, str, bool, int)) and not isinstance(value, bool):
            key = (type(value).__name__, str(value))
        elif isinstance(value, bool):
            key = ("bool", value)
        else:
            key = ("id", id(value))
        name = self.const_ids.get(key)
        if name is None:
            name = f"K{len(self.const_ids)}"
            self.const_ids[key] = name
            self.consts[name] = value
        return name

    def guarded(self, target: str, fast: str, exact: str):
        """`target = fast`, exactly: an inexact or mixed result is recomputed by the fallback."""
        self.emit("try:")
        self.emit(f"    {target} = {fast}")
        self.emit("except (ArithmeticError, TypeError):")
        self.emit(f"    {target} = {exact}")

    def record(self, where: _Where, line: str):
        if self.traced and where.xvar is not None:
            self.emit(line.replace("X[", f"{where.xvar}[", 1))

    def event(self, where: _Where, text: str):
        if self.traced and where.events is not None:
            self.emit(f"{where.events}.append({text})")

    # ---- expressions: emit statements, return a Python expression --------------------------------
    def expr(self, e, where: _Where) -> str:
        return _EXPR[type(e)](self, e, where)

    def _const(self, e: ir.Const, where):
        if isinstance(e.value, bool):
            return "True" if e.value else "False"
        return self.const(e.value)

    def _fact(self, e, where):
        return self.var[e.name]

    def _param(self, e: ir.ParamRef, where):
        return f"p{e.index}"

    def _field(self, e: ir.FieldRef, where):
        return f"{where.line}[{e.name!r}]"

    def _elem(self, e, where):
        return where.line

    def _column(self, e: ir.ColumnRef, where):
        return f"{self.var[e.name]}[i]"  # `i`: the current line's index, in every loop over a list

    def _line_get(self, e: ir.LineGet, where):
        assert isinstance(e.target, ir.FactRef)  # the checker allows keyed list facts only
        t = self.fresh()
        self.emit(f"{t} = LINE({self.expr(e.target, where)}, {e.key_field!r}, {self.expr(e.key, where)}, "
                  f"{e.target.name!r}, {self.const(e.span)})")
        return t

    def _pick(self, e: ir.Pick, where):
        t = self.fresh()
        self.emit(f"{t} = {self.var[e.name]}[LINE_INDEX({self.var[e.list_name]}, {e.key_field!r}, "
                  f"{self.expr(e.key, where)}, {e.list_name!r}, {self.const(e.span)})]")
        return t

    def _team(self, e: ir.Allocate | ir.Rank, where):
        return f"{self.columns[e.rid]}[0][i]"  # computed for the whole team before the member loop

    def _item_name(self, e, where):
        return self.const(where.item)

    def _neg(self, e: ir.Neg, where):
        a = self.expr(e.operand, where)
        t = self.fresh()
        self.guarded(t, f"-{a}", f"NEG({a}, {self.const(e.span)})")
        return t

    def _not(self, e: ir.Not, where):
        return f"(not {self.expr(e.operand, where)})"

    def _arith(self, e: ir.Arith, where):
        a = self.expr(e.left, where)
        b = self.expr(e.right, where)
        op, fallback = _ARITH[e.op]
        t = self.fresh()
        if e.op == "/" and not _terminating_divisor(e.right):
            # Often endless (won / supported): exact from the start rather than a trapped Inexact.
            self.emit(f"{t} = QUOT({a}, {b}, {self.const(e.span)})")
            return t
        self.guarded(t, f"{a} {op} {b}", f"{fallback}({a}, {b}, {self.const(e.span)})")
        return t

    def _logic(self, e: ir.Logic, where):
        t = self.fresh()
        self.emit(f"{t} = {self.expr(e.left, where)}")
        self.emit(f"if {'' if e.op == 'and' else 'not '}{t}:")
        self.depth += 1
        self.emit(f"{t} = {self.expr(e.right, where)}")
        self.depth -= 1
        return t

    def _compare(self, e: ir.Compare, where):
        a = self.expr(e.left, where)
        b = self.expr(e.right, where)
        return f"({a} {_CMP[e.op]} {b})"

    def _cond(self, e: ir.Cond, where):
        t = self.fresh()
        self.emit(f"if {self.expr(e.condition, where)}:")
        self.depth += 1
        self.record(where, f"X[{e.rid}] = True")
        self.emit(f"{t} = {self.expr(e.then, where)}")
        self.depth -= 1
        self.emit("else:")
        self.depth += 1
        self.record(where, f"X[{e.rid}] = False")
        self.emit(f"{t} = {self.expr(e.otherwise, where)}")
        self.depth -= 1
        return t

    def _table(self, e: ir.TableLookup, where):
        key = self.expr(e.key, where)
        t = self.fresh()
        if self.tables[e.table].key_kind == "version":
            # The version in force on the key's date; the record names it (from, until).
            version = self.fresh()
            table = self.const(self.tables[e.table])
            self.emit(f"{version} = VERSION({table}, {key}, {self.const(e.span)})")
            self.emit(f"{t} = {version}[1]")
            self.record(where, f"X[{e.rid}] = ({key}, {t}, {version}[0])")
            return t
        rows = self.const(dict(self.tables[e.table].rows))
        self.emit("try:")
        self.emit(f"    {t} = {rows}[{key}]")
        self.emit("except KeyError:")
        self.emit(f"    raise NO_ROW({e.table!r}, {key}, {self.const(e.span)}) from None")
        self.record(where, f"X[{e.rid}] = ({key}, {t})")
        return t

    def _band(self, e: ir.BandLookup, where):
        key = self.expr(e.key, where)
        row = self.fresh()
        self.emit(f"{row} = BAND({self.const(self.bands[e.bands])}, {key}, {self.const(e.span)})")
        self.record(where, f"X[{e.rid}] = ({key}, {row})")
        return f"{row}[0]"

    def _keyget(self, e: ir.KeyGet, where):
        return f"{self.expr(e.target, where)}[{self.expr(e.key, where)}]"

    def _fieldget(self, e: ir.FieldGet, where):
        return f"{self.expr(e.target, where)}[{e.name!r}]"

    def _sum(self, e: ir.ListSum, where):
        t = self.fresh()
        self.emit(f"{t} = SUM({self.expr(e.arg, where)}, {self.const(e.span)})")
        self.record(where, f"X[{e.rid}] = {t}")
        return t

    def _count(self, e: ir.ListCount, where):
        t = self.fresh()
        self.emit(f"{t} = D(len({self.expr(e.arg, where)}))")
        self.record(where, f"X[{e.rid}] = {t}")
        return t

    def _as_of(self, e: ir.AsOf, where):
        return "F[AS_OF]"  # Policy.evaluate puts it there, and refuses to run without it

    def _days(self, e: ir.DaysBetween, where):
        start, end = self.expr(e.start, where), self.expr(e.end, where)
        t = self.fresh()
        self.emit(f"{t} = DAYS({start}, {end})")
        self.record(where, f"X[{e.rid}] = ({start}, {end}, {t})")
        return t

    def _date_fn(self, e: ir.DateFn, where):
        args = [self.expr(a, where) for a in e.args]
        t = self.fresh()
        self.emit(f"{t} = DATE_FN({e.fn!r}, ({', '.join(args)},), {self.const(e.span)})")
        return t

    def _abs(self, e: ir.Abs, where):
        t = self.fresh()
        self.emit(f"{t} = ABS({self.expr(e.arg, where)}, {self.const(e.span)})")
        return t

    def _extreme(self, e: ir.Extreme, where):
        # Python's max/min keep the first of equal arguments and compare exactly.
        args = [self.expr(a, where) for a in e.args]
        if self.traced and where.xvar is not None:
            # Which argument was chosen (the first of equal ones), for coverage of each side.
            t = self.fresh()
            self.emit(f"{t} = {e.fn}({', '.join(args)})")
            self.record(where, f"X[{e.rid}] = [{', '.join(args)}].index({t})")
            return t
        return f"{e.fn}({', '.join(args)})"

    def _blend(self, e: ir.Blend, where):
        acc = self.fresh()
        self.emit(f"{acc} = ZERO")
        span = self.const(e.span)
        for expr, weight in e.parts:
            part = self.expr(expr, where)
            w = self.const(weight)
            t = self.fresh()
            self.guarded(t, f"{part} * {w}", f"MUL({part}, {w}, {span})")
            self.guarded(acc, f"{acc} + {t}", f"ADD({acc}, {t}, {span})")
        return acc

    def _call(self, e: ir.Call, where: _Where):
        fn = self.functions[e.function]
        pyname = self.function(fn)
        args = [self.expr(a, where) for a in e.args]
        t = self.fresh()
        span = self.const(e.span)
        self.emit("try:")
        if self.traced:
            raw, events, xs, nested = self.fresh(), self.fresh(), self.fresh(), self.fresh()
            self.emit(f"    {t}, {raw}, {events}, {xs}, {nested} = T{pyname}({', '.join(args)})")
        else:
            self.emit(f"    {t} = {pyname}({', '.join(args)})")
        self.emit("except Failure as f:")
        self.emit(f"    raise IN_FUNCTION(f, {fn.name!r}, {span}) from None")
        if self.traced and where.calls is not None:
            static = self.const({"function": fn.name, "label": fn.label, "body": fn.body, "span": e.span,
                                 "text": e.span.text, "cites": fn.cites, "notes": fn.notes, "params": fn.params,
                                 "rid": e.rid})
            arg_map = "{" + ", ".join(f"{p!r}: {a}" for p, a in zip(fn.params, args, strict=True)) + "}"
            self.emit(f"{where.calls}.append({{**{static}, 'args': {arg_map}, 'computed': {raw}, "
                      f"'result': {t}, 'events': {events}, 'x': {xs}, 'calls': {nested}}})")
        return t

    # ---- policy functions -----------------------------------------------------------------------
    def function(self, fn: ir.Function) -> str:
        """The Python name of a policy function (generated once; traced: `T` + that name)."""
        if fn.name in self.function_names:
            return self.function_names[fn.name]
        pyname = f"F{len(self.function_names)}"
        self.function_names[fn.name] = pyname
        saved = self.lines, self.depth
        self.lines, self.depth = [], 0
        params = ", ".join(f"p{i}" for i in range(len(fn.params)))
        where = _Where(xvar="FX" if self.traced else None, calls="FC" if self.traced else None,
                       events="FE" if self.traced else None, params=True)
        self.emit(f"def {'T' if self.traced else ''}{pyname}({params}):")
        self.depth = 1
        if self.traced:
            self.emit("FE = []")
            self.emit("FX = {}")
            self.emit("FC = []")
        self.emit(f"raw = {self.expr(fn.body, where)}")
        self.emit("r = raw")
        self.clauses(fn.clauses, "r", where)
        self.emit("return (SETTLE(r), raw, FE, FX, FC)" if self.traced else "return SETTLE(r)")
        self.function_lines.extend(self.lines)
        self.lines, self.depth = saved
        return pyname

    # ---- clauses ----------------------------------------------------------------------------------
    def clauses(self, clauses, target: str, where: _Where):
        for c in clauses:
            if isinstance(c, (ir.Floor, ir.Cap)):
                kind, test = ("floor", "<") if isinstance(c, ir.Floor) else ("cap", ">")
                b = self.expr(c.bound, where)
                self.emit(f"if {target} {test} {b}:")
                self.depth += 1
                self.event(where, f"{{'kind': {kind!r}, 'bound': {b}, 'before': {target}, 'after': {b}, "
                                  f"'span': {self.const(c.span)}}}")
                self.record(where, f"X[{c.rid}] = True")
                self.emit(f"{target} = {b}")
                self.depth -= 1
                if self.traced and where.xvar is not None:
                    self.emit("else:")
                    self.depth += 1
                    self.record(where, f"X[{c.rid}] = False")
                    self.depth -= 1
            elif isinstance(c, ir.Round):
                before = self.fresh()
                self.emit(f"{before} = {target}")
                self.emit(f"{target} = ROUND({before}, {self.const(c.quantum)}, {c.mode!r}, {self.const(c.span)})")
                self.event(where, f"{{'kind': 'round', 'mode': {c.mode!r}, 'quantum': {self.const(c.quantum)}, "
                                  f"'before': {before}, 'after': {target}, 'span': {self.const(c.span)}}}")

    # ---- values -----------------------------------------------------------------------------------
    def value(self, v: ir.Value, index: int):
        var = self.var[v.name]
        self.emit(f"# {v.kind} {v.name}")
        self.emit(f"at = {index}")
        where = _Where(xvar="X", calls="C", events="E") if self.traced else _Where()
        if self.traced:
            self.emit("E = []")
            self.emit("C = []")
            self.emit("X = {}")
        if v.per is not None:
            assert isinstance(v.compute, ir.Formula)  # the checker allows formulas only in `for each`
            self.per_member(v, v.compute, var, where)
        else:
            _VALUE[type(v.compute)](self, v.compute, var, where)
        if v.type.kind == "number" and v.per is None:
            self.emit(f"if type({var}) is not D: {var} = SETTLE({var})")
        if self.traced:
            self.emit("REC.append((E, C, X))")

    def per_member(self, v: ir.Value, f: ir.Formula, var: str, where: _Where):
        """A `for each` value: a column, one value per line, in list order. Allocations and
        rankings read the whole team, so they are computed first, once (`team`)."""
        lines = self.var[v.per]
        for node in reversed(list(ir.walk(f))):  # the innermost first: a weight may itself be a rank
            if isinstance(node, (ir.Allocate, ir.Rank)) and node.rid not in self.columns:
                self.team(node, lines, where)
        self.emit(f"{var} = []")
        self.emit(f"for i, L in enumerate({lines}):")
        self.depth += 1
        line = _Where(xvar="MX", calls="MC", events="ME") if self.traced else _Where()
        if self.traced:
            self.emit("ME = []")
            self.emit("MC = []")
            self.emit("MX = {}")
        t = self.fresh()
        self.emit(f"{t} = {self.expr(f.expr, line)}")
        self.post(f.clauses, t, line)
        if v.type.kind == "number":
            self.emit(f"if type({t}) is not D: {t} = SETTLE({t})")
        self.emit(f"{var}.append({t})")
        self.event(where, f"{{'kind': 'member', 'index': i, 'line': L, 'value': {t}, 'events': ME, "
                          f"'calls': MC, 'x': MX}}")
        self.depth -= 1

    def team(self, e: ir.Allocate | ir.Rank, lines: str, where: _Where):
        """The whole team's allocation or ranking, into a variable the member loop reads."""
        column = self.fresh()
        self.emit(f"{column} = []")
        self.emit(f"for i, L in enumerate({lines}):")
        self.depth += 1
        each = self.expr(e.weight if isinstance(e, ir.Allocate) else e.value, _Where())
        self.emit(f"{column}.append({each})")
        self.depth -= 1
        out = self.fresh()
        span = self.const(e.span)
        if isinstance(e, ir.Allocate):
            amount = self.expr(e.amount, where)
            self.emit(f"{out} = ALLOCATE({amount}, {column}, {self.const(e.quantum)}, {e.ties!r}, {span})")
            self.record(where, f"X[{e.rid}] = dict({out}[1], amount={amount})")
        else:
            self.emit(f"{out} = RANK({column}, {e.kind!r}, {e.order!r}, {span})")
            self.record(where, f"X[{e.rid}] = dict({out}[1], values={column}, places={out}[0])")
        self.columns[e.rid] = out

    def formula(self, f: ir.Formula, var: str, where: _Where):
        self.emit(f"{var} = {self.expr(f.expr, where)}")
        self.post(f.clauses, var, where)

    def post(self, clauses, var, where):
        if clauses:
            self.event(where, f"{{'kind': 'computed', 'value': {var}}}")
            self.clauses(clauses, var, where)

    def aggregate(self, a: ir.Aggregate, var: str, where: _Where):
        start = a.round_each.quantum * 0 if a.round_each is not None else rt.ZERO
        self.emit(f"{var} = {self.const(start)}")
        span = self.const(a.span)
        # `i` is read by per-member values of the line (and by the trace's records).
        self.emit(f"for i, L in enumerate({self.var[a.list_name]}):")
        self.depth += 1
        line = _Where(xvar="LX", calls=where.calls, events=where.events)
        if self.traced:
            self.emit("LX = {}")
        for flt in a.filters:
            cond = self.expr(flt.condition, line)
            self.record(line, f"X[{flt.rid}] = bool({cond})")
            self.emit(f"if not {cond}:")
            self.depth += 1
            self.event(where, f"{{'kind': 'line', 'index': i, 'line': L, 'included': False, "
                              f"'reason': {flt.reason!r}, 'condition': {flt.condition.span.text!r}, "
                              f"'span': {self.const(flt.span)}, 'filter': {self.const(flt)}, 'x': LX}}")
            self.emit("continue")
            self.depth -= 1
        if a.counting:
            self.guarded(var, f"{var} + ONE", f"ADD({var}, ONE, {span})")
            self.event(where, "{'kind': 'line', 'index': i, 'line': L, 'included': True, 'value': ONE, 'x': LX}")
        else:
            body = self.expr(a.body, line) if a.body is not None else "L"
            item = self.fresh()
            self.emit(f"{item} = {body}")
            r = a.round_each
            if r is not None:
                before = item
                item = self.fresh()
                self.emit(f"{item} = ROUND({before}, {self.const(r.quantum)}, {r.mode!r}, {self.const(r.span)})")
            self.guarded(var, f"{var} + {item}", f"ADD({var}, {item}, {span})")
            if self.traced:
                rnd = "None" if r is None else (
                    f"{{'mode': {r.mode!r}, 'quantum': {self.const(r.quantum)}, 'before': {before}, "
                    f"'after': {item}, 'span': {self.const(r.span)}}}")
                self.event(where, f"{{'kind': 'line', 'index': i, 'line': L, 'included': True, 'value': {item}, "
                                  f"'round': {rnd}, 'x': LX}}")
        self.depth -= 1
        self.post(a.clauses, var, where)

    def item(self, it: ir.Item, var: str, where: _Where):
        self.emit(f"{var} = {self.const(it.weight)}")
        for s in it.steps:
            if isinstance(s, ir.Adjust):
                self.adjust(s, var, where)
            elif isinstance(s, ir.Override):
                self.override(s, var, where)
            elif isinstance(s, ir.Ladder):
                self.ladder(s, var, where)
            else:
                self.clauses((s,), var, where)
        opened = 0
        for g in it.gates:
            gw = _Where(xvar=where.xvar, calls=where.calls, events=where.events, item=self.item_name)
            cond = self.expr(g.condition, gw)
            self.record(where, f"X[{g.rid}] = bool({cond})")
            self.emit(f"if not {cond}:")
            self.depth += 1
            self.event(where, f"{{'kind': 'gate', 'passed': False, 'tag': {g.tag!r}, 'before': {var}, "
                              f"'gate': {self.const(g)}, 'reason': {g.reason!r}, "
                              f"'condition': {g.condition.span.text!r}, 'cites': {self.const(g.cites)}, "
                              f"'notes': {self.const(g.notes)}, "
                              f"'span': {self.const(g.span)}}}")
            self.emit(f"{var} = ZERO")
            self.depth -= 1
            # A closed gate decides: the gates after it are not asked.
            self.emit("else:")
            self.depth += 1
            opened += 1
            self.event(where, f"{{'kind': 'gate', 'passed': True, 'tag': {g.tag!r}, 'gate': {self.const(g)}, "
                              f"'condition': {g.condition.span.text!r}, 'span': {self.const(g.span)}}}")
            self.emit("pass")
        self.depth -= opened

    def unless(self, rid: int, condition: ir.Expr, where: _Where, skipped: str) -> None:
        """`if not COND:` with the `skipped` event, then an open `else:` block (the caller closes
        it); the branch taken is recorded for coverage."""
        cond = self.expr(condition, where)
        self.record(where, f"X[{rid}] = bool({cond})")
        self.emit(f"if not {cond}:")
        self.depth += 1
        self.event(where, skipped)
        self.emit("pass")
        self.depth -= 1
        self.emit("else:")
        self.depth += 1

    def adjust(self, s: ir.Adjust, var: str, where: _Where):
        span = self.const(s.span)
        opened = s.condition is not None
        if s.condition is not None:
            self.unless(s.rid, s.condition, where,
                        f"{{'kind': 'adjust', 'applied': False, 'sign': {s.sign!r}, 'span': {span}, "
                        f"'text': {s.span.text!r}, 'value': {var}}}")
        amount = self.expr(s.amount, where)
        if s.per is not None:
            per = self.expr(s.per, where)
            delta = self.fresh()
            self.guarded(delta, f"{amount} * {per}", f"MUL({amount}, {per}, {span})")
        else:
            per, delta = "None", amount
        before = self.fresh()
        self.emit(f"{before} = {var}")
        op, fallback = ("-", "SUB") if s.sign == "minus" else ("+", "ADD")
        self.guarded(var, f"{before} {op} {delta}", f"{fallback}({before}, {delta}, {span})")
        self.event(where, f"{{'kind': 'adjust', 'applied': True, 'sign': {s.sign!r}, 'amount': {amount}, "
                          f"'per': {per}, 'delta': {delta}, 'before': {before}, 'after': {var}, 'span': {span}, "
                          f"'text': {s.span.text!r}}}")
        if opened:
            self.depth -= 1

    def override(self, s: ir.Override, var: str, where: _Where):
        span = self.const(s.span)
        self.unless(s.rid, s.condition, where,
                    f"{{'kind': 'override', 'applied': False, 'span': {span}, 'text': {s.span.text!r}, "
                    f"'value': {var}}}")
        before = self.fresh()
        self.emit(f"{before} = {var}")
        self.emit(f"{var} = {self.expr(s.value, where)}")
        self.event(where, f"{{'kind': 'override', 'applied': True, 'before': {before}, 'after': {var}, "
                          f"'span': {span}, 'text': {s.span.text!r}}}")
        self.depth -= 1

    def ladder(self, s: ir.Ladder, var: str, where: _Where):
        std, r, und = self.fresh(), self.fresh(), self.fresh()
        self.emit(f"{std} = {self.expr(s.standard, where)}")
        if s.none is not None:
            # A rate that cannot be computed (0 of 0 proposals) takes the `if none` value.
            self.emit("try:")
            self.depth += 1
            self.emit(f"{r} = {self.expr(s.rate, where)}")
            self.emit(f"{und} = False")
            self.depth -= 1
            self.emit("except Failure:")
            self.depth += 1
            self.emit(f"{r} = {std if s.none == 'standard' else self.expr(s.none, where)}")
            self.emit(f"{und} = True")
            self.depth -= 1
        else:
            self.emit(f"{r} = {self.expr(s.rate, where)}")
            self.emit(f"{und} = False")
        common = (f"'rate': {r}, 'standard': {std}, 'undefined': {und}, 'percent': {s.percent}, "
                  f"'rate_text': {s.rate.span.text!r}, 'rid': {s.rid}")
        first = True
        for line in (s.below, s.above):
            if line is None:
                continue
            test = "<" if line.direction == "below" else ">"
            self.emit(f"{'if' if first else 'elif'} {r} {test} {std}:")
            first = False
            self.depth += 1
            self.ladder_line(line, s, r, std, var, where, common, und)
            self.depth -= 1
        if not first:
            self.emit("else:")
            self.depth += 1
        # A side without a step line scores as on the standard.
        self.record(where, f"X[{s.rid}] = 'no_rate' if {und} else 'at'")
        direction = f"('at' if {r} == {std} else ('below' if {r} < {std} else 'above'))"
        self.event(where, f"{{'kind': 'ladder', {common}, 'direction': {direction}, 'steps': ZERO, "
                          f"'delta': ZERO, 'before': {var}, 'after': {var}, 'span': {self.const(s.span)}}}")
        self.emit("pass")
        if not first:
            self.depth -= 1

    def ladder_line(self, line: ir.LadderLine, s: ir.Ladder, r, std, var, where, common, und):
        span = self.const(line.span)
        self.record(where, f"X[{s.rid}] = 'no_rate' if {und} else {line.direction!r}")
        gap, step, q, pts, delta, before = (self.fresh() for _ in range(6))
        if line.direction == "below":
            self.guarded(gap, f"{std} - {r}", f"SUB({std}, {r}, {span})")
        else:
            self.guarded(gap, f"{r} - {std}", f"SUB({r}, {std}, {span})")
        self.emit(f"{step} = {self.expr(line.step, where)}")
        self.emit(f"if not {step} > 0: raise BAD_STEP({self.const(line.step.span)})")
        self.guarded(q, f"{gap} / {step}", f"DIV({gap}, {step}, {span})")
        if line.rule == "full":
            self.emit(f"{q} = FLOOR_STEPS({q})")
        elif line.rule == "started":
            self.emit(f"{q} = CEIL_STEPS({q})")
        self.emit(f"{pts} = {self.expr(line.points, where)}")
        self.guarded(delta, f"{pts} * {q}", f"MUL({pts}, {q}, {span})")
        self.emit(f"{before} = {var}")
        op, fallback = ("-", "SUB") if line.sign == "minus" else ("+", "ADD")
        self.guarded(var, f"{before} {op} {delta}", f"{fallback}({before}, {delta}, {span})")
        self.event(where, f"{{'kind': 'ladder', {common}, 'direction': {line.direction!r}, 'gap': {gap}, "
                          f"'step': {step}, 'rule': {line.rule!r}, 'steps': {q}, 'points': {pts}, "
                          f"'sign': {line.sign!r}, 'delta': {delta}, 'before': {before}, 'after': {var}, "
                          f"'span': {span}}}")

    def scorecard(self, sc: ir.ScorecardSum, var: str, where: _Where):
        self.emit(f"{var} = ZERO")
        span = self.const(sc.span)
        for name in sc.items:
            item = self.var[name]
            self.guarded(var, f"{var} + {item}", f"ADD({var}, {item}, {span})")
        self.clauses(sc.clauses, var, where)

    # ---- the evaluation ---------------------------------------------------------------------------
    def generate(self) -> str:
        names = [f.name for f in self.ev.facts] + [v.name for v in self.ev.values]
        for i, name in enumerate(names):
            self.var[name] = f"v{i}"
        self.depth = 0
        self.emit(f"def {'traced' if self.traced else 'plain'}(F):")
        self.depth = 1
        self.emit("with localcontext(ENGINE):")
        self.depth = 2
        if self.traced:
            self.emit("REC = []")
        self.emit("at = -1")
        self.emit("try:")
        self.depth = 3
        for f in self.ev.facts:
            self.emit(f"{self.var[f.name]} = F[{f.name!r}]")
        for i, v in enumerate(self.ev.values):
            self.item_name = v.name
            self.value(v, i)
        self.depth = 2
        self.emit("except Failure as f:")
        self.emit("    f.at = at")
        self.emit("    raise")
        out = "(" + "".join(f"{self.var[v.name]}, " for v in self.ev.values) + ")"
        self.emit(f"return ({out}, REC)" if self.traced else f"return {out}")
        return "\n".join(self.function_lines + self.lines) + "\n"


def _terminating_divisor(e) -> bool:
    """A literal divisor of only the factors 2 and 5 (`/ 100`, `/ 4`): the quotient always ends."""
    if not isinstance(e, ir.Const) or not isinstance(e.value, Decimal) or not e.value:
        return False
    n, _ = e.value.as_integer_ratio()
    n = abs(n)
    while n % 2 == 0:
        n //= 2
    while n % 5 == 0:
        n //= 5
    return n == 1


_EXPR = {
    ir.Const: _Gen._const, ir.FactRef: _Gen._fact, ir.ValueRef: _Gen._fact, ir.ParamRef: _Gen._param,
    ir.FieldRef: _Gen._field, ir.ElemRef: _Gen._elem, ir.ItemName: _Gen._item_name, ir.Neg: _Gen._neg,
    ir.Not: _Gen._not, ir.Arith: _Gen._arith, ir.Logic: _Gen._logic, ir.Compare: _Gen._compare,
    ir.Cond: _Gen._cond, ir.TableLookup: _Gen._table, ir.BandLookup: _Gen._band, ir.KeyGet: _Gen._keyget,
    ir.FieldGet: _Gen._fieldget, ir.ListSum: _Gen._sum, ir.ListCount: _Gen._count, ir.Abs: _Gen._abs,
    ir.Extreme: _Gen._extreme, ir.Blend: _Gen._blend, ir.Call: _Gen._call, ir.DaysBetween: _Gen._days,
    ir.DateFn: _Gen._date_fn, ir.AsOf: _Gen._as_of, ir.ColumnRef: _Gen._column, ir.LineGet: _Gen._line_get,
    ir.Pick: _Gen._pick, ir.Allocate: _Gen._team, ir.Rank: _Gen._team,
}
_VALUE: dict[type, Callable[[_Gen, Any, str, _Where], None]] = {
    ir.Formula: _Gen.formula, ir.Aggregate: _Gen.aggregate, ir.Item: _Gen.item,
    ir.ScorecardSum: _Gen.scorecard,
}


def generate(policy: ir.Policy, evaluation: ir.Evaluation, traced: bool) -> Callable[[dict[str, Any]], tuple]:
    """The Python function of one evaluation: facts -> values in `evaluation.values` order
    (traced: (values, records), one (events, calls, x) record per value)."""
    g = _Gen(policy, evaluation, traced)
    source = g.generate()
    namespace: dict[str, Any] = dict(rt.NAMESPACE)
    namespace.update(g.consts)
    code = compile(source, f"<kpirules {evaluation.name}{' traced' if traced else ''}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source, from the checked IR
    fn = namespace["traced" if traced else "plain"]
    fn.source = source
    return fn


# ---- tiers and assertions (issue 10) -------------------------------------------------------------

def _tier_apply(self: _Gen, e: ir.TierApply, where: _Where) -> str:
    """The schedule applied by runtime.tiers (tiers.py); the record keeps the value, the base,
    each tier's row and the tier reached, for the explanation and for coverage."""
    value = self.expr(e.value, where)
    base = self.expr(e.base, where) if e.base is not None else "None"
    t = self.fresh()
    self.emit(f"{t} = TIERS({self.const(e.schedule)}, {e.mode!r}, {e.tier!r}, {value}, {base}, "
              f"{self.const(e.span)})")
    self.record(where, f"X[{e.rid}] = ({value}, {base}, {t}[1], {t}[2], {t}[0])")
    return f"{t}[0]"


def _assertion(self: _Gen, a: ir.Assert, var: str, where: _Where) -> None:
    """A false condition stops the evaluation with the message and the values it read."""
    cond = self.expr(a.condition, where)
    self.record(where, f"X[{a.rid}] = bool({cond})")
    reads = "{" + ", ".join(f"{name!r}: {self.var[name]}" for name in a.reads if name in self.var) + "}"
    self.emit(f"if not {cond}: raise ASSERT_FAILED({a.message!r}, {self.const(a.span)}, {reads})")
    self.emit(f"{var} = True")


_EXPR[ir.TierApply] = _tier_apply
_VALUE[ir.Assert] = _assertion
