"""Parse stage: policy text to the surface tree (nodes.py), or diagnostics with positions.

Lark is seen only here. The transformer runs inside the LALR parser, so building the tree never
recurses, however deep the input nests; depth is measured on the way and limited afterwards.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import NamedTuple

import attrs
from lark import Lark, Token, v_args
from lark.visitors import Transformer_NonRecursive
from lark.exceptions import (LarkError, UnexpectedCharacters, UnexpectedEOF,
                             UnexpectedInput, UnexpectedToken)
from lark.indenter import DedentError, Indenter

from . import nodes as n
from .diagnostics import error
from .source import SourceFile, Span

# Limits that keep hostile input from exhausting the process (docs/diagnostics.md, E104-E106).
MAX_DEPTH = 64
MAX_SOURCE_CHARS = 2_000_000
MAX_LITERAL_DIGITS = 40


class _Indenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def process(self, stream):
        return super().process(self._limit_brackets(stream))

    def _limit_brackets(self, stream):
        # Brackets build no node, so the depth measured on nodes cannot see `((((a))))`; count
        # them on the token stream and stop at the first one too many (E104).
        level = 0
        for tok in stream:
            if tok.type in self.OPEN_PAREN_types:
                level += 1
                if level > MAX_DEPTH:
                    raise _TooDeep(tok)
            elif tok.type in self.CLOSE_PAREN_types:
                level = max(0, level - 1)
            yield tok

    def handle_NL(self, token):
        # Lark's DedentError carries only a message; keep the token, to point at the line (E103).
        levels = list(self.indent_level)
        try:
            yield from super().handle_NL(token)
        except DedentError:
            indent_str = token.rsplit("\n", 1)[1]
            width = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
            raise _BadDedent(token, width, levels) from None


class _TooDeep(Exception):
    """Brackets nested past MAX_DEPTH; raised from the token stream, caught in `parse`."""

    def __init__(self, token):
        super().__init__("brackets nest too deeply")
        self.token = token


class _BadDedent(Exception):
    """A line dedented to a width no enclosing block has; raised by `_Indenter.handle_NL`."""

    def __init__(self, token, width, levels):
        super().__init__("bad dedent")
        self.token, self.width, self.levels = token, width, levels


class ParseFailure(Exception):
    def __init__(self, diagnostics):
        self.diagnostics = diagnostics
        super().__init__("syntax error")


@functools.lru_cache(maxsize=1)
def _grammar() -> str:
    return resources.files("kpirules").joinpath("grammar.lark").read_text(encoding="utf-8")


_ROUND_MODES = {"half up", "half even", "half down", "up", "down", "ceiling", "floor"}


@v_args(meta=True)
class _Build(Transformer_NonRecursive):
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
        return Span(source=self.source, start=meta.start_pos, end=_trim_end(self.source.text, meta.start_pos, meta.end_pos))

    def _tok_span(self, tok: Token) -> Span:
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
                        is_module=is_module, span=self._span(meta))

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
        cites = tuple(c for c in body if isinstance(c, n.Cite))
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
        body = [c for c in children[1:] if not isinstance(c, _Label)]
        facts = tuple(c for c in body if isinstance(c, n.Fact))
        rest = tuple(c for c in body if not isinstance(c, n.Fact))
        return n.Evaluation(name=name, label=label, facts=facts, body=rest, span=self._span(meta))

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

    def enum_type(self, meta, children):
        return n.EnumType(values=tuple(str(c) for c in children), span=self._span(meta))

    def list_type(self, meta, children):
        rules = [c for c in children if isinstance(c, _ListRule)]
        children = [c for c in children if not isinstance(c, _ListRule)]
        limit = minimum = total = None
        for r in rules:
            if r.kind == "most":
                limit = r.value
            elif r.kind == "least":
                minimum = r.value
            else:
                total = r.value
        if len(children) == 1 and isinstance(children[0], (n.ScalarType, n.EnumType)):
            element = children[0]
        else:
            element = tuple(children)
        return n.ListType(element=element, limit=limit, minimum=minimum, total=total, span=self._span(meta))

    def list_at_most(self, meta, children):
        return _ListRule("most", int(self._decimal(children[0], str(children[0]))))

    def list_at_least(self, meta, children):
        return _ListRule("least", int(self._decimal(children[0], str(children[0]))))

    def list_adding_up(self, meta, children):
        return _ListRule("total", (str(children[0]), children[1]))

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
        cites = tuple(c for c in block if isinstance(c, n.Cite))
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
                           cites=tuple(c for c in rest if isinstance(c, n.Cite)), span=self._span(meta))

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

    def item_ref(self, meta, c):
        return n.ItemRef(span=self._span(meta))


_NO_NONE_RULE = object()


class _Label:
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


class _Version:
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


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
        if line_start > start and text[line_start:end].lstrip(" \t").startswith("#"):
            end = line_start
            continue
        return end


def _unquote(tok) -> str:
    body = str(tok)[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# ---- error reporting ------------------------------------------------------------------------
#
# Lark's exceptions are turned into diagnostics here and nowhere else. What a user reads never
# names a Lark terminal (RPAR, _NL, NAME): every terminal is described in words or shown as
# written, and long lists of expected terminals are grouped ("an expression", "an operator").

# What a terminal means to a policy author; keywords and punctuation are shown as written.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "PERCENT": "a percentage such as `85%`",
    "WAN": "an amount in 万 such as `10万`",
    "YUAN": "an amount such as `800元`",
    "STRING": "a quoted text such as `\"...\"`",
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the indented block",
    "$END": "the end of the file",
    "COMMENT": "a comment",
}

# Terminals that can start an expression; when most are allowed, say "an expression".
_EXPRESSION_STARTERS = frozenset({"NAME", "NUMBER", "PERCENT", "WAN", "YUAN", "STRING", "LPAR",
                                  "MINUS", "NOT", "IF", "TRUE", "FALSE", "ITEM", "SUM", "COUNT",
                                  "BLEND"})
# Terminals that continue an expression; when several are allowed, say "an operator".
_OPERATOR_TEXTS = frozenset({"+", "-", "*", "/", "×", "÷", ">=", "<=", "==", "!=", ">", "<",
                             "and", "or", "[", "."})
_STEP_RULES = ("FULL", "STARTED", "PRORATED")
# Listed after the backticked words, in this order.
_ENDINGS = ("the end of the line", "the end of the indented block", "the end of the file")

# Characters that word processors and Chinese input methods put into text, and what to type
# instead. Full-width forms of ASCII (U+FF01-FF5E) are handled generally in `_lookalike`.
_LOOKALIKES = {
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": '"', "\u2019": '"', "\u300c": '"',
    "\u300d": '"', "\u300e": '"', "\u300f": '"', "\u3001": ",", "\u3002": ".", "\u3010": "[",
    "\u3011": "]", "\u2026": "..", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u00b7": ".", "\uff02": '"', "\uff07": '"',
}
_SPACES_HELP = "replace it with a plain space"


def _lookalike(ch: str) -> str | None:
    if ch in _LOOKALIKES:
        return _LOOKALIKES[ch]
    if "\uff01" <= ch <= "\uff5e":  # full-width ASCII: `：` is `:`, `（` is `(`, `％` is `%`
        return chr(ord(ch) - 0xFEE0)
    return None


def _lark() -> Lark:
    return _parser_instance()


@functools.lru_cache(maxsize=1)
def _parser_instance() -> Lark:
    return Lark(_grammar(), parser="lalr", postlex=_Indenter(), propagate_positions=True,
                maybe_placeholders=True)


def _terminal_text(parser: Lark, name: str) -> str | None:
    """The text of a keyword or punctuation terminal (`per`, `:`), or None for a pattern."""
    try:
        term = parser.get_terminal(name)
    except KeyError:
        return None
    return term.pattern.value if term.pattern.type == "str" else None


def _describe(parser: Lark, names) -> str:
    """The expected terminals in words: "`:`, a quoted text such as `"..."` or the end of the line"."""
    names = set(names) - {"COMMENT"}
    words = []
    if {"NAME", "NUMBER"} <= names and len(names & _EXPRESSION_STARTERS) >= 4:
        names -= _EXPRESSION_STARTERS
        words.append("an expression")
    operators = {name for name in names if _terminal_text(parser, name) in _OPERATOR_TEXTS}
    if len(operators) >= 4:
        names -= operators | {"LPAR"}
        words.append("an operator (`+`, `*`, `>=`, `and`, ...)")
    if set(_STEP_RULES) <= names:
        names -= set(_STEP_RULES)
        words.append("`full`, `started` or `prorated`")
    for name in names:
        if name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
            continue
        text = _terminal_text(parser, name)
        # An unknown name is never shown raw: it would be a Lark terminal name like `RPAR`.
        words.append(f"`{text}`" if text is not None else "something else")
    groups = [w for w in words if w.startswith(("an expression", "an operator", "`full`"))]
    # Keywords and punctuation first, then the groups, then the rest; the endings last.
    words = sorted(set(words), key=lambda w: (w in _ENDINGS, _ENDINGS.index(w) if w in _ENDINGS else 0,
                                              w in groups, not w.startswith("`"), w))
    if not words:
        return "something else"
    if len(words) > 10:  # too many to list: the groups say most, so they go first
        words = groups + [w for w in words if w not in groups]
        return f"one of {', '.join(words[:9])} or {len(words) - 9} more"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _found(tok: Token) -> str:
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "_INDENT":
        return "indentation"
    if tok.type == "_DEDENT":
        return "end of the indented block"
    if tok.type == "$END":
        return "end of the file"
    return f"`{tok}`"


def _expected(parser: Lark, text: str, exc) -> tuple[set, Token | None]:
    """Terminals the parser could really take where it failed, and the token before that.

    The LALR tables reduce before they look at a wrong token, so `exc.expected` often lacks what
    could have continued the last phrase (after `x = a`, the operators). Replaying the tokens up
    to the failure and asking the parser what it accepts there gives the full set; the replay runs
    only when a policy is already broken.
    """
    stop = getattr(exc, "pos_in_stream", None)
    tok = getattr(exc, "token", None)
    last = None
    if tok is not None and tok.type in ("$END", "<EOF>"):
        stop = len(text) + 1  # replay every token: the parser failed at the end of the file
    try:
        if stop is not None and stop >= 0 and (tok is None or tok.type not in ("_INDENT", "_DEDENT")):
            if not text.endswith("\n"):
                text += "\n"
            ip = parser.parse_interactive(text)
            try:
                for t in ip.lexer_thread.lex(ip.parser_state):
                    if t.start_pos is not None and t.start_pos >= stop:
                        break
                    ip.feed_token(t)
                    last = t
            except UnexpectedCharacters:
                pass  # the character that failed: the parser state is the one before it
            accepts = ip.accepts()
            if accepts:
                return set(accepts), last
    except Exception:  # noqa: BLE001 - the replay only improves a message; fall back below
        pass
    expected = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    try:
        accepts = set(exc.accepts) if getattr(exc, "interactive_parser", None) is not None else set()
    except Exception:  # noqa: BLE001
        accepts = set()
    return accepts or expected, last


def _is_keyword(parser: Lark, tok: Token) -> bool:
    text = _terminal_text(parser, tok.type)
    return text is not None and text.isidentifier()


def _keyword_texts(parser: Lark, names) -> list[str]:
    return sorted(t for t in (_terminal_text(parser, name) for name in names) if t and t.isidentifier())


def _skip_blank(text: str, pos: int) -> int:
    """The offset of the next character that is not a space, tab, newline or comment."""
    while pos < len(text):
        ch = text[pos]
        if ch in " \t\r\n\f":
            pos += 1
        elif ch == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
        else:
            break
    return pos


def _end_span(source: SourceFile) -> Span:
    """A zero-width span just after the last character that is not blank or a comment."""
    text, pos, last = source.text, 0, 0
    while True:
        pos = _skip_blank(text, pos)
        if pos >= len(text):
            break
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        hash_at = _comment_start(text[pos:end])
        last = pos + len(text[pos:end][:hash_at].rstrip())
        pos = end
    return Span(source=source, start=last, end=last)


def _comment_start(line: str) -> int:
    """Where a `#` comment starts in a line (outside quoted text), or len(line)."""
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and quoted:
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return i
        i += 1
    return len(line)


def _unclosed_bracket(text: str, before: int):
    """The offset of a `(` or `[` opened before `before` that the whole file never closes."""
    stack = []
    for line_start, line in _lines(text):
        code = line[:_comment_start(line)]
        quoted = False
        i = 0
        while i < len(code):
            ch = code[i]
            if quoted:
                if ch == "\\":
                    i += 1
                elif ch == '"':
                    quoted = False
            elif ch == '"':
                quoted = True
            elif ch in "([":
                stack.append(line_start + i)
            elif ch in ")]" and stack:
                stack.pop()
            i += 1
    opened = [pos for pos in stack if pos < before]
    return opened[-1] if opened else None


def _lines(text: str):
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            yield start, text[start:]
            return
        yield start, text[start:end]
        start = end + 1


def _char_name(ch: str) -> str:
    """`U+201C left double quotation mark`: the code point, then its Unicode name if it has one."""
    name = unicodedata.name(ch, "").lower()
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _character_diagnostic(parser: Lark, source: SourceFile, exc: UnexpectedCharacters):
    offset = exc.pos_in_stream
    text = source.text
    ch = text[offset] if offset < len(text) else ""
    span = Span(source=source, start=offset, end=offset + 1)
    if ch == '"':
        return _text_literal_diagnostic(source, offset)
    if ch == "\r":
        return error("E101", "a carriage return without a line feed", span,
                     "save the file with Unix (LF) or Windows (CRLF) line endings")
    category = unicodedata.category(ch) if ch else "Cn"
    if category == "Zs":
        return error("E101", f"unexpected {unicodedata.name(ch, 'space').lower()} ({f'U+{ord(ch):04X}'})",
                     span, _SPACES_HELP)
    if category in ("Cf", "Cc", "Zl", "Zp", "Co", "Cn", "Cs"):
        return _invisible(source, offset)
    instead = _lookalike(ch)
    if instead is not None:
        return error("E101", f"unexpected character `{ch}` ({_char_name(ch)})", span,
                     f"use `{instead}` instead")
    expected, _ = _expected(parser, text, exc)
    return error("E101", f"unexpected character `{ch}` ({_char_name(ch)})", span,
                 f"expected {_describe(parser, expected)}" if expected else "delete it")


def _invisible(source: SourceFile, offset: int):
    ch = source.text[offset]
    name = unicodedata.name(ch, "").lower()
    return error("E101", f"invisible character U+{ord(ch):04X}" + (f" ({name})" if name else "")
                 + " is not allowed",
                 Span(source=source, start=offset, end=offset + 1),
                 "delete it; such characters come from pasted text and can hide what a line says")


def _text_literal_diagnostic(source: SourceFile, offset: int):
    """A `"` that does not start a valid quoted text: no closing quote, or a bad escape."""
    text = source.text
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    i = offset + 1
    while i < end:
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1] if i + 1 < end else ""
            if nxt not in ('"', "\\", "n", "t"):
                shown = f"\\{nxt}" if nxt else "\\"
                return error("E107", f"unknown escape `{shown}` in quoted text",
                             Span(source=source, start=i, end=min(i + 2, end)),
                             'write `\\\\` for a backslash; the escapes are `\\"`, `\\\\`, `\\n` and `\\t`')
            i += 2
            continue
        if ch == '"':
            break
        i += 1
    return error("E107", "unterminated quoted text: it must end on the same line",
                 Span(source=source, start=offset, end=offset + 1), 'add the closing `"`')


def _token_diagnostic(parser: Lark, source: SourceFile, exc):
    text = source.text
    tok = getattr(exc, "token", None)
    expected, last = _expected(parser, text, exc)
    declared = _declared_keyword(parser, source, last)
    if declared is not None:
        return declared
    at_end = (tok is None or tok.type in ("$END", "<EOF>") or getattr(tok, "start_pos", None) is None
              or (tok.type == "_DEDENT" and _skip_blank(text, tok.start_pos or 0) >= len(text)))
    if at_end and not text[_skip_blank(text, 0):]:
        what = "empty" if not text.strip() else "only comments"
        return error("E102", f"the policy file is {what}" if what == "empty" else
                     "the policy file has only comments", _end_span(source) if text.strip() else
                     Span(source=source, start=0, end=0),
                     'expected `policy` and the policy\'s name first, e.g. `policy u8_presales version "2026.1"`')
    position = len(text) if at_end else tok.start_pos
    bracket = _unclosed_bracket(text, position)
    if bracket is not None and (at_end or source.line_col(bracket)[0] < source.line_col(position)[0]):
        ch = text[bracket]
        close = ")" if ch == "(" else "]"
        return error("E108", f"`{ch}` is never closed", Span(source=source, start=bracket, end=bracket + 1),
                     f"add the missing `{close}`; until it is closed, line breaks do not end the line")
    if at_end:
        return error("E102", "unexpected end of the file", _end_span(source),
                     f"expected {_describe(parser, expected)}")
    if expected == {"CITE"} and tok.type != "CITE":
        # After a fact or gate line only `cite` lines may be indented: anything else is a line
        # indented by mistake.
        start = tok.start_pos
        return error("E103", "this line is indented more than the line above",
                     Span(source=source, start=start, end=start + 1),
                     "indent it like the line above; only `cite` lines may be indented under a fact or gate")
    if tok.type == "_INDENT":
        # The token borrows the newline's position; the indented line starts where it ends.
        start = _skip_blank(text, tok.start_pos)
        line = source.line_col(start)[0]
        return error("E103", "this line is indented more than the line above",
                     Span(source=source, start=start, end=start + 1),
                     f"indent it like the line above; expected {_describe(parser, expected - {'_INDENT'})}"
                     if expected - {"_INDENT", "_DEDENT"} else
                     f"indent it like the line above (line {line - 1})")
    if tok.type == "_DEDENT":
        start = _skip_blank(text, tok.start_pos)
        return error("E100", "unexpected end of the indented block",
                     Span(source=source, start=start, end=start + 1),
                     f"expected {_describe(parser, expected)} before this line")
    if tok.type == "_NL":
        start = tok.start_pos
        # A `_NL` token may begin with a comment: point after the code, where the line ends.
        line_no = source.line_col(start)[0]
        line = source.line_text(line_no)
        code_end = len(line[:_comment_start(line)].rstrip())
        line_start = start - (source.line_col(start)[1] - 1)
        start = min(start, line_start + code_end)
        return error("E100", "unexpected end of line", Span(source=source, start=start, end=start + 1),
                     f"expected {_describe(parser, expected)}")
    span = Span(source=source, start=tok.start_pos, end=tok.end_pos or tok.start_pos + 1)
    if "POLICY" in expected:
        return error("E100", f"unexpected {_found(tok)}", span,
                     'expected `policy` and the policy\'s name first, e.g. `policy u8_presales version "2026.1"`')
    if set(_STEP_RULES) <= expected:
        return error("E100", f"unexpected {_found(tok)}: a ladder step needs `full`, `started` or "
                     "`prorated` after `per`", span,
                     "expected `full` (whole steps only), `started` (a begun step counts) or "
                     "`prorated` (steps count in proportion), e.g. `minus 2 per full 5% below`")
    help = f"expected {_describe(parser, expected)}"
    if tok.type == "NAME":
        suggestion = _close_keyword(str(tok), _keyword_texts(parser, expected))
        if suggestion:
            help = f"did you mean `{suggestion}`? {help}"
    return error("E100", f"unexpected {_found(tok)}", span, help)


def _declared_keyword(parser: Lark, source: SourceFile, tok: Token | None):
    """A keyword that the policy also declares as a name (`fact count: count`), read as a keyword.

    The lexer reads `count` as a name right after `fact`, so the declaration passes, but in an
    expression `count` is the keyword of `count(...)` and the line fails further on.
    """
    if tok is None or not _is_keyword(parser, tok) or tok.start_pos is None:
        return None
    m = re.search(r"^[ \t]*(?:fact|let|output|scorecard|item|table)[ \t]+" + re.escape(str(tok)) + r"\b",
                  source.text, flags=re.M)
    if m is None or m.end() >= tok.end_pos:
        return None
    line = source.line_col(m.start())[0]
    return error("E100", f"`{tok}` is a keyword and cannot be used as a name",
                 Span(source=source, start=tok.start_pos, end=tok.end_pos),
                 f"rename `{tok}` where line {line} declares it, e.g. to `{tok}_value`")


def _close_keyword(word: str, keywords) -> str | None:
    import difflib
    match = difflib.get_close_matches(word, keywords, n=1, cutoff=0.7)
    return match[0] if match else None


def _syntax_diagnostic(parser: Lark, source: SourceFile, exc: Exception):
    if isinstance(exc, UnexpectedCharacters):
        return _character_diagnostic(parser, source, exc)
    if isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        return _token_diagnostic(parser, source, exc)
    return error("E100", "cannot read this policy", Span(source=source, start=0, end=1))


def _depth_diagnostic(span: Span, message: str):
    # Point at the first word of the expression: its whole text may fill thousands of columns.
    text = span.source.text
    end = span.start + 1
    while end < span.end and (text[end].isalnum() or text[end] == "_") and text[span.start].isalnum():
        end += 1
    return error("E104", message, Span(source=span.source, start=span.start, end=end),
                 "split the expression into named `let` values")


def parse(source: SourceFile) -> n.Policy:
    """Parse a policy text. Raises ParseFailure carrying diagnostics; never another exception."""
    text = source.text
    if len(text) > MAX_SOURCE_CHARS:
        raise ParseFailure([error("E106", f"the policy file has {len(text)} characters; at most "
                                  f"{MAX_SOURCE_CHARS} are allowed", Span(source=source, start=0, end=1),
                                  "split the policy into smaller files")])
    hidden = _first_control_character(text)
    if hidden is not None:
        raise ParseFailure([_invisible(source, hidden)])
    mixed = _mixed_indentation(source)
    if mixed is not None:
        raise ParseFailure([mixed])
    parser = _lark()
    build = _Build(source)
    if not text.endswith("\n"):
        text = text + "\n"
    try:
        tree = parser.parse(text)
        policy = build.transform(tree)
    except _TooDeep as exc:
        raise ParseFailure([_too_deep_diagnostic(source, exc)]) from None
    except _BadDedent as exc:
        raise ParseFailure([_dedent_diagnostic(source, exc)]) from None
    except (UnexpectedInput, UnexpectedEOF) as exc:
        first = _syntax_diagnostic(parser, source, exc)
        raise ParseFailure(_recover(parser, source, text, exc, first)) from None
    except DedentError:  # pragma: no cover - _Indenter turns these into _BadDedent
        raise ParseFailure([error("E103", "this line's indentation does not match any enclosing block",
                                  Span(source=source, start=0, end=1))]) from None
    except RecursionError:  # pragma: no cover - the limits above are meant to make this unreachable
        raise ParseFailure([error("E104", f"the policy nests too deeply (at most {MAX_DEPTH} levels)",
                                  Span(source=source, start=0, end=1),
                                  "split the expression into named `let` values")]) from None
    if build.max_depth > MAX_DEPTH:
        raise ParseFailure([_depth_diagnostic(build.deepest, f"expression nests {build.max_depth} "
                                              f"levels deep; at most {MAX_DEPTH} are allowed")])
    if build.literal_problems:
        raise ParseFailure(build.literal_problems)
    return policy


def _too_deep_diagnostic(source: SourceFile, exc: "_TooDeep"):
    return error("E104", f"brackets nest more than {MAX_DEPTH} levels deep",
                 Span(source=source, start=exc.token.start_pos, end=exc.token.start_pos + 1),
                 "split the expression into named `let` values")


# ---- recovery: several syntax errors per file ------------------------------------------------
#
# After a syntax error, the broken statement (its line, the lines a bracket continues it on, and
# the lines indented under it) is replaced and the text parsed again, so the next broken
# statement is reported too. The replacement is the first of `_STAND_INS` with which the parser
# gets through it AND accepts the first token of the next line: nothing, when the statement may
# simply be left out; else the smallest statement of a kind the block allows. Lines keep their
# numbers (the replacement keeps every line break) and the lines after the statement their text,
# so each later diagnostic is moved back to the original text by line and column.
#
# Recovery stops, and the errors found so far are all reported, at an error that is not confined
# to one statement (indentation, a bracket never closed, the end of the file, the limits); when no
# stand-in lets the parser accept the next line as it is (the statement left the parser expecting
# something the next line does not give, or the next line is broken from its first word: rather
# than risk an error caused by the stand-in, it is not reported); after MAX_SYNTAX_ERRORS; and
# when the work budget is spent (see below).

MAX_SYNTAX_ERRORS = 10
# Each attempt parses the file again: recovery is for files of a policy's size (the largest shipped
# one has 13,000 characters), within a budget, so a huge broken file still fails fast.
_RECOVERY_MAX_CHARS = 100_000
_RECOVERY_BUDGET = 400_000  # characters parsed again, over every attempt for one file
_STAND_INS = ("", 'cite ""', "let _ = 0", "given _ = 0", '""', "policy _")
_STRUCTURAL = frozenset({"_NL", "_INDENT", "_DEDENT", "$END"})
_STUCK = object()


def _recover(parser: Lark, source: SourceFile, text: str, exc, first) -> list:
    """The first syntax error's diagnostic, then those of the later broken statements (see above)."""
    found = [first]
    try:
        if len(text) <= _RECOVERY_MAX_CHARS:
            _recover_more(parser, source, text, exc, first, found)
    except Exception:  # noqa: BLE001 - recovery only adds diagnostics; the first one stands
        pass
    return [_within(d, source) for d in found]


def _within(diag, source: SourceFile):
    """The diagnostic with its span inside the text (the end of a last line without a line break
    is the line break `parse` added, one past the end)."""
    span, size = diag.span, len(source.text)
    if span is None or span.end <= size:
        return diag
    start = min(span.start, size)
    return attrs.evolve(diag, span=Span(source=source, start=start, end=max(start, min(span.end, size))))


def _recover_more(parser: Lark, source: SourceFile, text: str, exc, diag, found: list) -> None:
    budget = _RECOVERY_BUDGET
    added = len(text) - len(source.text)  # `parse` may have added a final line break
    current = text
    while len(found) < MAX_SYNTAX_ERRORS and _confined(exc, diag):
        region = _statement_region(current, _error_offset(exc))
        if region is None:
            return
        start, end, indent = region
        breaks = current.count("\n", start, end)
        for stand_in in _STAND_INS:
            budget -= len(current)
            if budget < 0:
                return
            replacement = (indent + stand_in if stand_in else "") + "\n" * breaks
            candidate = current[:start] + replacement + current[end:]
            outcome = _reparse(parser, candidate, _next_code_line(candidate, start + len(replacement)))
            if outcome is not _STUCK:
                break
        else:
            return
        if outcome is None:  # the rest of the file parses
            return
        current, exc = candidate, outcome
        budget -= len(current)  # the diagnostic replays the parser once more
        modified = SourceFile(path=source.path, text=current[:len(current) - added])
        diag = _diagnostic_for(parser, modified, exc)
        found.append(_moved(diag, modified, source))


def _diagnostic_for(parser: Lark, source: SourceFile, exc):
    if isinstance(exc, _TooDeep):
        return _too_deep_diagnostic(source, exc)
    if isinstance(exc, _BadDedent):
        return _dedent_diagnostic(source, exc)
    return _syntax_diagnostic(parser, source, exc)


def _confined(exc, diag) -> bool:
    """Whether an error is one statement's own: a wrong word, character or quoted text in a line."""
    if diag.code not in ("E100", "E101", "E107"):
        return False
    if isinstance(exc, UnexpectedCharacters):
        return exc.pos_in_stream is not None
    tok = getattr(exc, "token", None)
    return (isinstance(exc, UnexpectedToken) and tok is not None and tok.start_pos is not None
            and tok.type not in ("_INDENT", "_DEDENT", "$END", "<EOF>"))


def _error_offset(exc) -> int:
    if isinstance(exc, UnexpectedCharacters):
        return exc.pos_in_stream
    return exc.token.start_pos


def _reparse(parser: Lark, text: str, boundary):
    """Parse `text` again: `_STUCK` if the parser fails before it has accepted the first token at
    or after offset `boundary` (or, with no boundary, the end of the file); else the exception of
    the first error after it, or None when the text parses."""
    ip = parser.parse_interactive(text)
    passed = False
    try:
        for tok in ip.lexer_thread.lex(ip.parser_state):
            if (not passed and boundary is not None and tok.type not in _STRUCTURAL
                    and tok.start_pos is not None and tok.start_pos >= boundary):
                try:
                    ip.feed_token(tok)
                except UnexpectedInput:
                    return _STUCK
                passed = True
                continue
            ip.feed_token(tok)
        ip.feed_eof()
    except UnexpectedInput as exc:
        exc.interactive_parser = ip  # as `Lark.parse` leaves it: the diagnostic asks what it accepts
        if not isinstance(exc, UnexpectedCharacters):
            return exc if passed else _STUCK
        # A character no terminal matches anywhere is the next line's own error, whatever came before.
        if passed or (boundary is not None and exc.pos_in_stream >= boundary):
            return exc
        return _STUCK
    except (_TooDeep, _BadDedent) as exc:
        return exc if passed else _STUCK
    return None


def _next_code_line(text: str, pos: int):
    """The offset where the first line at or after `pos` with code on it starts, or None."""
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end]
        if line[:_comment_start(line)].strip(" \t\r\f"):
            return pos
        pos = end + 1
    return None


def _bracket_depth(line: str, depth: int) -> int:
    """The bracket depth after a line, as the indenter counts it (quoted text and comments aside)."""
    code = line[:_comment_start(line)]
    quoted = False
    i = 0
    while i < len(code):
        ch = code[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        i += 1
    return depth


def _statement_region(text: str, pos: int):
    """`(start, end, indentation)` of the statement holding offset `pos`: from the start of its
    first line to the end of its last, including the lines a bracket continues it on and the lines
    indented under it. None when there is no such statement or its brackets do not balance."""
    lines = []  # (start, text, bracket depth at its start)
    depth = 0
    for start, line in _lines(text):
        lines.append((start, line, depth))
        depth = _bracket_depth(line, depth)
    i = 0
    while i + 1 < len(lines) and lines[i + 1][0] <= pos:
        i += 1
    while i > 0 and lines[i][2] > 0:  # a continuation line: the statement starts above
        i -= 1
    start, first, _ = lines[i]
    if not first[:_comment_start(first)].strip(" \t\r\f"):
        return None
    indent = first[:len(first) - len(first.lstrip(" \t"))]
    last = i
    for k in range(i + 1, len(lines)):
        _, line, at = lines[k]
        if at > 0:
            last = k
            continue
        if not line[:_comment_start(line)].strip(" \t\r\f"):
            continue
        if len(line) - len(line.lstrip(" \t")) > len(indent):
            last = k
            continue
        break
    _, line, at = lines[last]
    if _bracket_depth(line, at) != 0:
        return None
    return start, lines[last][0] + len(line), indent


def _moved(diag, modified: SourceFile, source: SourceFile):
    """A diagnostic found in the recovered text, pointing at the same line and column of the original."""
    if diag.span is None:
        return diag
    starts = [s for s, _ in _lines(source.text)]

    def back(offset):
        line, col = modified.line_col(offset)
        if line > len(starts):
            return len(source.text)
        return min(starts[line - 1] + col - 1, len(source.text))
    start, end = back(diag.span.start), back(diag.span.end)
    return attrs.evolve(diag, span=Span(source=source, start=start, end=max(start, end)))


def _dedent_diagnostic(source: SourceFile, exc: "_BadDedent"):
    start = _skip_blank(source.text, exc.token.start_pos)
    width = exc.width
    levels = ", ".join(str(w) for w in exc.levels[:-1]) + " or " + str(exc.levels[-1]) \
        if len(exc.levels) > 1 else str(exc.levels[0])
    return error("E103", f"this line is indented by {width} columns, which matches no enclosing block",
                 Span(source=source, start=start, end=start + 1),
                 f"indent it like the lines of the block it belongs to ({levels} columns)")


def _mixed_indentation(source: SourceFile):
    """Tabs and spaces mixed in indentation: the parser counts a tab as 8 columns, editors as 2-8."""
    first = None  # (indent character, line number) of the first indented line
    for line_start, line in _lines(source.text):
        body = line.lstrip(" \t")
        if not body.strip() or body.startswith("#"):
            continue
        indent = line[:len(line) - len(body)]
        if not indent:
            continue
        line_no = source.line_col(line_start)[0]
        if " " in indent and "\t" in indent:
            other = "\t" if indent[0] == " " else " "
            pos = line_start + indent.index(other)
            return error("E103", "this line's indentation mixes tabs and spaces",
                         Span(source=source, start=pos, end=pos + 1),
                         "indent with spaces only")
        kind = indent[0]
        if first is None:
            first = (kind, line_no)
        elif kind != first[0]:
            used, before = ("a tab", "spaces") if kind == "\t" else ("spaces", "tabs")
            return error("E103", f"this line is indented with {used}, but line {first[1]} with {before}",
                         Span(source=source, start=line_start, end=line_start + 1),
                         "indent every line with spaces only (a tab's width depends on the editor)")
    return None


# Invisible characters that change how text is displayed or joined (Trojan Source, CVE-2021-42574)
# are refused anywhere in the file, comments and quoted texts included.
_HIDDEN = frozenset("\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"
                    "\u2069\u200e\u200f\u061c\u00ad\u180e")


_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f" + "".join(sorted(_HIDDEN)) + "]")


def _first_control_character(text: str):
    """The offset of the first control or invisible character (tab, form feed, CR, LF allowed)."""
    m = _FORBIDDEN.search(text)
    return m.start() if m else None


def parse_text(text: str, path: str = "<policy>") -> n.Policy:
    return parse(SourceFile(path=path, text=text))


class Comment(NamedTuple):
    """A `# ...` comment as written: its text (from `#`, trailing blanks dropped), the offset of its
    `#`, and whether it stands on its own line (nothing but blanks before it)."""
    text: str
    start: int
    own_line: bool


def comments(text: str) -> tuple:
    """Every comment of a policy text, in order. The grammar ignores comments; `kpirules fmt`
    keeps them. Quoted text cannot span lines, so a `#` outside quotes on a line starts one."""
    found = []
    for line_start, line in _lines(text):
        at = _comment_start(line)
        if at < len(line):
            found.append(Comment(text=line[at:].rstrip(" \t\r\f"), start=line_start + at,
                                 own_line=not line[:at].strip(" \t\f")))
    return tuple(found)


def parse_with_comments(source: SourceFile) -> tuple:
    """`parse`, and the comments it ignores: `(Policy, (Comment, ...))`."""
    return parse(source), comments(source.text)
