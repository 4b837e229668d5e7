"""Tables pass: one row per key, keys of one kind, cells that are literals of the table's type."""

from __future__ import annotations

from decimal import Decimal

from .. import model as m
from .. import nodes as n
from ..limits import MAX_TABLE_ROWS
from ..parser import table_too_large
from ..source import Span
from . import versions
from .state import State, describe, scalar_type, show_key

# Runs first: the names pass declares only the tables kept here (the first of each name).


def run(st: State) -> None:
    for t in st.policy.tables:
        if t.name in st.tables:
            st.err("E202", f"duplicate table `{t.name}`", t.span,
                   f"the first is at line {st.tables[t.name].span.line}")
            continue
        if len(t.rows) > MAX_TABLE_ROWS:  # the parser refuses most such tables before parsing them
            st.diags.append(table_too_large(st.source, t.span.start, t.span.end, t.name, len(t.rows)))
            continue
        value_type = scalar_type(t.value_type)
        if t.rows and all(isinstance(r.key, n.Version) for r in t.rows):
            st.tables[t.name] = _versions(st, t, value_type)
            continue
        rows: list[tuple[Decimal | str, Decimal | str | bool | None]] = []
        keys: dict[Decimal | str, Span] = {}
        kinds: set[str] = set()
        for row in t.rows:
            key: Decimal | str
            if isinstance(row.key, n.Version):
                st.err("E305", f"table `{t.name}` mixes versions (`from DATE`) and keys", row.span,
                       "give every row of an effective-dated table a `from DATE`")
                continue
            if isinstance(row.key, Decimal):
                key, kind = row.key, "number"
            elif isinstance(row.key, n.Name):
                key, kind = row.key.name, "enum"
            else:
                key, kind = row.key, "text"
            kinds.add("number" if kind == "number" else "text")
            if key in keys:
                st.err("E311", f"table `{t.name}` has two rows for key `{show_key(key)}`", row.span,
                       f"the first is at line {keys[key].line}; keep one row per key")
                continue
            keys[key] = row.span
            rows.append((key, _cell(st, row.value, value_type, t)))
        if len(kinds) > 1:
            st.err("E305", f"table `{t.name}` mixes number keys and text keys", t.span,
                   "give every row the same kind of key: all numbers, or all names")
        key_kind = "number" if kinds == {"number"} else ("enum" if all(
            isinstance(r.key, n.Name) for r in t.rows) else "text")
        st.tables[t.name] = m.TableModel(name=t.name, label=t.label, key_kind=key_kind,
                                         value_type=value_type, rows=tuple(rows), span=t.span,
                                         cites=n.cite_texts(t.cites), notes=n.note_texts(t.cites))


def _versions(st: State, t: n.Table, value_type: m.Type) -> m.TableModel:
    """An effective-dated table: each row a version in force from its date (checker.versions)."""
    dated = []
    for row in t.rows:
        assert isinstance(row.key, n.Version)  # the caller checked every row
        key = versions.effective(st, row.key)
        if key is not None:
            dated.append((key, row))
    ordered = versions.in_order(st, f"table `{t.name}`", dated)
    rows = [(key, _cell(st, row.value, value_type, t)) for key, row in ordered]
    return m.TableModel(name=t.name, label=t.label, key_kind="version", value_type=value_type, rows=tuple(rows),
                        span=t.span, cites=n.cite_texts(t.cites), notes=n.note_texts(t.cites))


def _cell(st: State, expr, value_type: m.Type, table):
    """A table cell: a literal of the table's value type."""
    negative = False
    if isinstance(expr, n.Unary) and expr.op == "neg":
        negative, expr = True, expr.operand
    if value_type.kind == "number" and isinstance(expr, n.Number):
        if expr.unit == "money" and value_type.money != 1:
            st.err("E306", f"table `{table.name}` holds {describe(value_type)}, not money",
                   expr.span, f"write a {describe(value_type)} here, or declare the table "
                   "`-> money`")
        if expr.unit == "percent" and value_type.display not in ("percent", "number"):
            st.err("E306", f"table `{table.name}` holds {describe(value_type)}, not a percentage",
                   expr.span, f"write a {describe(value_type)} here, or declare the table "
                   "`-> percent`")
        return -expr.value if negative else expr.value
    if value_type.kind == "text" and isinstance(expr, n.Text):
        return expr.value
    if value_type.kind == "boolean" and isinstance(expr, n.Bool):
        return expr.value
    st.err("E306", f"table `{table.name}` holds {describe(value_type)}; this cell must be a "
           f"literal of that type", expr.span,
           "table cells are written out, e.g. `15%`, `200万`, `true` or `\"text\"`; "
           "compute with them in a `let`")
    return None
