"""Parse stage: policy text to the surface tree (nodes.py), or diagnostics with positions.

Lark is seen only here. The transformer runs inside the LALR parser, so building the tree never
recurses, however deep the input nests; depth is measured on the way and limited afterwards.
"""

from __future__ import annotations

import functools
import unicodedata
from decimal import Decimal, InvalidOperation
from importlib import resources

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
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8


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
        name, label, version = header
        imports = tuple(c for c in rest if isinstance(c, n.Import))
        tables = tuple(c for c in rest if isinstance(c, n.Table))
        defs = tuple(c for c in rest if isinstance(c, n.Definition))
        evals = tuple(c for c in rest if isinstance(c, n.Evaluation))
        return n.Policy(name=name, label=label, version=version, imports=imports, tables=tables,
                        definitions=defs, evaluations=evals, span=self._span(meta))

    def header(self, meta, children):
        name, label, version = str(children[0]), None, None
        for c in children[1:]:
            if isinstance(c, _Label):
                label = c.text
            elif isinstance(c, _Version):
                version = c.text
        return (name, label, version)

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
        key_name, value_type, rows = str(children[i]), children[i + 1], children[i + 2]
        return n.Table(name=name, label=label, key_name=key_name, value_type=value_type, rows=rows,
                       span=self._span(meta))

    def table_body(self, meta, children):
        return tuple(row for line in children for row in line)

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
        return n.Fact(name=name, label=label, type=children[-1], span=self._span(meta))

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
        limit = None
        if children and isinstance(children[-1], _Limit):
            limit = children[-1].value
            children = children[:-1]
        if len(children) == 1 and isinstance(children[0], (n.ScalarType, n.EnumType)):
            element = children[0]
        else:
            element = tuple(children)
        return n.ListType(element=element, limit=limit, span=self._span(meta))

    def list_limit(self, meta, children):
        return _Limit(int(self._decimal(children[0], str(children[0]))))

    def field(self, meta, children):
        name = str(children[0])
        label = children[1].text if isinstance(children[1], _Label) else None
        return n.FieldDecl(name=name, label=label, type=children[-1], span=self._span(meta))

    def record_type(self, meta, children):
        return n.RecordType(kind=children[0], keys=tuple(str(c) for c in children[1:]),
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
        rate, standard, *rest = children
        none_rule = None
        if rest and not isinstance(rest[0], (n.LadderStep, n.Cite)):
            none_rule = rest.pop(0)
        if none_rule is _NO_NONE_RULE:
            none_rule = None
        steps = tuple(c for c in rest if isinstance(c, n.LadderStep))
        cites = tuple(c for c in rest if isinstance(c, n.Cite))
        return n.Ladder(rate=rate, standard=standard, none_rule=none_rule, steps=steps, cites=cites,
                        span=self._span(meta))

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
        clauses = rest[0] if rest else ()
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


class _Limit:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _trim_end(text: str, start: int, end: int) -> int:
    """A rule's span ends at its last token, not at the newlines and comment lines after it."""
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
}

_EXPRESSION_STARTERS = {"NAME", "NUMBER", "PERCENT", "WAN", "YUAN", "STRING"}

# Characters that word processors put into text; what to type instead (ASCII).
_LOOKALIKES = {
    "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\uff1a": ":", "\uff0c": ",",
    "\uff08": "(", "\uff09": ")", "\uff05": "%", "\uff1b": ";", "\u3002": ".", "\uff0e": ".",
    "\u00a0": "a plain space", "\u3000": "a plain space", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\uff0b": "+", "\uff1d": "=", "\uff1e": ">", "\uff1c": "<", "\uff3b": "[", "\uff3d": "]",
}


def _lark() -> Lark:
    return _parser_instance()


@functools.lru_cache(maxsize=1)
def _parser_instance() -> Lark:
    return Lark(_grammar(), parser="lalr", postlex=_Indenter(), propagate_positions=True,
                maybe_placeholders=True)


def _describe(parser: Lark, names) -> str:
    words = []
    names = set(names)
    if len(names & _EXPRESSION_STARTERS) >= 3:
        names -= _EXPRESSION_STARTERS | {"LPAR", "MINUS", "NOT", "IF", "TRUE", "FALSE", "ITEM", "SUM", "COUNT"}
        words.append("an expression")
    for name in sorted(names):
        if name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
            continue
        try:
            term = parser.get_terminal(name)
        except KeyError:
            words.append(name.lower())
            continue
        if term.pattern.type == "str":
            words.append(f"`{term.pattern.value}`")
        else:
            words.append(name.lower())
    words = sorted(set(words), key=lambda w: (not w.startswith("`"), w))
    if len(words) > 8:
        words = words[:8] + ["..."]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _found(tok: Token) -> str:
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "_INDENT":
        return "indented line"
    if tok.type == "_DEDENT":
        return "end of the indented block"
    if tok.type == "$END":
        return "end of the file"
    return f"`{tok}`"


def _syntax_diagnostic(parser: Lark, source: SourceFile, exc: Exception):
    if isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream
        ch = source.text[offset] if offset < len(source.text) else ""
        span = Span(source=source, start=offset, end=offset + 1)
        name = unicodedata.name(ch, "")
        code_point = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
        if ch in _LOOKALIKES:
            return error("E101", f"unexpected character `{ch}` ({code_point})", span,
                         f"use `{_LOOKALIKES[ch]}` instead" if len(_LOOKALIKES[ch]) == 1
                         else f"use {_LOOKALIKES[ch]} instead")
        if ch == '"':
            return error("E101", "unterminated text: a quoted text must end on the same line", span,
                         "add the closing `\"`")
        if unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp") and ch not in "\n\r\t":
            return error("E101", f"invisible character {code_point} is not allowed", span,
                         "delete it; retype the line if it was pasted")
        expected = _describe(parser, exc.allowed or ())
        return error("E101", f"unexpected character `{ch}` ({code_point})", span,
                     f"expected {expected}" if exc.allowed else None)
    if isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        tok = getattr(exc, "token", None)
        if tok is None or tok.type == "$END" or getattr(tok, "start_pos", None) is None:
            end = len(source.text.rstrip())
            span = Span(source=source, start=max(0, end - 1), end=max(0, end))
            expected = _describe(parser, exc.expected)
            return error("E102", "unexpected end of the file", span, f"expected {expected}")
        start = tok.start_pos
        if tok.type == "_NL":
            start = tok.start_pos
            span = Span(source=source, start=start, end=start + 1)
        elif tok.type in ("_INDENT", "_DEDENT"):
            # Point at the first character of the line whose indentation surprised the parser.
            line_start = source.text.rfind("\n", 0, max(start, 1)) + 1
            pos = start
            while pos < len(source.text) and source.text[pos] in " \t":
                pos += 1
            span = Span(source=source, start=pos if tok.type == "_INDENT" else start,
                        end=(pos if tok.type == "_INDENT" else start) + 1)
            del line_start
        else:
            span = Span(source=source, start=start, end=tok.end_pos or start + 1)
        expected = _describe(parser, exc.expected)
        return error("E100", f"unexpected {_found(tok)}", span, f"expected {expected}")
    return error("E100", "cannot read this policy", Span(source=source, start=0, end=1))


def parse(source: SourceFile) -> n.Policy:
    """Parse a policy text. Raises ParseFailure carrying diagnostics; never another exception."""
    text = source.text
    if len(text) > MAX_SOURCE_CHARS:
        raise ParseFailure([error("E106", f"policy file has {len(text)} characters; at most "
                                  f"{MAX_SOURCE_CHARS} are allowed", Span(source=source, start=0, end=1),
                                  "split the policy into modules")])
    bidi = _first_control_character(text)
    if bidi is not None:
        ch = text[bidi]
        raise ParseFailure([error(
            "E101", f"invisible character U+{ord(ch):04X} {unicodedata.name(ch, '')} is not allowed",
            Span(source=source, start=bidi, end=bidi + 1), "delete it; retype the line if it was pasted")])
    parser = _lark()
    build = _Build(source)
    if not text.endswith("\n"):
        text = text + "\n"
    try:
        tree = parser.parse(text)
        policy = build.transform(tree)
    except (UnexpectedInput, UnexpectedEOF) as exc:
        raise ParseFailure([_syntax_diagnostic(parser, source, exc)]) from None
    except DedentError as exc:
        raise ParseFailure([_dedent_diagnostic(source, str(exc))]) from None
    except RecursionError:
        raise ParseFailure([error("E104", f"the policy nests too deeply (at most {MAX_DEPTH} levels)",
                                  Span(source=source, start=0, end=1),
                                  "split the expression into named `let` values")]) from None
    if build.max_depth > MAX_DEPTH:
        raise ParseFailure([error("E104", f"expression nests {build.max_depth} levels deep; at most "
                                  f"{MAX_DEPTH} are allowed", build.deepest,
                                  "split the expression into named `let` values")])
    if build.literal_problems:
        raise ParseFailure(build.literal_problems)
    return policy


def _dedent_diagnostic(source: SourceFile, message: str):
    # Lark's message names the offending indentation width; find the first line that has it.
    import re
    m = re.search(r"Unexpected dedent to column (\d+)", message)
    width = int(m.group(1)) if m else None
    offset = 0
    if width is not None:
        pos = 0
        for line in source.text.splitlines(keepends=True):
            stripped = line.lstrip(" \t")
            indent = len(line) - len(stripped)
            if stripped.strip() and not stripped.startswith("#") and indent == width:
                offset = pos + indent
                break
            pos += len(line)
    return error("E103", "this line's indentation does not match any enclosing block",
                 Span(source=source, start=offset, end=offset + 1),
                 "indent it exactly like the lines of the block it belongs to")


def _first_control_character(text: str):
    for i, ch in enumerate(text):
        if ord(ch) < 32 and ch not in "\n\r\t":
            return i
        if ch in "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f":
            if ch == "\ufeff" and i == 0:
                continue
            return i
    return None


def parse_text(text: str, path: str = "<policy>") -> n.Policy:
    return parse(SourceFile(path=path, text=text))
