"""Tree building: Lark's parse of a policy to the surface tree (nodes.py). Builds, never validates.

The transformer walks Lark's tree without recursing (Transformer_NonRecursive), however deep the
input nests; depth is measured on the way and limited afterwards (see `parse`). Checking what the
tree says is the checker's job.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
from lark import Token, v_args
from lark.visitors import Transformer_NonRecursive

from .. import nodes as n
from ..diagnostics import error
from ..source import SourceFile, Span
from .scanner import is_comment_line, unquote

# Number literals longer than this are refused (E105), so no literal can exhaust the process.
MAX_LITERAL_DIGITS = 40


@v_args(meta=True)
class Build(Transformer_NonRecursive):
    """Builds nodes from Lark's rule callbacks. Never validates: that is the checker's job."""

    def __init__(self, source: SourceFile):
        super().__init__()
        self.source = source
        self.max_depth = 0
        self.deepest: Span | None = None
        self.literal_problems: list = []
        self._depths: dict[int, int] = {}

    # -- helpers
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(source=self.source, start=0, end=0)
        end = _trim_end(self.source.text, meta.start_pos, meta.end_pos)
        return Span(source=self.source, start=meta.start_pos, end=end)

    def _tok_span(self, tok: Token) -> Span:
        assert tok.start_pos is not None and tok.end_pos is not None  # the parser's tokens have positions
        return Span(source=self.source, start=tok.start_pos, end=tok.end_pos)

    def _depth(self, node, *children):
        depth = 1 + max((self._depths.get(id(c), 0) for c in children), default=0)
        self._depths[id(node)] = depth
        if depth > self.max_depth:
            self.max_depth = depth
            self.deepest = node.span
        return node

    def _decimal(self, tok: Token, text: str) -> Decimal:
        digits = text.replace(".", "")
        if len(digits) > MAX_LITERAL_DIGITS:
            self.literal_problems.append(error(
                "E105", f"number literal has {len(digits)} digits; at most {MAX_LITERAL_DIGITS} are allowed",
                self._tok_span(tok), "write the number with fewer digits"))
            return Decimal(0)
        return Decimal(text)

    @staticmethod
    def _label(children):
        return [c for c in children if isinstance(c, _Label)]

    # -- top level
    def start(self, meta, children):
        header, *rest = children
        name, label, version, is_module = header

        def of(cls):
            return tuple(c for c in rest if isinstance(c, cls))
        return n.Policy(name=name, label=label, version=version, imports=of(n.Import), tables=of(n.Table),
                        definitions=of(n.Definition), evaluations=of(n.Evaluation), bands=of(n.Bands),
                        ladders=of(n.LadderDef), functions=of(n.Function), examples=of(n.Example),
                        is_module=is_module, tiers=of(n.Tiers), span=self._span(meta))

    def header(self, meta, children, is_module=False):
        name, label, version = str(children[0]), None, None
        for c in children[1:]:
            if isinstance(c, _Label):
                label = c.text
            elif isinstance(c, _Version):
                version = c.text
        return (name, label, version, is_module)

    def module_header(self, meta, children):
        return self.header(meta, children, is_module=True)

    def label(self, meta, children):
        return _Label(_unquote(children[0]))

    def version(self, meta, children):
        return _Version(_unquote(children[0]))

    def import_stmt(self, meta, children):
        return n.Import(path=tuple(str(c) for c in children), span=self._span(meta))

    # -- tables
    def table(self, meta, children):
        name = str(children[0])
        label = None
        i = 1
        if isinstance(children[1], _Label):
            label = children[1].text
            i = 2
        key_name, value_type, body = str(children[i]), children[i + 1], children[i + 2]
        rows = tuple(c for c in body if isinstance(c, n.Row))
        cites = tuple(c for c in body if isinstance(c, (n.Cite, n.Note)))
        return n.Table(name=name, label=label, key_name=key_name, value_type=value_type, rows=rows,
                       cites=cites, span=self._span(meta))

    def table_body(self, meta, children):
        return tuple(row for line in children for row in (line if isinstance(line, tuple) else (line,)))

    def table_cite(self, meta, children):
        return children[0]

    def row_line(self, meta, children):
        return tuple(children)

    def row(self, meta, children):
        return n.Row(key=children[0], value=children[1], span=self._span(meta))

    def key_number(self, meta, children):
        return self._decimal(children[0], str(children[0]))

    def key_version(self, meta, children):
        start = n.DateLit(text=str(children[0]), span=self._tok_span(children[0]))
        until = (n.DateLit(text=str(children[1]), span=self._tok_span(children[1]))
                 if len(children) > 1 and children[1] is not None else None)
        return n.Version(start=start, until=until, span=self._span(meta))

    def key_text(self, meta, children):
        return _unquote(children[0])

    def key_name(self, meta, children):
        return n.Name(name=str(children[0]), span=self._tok_span(children[0]))

    def value_type(self, meta, children):
        return children[0]

    def scalar(self, meta, children):
        return str(children[0])

    # -- evaluations and facts
    def evaluation(self, meta, children):
        name = str(children[0])
        label = children[1].text if isinstance(children[1], _Label) else None
        effective = next((c for c in children[1:] if isinstance(c, n.Version)), None)
        body = []
        for c in children[1:]:
            if isinstance(c, _Block):  # a `for each` block: its definitions, each knowing its block
                body.extend(c.defs)
            elif not isinstance(c, (_Label, n.Version)):
                body.append(c)
        facts = tuple(c for c in body if isinstance(c, n.Fact))
        rest = tuple(c for c in body if not isinstance(c, n.Fact))
        return n.Evaluation(name=name, label=label, facts=facts, body=rest, effective=effective,
                            span=self._span(meta))

    def for_each(self, meta, children):
        var, list_tok, *defs = children
        each = n.Each(var=str(var), list_name=str(list_tok), span=self._span(meta))
        return _Block(tuple(attrs.evolve(d, each=each) for d in defs))

    def effective(self, meta, children):
        return self.key_version(meta, children)

    def fact(self, meta, children):
        name = str(children[0])
        label = children[1].text if isinstance(children[1], _Label) else None
        cites = children[-1] if isinstance(children[-1], tuple) else ()
        ftype = children[-2] if cites else children[-1]
        return n.Fact(name=name, label=label, type=ftype, cites=cites, span=self._span(meta))

    def scalar_type(self, meta, children):
        constraints = children[1] if len(children) > 1 and children[1] is not None else ()
        return n.ScalarType(kind=children[0], constraints=tuple(constraints), span=self._span(meta))

    def constraints(self, meta, children):
        return tuple(children)

    def range_constraint(self, meta, children):
        return n.RangeConstraint(low=children[0], high=children[1], span=self._span(meta))

    def compare_constraint(self, meta, children):
        return n.CompareConstraint(op=children[0], bound=children[1], span=self._span(meta))

    def pattern_constraint(self, meta, children):
        return n.PatternConstraint(pattern=_unquote(children[0]), span=self._span(meta))

    def period_type(self, meta, children):
        return n.PeriodType(unit=str(children[0]), span=self._span(meta))

    def enum_type(self, meta, children):
        return n.EnumType(values=tuple(str(c) for c in children), span=self._span(meta))

    def list_type(self, meta, children):
        rules = [c for c in children if isinstance(c, _ListRule)]
        children = [c for c in children if not isinstance(c, _ListRule)]
        limit = minimum = total = key = None
        for r in rules:
            if r.kind == "most":
                limit = r.value
            elif r.kind == "least":
                minimum = r.value
            elif r.kind == "key":
                key = r.value
            else:
                total = r.value
        if len(children) == 1 and isinstance(children[0], (n.ScalarType, n.EnumType)):
            element = children[0]
        else:
            element = tuple(children)
        return n.ListType(element=element, limit=limit, minimum=minimum, total=total, key=key,
                          span=self._span(meta))

    def list_at_most(self, meta, children):
        return _ListRule("most", int(self._decimal(children[0], str(children[0]))))

    def list_at_least(self, meta, children):
        return _ListRule("least", int(self._decimal(children[0], str(children[0]))))

    def list_adding_up(self, meta, children):
        return _ListRule("total", (str(children[0]), children[1]))

    def list_keyed(self, meta, children):
        return _ListRule("key", str(children[0]))

    def field(self, meta, children):
        name = str(children[0])
        label = children[1].text if isinstance(children[1], _Label) else None
        return n.FieldDecl(name=name, label=label, type=children[-1], span=self._span(meta))

    def record_type(self, meta, children):
        kind, *rest = children
        constraints = rest.pop(0) if rest and isinstance(rest[0], tuple) else ()
        return n.RecordType(kind=kind, keys=tuple(str(c) for c in rest), constraints=constraints,
                            span=self._span(meta))

    # -- definitions and clauses
    def definition(self, meta, children):
        kind, name_tok = children[0], children[1]
        rest = list(children[2:])
        label = None
        if rest and isinstance(rest[0], _Label):
            label = rest.pop(0).text
        value = rest.pop(0)
        clauses = []
        for c in rest:
            if isinstance(c, tuple):
                clauses.extend(c)
            else:
                clauses.append(c)
        return n.Definition(kind=kind, name=str(name_tok), label=label, value=value,
                            clauses=tuple(clauses), name_span=self._tok_span(name_tok),
                            span=self._span(meta))

    def def_kind(self, meta, children):
        return str(children[0])

    def aggregate(self, meta, children):
        func, list_tok = children[0], children[1]
        body = children[2] if len(children) > 2 else None
        return n.Aggregate(function=func, list_name=str(list_tok), body=body,
                           list_span=self._tok_span(list_tok), span=self._span(meta))

    def agg_word(self, meta, children):
        return str(children[0])

    def clause_block(self, meta, children):
        return tuple(children)

    def floor(self, meta, children):
        return n.Floor(value=children[0], span=self._span(meta))

    def cap(self, meta, children):
        return n.Cap(value=children[0], span=self._span(meta))

    def rounding(self, meta, children):
        return n.Round(mode=children[0], quantum=self._decimal(children[1], str(children[1])),
                       span=self._span(meta))

    def round_each(self, meta, children):
        return n.Round(mode=children[0], quantum=self._decimal(children[1], str(children[1])),
                       each=True, span=self._span(meta))

    def round_mode(self, meta, children):
        return " ".join(str(c) for c in children)

    def cite(self, meta, children):
        return n.Cite(text=_unquote(children[0]), span=self._span(meta))

    def note(self, meta, children):
        return n.Note(text=_unquote(children[0]), span=self._span(meta))

    def filter(self, meta, children):
        reason = _unquote(children[1]) if len(children) > 1 and children[1] is not None else None
        return n.Filter(condition=children[0], reason=reason, span=self._span(meta))

    # -- scorecards
    def scorecard(self, meta, children):
        name_tok = children[0]
        rest = list(children[1:])
        label = rest.pop(0).text if rest and isinstance(rest[0], _Label) else None
        total = None
        if rest and isinstance(rest[0], Token):
            total = self._decimal(rest[0], str(rest.pop(0)))
        items = tuple(c for c in rest if isinstance(c, n.Item))
        gates = tuple(c for c in rest if isinstance(c, n.Gate))
        clauses = tuple(c for c in rest if not isinstance(c, (n.Item, n.Gate)))
        return n.Scorecard(name=str(name_tok), label=label, total=total, items=items, gates=gates,
                           clauses=clauses, name_span=self._tok_span(name_tok), span=self._span(meta))

    def sc_clause(self, meta, children):
        return children[0]

    def item_clause(self, meta, children):
        return children[0]

    def item(self, meta, children):
        name_tok = children[0]
        rest = list(children[1:])
        label = rest.pop(0).text if rest and isinstance(rest[0], _Label) else None
        weight = self._decimal(rest[0], str(rest.pop(0)))
        tags = []
        while rest and isinstance(rest[0], Token) and rest[0].type == "NAME":
            tags.append(str(rest.pop(0)))
        return n.Item(name=str(name_tok), label=label, weight=weight, tags=tuple(tags),
                      body=tuple(rest), name_span=self._tok_span(name_tok), span=self._span(meta))

    def adjust(self, meta, children):
        sign, amount, per, condition = children
        return n.Adjust(sign=sign, amount=amount, per=per, condition=condition, span=self._span(meta))

    def override(self, meta, children):
        return n.Override(value=children[0], condition=children[1], span=self._span(meta))

    def sign(self, meta, children):
        return str(children[0])

    def ladder(self, meta, children):
        rate, standard, using, *rest = children
        none_rule = None
        if rest and not isinstance(rest[0], tuple):
            none_rule = rest.pop(0)
        block = rest[0] if rest else ()
        steps = tuple(c for c in block if isinstance(c, n.LadderStep))
        cites = tuple(c for c in block if isinstance(c, (n.Cite, n.Note)))
        return n.Ladder(rate=rate, standard=standard, none_rule=none_rule, steps=steps, cites=cites,
                        using=str(using) if using is not None else None,
                        using_span=self._tok_span(using) if using is not None else None,
                        span=self._span(meta))

    def using(self, meta, children):
        return children[0]

    def ladder_block(self, meta, children):
        return tuple(children)

    def cite_block(self, meta, children):
        return tuple(children)

    # -- shared definitions
    def bands(self, meta, children):
        name_tok, *rest = children
        label = rest.pop(0).text if isinstance(rest[0], _Label) else None
        low, high, *lines = rest
        return n.Bands(name=str(name_tok), label=label, low=low, high=high, bands=tuple(lines),
                       span=self._span(meta))

    def band_line(self, meta, children):
        name, low, high = children
        return n.Band(name=_unquote(name), low=low[1] if low else None, low_inclusive=bool(low and low[0]),
                      high=high[1] if high else None, high_inclusive=bool(high and high[0]),
                      span=self._span(meta))

    def band_from(self, meta, children):
        return (True, children[0])

    def band_above(self, meta, children):
        return (False, children[0])

    def band_to(self, meta, children):
        return (True, children[0])

    def band_below(self, meta, children):
        return (False, children[0])

    def ladder_def(self, meta, children):
        name_tok, *rest = children
        label = rest.pop(0).text if rest and isinstance(rest[0], _Label) else None
        return n.LadderDef(name=str(name_tok), label=label,
                           steps=tuple(c for c in rest if isinstance(c, n.LadderStep)),
                           cites=tuple(c for c in rest if isinstance(c, (n.Cite, n.Note))), span=self._span(meta))

    def function(self, meta, children):
        name_tok, *rest = children
        label = rest.pop(0).text if rest and isinstance(rest[0], _Label) else None
        params = tuple(c for c in rest if isinstance(c, n.Param))
        rest = [c for c in rest if not isinstance(c, n.Param)]
        body = rest.pop(0)
        clauses = []
        for c in rest:
            clauses.extend(c) if isinstance(c, tuple) else clauses.append(c)
        return n.Function(name=str(name_tok), label=label, params=params, body=body, clauses=tuple(clauses),
                          name_span=self._tok_span(name_tok), span=self._span(meta))

    def param(self, meta, children):
        return n.Param(name=str(children[0]), kind=children[1], span=self._span(meta))

    def blend(self, meta, c):
        return self._depth(n.Blend(parts=tuple(c), span=self._span(meta)), *[p[0] for p in c])

    def blend_arg(self, meta, children):
        expr, tok = children
        text = str(tok)
        if text.endswith("%"):
            weight = self._decimal(tok, text[:-1]) / 100
        else:
            weight = self._decimal(tok, text)
        return (expr, weight, self._tok_span(tok))

    # -- examples
    def example(self, meta, children):
        name, evaluation, *lines = children
        base = None
        given, expect, errors = [], [], []
        for kind, *data in lines:
            if kind == "from":
                base = data[0]
            elif kind == "given":
                given.append((data[0], data[1]))
            elif kind == "expect":
                expect.append((data[0], data[1], data[2]))
            else:
                errors.append((data[0], data[1]))
        return n.Example(name=_unquote(name), evaluation=str(evaluation) if evaluation is not None else None,
                         base=base, given=tuple(given), expect=tuple(expect), errors=tuple(errors),
                         span=self._span(meta))

    def example_from(self, meta, children):
        return ("from", _unquote(children[0]))

    def example_given(self, meta, children):
        return ("given", tuple(str(c) for c in children[:-1]), children[-1])

    def example_expect(self, meta, children):
        return ("expect", str(children[0]), children[1], self._span(meta))

    def example_error(self, meta, children):
        return ("error", _unquote(children[0]), self._span(meta))

    def v_number(self, meta, c):
        return self._decimal(c[0], str(c[0]))

    def v_negative(self, meta, c):
        return -self._decimal(c[0], str(c[0]))

    def v_percent(self, meta, c):
        return self._decimal(c[0], str(c[0])[:-1]) / 100

    def v_wan(self, meta, c):
        return self._decimal(c[0], str(c[0])[:-1]) * 10000

    def v_yuan(self, meta, c):
        return self._decimal(c[0], str(c[0])[:-1])

    def v_date(self, meta, c):
        return str(c[0])  # a date in a fact set is its ISO text, as in a JSON fact file

    def v_text(self, meta, c):
        return _unquote(c[0])

    def v_true(self, meta, c):
        return True

    def v_false(self, meta, c):
        return False

    def v_name(self, meta, c):
        return str(c[0])

    def v_list(self, meta, c):
        return [v for v in c if v is not None]

    def v_record(self, meta, c):
        return {k: v for k, v in (p for p in c if p is not None)}

    def v_pair(self, meta, c):
        return (str(c[0]), c[1])

    def none_standard(self, meta, children):
        return "standard"

    def none_value(self, meta, children):
        return children[0]

    def ladder_line(self, meta, children):
        if len(children) == 1:
            return children[0]
        sign, points, rule, step, direction = children
        return n.LadderStep(sign=sign, points=points, rule=rule, step=step, direction=direction,
                            span=self._span(meta))

    def step_rule(self, meta, children):
        return str(children[0])

    def direction(self, meta, children):
        return str(children[0])

    def gate(self, meta, children):
        tag, condition, *rest = children
        reason = None
        if rest and isinstance(rest[0], Token):
            reason = _unquote(rest.pop(0))
        clauses = rest[0] if rest else ()  # a cite_block
        return n.Gate(tag=str(tag), condition=condition, reason=reason, clauses=tuple(clauses),
                      span=self._span(meta))

    # -- expressions
    def conditional(self, meta, c):
        return self._depth(n.Conditional(condition=c[0], then=c[1], otherwise=c[2], span=self._span(meta)), *c)

    def or_op(self, meta, c):
        return self._depth(n.Binary(op="or", left=c[0], right=c[1], span=self._span(meta)), *c)

    def and_op(self, meta, c):
        return self._depth(n.Binary(op="and", left=c[0], right=c[1], span=self._span(meta)), *c)

    def not_op(self, meta, c):
        return self._depth(n.Unary(op="not", operand=c[0], span=self._span(meta)), *c)

    def compare(self, meta, c):
        return self._depth(n.Compare(op=c[1], left=c[0], right=c[2], span=self._span(meta)), c[0], c[2])

    def comp_op(self, meta, c):
        return str(c[0])

    def _binary(self, op, meta, c):
        return self._depth(n.Binary(op=op, left=c[0], right=c[-1], span=self._span(meta)), c[0], c[-1])

    def add(self, meta, c):
        return self._binary("+", meta, c)

    def sub(self, meta, c):
        return self._binary("-", meta, c)

    def mul(self, meta, c):
        return self._binary("*", meta, c)

    def div(self, meta, c):
        return self._binary("/", meta, c)

    def negate(self, meta, c):
        return self._depth(n.Unary(op="neg", operand=c[0], span=self._span(meta)), *c)

    def index(self, meta, c):
        return self._depth(n.Index(target=c[0], key=c[1], span=self._span(meta)), *c)

    def field_access(self, meta, c):
        return self._depth(n.Field(target=c[0], name=str(c[1]), span=self._span(meta)), c[0])

    def call(self, meta, c):
        args = tuple(a for a in c[1:] if a is not None)
        return self._depth(n.Call(function=str(c[0]), args=args, span=self._span(meta)), *args)

    def agg_call(self, meta, c):
        return self._depth(n.Call(function=c[0], args=(c[1],), span=self._span(meta)), c[1])

    def number(self, meta, c):
        return n.Number(value=self._decimal(c[0], str(c[0])), unit="number", span=self._span(meta))

    def date(self, meta, c):
        return n.DateLit(text=str(c[0]), span=self._span(meta))

    def days_between(self, meta, c):
        return self._depth(n.DaysBetween(start=c[0], end=c[1], span=self._span(meta)), c[0], c[1])

    def percent(self, meta, c):
        value = self._decimal(c[0], str(c[0])[:-1]) / 100
        return n.Number(value=value, unit="percent", span=self._span(meta))

    def wan(self, meta, c):
        value = self._decimal(c[0], str(c[0])[:-1]) * 10000
        return n.Number(value=value, unit="money", span=self._span(meta))

    def yuan(self, meta, c):
        return n.Number(value=self._decimal(c[0], str(c[0])[:-1]), unit="money", span=self._span(meta))

    def text(self, meta, c):
        return n.Text(value=_unquote(c[0]), span=self._span(meta))

    def true(self, meta, c):
        return n.Bool(value=True, span=self._span(meta))

    def false(self, meta, c):
        return n.Bool(value=False, span=self._span(meta))

    def name(self, meta, c):
        return n.Name(name=str(c[0]), span=self._span(meta))

    def allocate(self, meta, c):
        amount, weight, quantum, ties = c
        node = n.Allocate(amount=amount, weight=weight, quantum=self._decimal(quantum, str(quantum)),
                          ties=ties or "first", span=self._span(meta))
        return self._depth(node, amount, weight)

    def alloc_ties(self, meta, c):
        return str(c[2])

    def rank(self, meta, c):
        _, value, order, ties = c
        node = n.Rank(kind="ordinal" if ties == "list" else "rank", value=value, order=order, span=self._span(meta))
        return self._depth(node, value)

    def dense_rank(self, meta, c):
        return self._depth(n.Rank(kind="dense", value=c[1], order=c[2], span=self._span(meta)), c[1])

    def percentile(self, meta, c):
        return self._depth(n.Rank(kind="percentile", value=c[1], order="lowest", span=self._span(meta)), c[1])

    def rank_order(self, meta, c):
        return str(c[0])

    def rank_ties(self, meta, c):
        return "list" if str(c[1]) == "in" else "shared"

    def item_ref(self, meta, c):
        return n.ItemRef(span=self._span(meta))


    # -- tiers, assertions, chained comparisons (issue 10)
    def tiers(self, meta, children):
        name_tok, *rest = children
        label = rest.pop(0).text if isinstance(rest[0], _Label) else None
        low, high, *lines = rest
        return n.Tiers(name=str(name_tok), label=label, low=low, high=high, tiers=tuple(lines),
                       span=self._span(meta))

    def tier_line(self, meta, children):
        name_tok, *rest = children
        label = rest.pop(0).text if isinstance(rest[0], _Label) else None
        low, high, rate = rest
        return n.Tier(name=str(name_tok), label=label, low=low[1] if low else None,
                      low_inclusive=bool(low and low[0]), high=high[1] if high else None,
                      high_inclusive=bool(high and high[0]), rate=rate, span=self._span(meta))

    def tier_apply(self, meta, c):
        mode, name_tok, tier_tok, value, base = c
        node = n.TierApply(mode=mode, tiers=str(name_tok), tier=str(tier_tok) if tier_tok is not None else None,
                           value=value, base=base, name_span=self._tok_span(name_tok), span=self._span(meta))
        return self._depth(node, value, *([base] if base is not None else []))

    def tier_mode(self, meta, c):
        return str(c[0])

    def assertion(self, meta, c):
        return n.Assert(condition=c[0], message=_unquote(c[1]), span=self._span(meta))

    def chain_compare(self, meta, c):
        a, op1, b, op2, d = c
        return self._depth(n.ChainCompare(ops=(op1, op2), operands=(a, b, d), span=self._span(meta)), a, b, d)


class _Label:
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


class _Version:
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


class _Block:
    __slots__ = ("defs",)

    def __init__(self, defs):
        self.defs = defs


class _ListRule:
    __slots__ = ("kind", "value")

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value


def _trim_end(text: str, start: int, end: int) -> int:
    """A rule's span ends at its last token, not at the newlines and comment lines after it."""
    # `parse` adds a final newline the source may lack; a span must not reach past the source.
    end = min(end, len(text))
    while True:
        while end > start and text[end - 1] in " \t\r\n":
            end -= 1
        line_start = text.rfind("\n", start, end) + 1
        if line_start > start and is_comment_line(text[line_start:end]):
            end = line_start
            continue
        return end



def _unquote(tok) -> str:
    return unquote(str(tok))
