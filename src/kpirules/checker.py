"""Check stage: surface tree to checked model, or diagnostics. Names, types and units, order.

The passes run in a fixed order (tables, top-level values, then each evaluation: scope, types,
dependencies, lints); each adds diagnostics and none raises, so one run reports every problem.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

import attrs

from . import model as m
from . import nodes as n
from .diagnostics import did_you_mean, error, warning
from .source import SourceFile

FUNCTIONS = {"max", "min", "abs"}


# Words that can start or join an expression: a fact or value so named could never be read back
# in a formula (elsewhere the parser tells keywords and names apart by position).
RESERVED = frozenset({"if", "then", "else", "not", "and", "or", "true", "false", "item", "sum", "count",
                      "blend"})


@attrs.define
class Symbol:
    kind: str          # fact, value, item, scorecard, table
    type: m.Type | None
    node: object
    span: object


@attrs.define
class Ctx:
    """Where an expression is being typed: its scope, a list line's fields, what it reads."""
    scope: dict
    fields: dict = attrs.Factory(dict)
    in_gate: bool = False
    deps: list = attrs.Factory(list)
    used: set = attrs.Factory(set)


class Checker:
    def __init__(self, source: SourceFile):
        self.source = source
        self.diags: list = []
        self.suggested: set = set()   # names offered by a "did you mean" (no W401 for them)

    # ---- helpers -------------------------------------------------------------------------------
    def err(self, code, message, span, help=None):
        self.diags.append(error(code, message, span, help))

    def warn(self, code, message, span, help=None):
        self.diags.append(warning(code, message, span, help))

    def did_you_mean(self, name, candidates) -> str | None:
        candidates = list(candidates)
        help = did_you_mean(name, candidates)
        if help is not None:
            self.suggested.update(c for c in candidates if help == f"did you mean `{c}`?")
        return help

    # ---- entry ---------------------------------------------------------------------------------
    def check(self, policy: n.Policy) -> m.PolicyModel | None:
        # Imports were resolved by the loader: their definitions are in the tree already.
        tables = self._tables(policy)
        top_scope: dict = {}
        for t in policy.tables:
            if t.name in tables and tables[t.name].span is t.span:
                self._declare(top_scope, t.name, Symbol("table", None, t, t.span), t.span)
        bands = {}
        for b in policy.bands:
            if self._declare(top_scope, b.name, Symbol("bands", m.TEXT, b, b.span), b.span):
                bands[b.name] = self._bands(b)
        self.ladders = {}
        for lad in policy.ladders:
            if self._declare(top_scope, lad.name, Symbol("ladder", None, lad, lad.span), lad.span):
                self.ladders[lad.name] = lad
                self._ladder_steps(lad.steps, Ctx(scope={}))
        self.functions = {}
        for fn in policy.functions:
            if self._declare(top_scope, fn.name, Symbol("function", None, fn, fn.name_span), fn.name_span):
                self.functions[fn.name] = fn
        self.function_types = {}
        self.top_scope = top_scope
        for fn in policy.functions:
            if self.functions.get(fn.name) is fn and fn.name not in self.function_types:
                self._function(fn, top_scope)
        top_defs = []
        for d in policy.definitions:
            if d.kind == "output":
                self.err("E209", f"output `{d.name}` must be inside an evaluation", d.name_span,
                         "use `let` for a value shared by every evaluation")
            if self._declare(top_scope, d.name, Symbol("value", None, d, d.name_span), d.name_span):
                top_defs.append(d)
        if not policy.evaluations and not policy.is_module:
            self.err("E211", "the policy has no evaluation", policy.span,
                     "add an evaluation with its facts and values, e.g. `evaluation monthly:`")
        evaluations = []
        seen = {}
        for ev in policy.evaluations:
            if ev.name in seen:
                self.err("E202", f"duplicate evaluation `{ev.name}`", ev.span,
                         f"the first is at line {seen[ev.name].line}")
                continue
            seen[ev.name] = ev.span
            evaluations.append(self._evaluation(ev, top_scope, top_defs, tables))
        self._names_not_reserved(policy)
        for ex in policy.examples:
            self._example(ex, evaluations)
        if any(d.is_error for d in self.diags):
            return None
        return m.PolicyModel(name=policy.name, label=policy.label, version=policy.version,
                             source=self.source,
                             sha256=hashlib.sha256(self.source.text.encode("utf-8")).hexdigest(),
                             tables=tuple(tables.values()), evaluations=tuple(evaluations),
                             bands=tuple(bands.values()), functions=tuple(self.functions.values()),
                             examples=tuple(policy.examples), diagnostics=tuple(self.diags))

    # ---- shared definitions ----------------------------------------------------------------------
    def _bands(self, b: n.Bands) -> m.BandsModel:
        """Bands must cover their declared range exactly once: no gap, no overlap, at exact edges."""
        low, high = _literal(b.low), _literal(b.high)
        if low is None or high is None or low > high:
            self.err("E315", f"bands `{b.name}` need a range of two numbers, low first", b.span,
                     "write e.g. `bands grades in 0..100:`")
            return m.BandsModel(name=b.name, label=b.label, low=low or Decimal(0), high=high or Decimal(0),
                                bands=(), span=b.span)
        intervals = []
        for band in b.bands:
            lo = _literal(band.low) if band.low is not None else None
            hi = _literal(band.high) if band.high is not None else None
            if (band.low is not None and lo is None) or (band.high is not None and hi is None):
                self.err("E315", f"band `{band.name}` needs plain numbers as its edges", band.span)
                continue
            lo, lo_in = (low, True) if lo is None else (lo, band.low_inclusive)
            hi, hi_in = (high, True) if hi is None else (hi, band.high_inclusive)
            if lo > hi or (lo == hi and not (lo_in and hi_in)):
                self.err("E315", f"band `{band.name}` is empty", band.span, "its lower edge must be below its upper edge")
                continue
            intervals.append((lo, lo_in, hi, hi_in, band))
        names = [i[4].name for i in intervals]
        for dup in {x for x in names if names.count(x) > 1}:
            self.err("E202", f"bands `{b.name}` name `{dup}` twice", b.span)
        ordered = sorted(intervals, key=lambda i: (i[0], not i[1]))
        # Walk up from the range's low end. Covered so far: [low, at] when at_in, else [low, at).
        at, at_in, prev = low, False, None
        for lo, lo_in, hi, hi_in, band in ordered:
            if not (lo == at and lo_in != at_in):
                if lo > at or (lo == at and not lo_in and not at_in):
                    witness = at if not at_in else (at + lo) / 2
                    self.err("E315", f"bands `{b.name}` leave a gap: {_fmt_any(witness)} falls in no band",
                             band.span, f"make `{prev.name}` end exactly where `{band.name}` begins"
                             if prev else f"start `{band.name}` at the low end of the range, {_fmt_any(low)}")
                else:
                    witness = at if lo == at else (lo + at) / 2
                    self.err("E315", f"bands `{b.name}` overlap: {_fmt_any(witness)} falls in both "
                             f"`{prev.name}` and `{band.name}`", band.span,
                             "each value must fall in exactly one band: end one with `below X` "
                             "and start the next with `from X`")
            if hi > at or (hi == at and hi_in and not at_in):
                at, at_in, prev = hi, hi_in, band
        if ordered and (at < high or not at_in):
            witness = at if not at_in else (at + high) / 2
            self.err("E315", f"bands `{b.name}` leave a gap: {_fmt_any(witness)} falls in no band", b.span,
                     f"the bands must reach the top of the range, {_fmt_any(high)}, included")
        return m.BandsModel(name=b.name, label=b.label, low=low, high=high,
                            bands=tuple((band.name, lo, lo_in, hi, hi_in) for lo, lo_in, hi, hi_in, band in ordered),
                            span=b.span)

    def _ladder_steps(self, steps, ctx):
        directions = set()
        for step in steps:
            if not isinstance(step, n.LadderStep):
                continue
            if step.direction in directions:
                self.err("E313", f"the ladder has two `{step.direction}` lines", step.span,
                         "keep one line per direction")
            directions.add(step.direction)
            self._points(step.points, ctx, "a ladder's points")
            self._points(step.step, ctx, "a ladder's step")
            if isinstance(step.step, n.Number) and step.step.value <= 0:
                self.err("E314", "a ladder's step must be greater than zero", step.step.span,
                         "write the size of one step, e.g. `per full 5% below`")

    def _function(self, fn: n.Function, top_scope):
        scope = {k: v for k, v in top_scope.items() if v.kind in ("table", "bands", "function")}
        for p in fn.params:
            if p.name in scope and scope[p.name].kind == "param":
                self.err("E202", f"duplicate parameter `{p.name}`", p.span)
            scope[p.name] = Symbol("param", _scalar_type(p.kind), p, p.span)
        self._calling = getattr(self, "_calling", ())
        if fn.name in self._calling:
            return None
        self._calling = self._calling + (fn.name,)
        ctx = Ctx(scope=scope)
        t = self.type_of(fn.body, ctx)
        t = self._clauses(fn.clauses, t, ctx)
        for c in fn.clauses:
            if isinstance(c, n.Filter) or (isinstance(c, n.Round) and c.each):
                self.err("E309", "a function takes `floor`, `cap`, `round` and `cite` only", c.span)
        self._calling = self._calling[:-1]
        if t is not None and t.money is None:
            t = m.NUMBER
        self.function_types[fn.name] = t
        return t

    def _names_not_reserved(self, policy: n.Policy):
        """Declared names that the grammar reserves can never be read back in a formula (E215)."""
        found = []
        for ev in policy.evaluations:
            found.extend((f.name, f.span) for f in ev.facts)
            for stmt in ev.body:
                found.append((stmt.name, getattr(stmt, "name_span", stmt.span)))
                found.extend((i.name, i.name_span) for i in getattr(stmt, "items", ()))
        found.extend((d.name, d.name_span) for d in policy.definitions)
        found.extend((t.name, t.span) for t in policy.tables)
        for name, span in found:
            if name in RESERVED:
                self.err("E215", f"`{name}` is a keyword and cannot name a fact or value", span,
                         f"rename it, e.g. `{name}_value`")

    def _example(self, ex: n.Example, evaluations):
        """An example must name an evaluation, facts it declares and values it computes (E214)."""
        if ex.evaluation is None:
            if len(evaluations) != 1:
                self.err("E214", f"example `{ex.name}` must say which evaluation it is for", ex.span,
                         "add `for` and its name after the title: "
                         + ", ".join(f"`for {e.name}`" for e in evaluations))
                return
            ev = evaluations[0]
        else:
            ev = next((e for e in evaluations if e.name == ex.evaluation), None)
            if ev is None:
                self.err("E214", f"example `{ex.name}` is for an unknown evaluation `{ex.evaluation}`", ex.span,
                         self.did_you_mean(ex.evaluation, [e.name for e in evaluations]))
                return
        facts = {f.name: f for f in ev.facts}
        for path, _value in ex.given:
            if path[0] not in facts:
                self.err("E214", f"example `{ex.name}` gives an unknown fact `{path[0]}`", ex.span,
                         self.did_you_mean(path[0], facts))
        values = {d.name for d in ev.values}
        for name, _value, span in ex.expect:
            if name not in values:
                self.err("E214", f"example `{ex.name}` expects an unknown value `{name}`", span,
                         self.did_you_mean(name, values) or f"evaluation `{ev.name}` computes: "
                         + ", ".join(sorted(values)))
        if not ex.expect and not ex.errors:
            self.err("E214", f"example `{ex.name}` expects nothing", ex.span,
                     "add a line such as `expect total_score = 90` or `expect error at \"daily\"`")

    def _declare(self, scope, name, symbol, span) -> bool:
        if name in scope:
            first = scope[name].span
            where = f"line {first.line}" if first is not None else "elsewhere"
            self.err("E202", f"duplicate name `{name}`", span, f"`{name}` is already defined at {where}")
            return False
        scope[name] = symbol
        return True

    # ---- tables --------------------------------------------------------------------------------
    def _tables(self, policy) -> dict:
        out = {}
        for t in policy.tables:
            if t.name in out:
                self.err("E202", f"duplicate table `{t.name}`", t.span,
                         f"the first is at line {out[t.name].span.line}")
                continue
            value_type = _scalar_type(t.value_type)
            rows, keys, kinds = [], {}, set()
            for row in t.rows:
                if isinstance(row.key, Decimal):
                    key, kind = row.key, "number"
                elif isinstance(row.key, n.Name):
                    key, kind = row.key.name, "enum"
                else:
                    key, kind = row.key, "text"
                kinds.add("number" if kind == "number" else "text")
                if key in keys:
                    self.err("E311", f"table `{t.name}` has two rows for key `{_show_key(key)}`", row.span,
                             f"the first is at line {keys[key].line}; keep one row per key")
                    continue
                keys[key] = row.span
                value = self._constant(row.value, value_type, t)
                rows.append((key, value))
            if len(kinds) > 1:
                self.err("E305", f"table `{t.name}` mixes number keys and text keys", t.span,
                         "give every row the same kind of key: all numbers, or all names")
            key_kind = "number" if kinds == {"number"} else ("enum" if all(
                isinstance(r.key, n.Name) for r in t.rows) else "text")
            out[t.name] = m.TableModel(name=t.name, label=t.label, key_kind=key_kind,
                                       value_type=value_type, rows=tuple(rows), span=t.span,
                                       cites=tuple(c.text for c in t.cites))
        return out

    def _constant(self, expr, value_type: m.Type, table):
        """A table cell: a literal of the table's value type."""
        negative = False
        if isinstance(expr, n.Unary) and expr.op == "neg":
            negative, expr = True, expr.operand
        if value_type.kind == "number" and isinstance(expr, n.Number):
            if expr.unit == "money" and value_type.money != 1:
                self.err("E306", f"table `{table.name}` holds {_describe(value_type)}, not money",
                         expr.span, f"write a {_describe(value_type)} here, or declare the table "
                         "`-> money`")
            if expr.unit == "percent" and value_type.display not in ("percent", "number"):
                self.err("E306", f"table `{table.name}` holds {_describe(value_type)}, not a percentage",
                         expr.span, f"write a {_describe(value_type)} here, or declare the table "
                         "`-> percent`")
            return -expr.value if negative else expr.value
        if value_type.kind == "text" and isinstance(expr, n.Text):
            return expr.value
        if value_type.kind == "boolean" and isinstance(expr, n.Bool):
            return expr.value
        self.err("E306", f"table `{table.name}` holds {_describe(value_type)}; this cell must be a "
                 f"literal of that type", expr.span,
                 "table cells are written out, e.g. `15%`, `200万`, `true` or `\"text\"`; "
                 "compute with them in a `let`")
        return None

    # ---- evaluations ---------------------------------------------------------------------------
    def _evaluation(self, ev: n.Evaluation, top_scope, top_defs, tables) -> m.EvaluationModel:
        scope = dict(top_scope)
        facts = []
        for f in ev.facts:
            ftype = _fact_type(f.type)
            if self._declare(scope, f.name, Symbol("fact", ftype, f, f.span), f.span):
                facts.append(f)
        local_defs = []
        for stmt in ev.body:
            if isinstance(stmt, n.Definition):
                if self._declare(scope, stmt.name, Symbol("value", None, stmt, stmt.name_span), stmt.name_span):
                    local_defs.append(stmt)
            else:  # scorecard
                if self._declare(scope, stmt.name, Symbol("scorecard", m.POINTS, stmt, stmt.name_span),
                                 stmt.name_span):
                    local_defs.append(stmt)
                for item in stmt.items:
                    self._declare(scope, item.name, Symbol("item", m.POINTS, item, item.name_span),
                                  item.name_span)
        used: set = set()
        # Fact declarations: bounds may name other facts.
        fact_decls = [self._fact_decl(f, scope, used) for f in facts]
        # Values are typed in an order that follows their dependencies, so a name's type is known
        # when it is read; the order is found first from the names each value mentions.
        defs = [(d, True) for d in top_defs] + [(d, False) for d in local_defs]
        values = self._order(defs, scope, tables)
        typed = []
        for d, top in values:
            typed.extend(self._value(d, scope, tables, used, top))
        reached = {d.name for d, _ in values}
        for d in top_defs:  # still checked, though this evaluation does not compute it
            if d.name not in reached:
                self._value(d, scope, tables, set(), True)
        for f in facts:
            # A fact offered as "did you mean" for a misspelled name is meant to be used.
            if f.name not in used and f.name not in self.suggested:
                self.warn("W401", f"fact `{f.name}` is declared but never used", f.span,
                          "remove it, or use it in a value")
        return m.EvaluationModel(name=ev.name, label=ev.label, facts=tuple(fact_decls),
                                 values=tuple(typed), span=ev.span)

    def _fact_decl(self, f: n.Fact, scope, used) -> m.FactDecl:
        ftype = scope[f.name].type if f.name in scope and scope[f.name].node is f else _fact_type(f.type)
        t = f.type
        bounds, field_bounds, limit = (), (), None
        if isinstance(t, n.ScalarType):
            bounds = self._bounds(t, ftype, scope, used, f.name)
        elif isinstance(t, n.ListType):
            limit = t.limit
            if t.minimum is not None and t.limit is not None and t.minimum > t.limit:
                self.err("E317", f"list `{f.name}` must have at least {t.minimum} and at most {t.limit} "
                         f"entries", t.span, "no list can do both")
            if t.total is not None:
                total = self._list_total(f, t)
            if t.is_records:
                names = set()
                fb = []
                for fd in t.element:
                    if fd.name in names:
                        self.err("E202", f"duplicate field `{fd.name}`", fd.span)
                    names.add(fd.name)
                    if isinstance(fd.type, n.ScalarType):
                        fb.append((fd.name, self._bounds(fd.type, _fact_type(fd.type), {}, used, fd.name)))
                field_bounds = tuple(fb)
            elif isinstance(t.element, n.ScalarType):
                bounds = self._bounds(t.element, ftype.element, scope, used, f.name)
        elif isinstance(t, n.EnumType):
            if len(set(t.values)) != len(t.values):
                self.err("E202", "an enum value is listed twice", t.span)
        elif isinstance(t, n.RecordType):
            if len(set(t.keys)) != len(t.keys):
                self.err("E202", "a record key is listed twice", t.span)
            if t.constraints:
                bounds = self._bounds(n.ScalarType(kind=t.kind, constraints=t.constraints, span=t.span),
                                      ftype.element, scope, used, f.name)
        return m.FactDecl(name=f.name, label=f.label, type=ftype, bounds=bounds,
                          field_bounds=field_bounds, limit=limit, rule=f.type.span.text, span=f.span,
                          cites=tuple(c.text for c in f.cites),
                          minimum=getattr(t, "minimum", None),
                          total=total if isinstance(t, n.ListType) and t.total is not None else None)

    def _list_total(self, f: n.Fact, t: n.ListType):
        """`with points adding up to 80`: a numeric field of a list of records, and a plain number."""
        field, expr = t.total
        fields = {fd.name: fd for fd in t.element} if t.is_records else {}
        value = _literal(expr)
        if field not in fields or not isinstance(fields[field].type, n.ScalarType) or \
                _scalar_type(fields[field].type.kind).kind != "number":
            self.err("E317", f"`{field}` is not a number field of list `{f.name}`", t.span,
                     self.did_you_mean(field, fields) or "name a number field of the list's records")
            return None
        if value is None:
            self.err("E317", f"the total of `{f.name}` must be a plain number", expr.span)
            return None
        return (field, value)

    def _bounds(self, t: n.ScalarType, ftype: m.Type, scope, used, owner) -> tuple:
        out = []
        for c in t.constraints:
            if isinstance(c, n.PatternConstraint):
                if t.kind != "text":
                    self.err("E301", f"`matching` applies to text facts, not {t.kind}", c.span,
                             "declare the fact as `text matching \"...\"`")
                import re
                try:
                    re.compile(c.pattern)
                except re.error as exc:
                    self.err("E312", f"invalid pattern `{c.pattern}`: {exc}", c.span,
                             "a pattern is a regular expression, e.g. `\"[0-9]{4}-[0-9]{2}\"`")
                out.append(m.Bound(op="matching", value=c.pattern, span=c.span))
                continue
            if t.kind in ("text", "boolean"):
                self.err("E301", f"a {t.kind} fact cannot have a range", c.span,
                         "ranges and comparisons bound numbers; use `matching` for text"
                         if t.kind == "text" else "remove the bound")
                continue
            pairs = [(">=", c.low), ("<=", c.high)] if isinstance(c, n.RangeConstraint) else [(c.op, c.bound)]
            for op, expr in pairs:
                ctx = Ctx(scope=scope)
                bt = self.type_of(expr, ctx)
                used.update(ctx.used)
                if any(dep == owner for dep in ctx.deps):
                    self.err("E210", f"fact `{owner}` is bounded by itself", expr.span,
                             "bound it with a literal or another fact")
                computed = [dep for dep in ctx.deps if scope.get(dep) and scope[dep].kind != "fact"]
                if computed:
                    self.err("E212", f"the bound of fact `{owner}` reads `{computed[0]}`, which is "
                             "computed; a bound may use only literals and other facts", expr.span,
                             "facts are checked before anything is computed; move the check into a "
                             "value, e.g. with `cap`")
                if bt is not None:
                    self._same_unit(ftype, bt, expr.span, "compare")
                out.append(m.Bound(op=op, value=expr, span=c.span))
        return tuple(out)

    # ---- dependency order ----------------------------------------------------------------------
    def _order(self, defs, scope, tables):
        """Definitions sorted so each follows what it reads; cycles are reported (E210)."""
        by_name = {}
        for d, top in defs:
            by_name[d.name] = (d, top)
            if isinstance(d, n.Scorecard):
                for item in d.items:
                    by_name.setdefault(item.name, (item, top))  # a clash is E202; keep the first
        reads = {}
        for name, (d, _) in by_name.items():
            reads[name] = [x for x in _names_read(d) if x in by_name and x != name or
                           (x == name and not isinstance(d, n.Scorecard))]
        order, state = [], {}
        # An evaluation computes its own values and the top-level values they read, no others.
        for d, top in defs:
            if not top:
                self._visit(d.name, reads, by_name, state, order, [])
        result, seen = [], set()
        for name in order:
            d, top = by_name[name]
            if isinstance(d, n.Item):
                continue  # items are typed with their scorecard
            if name not in seen:
                seen.add(name)
                result.append((d, top))
        return result

    def _visit(self, name, reads, by_name, state, order, path):
        s = state.get(name)
        if s == "done":
            return
        if s == "active":
            cycle = path[path.index(name):] + [name]
            d = by_name[name][0]
            span = getattr(d, "name_span", d.span)
            self.err("E210", f"`{name}` depends on itself: " + " -> ".join(f"`{c}`" for c in cycle), span,
                     "break the cycle: one of these values must not read the other")
            return
        state[name] = "active"
        d = by_name[name][0]
        deps = list(reads[name])
        if isinstance(d, n.Scorecard):
            deps = [i.name for i in d.items if by_name.get(i.name, (None,))[0] is i] + deps
        for dep in deps:
            if dep in by_name:
                self._visit(dep, reads, by_name, state, order, path + [name])
        state[name] = "done"
        order.append(name)

    # ---- values --------------------------------------------------------------------------------
    def _value(self, d, scope, tables, used, top) -> list:
        if isinstance(d, n.Scorecard):
            return self._scorecard(d, scope, tables, used)
        ctx = Ctx(scope=scope if not top else {k: v for k, v in scope.items() if v.kind in ("table", "value")})
        value = d.value
        clauses = d.clauses
        cites = tuple(c.text for c in clauses if isinstance(c, n.Cite))
        if isinstance(value, n.Aggregate):
            vtype = self._aggregate(value, clauses, ctx)
        else:
            vtype = self.type_of(value, ctx)
            for c in clauses:
                if isinstance(c, n.Filter) or (isinstance(c, n.Round) and c.each):
                    word = "only if" if isinstance(c, n.Filter) else "round each"
                    self.err("E309", f"`{word}` applies only to `sum over` or `count over` values",
                             c.span, "move it under a definition of the form `= sum over LIST of ...`")
        vtype = self._clauses(clauses, vtype, ctx)
        used.update(ctx.used)
        if vtype is not None and vtype.money is None:
            vtype = m.NUMBER
        scope[d.name].type = vtype
        return [m.ValueDef(kind=d.kind, name=d.name, label=d.label, type=vtype or m.NUMBER, node=d,
                           deps=tuple(dict.fromkeys(ctx.deps)), cites=cites, span=d.span)]

    def _clauses(self, clauses, vtype, ctx):
        for c in clauses:
            if isinstance(c, (n.Floor, n.Cap)):
                ct = self.type_of(c.value, ctx)
                if vtype is not None and ct is not None:
                    if vtype.kind != "number":
                        self.err("E301", f"`{'floor' if isinstance(c, n.Floor) else 'cap'}` applies to numbers, "
                                 f"not {_describe(vtype)}", c.span)
                    else:
                        self._same_unit(vtype, ct, c.value.span, "compare")
            elif isinstance(c, n.Round):
                if c.quantum <= 0:
                    self.err("E308", "rounding quantum must be greater than zero", c.span,
                             "write e.g. `round half up to 0.01`")
                if vtype is not None and vtype.kind != "number":
                    self.err("E301", f"`round` applies to numbers, not {_describe(vtype)}", c.span)
        return vtype

    def _aggregate(self, agg: n.Aggregate, clauses, ctx: Ctx):
        sym = ctx.scope.get(agg.list_name)
        if sym is None or sym.kind != "fact" or sym.type is None or sym.type.kind != "list":
            if sym is None:
                self.err("E201", f"unknown list `{agg.list_name}`", agg.list_span,
                         self.did_you_mean(agg.list_name, [k for k, s in ctx.scope.items() if s.kind == "fact"]))
            else:
                self.err("E301", f"`{agg.list_name}` is not a list fact", agg.list_span,
                         "`sum over` and `count over` read a fact declared `list of ...`")
            return None
        ctx.deps.append(agg.list_name)
        ctx.used.add(agg.list_name)
        ltype = sym.type
        if ltype.fields:
            line_fields = {name: ftype for name, ftype, _ in ltype.fields}
        else:
            line_fields = {agg.list_name: ltype.element}
        line_ctx = Ctx(scope=ctx.scope, fields=line_fields, deps=ctx.deps, used=ctx.used)
        for c in clauses:
            if isinstance(c, n.Filter):
                self._boolean(c.condition, line_ctx, "`only if`")
            elif isinstance(c, n.Round) and c.each and agg.function != "sum":
                self.err("E309", "`round each` applies only to `sum over`", c.span)
        if agg.function == "count":
            if agg.body is not None:
                self.err("E301", "`count over` counts lines; it takes no `of` expression", agg.body.span,
                         "use `sum over LIST of ...` to add values up")
            return m.Type(kind="number", display="count")
        if agg.body is None:
            if ltype.fields:
                self.err("E301", "`sum over` a list of records needs `of` and the value of each line",
                         agg.span, f"write `sum over {agg.list_name} of FIELD`")
                return None
            body_type = ltype.element
        else:
            body_type = self.type_of(agg.body, line_ctx)
        if body_type is not None and body_type.kind != "number":
            self.err("E301", f"`sum over` adds numbers, not {_describe(body_type)}", agg.span)
            return None
        return body_type

    def _lower_item(self, item: n.Item) -> n.Item:
        """`ladder ... using NAME` takes the shared ladder's step lines (and its citations)."""
        body = []
        for s in item.body:
            if isinstance(s, n.Ladder) and s.using is not None:
                shared = self.ladders.get(s.using)
                if shared is None:
                    self.err("E216", f"unknown ladder `{s.using}`", s.using_span,
                             self.did_you_mean(s.using, self.ladders) or f"declare it with `ladder {s.using}:` "
                             "at the top of the policy, or import the module that has it")
                elif s.steps:
                    self.err("E216", f"the ladder uses `{s.using}` and also has its own step lines", s.span,
                             "keep one of the two")
                else:
                    s = attrs.evolve(s, steps=shared.steps, cites=shared.cites + s.cites)
            body.append(s)
        return attrs.evolve(item, body=tuple(body))

    def _scorecard(self, sc: n.Scorecard, scope, tables, used) -> list:
        sc = attrs.evolve(sc, items=tuple(self._lower_item(i) for i in sc.items))
        out = []
        total = Decimal(0)
        tags = {}
        for item in sc.items:
            total += item.weight
            for tag in item.tags:
                tags.setdefault(tag, []).append(item)
        gates_by_tag = {}
        for gate in sc.gates:
            if gate.tag not in tags:
                self.err("E206", f"no item of scorecard `{sc.name}` is tagged `{gate.tag}`", gate.span,
                         did_you_mean(gate.tag, tags) or f"tag items with `weight N, {gate.tag}:`")
                continue
            gates_by_tag.setdefault(gate.tag, []).append(gate)
        gate_deps = {}
        for gate in sc.gates:
            ctx = Ctx(scope=scope, in_gate=True)
            self._boolean(gate.condition, ctx, "a gate")
            used.update(ctx.used)
            gate_deps[id(gate)] = ctx.deps
            for item in tags.get(gate.tag, ()):
                self._gate_keys(gate.condition, item, scope)
        if sc.total is not None and total != sc.total:
            self.err("E310", f"item weights of `{sc.name}` add up to {_fmt(total)}, not the declared "
                     f"total {_fmt(sc.total)}", sc.name_span,
                     "change a weight, or the `total` of the scorecard")
        for item in sc.items:
            ctx = Ctx(scope=scope)
            self._item(item, ctx)
            used.update(ctx.used)
            gates = tuple(g for tag in item.tags for g in gates_by_tag.get(tag, ()))
            deps = list(ctx.deps) + [d for g in gates for d in gate_deps[id(g)]]
            cites = tuple(c.text for c in item.body if isinstance(c, n.Cite)) + tuple(
                c.text for s in item.body if isinstance(s, n.Ladder) for c in s.cites)
            out.append(m.ValueDef(kind="item", name=item.name, label=item.label, type=m.POINTS, node=item,
                                  deps=tuple(dict.fromkeys(deps)), cites=cites, span=item.span,
                                  scorecard=sc.name, gates=gates))
        ctx = Ctx(scope=scope)
        self._clauses(sc.clauses, m.POINTS, ctx)
        used.update(ctx.used)
        cites = tuple(c.text for c in sc.clauses if isinstance(c, n.Cite))
        deps = [i.name for i in sc.items] + ctx.deps
        out.append(m.ValueDef(kind="scorecard", name=sc.name, label=sc.label, type=m.POINTS, node=sc,
                              deps=tuple(dict.fromkeys(deps)), cites=cites, span=sc.span))
        return out

    def _gate_keys(self, cond, item, scope):
        """A gate that reads `record[item]` needs a record key for every item it decides on."""
        for node in n.walk(cond):
            if isinstance(node, n.Index) and isinstance(node.key, n.ItemRef) and isinstance(node.target, n.Name):
                sym = scope.get(node.target.name)
                if sym is not None and sym.type is not None and sym.type.kind == "record":
                    if item.name not in sym.type.keys:
                        self.err("E205", f"record `{node.target.name}` has no key `{item.name}` for item "
                                 f"`{item.name}`", node.span,
                                 f"add `{item.name}` to the keys of `{node.target.name}`")

    def _item(self, item: n.Item, ctx: Ctx):
        for s in item.body:
            if isinstance(s, n.Adjust):
                self._points(s.amount, ctx, f"`{s.sign}`")
                if s.per is not None:
                    self._points(s.per, ctx, "`per`")
                if s.condition is not None:
                    self._boolean(s.condition, ctx, "`if`")
            elif isinstance(s, n.Override):
                self._points(s.value, ctx, "`score`")
                self._boolean(s.condition, ctx, "`if`")
            elif isinstance(s, n.Ladder):
                self._points(s.rate, ctx, "a ladder's rate")
                self._points(s.standard, ctx, "a ladder's standard")
                if s.none_rule is not None and s.none_rule != "standard":
                    self._points(s.none_rule, ctx, "`if none`")
                if not s.steps and s.using is None:
                    self.err("E313", "a ladder needs at least one step line", s.span,
                             "add e.g. `minus 2 per full 5% below`, or `using` a shared ladder")
                self._ladder_steps(s.steps, ctx)
            elif isinstance(s, (n.Floor, n.Cap)):
                self._points(s.value, ctx, "`floor`" if isinstance(s, n.Floor) else "`cap`")

    def _points(self, expr, ctx, what):
        t = self.type_of(expr, ctx)
        if t is None:
            return
        if t.kind != "number":
            self.err("E301", f"{what} needs a number, not {_describe(t)}", expr.span)
        elif t.money not in (0, None):
            self.err("E302", f"{what} needs points or a plain number, not {_describe(t)}", expr.span,
                     "divide money by money to get a rate")

    def _boolean(self, expr, ctx, what):
        t = self.type_of(expr, ctx)
        if t is not None and t.kind != "boolean":
            self.err("E303", f"{what} needs a condition (true or false), not {_describe(t)}", expr.span,
                     f"compare it, e.g. `{_src(expr)} > 0`, or use a boolean fact"
                     if t.kind == "number" else "a condition is a comparison or a boolean fact")

    def _same_unit(self, a: m.Type, b: m.Type, span, verb) -> bool:
        if a.kind != "number" or b.kind != "number":
            if a.kind == b.kind and a.kind in ("text", "enum", "boolean") and verb == "compare":
                return True
            self.err("E301", f"cannot {verb} {_describe(a)} with {_describe(b)}", span)
            return False
        if a.money is None or b.money is None or a.money == b.money:
            return True
        self.err("E302", f"cannot {verb} {_describe(a)} with {_describe(b)}", span,
                 "write money amounts with `元` or `万` (e.g. `10万`), and rates as percentages")
        return False

    # ---- expression types ------------------------------------------------------------------------
    def type_of(self, expr, ctx: Ctx) -> m.Type | None:
        return _TYPERS[type(expr)](self, expr, ctx)

    def _t_number(self, e: n.Number, ctx):
        if e.unit == "money":
            return m.MONEY
        if e.unit == "percent":
            return m.Type(kind="number", display="percent")
        if e.value == 0:
            return m.Type(kind="number", money=None)
        return m.NUMBER

    def _t_text(self, e, ctx):
        return m.TEXT

    def _t_bool(self, e, ctx):
        return m.BOOLEAN

    def _t_name(self, e: n.Name, ctx: Ctx):
        if e.name in ctx.fields:
            return ctx.fields[e.name]
        sym = ctx.scope.get(e.name)
        if sym is None:
            candidates = list(ctx.scope) + list(ctx.fields)
            self.err("E201", f"unknown name `{e.name}`", e.span, self.did_you_mean(e.name, candidates))
            return None
        if sym.kind in ("table", "bands"):
            self.err("E301", f"{sym.kind[:-1] if sym.kind == 'bands' else 'table'} `{e.name}` must be "
                     f"looked up with a key", e.span, f"write `{e.name}[KEY]`")
            return None
        if sym.kind in ("ladder", "function"):
            self.err("E301", f"`{e.name}` is a {sym.kind}, not a value", e.span,
                     f"use it as `using {e.name}`" if sym.kind == "ladder" else f"call it: `{e.name}(...)`")
            return None
        if sym.kind == "param":
            return sym.type
        ctx.deps.append(e.name)
        ctx.used.add(e.name)
        return sym.type

    def _t_item(self, e, ctx: Ctx):
        if not ctx.in_gate:
            self.err("E207", "`item` can only be used in a gate", e.span,
                     "`item` names the item a gate decides on, e.g. `only if rollout[item]`")
            return None
        return m.Type(kind="item", money=0, display="text")

    def _t_unary(self, e: n.Unary, ctx):
        t = self.type_of(e.operand, ctx)
        if t is None:
            return None
        if e.op == "not":
            if t.kind != "boolean":
                self.err("E303", f"`not` needs a condition, not {_describe(t)}", e.operand.span,
                         "a condition is a comparison (`x >= 90%`) or a boolean fact")
                return None
            return m.BOOLEAN
        if t.kind != "number":
            self.err("E301", f"cannot negate {_describe(t)}", e.span)
            return None
        return t

    def _t_binary(self, e: n.Binary, ctx):
        lt, rt = self.type_of(e.left, ctx), self.type_of(e.right, ctx)
        if lt is None or rt is None:
            return None
        if e.op in ("and", "or"):
            for t, side in ((lt, e.left), (rt, e.right)):
                if t.kind != "boolean":
                    self.err("E303", f"`{e.op}` needs conditions, not {_describe(t)}", side.span)
                    return None
            return m.BOOLEAN
        verb = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[e.op]
        for t, side in ((lt, e.left), (rt, e.right)):
            if t.kind != "number":
                other = rt if side is e.left else lt
                help = ("a condition is not a number: write `if CONDITION then AMOUNT else 0`"
                        if t.kind == "boolean" else None)
                if e.op == "+":
                    self.err("E301", f"cannot add {_describe(lt)} to {_describe(rt)}" if lt.kind != "number"
                             else f"cannot add {_describe(rt)} to {_describe(lt)}", e.span, help)
                else:
                    self.err("E301", f"cannot {verb} {_describe(t)}", side.span, help)
                del other
                return None
        if e.op in ("+", "-"):
            if not self._same_unit(lt, rt, e.span, "add" if e.op == "+" else "subtract"):
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

    def _t_compare(self, e: n.Compare, ctx):
        lt, rt = self.type_of(e.left, ctx), self.type_of(e.right, ctx)
        if lt is None or rt is None:
            return m.BOOLEAN
        if lt.kind == "enum" or rt.kind == "enum":
            enum, other, other_node = (lt, rt, e.right) if lt.kind == "enum" else (rt, lt, e.left)
            if e.op not in ("==", "!="):
                self.err("E301", f"`{e.op}` does not apply to {_describe(enum)}", e.span)
            elif isinstance(other_node, n.Text) and other_node.value not in enum.values:
                self.err("E203", f"`{other_node.value}` is not one of {_listing(enum.values, 'and')}",
                         other_node.span, did_you_mean(other_node.value, enum.values))
            elif other.kind not in ("enum", "text"):
                self.err("E301", f"cannot compare {_describe(enum)} with {_describe(other)}", e.span)
            return m.BOOLEAN
        if e.op not in ("==", "!=") and (lt.kind != "number" or rt.kind != "number"):
            self.err("E301", f"`{e.op}` compares numbers, not {_describe(lt)} and {_describe(rt)}", e.span)
            return m.BOOLEAN
        self._same_unit(lt, rt, e.span, "compare")
        return m.BOOLEAN

    def _t_conditional(self, e: n.Conditional, ctx):
        self._boolean(e.condition, ctx, "`if`")
        a, b = self.type_of(e.then, ctx), self.type_of(e.otherwise, ctx)
        if a is None or b is None:
            return None
        if a.kind != b.kind or (a.kind == "number" and not self._same_unit(a, b, e.span, "mix")):
            if a.kind != b.kind:
                self.err("E301", f"the branches of `if` differ: {_describe(a)} and {_describe(b)}", e.span)
            return None
        return a if a.money is not None else b

    def _t_index(self, e: n.Index, ctx):
        if isinstance(e.target, n.Name) and e.target.name in ctx.scope and ctx.scope[e.target.name].kind == "table":
            return self._table_lookup(e, ctx.scope[e.target.name].node, ctx)
        if isinstance(e.target, n.Name) and e.target.name in ctx.scope and ctx.scope[e.target.name].kind == "bands":
            kt = self.type_of(e.key, ctx)
            if kt is not None and (kt.kind != "number" or kt.money not in (0, None)):
                self.err("E305", f"bands `{e.target.name}` are looked up with a score, not {_describe(kt)}",
                         e.key.span)
            return m.TEXT
        tt = self.type_of(e.target, ctx)
        if tt is None:
            return None
        if tt.kind == "record":
            if isinstance(e.key, n.ItemRef):
                self.type_of(e.key, ctx)
                return tt.element
            if isinstance(e.key, n.Text):
                if e.key.value not in tt.keys:
                    self.err("E205", f"record `{_src(e.target)}` has no key `{e.key.value}`", e.key.span,
                             did_you_mean(e.key.value, tt.keys) or f"its keys are {_listing(tt.keys, 'and')}")
                return tt.element
            self.err("E301", "a record is read with a key name, e.g. `rollout.sales_tools`", e.key.span)
            return None
        self.err("E301", f"cannot look up a key in {_describe(tt)}", e.span)
        return None

    def _table_lookup(self, e: n.Index, table: n.Table, ctx):
        kt = self.type_of(e.key, ctx)
        value_type = _scalar_type(table.value_type)
        if kt is None:
            return value_type
        row_keys = [r.key for r in table.rows]
        numeric = all(isinstance(k, Decimal) for k in row_keys)
        names = [k.name if isinstance(k, n.Name) else k for k in row_keys if not isinstance(k, Decimal)]
        if kt.kind == "enum":
            if numeric:
                self.err("E305", f"table `{table.name}` has number keys; `{_src(e.key)}` is "
                         f"{_describe(kt)}", e.key.span, "look it up with a number, or give the table "
                         "a row for each value")
                return value_type
            for key, row in zip(names, table.rows):
                if key not in kt.values:
                    self.err("E203", f"table `{table.name}` has a row `{key}` that is not one of "
                             f"{_listing(kt.values, 'and')}", row.span, did_you_mean(key, kt.values))
            missing = [v for v in kt.values if v not in names]
            if missing:
                self.err("E307", f"table `{table.name}` has no row for "
                         + ", ".join(f"`{v}`" for v in missing), table.span,
                         f"add a row `{missing[0]} -> ...`")
        elif kt.kind == "number":
            if not numeric:
                self.err("E305", f"table `{table.name}` has text keys; `{_src(e.key)}` is a number",
                         e.key.span)
                return value_type
            self._integer_coverage(e.key, table, ctx)
        elif kt.kind == "text":
            if numeric:
                self.err("E305", f"table `{table.name}` has number keys; `{_src(e.key)}` is text",
                         e.key.span)
        else:
            self.err("E305", f"cannot look up table `{table.name}` with {_describe(kt)}", e.key.span)
        return value_type

    def _integer_coverage(self, key, table, ctx):
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
            self.err("E307", f"table `{table.name}` has no row for " + ", ".join(f"`{_fmt(v)}`" for v in missing)
                     + f" (`{key.name}` may be any of {_fmt(low)}..{_fmt(high)})", table.span,
                     f"add a row `{_fmt(missing[0])} -> ...`")

    def _t_field(self, e: n.Field, ctx):
        tt = self.type_of(e.target, ctx)
        if tt is None:
            return None
        if tt.kind != "record":
            self.err("E301", f"{_describe(tt)} has no fields", e.span)
            return None
        if e.name not in tt.keys:
            self.err("E205", f"record `{_src(e.target)}` has no key `{e.name}`", e.span,
                     did_you_mean(e.name, tt.keys) or f"its keys are {_listing(tt.keys, 'and')}")
            return None
        return tt.element

    def _t_call(self, e: n.Call, ctx):
        fn = getattr(self, "functions", {}).get(e.function)
        if fn is not None and not (e.function in ctx.fields):
            return self._user_call(e, fn, ctx)
        if e.function in ("sum", "count"):
            arg = e.args[0]
            t = self.type_of(arg, ctx)
            if t is None:
                return None
            if t.kind != "list":
                self.err("E301", f"`{e.function}` needs a list, not {_describe(t)}", arg.span)
                return None
            if e.function == "count":
                return m.Type(kind="number", display="count")
            if t.element is None or t.element.kind != "number":
                self.err("E301", "`sum` of a list of records needs `sum over LIST of FIELD`", e.span)
                return None
            return t.element
        if e.function not in FUNCTIONS:
            self.err("E204", f"unknown function `{e.function}`", e.span,
                     did_you_mean(e.function, sorted(FUNCTIONS | {"sum", "count"}))
                     or "the functions are " + _listing(sorted(FUNCTIONS | {"sum", "count"})))
            for a in e.args:  # still read the arguments: their names are used, their errors real
                self.type_of(a, ctx)
            return None
        if e.function == "abs" and len(e.args) != 1 or e.function != "abs" and len(e.args) < 2:
            self.err("E304", f"`{e.function}` takes {'one argument' if e.function == 'abs' else 'two or more arguments'}"
                     f", not {len(e.args)}", e.span,
                     "write `abs(x)`" if e.function == "abs" else f"write `{e.function}(a, b)`")
            for a in e.args:
                self.type_of(a, ctx)
            return None
        types = [self.type_of(a, ctx) for a in e.args]
        if any(t is None for t in types):
            return None
        result = types[0]
        for t, a in zip(types, e.args):
            if t.kind != "number":
                self.err("E301", f"`{e.function}` needs numbers, not {_describe(t)}", a.span)
                return None
            if not self._same_unit(result, t, a.span, "compare"):
                return None
            if result.money is None:
                result = t
        return result


def _t_blend(self, e: n.Blend, ctx):
    total = sum((w for _, w, _ in e.parts), Decimal(0))
    if total != 1:
        self.err("E316", f"the weights of `blend` add up to {_fmt(total * 100)}%, not 100%", e.span,
                 "change the weights so they add up to 100%")
    result = None
    for expr, _w, _span in e.parts:
        t = self.type_of(expr, ctx)
        if t is None:
            return None
        if t.kind != "number":
            self.err("E301", f"`blend` averages numbers, not {_describe(t)}", expr.span)
            return None
        if result is not None and not self._same_unit(result, t, expr.span, "blend"):
            return None
        if result is None or result.money is None:
            result = t
    return m.Type(kind="number", money=result.money, display="money" if result.money == 1 else "number")


def _user_call(self, e: n.Call, fn: n.Function, ctx):
    if len(e.args) != len(fn.params):
        self.err("E304", f"`{fn.name}` takes {len(fn.params)} argument{'s' if len(fn.params) != 1 else ''}, "
                 f"not {len(e.args)}", e.span,
                 f"write `{fn.name}(" + ", ".join(p.name for p in fn.params) + ")`")
        for a in e.args:
            self.type_of(a, ctx)
        return None
    ok = True
    for a, p in zip(e.args, fn.params):
        t = self.type_of(a, ctx)
        want = _scalar_type(p.kind)
        if t is None:
            ok = False
        elif want.kind == "number" and t.kind == "number":
            ok = self._same_unit(want, t, a.span, f"pass as `{p.name}`") and ok
        elif want.kind != t.kind:
            self.err("E301", f"`{p.name}` of `{fn.name}` is {_describe(want)}, not {_describe(t)}", a.span)
            ok = False
    if fn.name not in self.function_types and fn.name not in getattr(self, "_calling", ()):
        self._function(fn, self.top_scope)  # declared further down: type it now
    if fn.name not in self.function_types:
        self.err("E210", f"function `{fn.name}` calls itself, directly or through another function", e.span,
                 "functions cannot be recursive")
        return None
    return self.function_types[fn.name] if ok else None


Checker._t_blend = _t_blend
Checker._user_call = _user_call

_TYPERS = {
    n.Number: Checker._t_number, n.Text: Checker._t_text, n.Bool: Checker._t_bool,
    n.Name: Checker._t_name, n.ItemRef: Checker._t_item, n.Unary: Checker._t_unary,
    n.Binary: Checker._t_binary, n.Compare: Checker._t_compare,
    n.Conditional: Checker._t_conditional, n.Index: Checker._t_index, n.Field: Checker._t_field,
    n.Call: Checker._t_call, n.Blend: Checker._t_blend,
}


def _listing(words, last="or") -> str:
    """`a`, `b` or `c`: user words in backticks, for messages."""
    words = [f"`{w}`" for w in words]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def _describe(t: m.Type) -> str:
    """A type in words, for messages; enum values are user text, so they go in backticks."""
    if t.kind == "enum":
        return "one of " + ", ".join(f"`{v}`" for v in t.values)
    if t.kind == "list" and not t.fields and t.element is not None:
        return f"list of {_describe(t.element)}"
    if t.kind == "record" and t.element is not None:
        return f"record of {_describe(t.element)}"
    return t.describe()


def _show_key(key) -> str:
    return _fmt(key) if isinstance(key, Decimal) else str(key)


def _literal(expr):
    """The value of a plain number literal (`80`, `-5`, `85%`), else None."""
    if isinstance(expr, n.Number):
        return expr.value
    if isinstance(expr, n.Unary) and expr.op == "neg" and isinstance(expr.operand, n.Number):
        return -expr.operand.value
    return None


def _fmt_any(d) -> str:
    d = Decimal(d) if not isinstance(d, Decimal) else d
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d.normalize(), "f")


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def _src(node) -> str:
    return node.span.text


def _scalar_type(kind: str) -> m.Type:
    return {
        "integer": m.Type(kind="number", display="integer"),
        "count": m.Type(kind="number", display="count"),
        "number": m.NUMBER,
        "money": m.MONEY,
        "percent": m.Type(kind="number", display="percent"),
        "boolean": m.BOOLEAN,
        "text": m.TEXT,
    }[kind]


def _fact_type(t) -> m.Type:
    if isinstance(t, n.ScalarType):
        return _scalar_type(t.kind)
    if isinstance(t, n.EnumType):
        return m.Type(kind="enum", money=0, display="text", values=t.values)
    if isinstance(t, n.RecordType):
        return m.Type(kind="record", money=0, display="record", element=_scalar_type(t.kind), keys=t.keys)
    if isinstance(t, n.ListType):
        if t.is_records:
            return m.Type(kind="list", money=0, display="list",
                          fields=tuple((f.name, _fact_type(f.type), f.label) for f in t.element))
        return m.Type(kind="list", money=0, display="list", element=_fact_type(t.element))
    raise TypeError(t)


def _names_read(d) -> list:
    """Names mentioned by a definition, item or scorecard (for ordering; scope is checked later)."""
    out = []
    for x in n.walk(d):
        if isinstance(x, n.Name):
            out.append(x.name)
        elif isinstance(x, n.Aggregate):
            out.append(x.list_name)
    return out


def check(policy: n.Policy, source: SourceFile):
    """Returns (model or None, diagnostics)."""
    checker = Checker(source)
    result = checker.check(policy)
    return result, checker.diags
