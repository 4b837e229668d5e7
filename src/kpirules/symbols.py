"""Editor stage: what each name of a policy text means (kind, label, type, rule, citations, where
it is declared), the names in scope at a position, and the keywords, for hovers, go to definition
and completion (`kpirules lsp`).

The index is built from the policy's tree with the definitions of its imported `ruleset/` modules
merged in (as the loader checks it) and the checker's passes run over it: the passes never raise
and record every name with its type even when the policy has errors, so a policy being edited
still has an index as long as it parses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs

from . import dates
from . import model as m
from . import nodes as n
from .source import SourceFile, Span

__all__ = ["Symbol", "Index", "build", "keywords", "BUILTIN_FUNCTIONS"]

#: Functions every policy can call, beside its own and the calendar functions.
BUILTIN_FUNCTIONS = ("max", "min", "abs")

_WORD = re.compile(r"\w")


@attrs.frozen(kw_only=True)
class Symbol:
    """A declared name: a fact, value, item, scorecard, table, bands, ladder, function, parameter,
    list field or record key, with what a hover shows of it."""
    name: str
    kind: str                      # fact, value, output, item, scorecard, table, ...
    label: str | None = None
    type: str | None = None        # in words: `money`, `record of boolean`, `one of senior, assistant`
    unit: str | None = None        # numbers: money, percent, count, points (None: a plain number)
    declared: str | None = None    # the rule as written: `integer in 1..4`, `weight 20`, `(quarter) -> percent`
    context: str | None = None     # where it belongs: `evaluation quarterly`, `scorecard kpi_score`
    cites: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    span: Span | None = attrs.field(default=None, eq=False)  # the name where it is declared
    fields: tuple[Symbol, ...] = ()  # a list of records' fields, a record's keys


def keywords() -> tuple[str, ...]:
    """Every keyword of the language: the quoted lowercase words of grammar.lark."""
    from .parser.lalr import grammar
    return tuple(sorted(set(re.findall(r'"([a-z]+)"', grammar()))))


def _name_span(span: Span | None, name: str) -> Span | None:
    """The name inside a declaration's span (its first whole-word occurrence: keywords come first)."""
    if span is None:
        return None
    found = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", span.text)
    if found is None:
        return span
    return Span(source=span.source, start=span.start + found.start(), end=span.start + found.end())


def _unit(t: m.Type | None) -> str | None:
    if t is None or t.kind != "number":
        return None
    if t.money == 1:
        return "money"
    if t.money not in (0, None):
        return f"money^{t.money}"
    return t.display if t.display in ("percent", "count", "points") else None


def _describe(t: m.Type | None) -> str | None:
    if t is None:
        return None
    if t.kind == "list" and t.fields:
        return "list of records (" + ", ".join(name for name, _t, _l in t.fields) + ")"
    if t.kind == "record" and t.keys:
        return t.describe() + " (" + ", ".join(t.keys) + ")"
    return t.describe()


def _weight(d) -> str:
    return format(d.normalize(), "f") if d is not None else ""


@attrs.define
class Index:
    """The names of one policy text: by evaluation, shared, and where each evaluation is."""
    source: SourceFile
    tree: n.Policy
    top: dict[str, Symbol] = attrs.Factory(dict)
    evaluations: list[tuple[Span, dict[str, Symbol]]] = attrs.Factory(list)
    functions: list[tuple[Span, dict[str, Symbol]]] = attrs.Factory(list)  # parameters, by body

    def scope_at(self, offset: int) -> dict[str, Symbol]:
        """The names visible at an offset: the enclosing evaluation's (or function's) and the shared ones."""
        scope = dict(self.top)
        for span, names in self.evaluations + self.functions:
            if span.start <= offset <= span.end:
                scope.update(names)
        return scope

    def everywhere(self) -> list[dict[str, Symbol]]:
        return [self.top] + [names for _span, names in self.evaluations]

    def lookup(self, offset: int, text: str | None = None) -> Symbol | None:
        """The symbol named by the word at `offset` of `text` (the indexed text unless given: an
        index of the last text that parsed serves while the current one is half typed)."""
        text = self.source.text if text is None else text
        found = word_at(text, offset)
        if found is None:
            return None
        word, start, _end = found
        declared = self._declared_at(start) if text == self.source.text else None
        if declared is not None:  # the name where it is declared (a record key named like an item)
            return declared
        scope = self.scope_at(offset)
        owner = _owner_before(text, start)
        if owner is not None:  # `rollout.sales_tools`: a record's key, a list's field
            target = scope.get(owner)
            if target is not None:
                for f in target.fields:
                    if f.name == word:
                        return f
        if word in scope:
            return scope[word]
        for names in [scope] + self.everywhere():  # a field named bare in a list line, then elsewhere
            for sym in names.values():
                for f in sym.fields:
                    if f.name == word and sym.type and sym.type.startswith("list"):
                        return f
        for names in self.everywhere()[1:]:  # a name of another evaluation
            if word in names:
                return names[word]
        return None

    def _declared_at(self, start: int) -> Symbol | None:
        for names in self.everywhere() + [names for _span, names in self.functions]:
            for sym in names.values():
                for candidate in (sym, *sym.fields):
                    span = candidate.span
                    if span is not None and span.start == start and span.source is self.source:
                        return candidate
        return None

    def import_at(self, offset: int) -> Path | None:
        """The module file of the `import` statement at `offset`, if it is one and it exists."""
        from .loader import find_module
        for imp in self.tree.imports:
            if imp.span.start <= offset <= imp.span.end and imp.span.source is self.source:
                return find_module(imp.path, self.source.path)
        return None

    def completions(self, offset: int, text: str | None = None) -> list[Symbol]:
        """The names that can be written at `offset` of `text` (as in `lookup`): after `name.` its
        fields or keys; otherwise the names in scope and the fields of the lists the line goes over."""
        text = self.source.text if text is None else text
        start = offset
        while start > 0 and _WORD.match(text[start - 1]):
            start -= 1
        scope = self.scope_at(offset)
        owner = _owner_before(text, start)
        if owner is not None:
            target = scope.get(owner)
            return list(target.fields) if target is not None else []
        out = list(scope.values())
        for listed in re.findall(r"\bover\s+(\w+)", _statement_before(text, offset)):
            target = scope.get(listed)
            if target is not None:
                out.extend(target.fields)
        return out


def word_at(text: str, offset: int) -> tuple[str, int, int] | None:
    """The identifier at (or just before) an offset: (word, start, end)."""
    if not 0 <= offset <= len(text):
        return None
    start = end = offset
    while start > 0 and _WORD.match(text[start - 1]):
        start -= 1
    while end < len(text) and _WORD.match(text[end]):
        end += 1
    word = text[start:end]
    if not word or word[0].isdigit():
        return None
    return word, start, end


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _statement_before(text: str, offset: int) -> str:
    """The text of the statement the cursor is in, up to the cursor: its line, and the lines above
    it back to the first one indented less (the `output ... = sum over projects of` of an `only if`)."""
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    indent = _indent(line) if line.strip() else len(line)
    while start > 0:
        before = text.rfind("\n", 0, start - 1) + 1
        above = text[before:start - 1]
        if not above.strip():
            break
        start = before
        if _indent(above) < indent:
            break
    return text[start:offset]


def _owner_before(text: str, start: int) -> str | None:
    """`rollout` in `rollout.sales_tools` when the word starts at `start`."""
    if start == 0 or text[start - 1] != ".":
        return None
    end = start - 1
    begin = end
    while begin > 0 and _WORD.match(text[begin - 1]):
        begin -= 1
    return text[begin:end] or None


def build(source: SourceFile) -> Index | None:
    """The index of a policy text, or None when it does not parse."""
    from .checker import PASSES
    from .checker.state import State
    from .loader import merged_tree
    from .parser import ParseFailure
    try:
        tree = merged_tree(source)
    except ParseFailure:
        return None
    st = State(policy=tree, source=source)
    for run in PASSES:
        try:
            run(st)
        except Exception:  # pragma: no cover - passes never raise; an index is still worth having
            break
    index = Index(source=source, tree=tree)
    for name, sym in st.top_scope.items():
        index.top[name] = _symbol(st, name, sym, None)
    for es in st.evaluations:
        ev = es.node
        where = f"evaluation {ev.name}"
        own = {name: _symbol(st, name, sym, where) for name, sym in es.scope.items() if name not in st.top_scope}
        for name, sym in list(own.items()):  # an item's scorecard, where the scope does not say
            if sym.kind == "item":
                for card in ev.body:
                    if isinstance(card, n.Scorecard) and any(i.name == name for i in card.items):
                        own[name] = attrs.evolve(sym, context=f"scorecard {card.name} of {where}")
        index.evaluations.append((ev.span, own))
    for fn in tree.functions:
        params = {p.name: Symbol(name=p.name, kind="parameter", type=p.kind, context=f"function {fn.name}",
                                 span=_name_span(p.span, p.name)) for p in fn.params}
        index.functions.append((fn.span, params))
    return index


def _symbol(st, name: str, sym, context: str | None) -> Symbol:
    node, t = sym.node, sym.type
    base: dict[str, Any] = {"name": name, "label": getattr(node, "label", None), "type": _describe(t), "unit": _unit(t),
            "context": context}
    if isinstance(node, n.Fact):
        return Symbol(kind="fact", declared=node.type.span.text, cites=n.cite_texts(node.cites),
                      notes=n.note_texts(node.cites), span=_name_span(node.span, name),
                      fields=_fields(node, t), **base)
    if isinstance(node, n.Definition):
        return Symbol(kind=node.kind, cites=n.cite_texts(node.clauses), notes=n.note_texts(node.clauses),
                      span=node.name_span, **base)
    if isinstance(node, n.Item):
        tags = "".join(f", {tag}" for tag in node.tags)
        clauses = [c for c in node.body if isinstance(c, n.Cite | n.Note)]
        for c in node.body:
            if isinstance(c, n.Ladder):
                clauses.extend(c.cites)
        return Symbol(kind="item", declared=f"weight {_weight(node.weight)}{tags}", cites=n.cite_texts(clauses),
                      notes=n.note_texts(clauses), span=node.name_span, **base)
    if isinstance(node, n.Scorecard):
        total = f"total {_weight(node.total)}" if node.total is not None else None
        return Symbol(kind="scorecard", declared=total, cites=n.cite_texts(node.clauses),
                      notes=n.note_texts(node.clauses), span=node.name_span, **base)
    if isinstance(node, n.Table):
        table = st.tables.get(name)
        value = table.value_type if table is not None else None
        base.update(type=_describe(value) or node.value_type, unit=_unit(value))
        return Symbol(kind="table", declared=f"({node.key_name}) -> {node.value_type}", cites=n.cite_texts(node.cites),
                      notes=n.note_texts(node.cites), span=_name_span(node.span, name), **base)
    if isinstance(node, n.Bands):
        bands = ", ".join(b.name for b in node.bands)
        return Symbol(kind="bands", declared=f"in {node.low.span.text}..{node.high.span.text}: {bands}",
                      span=_name_span(node.span, name), **base)
    if isinstance(node, n.LadderDef):
        steps = "; ".join(s.span.text for s in node.steps)
        return Symbol(kind="ladder", declared=steps, cites=n.cite_texts(node.cites), notes=n.note_texts(node.cites),
                      span=_name_span(node.span, name), **base)
    if isinstance(node, n.Function):
        result = st.function_types.get(name)
        params = ", ".join(f"{p.name}: {p.kind}" for p in node.params)
        base.update(type=_describe(result), unit=_unit(result))
        return Symbol(kind="function", declared=f"({params})", cites=n.cite_texts(node.clauses),
                      notes=n.note_texts(node.clauses), span=node.name_span, **base)
    return Symbol(kind=sym.kind, span=sym.span, **base)


def _fields(fact: n.Fact, t: m.Type | None) -> tuple[Symbol, ...]:
    where = f"fact {fact.name}"
    ft = fact.type
    if isinstance(ft, n.ListType) and isinstance(ft.element, tuple):
        types = {name: ftype for name, ftype, _label in (t.fields if t is not None else ())}
        return tuple(Symbol(name=f.name, kind="field", label=f.label, type=_describe(types.get(f.name)),
                            unit=_unit(types.get(f.name)), declared=f.type.span.text, context=where,
                            span=_name_span(f.span, f.name)) for f in ft.element)
    if isinstance(ft, n.RecordType):
        element = t.element if t is not None else None
        return tuple(Symbol(name=k, kind="key", type=_describe(element), unit=_unit(element),
                            declared=ft.kind, context=where, span=_key_span(fact, k)) for k in ft.keys)
    return ()


def _key_span(fact: n.Fact, key: str) -> Span | None:
    """A record key inside its fact's declaration (after the fact's own name)."""
    span = fact.type.span
    found = re.search(rf"(?<!\w){re.escape(key)}(?!\w)", span.text[span.text.find("("):]) if "(" in span.text else None
    if found is None:
        return _name_span(fact.span, fact.name)
    start = span.start + span.text.find("(") + found.start()
    return Span(source=span.source, start=start, end=start + len(key))


def calendar_functions() -> tuple[str, ...]:
    return tuple(sorted(dates.FUNCTIONS))
