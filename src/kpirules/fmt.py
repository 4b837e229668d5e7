"""Format stage: a policy's surface tree and its comments back to one canonical text (`kpirules fmt`).

The layout is fixed: 4-space indentation, one statement per line, clauses and table rows on lines
of their own, canonical spacing around operators and after commas, parentheses only where
precedence needs them. What the tree does not record is taken from the source text as written:
the spelling of number literals (`10万`, `85%`, `0.50`), the order of lines a node keeps in
separate tuples (facts and values, rows and cites, givens and expects), comments, and the blank
lines an author put between statements where the layout leaves them free.

Two properties hold for every policy text `p` that parses (tests/test_fmt.py checks them):
`parse(format_text(p)) == parse(p)` (spans aside, node equality) and
`format_text(format_text(p)) == format_text(p)`; every comment comes out once, in its order.

Comments are placed by the source line they sit on: a trailing comment (code before it on its
line) ends the output line of the last construct written on that line; a comment on its own line
goes before the first construct that starts at or after it, indented like that construct, or,
where it was indented deeper, like the body of the line above (a note under a `let` stays there).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from decimal import Decimal

from . import nodes as n
from .parser import Comment, parse
from .parser import comments as find_comments
from .parser.scanner import Token, bracket_depth
from .parser.scanner import code_tokens as _tokens
from .parser.scanner import unquote as _unquote
from .source import SourceFile

INDENT = 4

# Blank-line rules of a line: always one before it, one only where the source had one, or none.
REQUIRED, PRESERVE, NONE = "required", "preserve", "none"

# Binding strength of each expression form, loosest first; an operand weaker than its slot needs
# parentheses. Mirrors the precedence ladder of grammar.lark (expr > or > and > not > comparison
# > sum > product > unary > postfix > atom).
P_COND, P_OR, P_AND, P_NOT, P_CMP, P_SUM, P_PROD, P_NEG, P_POSTFIX, P_ATOM = range(10)

_LITERAL = re.compile(r"([0-9]+(?:\.[0-9]+)?)(%|万|元)?")
_WEIGHT = re.compile(r"([0-9]+(?:\.[0-9]+)?)(%)?")

def format_text(text: str, path: str = "<policy>") -> str:
    """The canonical text of a policy text. Raises `parser.ParseFailure` if it does not parse."""
    source = SourceFile(path=path, text=text)
    return format_policy(parse(source), find_comments(text))


def format_policy(policy: n.Policy, comments=()) -> str:
    """The canonical text of a parsed policy; `comments` (from `parser.comments`) are put back
    where they were. Nodes built without a source (all spans empty) print in tuple order."""
    return _Printer(policy).run(comments)


# ---- source text helpers ---------------------------------------------------------------------

class _Source:
    """Physical and logical lines of the source: a logical line continues while brackets are open,
    as the parser's indenter reads it."""

    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self.logical = []  # index of the physical line that starts each logical line
        self.logical_of_line = []
        depth = 0
        for number, start in enumerate(self.line_starts):
            if depth == 0:
                self.logical.append(number)
            self.logical_of_line.append(len(self.logical) - 1)
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            depth = bracket_depth(text[start:end], depth)

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset) - 1

    def logical_index(self, offset: int) -> int:
        return self.logical_of_line[self.line(offset)]

    def logical_start(self, index: int) -> int:
        return self.line_starts[self.logical[index]]

    def logical_end(self, index: int) -> int:
        """The offset where logical line `index` ends (its last physical line's end)."""
        if index + 1 < len(self.logical):
            return self.line_starts[self.logical[index + 1]] - 1
        return len(self.text)

    def blank_before(self, offset: int) -> bool:
        """Whether the physical line before the one holding `offset` is blank."""
        line = self.line(offset)
        if line == 0:
            return False
        start, end = self.line_starts[line - 1], self.line_starts[line] - 1
        return not self.text[start:end].strip()

    def column(self, offset: int) -> int:
        start = self.line_starts[self.line(offset)]
        return len(self.text[start:offset].expandtabs(INDENT))


def _ends_with_name(text: str) -> bool:
    tokens = list(_tokens(text))
    return bool(tokens) and tokens[-1][0] == "name"


def _width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# ---- literals --------------------------------------------------------------------------------

def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _plain(value: Decimal) -> str:
    """A non-negative decimal as a literal without exponent; trailing zeros as the value has them."""
    return format(value, "f")


def _trimmed(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _literal_value(token: str):
    """(value, unit) of a literal token: `85%` is (0.85, percent), `10万` (100000, money)."""
    m = _LITERAL.fullmatch(token)
    if m is None:
        return None
    digits, suffix = Decimal(m.group(1)), m.group(2)
    if suffix == "%":
        return digits / 100, "percent"
    if suffix == "万":
        return digits * 10000, "money"
    if suffix == "元":
        return digits, "money"
    return digits, "number"


def _spelled(span) -> str | None:
    """The source text of a span, if the span is real."""
    if span is None or span.end <= span.start or span.end > len(span.source.text):
        return None
    return span.source.text[span.start:span.end]


def _number(node: n.Number) -> str:
    written = _spelled(node.span)
    if written is not None and _literal_value(written) == (node.value, node.unit):
        return written
    if node.unit == "percent":
        return _trimmed(node.value * 100) + "%"
    if node.unit == "money":
        return _plain(node.value) + "元"
    return _plain(node.value)


def _weight(weight: Decimal, span) -> str:
    written = _spelled(span)
    if written is not None:
        m = _WEIGHT.fullmatch(written)
        if m is not None and (Decimal(m.group(1)) / 100 if m.group(2) else Decimal(m.group(1))) == weight:
            return written
    return _trimmed(weight * 100) + "%"


def _same(a, b) -> bool:
    """Equal and of the same kind, all the way down (`True == Decimal(1)`, but not here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


class _ValueReader:
    """Reads one example value from source tokens: its value (as the parser builds it) and its
    canonical text, which keeps the literals as written and a bare name a bare name."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.i = 0

    def peek(self):
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self):
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def value(self):
        kind, text, _ = self.take()
        if kind == "number":
            return _literal_value(text)[0], text
        if text == "-":
            kind, number, _ = self.take()
            if kind != "number" or not number[-1].isdigit():
                raise ValueError(number)
            return -Decimal(number), "-" + number
        if kind == "string":
            return _unquote(text), _quote(_unquote(text))
        if kind == "name":
            return {"true": True, "false": False}.get(text, text), text
        if text in ("[", "{"):
            close = "]" if text == "[" else "}"
            items, texts = ([], []) if text == "[" else ({}, [])
            while self.peek() != close:
                if texts:
                    if self.take()[1] != ",":
                        raise ValueError(",")
                if text == "[":
                    value, shown = self.value()
                    items.append(value)
                    texts.append(shown)
                else:
                    key = self.take()[1]
                    if self.take()[1] != ":":
                        raise ValueError(":")
                    value, shown = self.value()
                    items[key] = value
                    texts.append(f"{key}: {shown}")
            self.take()
            return items, text + ", ".join(texts) + close
        raise ValueError(text)


_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _value_text(value) -> str:
    """An example value printed from the tree alone (no source to keep spellings from)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return ("-" if value.is_signed() else "") + _plain(abs(value))
    if isinstance(value, str):
        # A date is written bare (`2026-07-01`), as authors write it; it reads back as the same text.
        return value if _DATE_TEXT.fullmatch(value) else _quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value_text(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value).__name__)  # pragma: no cover - the parser builds no other value


# ---- the printer -----------------------------------------------------------------------------

class _Line:
    __slots__ = ("indent", "text", "logical", "blank", "opens", "first")

    def __init__(self, indent, text, logical, blank, opens):
        self.indent, self.text, self.logical, self.blank, self.opens = indent, text, logical, blank, opens
        self.first = False  # the first output line of its source line (set in `_place_comments`)


def _ordered(*groups):
    """Nodes the tree keeps in separate tuples, back in written order (stable for equal spans)."""
    return sorted((x for g in groups for x in g), key=lambda x: x.span.start)


class _Printer:
    def __init__(self, policy: n.Policy):
        self.policy = policy
        self.src = _Source(policy.span.source.text)
        self.lines: list[_Line] = []

    # -- output lines
    def emit(self, depth: int, text: str, offset: int | None, blank: str = NONE, opens: bool = False):
        logical = None
        if offset is not None and self.src.text and 0 <= offset < len(self.src.text):
            logical = self.src.logical_index(offset)
        if logical is None and self.lines:
            logical = self.lines[-1].logical  # keep anchors in order for nodes with no source
        self.lines.append(_Line(depth * INDENT, text, logical, blank, opens))

    # -- top level
    def run(self, comments) -> str:
        p = self.policy
        kind = "module" if p.is_module else "policy"
        self.emit(0, f"{kind} {p.name}{self.label(p.label)}"
                  + (f" version {_quote(p.version)}" if p.version is not None else ""),
                  self.header_offset())
        previous = None
        for node in _ordered(p.imports, p.tables, p.definitions, p.evaluations, p.bands, p.ladders,
                             p.functions, p.examples, p.tiers):
            blank = REQUIRED
            if previous is not None and type(node) is type(previous) and (
                    isinstance(node, n.Import) or (isinstance(node, n.Definition)
                                                   and not node.clauses and not previous.clauses)):
                blank = PRESERVE  # runs of imports and of one-line values may stay together
            self.statement(node, 0, blank)
            previous = node
        return self.render(comments)

    def header_offset(self) -> int | None:
        for _, _, offset in _tokens(self.src.text):
            return offset
        return None

    def statement(self, node, depth: int, blank: str = NONE):
        getattr(self, "stmt_" + type(node).__name__)(node, depth, blank)

    @staticmethod
    def label(label) -> str:
        return f" {_quote(label)}" if label is not None else ""

    def stmt_Import(self, node: n.Import, depth, blank):
        self.emit(depth, "import " + ".".join(node.path), node.span.start, blank)

    def stmt_Table(self, node: n.Table, depth, blank):
        self.emit(depth, f"table {node.name}{self.label(node.label)} ({node.key_name}) -> {node.value_type}:",
                  node.span.start, blank, opens=True)
        for x in _ordered(node.rows, node.cites):
            if isinstance(x, (n.Cite, n.Note)):
                self.clause(x, depth + 1)
            else:
                self.emit(depth + 1, f"{self.row_key(x)} -> {self.expr(x.value)}", x.span.start)

    def row_key(self, row: n.Row) -> str:
        key = row.key
        if isinstance(key, n.Version):
            return f"from {key.start.text}" + (f" until {key.until.text}" if key.until is not None else "")
        if isinstance(key, n.Name):
            return key.name
        if isinstance(key, str):
            return _quote(key)
        written = _spelled(row.span)
        m = _LITERAL.match(written or "")
        if m is not None and not m.group(2) and Decimal(m.group(1)) == key:
            return m.group(1)
        return _plain(key)

    def stmt_Definition(self, node: n.Definition, depth, blank):
        value = self.aggregate(node.value) if isinstance(node.value, n.Aggregate) else self.expr(node.value)
        self.emit(depth, f"{node.kind} {node.name}{self.label(node.label)} = {value}", node.span.start,
                  blank, opens=True)
        for c in node.clauses:
            self.clause(c, depth + 1)

    def aggregate(self, node: n.Aggregate) -> str:
        body = f" of {self.expr(node.body)}" if node.body is not None else ""
        return f"{node.function} over {node.list_name}{body}"

    def clause(self, c, depth):
        self.emit(depth, self.clause_text(c), c.span.start)

    def clause_text(self, c) -> str:
        if isinstance(c, n.Floor):
            return f"floor {self.expr(c.value)}"
        if isinstance(c, n.Cap):
            return f"cap {self.expr(c.value)}"
        if isinstance(c, n.Round):
            return f"round {'each ' if c.each else ''}{c.mode} to {_plain(c.quantum)}"
        if isinstance(c, n.Cite):
            return f"cite {_quote(c.text)}"
        if isinstance(c, n.Note):
            return f"note {_quote(c.text)}"
        if isinstance(c, n.Filter):
            reason = f" else {_quote(c.reason)}" if c.reason is not None else ""
            return f"only if {self.expr(c.condition, P_OR)}{reason}"
        raise TypeError(type(c).__name__)  # pragma: no cover - the parser builds no other clause

    def stmt_Evaluation(self, node: n.Evaluation, depth, blank):
        effective = ""
        if node.effective is not None:
            v = node.effective
            effective = f" effective from {v.start.text}" + (f" until {v.until.text}" if v.until is not None else "")
        self.emit(depth, f"evaluation {node.name}{self.label(node.label)}{effective}:", node.span.start, blank,
                  opens=True)
        previous = None
        for x in _ordered(node.facts, node.body):
            each = getattr(x, "each", None)
            opened = each is not None and getattr(previous, "each", None) is not each
            if previous is None:
                mode = NONE
            elif isinstance(x, n.Scorecard) or isinstance(previous, n.Scorecard) \
                    or isinstance(x, n.Fact) != isinstance(previous, n.Fact) \
                    or opened or (each is None and getattr(previous, "each", None) is not None):
                mode = REQUIRED  # a new section: facts, values, a scorecard, a `for each` block
            else:
                mode = PRESERVE
            if opened and each is not None:
                # The definitions of one block share its Each (parser/build.py): a new one opens a block.
                self.emit(depth + 1, f"for each {each.var} in {each.list_name}:", each.span.start, mode, opens=True)
                mode = NONE
            self.statement(x, depth + 2 if each is not None else depth + 1, mode)
            previous = x

    def stmt_Fact(self, node: n.Fact, depth, blank):
        self.emit(depth, f"fact {node.name}{self.label(node.label)}: {self.fact_type(node.type)}",
                  node.span.start, blank, opens=True)
        for c in node.cites:
            self.clause(c, depth + 1)

    def fact_type(self, t, in_fields: bool = False) -> str:
        if isinstance(t, n.ScalarType):
            return t.kind + self.constraints(t.constraints)
        if isinstance(t, n.PeriodType):
            return f"period of {t.unit}"
        if isinstance(t, n.EnumType):
            # Inside a list's fields a bare `one of a, b` would swallow the next field's name.
            values = ", ".join(t.values)
            return f"one of ({values})" if in_fields else f"one of {values}"
        if isinstance(t, n.RecordType):
            return f"record of {t.kind}{self.constraints(t.constraints, before_keys=True)} ({', '.join(t.keys)})"
        if isinstance(t, n.ListType):
            if isinstance(t.element, tuple):  # a list of records
                element = "(" + ", ".join(f"{f.name}{self.label(f.label)}: {self.fact_type(f.type, True)}"
                                          for f in t.element) + ")"
            else:
                element = self.fact_type(t.element)
            rules = ""
            if t.minimum is not None:
                rules += f" at least {t.minimum}"
            if t.limit is not None:
                rules += f" at most {t.limit}"
            if t.total is not None:
                rules += f" with {t.total[0]} adding up to {self.expr(t.total[1], P_SUM)}"
            if t.key is not None:
                rules += f" keyed by {t.key}"
            return f"list of {element}{rules}"
        raise TypeError(type(t).__name__)  # pragma: no cover - the parser builds no other type

    def range(self, low, high) -> str:
        return f"{self.expr(low, P_NEG)}..{self.expr(high, P_NEG)}"

    def constraints(self, constraints, before_keys: bool = False) -> str:
        parts = []
        for i, c in enumerate(constraints):
            if isinstance(c, n.RangeConstraint):
                # `in 1 + 1..total * 2` is legal but reads wrong: the ends of `..` are
                # parenthesised unless they are a single name, literal, lookup or negative number.
                low, high = self.expr(c.low, P_NEG), self.expr(c.high, P_NEG)
            elif isinstance(c, n.CompareConstraint):
                high = self.expr(c.bound, P_SUM)
            else:
                parts.append(f"matching {_quote(c.pattern)}")
                continue
            if before_keys and i == len(constraints) - 1 and _ends_with_name(high):
                high = f"({high})"  # `in 0..top (self, peer)` would read as a call of `top`
            parts.append(f"in {low}..{high}" if isinstance(c, n.RangeConstraint) else f"{c.op} {high}")
        return (" " + " and ".join(parts)) if parts else ""

    def stmt_Scorecard(self, node: n.Scorecard, depth, blank):
        total = f" total {_plain(node.total)}" if node.total is not None else ""
        self.emit(depth, f"scorecard {node.name}{self.label(node.label)}{total}:", node.span.start, blank,
                  opens=True)
        for i, x in enumerate(_ordered(node.items, node.gates, node.clauses)):
            mode = NONE if i == 0 else PRESERVE
            if isinstance(x, (n.Item, n.Gate)):
                self.statement(x, depth + 1, mode)
            else:
                self.emit(depth + 1, self.clause_text(x), x.span.start, mode)

    def stmt_Item(self, node: n.Item, depth, blank):
        tags = "".join(f", {t}" for t in node.tags)
        self.emit(depth, f"item {node.name}{self.label(node.label)} weight {_plain(node.weight)}{tags}:",
                  node.span.start, blank, opens=True)
        for x in node.body:
            if isinstance(x, n.Adjust):
                text = f"{x.sign} {self.expr(x.amount, P_OR)}"
                if x.per is not None:
                    text += f" per {self.expr(x.per, P_OR)}"
                if x.condition is not None:
                    text += f" if {self.expr(x.condition, P_OR)}"
                self.emit(depth + 1, text, x.span.start)
            elif isinstance(x, n.Override):
                line = f"score {self.expr(x.value, P_OR)} if {self.expr(x.condition, P_OR)}"
                self.emit(depth + 1, line, x.span.start)
            elif isinstance(x, n.Ladder):
                self.ladder(x, depth + 1)
            else:
                self.clause(x, depth + 1)

    def ladder(self, node: n.Ladder, depth):
        text = f"ladder {self.expr(node.rate, P_OR)} standard {self.expr(node.standard, P_OR)}"
        if node.using is not None:
            text += f" using {node.using}"
        if node.none_rule is not None:
            none = "standard" if node.none_rule == "standard" else self.expr(node.none_rule, P_OR)
            text += f", if none: {none}"
        self.emit(depth, text, node.span.start, opens=True)
        self.steps(node.steps, node.cites, depth + 1)

    def steps(self, steps, cites, depth):
        for x in _ordered(steps, cites):
            if isinstance(x, (n.Cite, n.Note)):
                self.clause(x, depth)
            else:
                self.emit(depth, f"{x.sign} {self.expr(x.points, P_OR)} per {x.rule} {self.expr(x.step, P_OR)} "
                          f"{x.direction}", x.span.start)

    def stmt_Gate(self, node: n.Gate, depth, blank):
        reason = f" else {_quote(node.reason)}" if node.reason is not None else ""
        self.emit(depth, f"gate {node.tag} items: count only if {self.expr(node.condition, P_OR)}{reason}",
                  node.span.start, blank, opens=True)
        for c in node.clauses:
            self.clause(c, depth + 1)

    def stmt_Bands(self, node: n.Bands, depth, blank):
        self.emit(depth, f"bands {node.name}{self.label(node.label)} in {self.range(node.low, node.high)}:",
                  node.span.start, blank, opens=True)
        for b in node.bands:
            text = _quote(b.name)
            if b.low is not None:
                text += f" {'from' if b.low_inclusive else 'above'} {self.expr(b.low, P_SUM)}"
            if b.high is not None:
                text += f" {'to' if b.high_inclusive else 'below'} {self.expr(b.high, P_SUM)}"
            self.emit(depth + 1, text, b.span.start)

    def stmt_LadderDef(self, node: n.LadderDef, depth, blank):
        self.emit(depth, f"ladder {node.name}{self.label(node.label)}:", node.span.start, blank, opens=True)
        self.steps(node.steps, node.cites, depth + 1)

    def stmt_Function(self, node: n.Function, depth, blank):
        params = ", ".join(f"{p.name}: {p.kind}" for p in node.params)
        self.emit(depth, f"function {node.name}{self.label(node.label)} ({params}) = {self.expr(node.body)}",
                  node.span.start, blank, opens=True)
        for c in node.clauses:
            self.clause(c, depth + 1)

    def stmt_Example(self, node: n.Example, depth, blank):
        target = f" for {node.evaluation}" if node.evaluation is not None else ""
        self.emit(depth, f"example {_quote(node.name)}{target}:", node.span.start, blank, opens=True)
        for text, offset in self.example_lines(node):
            self.emit(depth + 1, text, offset)

    def example_lines(self, node: n.Example):
        """The example's lines in written order, with the values spelled as written where the
        source has them (the tree keeps `from`, `given`, `expect` apart, and values as numbers)."""
        written = self.example_source(node)
        given, expect, errors = list(node.given), list(node.expect), list(node.errors)
        wanted = {"from": int(node.base is not None), "given": len(given), "expect": len(expect),
                  "error": len(errors)}
        if written is None or {k: sum(1 for w in written if w[0] == k) for k in wanted} != wanted:
            written = [(kind, None, ()) for kind in wanted for _ in range(wanted[kind])]
        out = []
        for kind, offset, tokens in written:
            if kind == "from":
                assert node.base is not None  # a `from` line is counted only when the example has a base
                out.append((f"from {_quote(node.base)}", offset))
            elif kind == "given":
                path, value = given.pop(0)
                out.append((f"given {'.'.join(path)} = {self.example_value(value, tokens)}", offset))
            elif kind == "expect":
                name, value, _ = expect.pop(0)
                out.append((f"expect {name} = {self.example_value(value, tokens)}", offset))
            else:
                path, _ = errors.pop(0)
                out.append((f"expect error at {_quote(path)}", offset))
        return out

    def example_source(self, node: n.Example):
        """[(kind, offset, value tokens)] of the example's lines as the source writes them."""
        text = self.src.text
        if _spelled(node.span) is None or node.span.source.text is not text:
            return None
        first = self.src.logical_index(node.span.start)
        last = self.src.logical_index(node.span.end - 1)
        found: list[tuple[str, int, list[Token]]] = []  # (kind, offset, value tokens)
        for index in range(first + 1, last + 1):
            tokens = list(_tokens(text, self.src.logical_start(index), self.src.logical_end(index)))
            if not tokens:
                continue
            words = [t[1] for t in tokens]
            if words[0] == "from":
                found.append(("from", tokens[0][2], []))
            elif words[0] == "given" or (words[0] == "expect" and words[1:3] != ["error", "at"]):
                value = tokens[words.index("=") + 1:] if "=" in words else []
                found.append((words[0], tokens[0][2], value))
            elif words[0] == "expect":
                found.append(("error", tokens[0][2], []))
            else:
                return None
        return found

    @staticmethod
    def example_value(value, tokens) -> str:
        if tokens:
            try:
                reader = _ValueReader(tokens)
                read, shown = reader.value()
                if reader.i == len(tokens) and _same(read, value):
                    return shown
            except (ValueError, IndexError):
                pass
        return _value_text(value)

    # -- expressions
    def expr(self, node, slot: int = P_COND) -> str:
        """`node` as written in a slot that takes forms binding at least as tightly as `slot`."""
        text, strength = self.form(node)
        return f"({text})" if strength < slot else text

    def _or_side(self, node, slot: int) -> str:
        if isinstance(node, n.Binary) and node.op == "and":
            return f"({self.form(node)[0]})"
        return self.expr(node, slot)

    def form(self, node):
        """(text, binding strength) of an expression."""
        kind = type(node)
        if kind is n.Number:
            return _number(node), P_ATOM
        if kind is n.DateLit:
            return node.text, P_ATOM
        if kind is n.DaysBetween:
            # Bound as loosely as a comparison: inside any operator it is parenthesised, so
            # `(days from a to b) > 30` never reads as a span ending at `b > 30`.
            return f"days from {self.expr(node.start, P_SUM)} to {self.expr(node.end, P_SUM)}", P_CMP
        if kind is n.Text:
            return _quote(node.value), P_ATOM
        if kind is n.Bool:
            return ("true" if node.value else "false"), P_ATOM
        if kind is n.Name:
            return node.name, P_ATOM
        if kind is n.ItemRef:
            return "item", P_ATOM
        if kind is n.Conditional:
            # The condition and `then` branch are parenthesised when they are conditionals
            # themselves: legal bare, but hard to read; `else if` chains stay bare.
            return (f"if {self.expr(node.condition, P_OR)} then {self.expr(node.then, P_OR)} "
                    f"else {self.expr(node.otherwise)}"), P_COND
        if kind is n.Binary:
            strength = {"or": P_OR, "and": P_AND, "+": P_SUM, "-": P_SUM, "*": P_PROD, "/": P_PROD}[node.op]
            if node.op == "or":
                # `and` inside `or` is always parenthesised: `a or (b and c)` is how authors write
                # (and read) a rank's tie rule; the canonical layout keeps it, never drops it.
                return f"{self._or_side(node.left, strength)} or {self._or_side(node.right, strength + 1)}", strength
            # Left-associative: the right operand binds one step tighter.
            return f"{self.expr(node.left, strength)} {node.op} {self.expr(node.right, strength + 1)}", strength
        if kind is n.Unary:
            if node.op == "not":
                return f"not {self.expr(node.operand, P_NOT)}", P_NOT
            operand = self.expr(node.operand, P_NEG)
            return ("- " if operand.startswith("-") else "-") + operand, P_NEG
        if kind is n.Compare:
            return f"{self.expr(node.left, P_SUM)} {node.op} {self.expr(node.right, P_SUM)}", P_CMP
        if kind is n.Index:
            return f"{self.expr(node.target, P_POSTFIX)}[{self.expr(node.key)}]", P_POSTFIX
        if kind is n.Field:
            return f"{self.expr(node.target, P_POSTFIX)}.{node.name}", P_POSTFIX
        if kind is n.Call:
            return f"{node.function}({', '.join(self.expr(a) for a in node.args)})", P_POSTFIX
        if kind is n.Blend:
            # A weight follows its expression with only a space between: an operand with a binary
            # operator is parenthesised, so `(a + b) 40%` does not read as `a + (b 40%)`.
            parts = ", ".join(f"{self.expr(e, P_NEG)} {_weight(w, s)}" for e, w, s in node.parts)
            return f"blend({parts})", P_POSTFIX
        if kind is n.Allocate:
            # Bound as loosely as a comparison, as `days from`: inside an operator, parenthesised.
            ties = " ties to last listed" if node.ties == "last" else ""
            return (f"allocate {self.expr(node.amount, P_SUM)} by {self.expr(node.weight, P_SUM)} "
                    f"to {_plain(node.quantum)}{ties}"), P_CMP
        if kind is n.Rank:
            value = self.expr(node.value, P_SUM)
            if node.kind == "percentile":
                return f"percentile of {value}", P_CMP
            word = "dense rank" if node.kind == "dense" else "rank"
            ties = " ties in list order" if node.kind == "ordinal" else ""
            return f"{word} of {value} {node.order} first{ties}", P_CMP
        if kind is n.Aggregate:  # only a value's whole right-hand side; parenthesised elsewhere
            return self.aggregate(node), P_COND
        if kind in (n.TierApply, n.ChainCompare):  # issue 10
            return self.form_issue10(node)
        raise TypeError(f"cannot format {kind.__name__}")

    # -- tiers, assertions, chained comparisons (issue 10)
    def stmt_Tiers(self, node: n.Tiers, depth, blank):
        self.emit(depth, f"tiers {node.name}{self.label(node.label)} in {self.range(node.low, node.high)}:",
                  node.span.start, blank, opens=True)
        for t in node.tiers:
            text = f"{t.name}{self.label(t.label)}"
            if t.low is not None:
                text += f" {'from' if t.low_inclusive else 'above'} {self.expr(t.low, P_SUM)}"
            if t.high is not None:
                text += f" {'to' if t.high_inclusive else 'below'} {self.expr(t.high, P_SUM)}"
            self.emit(depth + 1, f"{text} -> {self.expr(t.rate)}", t.span.start)

    def stmt_Assert(self, node: n.Assert, depth, blank):
        self.emit(depth, f"assert {self.expr(node.condition)} else {_quote(node.message)}", node.span.start, blank)

    def form_issue10(self, node):
        if isinstance(node, n.TierApply):
            # The value and the base are single terms (the grammar's `postfix`): anything looser
            # is parenthesised. The whole binds like a negation: `marginal t on x * 2` is `(...) * 2`.
            tier = f".{node.tier}" if node.tier is not None else ""
            base = f" of {self.expr(node.base, P_POSTFIX)}" if node.base is not None else ""
            return f"{node.mode} {node.tiers}{tier} on {self.expr(node.value, P_POSTFIX)}{base}", P_NEG
        a, b, c = node.operands
        return (f"{self.expr(a, P_SUM)} {node.ops[0]} {self.expr(b, P_SUM)} {node.ops[1]} "
                f"{self.expr(c, P_SUM)}"), P_CMP

    # -- comments and blank lines
    def render(self, comments) -> str:
        lines = self.lines
        before, after, trailing = self.place_comments(lines, comments)
        out: list[list | None] = []  # [indent, code, trailing comment or None]; None for a blank line

        def blank():
            if out and out[-1] is not None:
                out.append(None)

        def comment_line(indent, c):
            out.append([indent, c.text, None])

        for k, line in enumerate(lines):
            group = before.get(k, [])
            attached = []
            if k > 0:
                while group and group[0][1] > line.indent:
                    attached.append(group.pop(0))
            for c, indent, had_blank in attached:
                if had_blank:
                    blank()
                comment_line(indent, c)
            # A comment moved out of the construct's own source line (had_blank None) takes the
            # construct's blank line with it.
            line_blank = line.first and self.src.blank_before(self.line_offset(line))
            first_blank = line_blank if not group or group[0][2] is None else group[0][2]
            if line.blank == REQUIRED or (line.blank == PRESERVE and first_blank):
                blank()
            for j, (c, indent, had_blank) in enumerate(group):
                if j and had_blank:
                    blank()
                comment_line(indent, c)
            if group and group[-1][2] is not None and line_blank:
                blank()
            out.append([line.indent, line.text, trailing.get(k)])
        for c, indent, had_blank in after:
            if had_blank:
                blank()
            comment_line(indent, c)
        while out and out[-1] is None:
            out.pop()
        return self.align(out)

    def line_offset(self, line: _Line) -> int:
        return self.src.logical_start(line.logical)

    def place_comments(self, lines, comments):
        """Which comments go before which output line, at what indentation, and which end a line."""
        src = self.src
        anchors = [line.logical for line in lines]
        seen = set()
        for line in lines:
            line.first = line.logical is not None and line.logical not in seen
            seen.add(line.logical)
        if not comments or not src.text:
            return {}, [], {}
        last_of, first_of = {}, {}
        for k, a in enumerate(anchors):
            last_of[a] = k
            first_of.setdefault(a, k)
        own, ends = {}, {}  # output line -> [(comment, forced indent or None)]; line -> [comment]
        after = []
        for c in comments:
            logical = src.logical_index(c.start)
            if not c.own_line and logical in last_of:
                ends.setdefault(last_of[logical], []).append(c)
                continue
            k = next((i for i, a in enumerate(anchors) if a is not None and a >= logical), None)
            if k is None:
                after.append((c, None))
            else:
                # Inside a construct's brackets: before it, at its indentation.
                forced = lines[k].indent if anchors[k] == logical else None
                own.setdefault(k, []).append((c, forced))
        trailing = {}
        for k, cs in ends.items():
            # One comment can end a line. Where several lines of the source became one, the last
            # comment stays at its end if nothing written after it moves before the line; the
            # others go before the line, in their order.
            k0 = first_of[anchors[k]]
            inside = [c for c, _ in own.get(k0, []) if src.logical_index(c.start) == anchors[k]]
            keep = cs[-1] if not inside or cs[-1].start > max(c.start for c in inside) else None
            trailing[k] = keep.text if keep is not None else None
            moved = [(c, lines[k0].indent) for c in cs if c is not keep]
            if moved:
                own[k0] = sorted(own.get(k0, []) + moved, key=lambda x: x[0].start)
            if keep is None:
                del trailing[k]
        before = {}
        for k, group in own.items():
            before[k] = [(c, self.comment_indent(c, lines, k), src.blank_before(c.start)) if forced is None
                         else (c, forced, None) for c, forced in group]
        after = [(c, self.comment_indent(c, lines, len(lines)), src.blank_before(c.start)) for c, _ in after]
        return before, after, trailing

    def comment_indent(self, c: Comment, lines, k: int) -> int:
        """The indentation, among those that keep the comment with its neighbours, closest to
        the one it was written with: the next line's or, deeper than that, the previous line's or
        that of a body the previous line can take (the comment then stays with the lines above)."""
        after = lines[k].indent if k < len(lines) else 0
        candidates = [after]
        if k > 0:
            prev = lines[k - 1]
            candidates += [i for i in (prev.indent, prev.indent + INDENT) if i > after
                           and (i == prev.indent or prev.opens)]
        written = self.src.column(c.start)
        return min(candidates, key=lambda ind: abs(ind - written))

    @staticmethod
    def align(out) -> str:
        """Lines as text; trailing comments of consecutive lines of one block share a column."""
        text = []
        i = 0
        while i < len(out):
            row = out[i]
            if row is None:
                text.append("")
                i += 1
                continue
            if row[2] is None:
                text.append(" " * row[0] + row[1])
                i += 1
                continue
            j = i
            while j < len(out) and out[j] is not None and out[j][2] is not None and out[j][0] == row[0]:
                j += 1
            column = max(_width(out[m][1]) for m in range(i, j)) + 2
            for m in range(i, j):
                indent, code, comment = out[m]
                text.append(" " * indent + code + " " * (column - _width(code)) + comment)
            i = j
        return "\n".join(text) + "\n"
