"""Facts pass: what each fact declaration says besides its bounds (list rules, fields, enum values)."""

from __future__ import annotations

from .. import dates
from .. import nodes as n
from .state import State, literal, scalar_type

# Runs after names (only the first fact of each name is declared). The bounds of a fact are
# expressions, typed by the types pass; everything else a declaration says is checked here.


def run(st: State) -> None:
    for es in st.evaluations:
        with st.within(es.index):
            for f in es.facts:
                es.fact_parts[f.name] = _fact(st, f)


def _fact(st: State, f: n.Fact) -> dict:
    t = f.type
    total = None
    if isinstance(t, n.ListType):
        if t.minimum is not None and t.limit is not None and t.minimum > t.limit:
            st.err("E317", f"list `{f.name}` must have at least {t.minimum} and at most {t.limit} "
                   f"entries", t.span, "no list can do both")
        if t.total is not None:
            total = _list_total(st, f, t)
        if isinstance(t.element, tuple):  # a list of records
            names = set()
            for fd in t.element:
                if fd.name in names:
                    st.err("E202", f"duplicate field `{fd.name}`", fd.span)
                names.add(fd.name)
            if t.key is not None:
                _list_key(st, f, t)
        elif t.key is not None:
            st.err("E330", f"`keyed by` needs a list of records; `{f.name}` is a list of single values",
                   t.span, "declare the lines with their fields, e.g. `list of (id: text, score: number) keyed by id`")
    elif isinstance(t, n.PeriodType):
        if t.unit not in dates.PERIOD_UNITS:
            st.err("E318", f"`{t.unit}` is not a period", t.span,
                   st.did_you_mean(t.unit, dates.PERIOD_UNITS) or "write `period of quarter`, `period of month` "
                   "or `period of year`")
    elif isinstance(t, n.EnumType):
        if len(set(t.values)) != len(t.values):
            st.err("E202", "an enum value is listed twice", t.span)
    elif isinstance(t, n.RecordType):
        if len(set(t.keys)) != len(t.keys):
            st.err("E202", "a record key is listed twice", t.span)
    return {"limit": getattr(t, "limit", None) if isinstance(t, n.ListType) else None,
            "minimum": getattr(t, "minimum", None), "total": total}


def _list_key(st: State, f: n.Fact, t: n.ListType) -> None:
    """`keyed by id`: a text, integer or enum field, whose values name the lines (unique)."""
    assert isinstance(t.element, tuple)  # the caller checks
    field = next((fd for fd in t.element if fd.name == t.key), None)
    if field is None:
        st.err("E330", f"`{f.name}` has no field `{t.key}` to be keyed by", t.span,
               st.did_you_mean(t.key, [fd.name for fd in t.element])
               or "name one of its fields, e.g. `keyed by id`")
    elif not (isinstance(field.type, n.EnumType) or field.type.kind in ("text", "integer", "count")):
        st.err("E330", f"a list is keyed by a text, whole number or `one of` field; `{t.key}` is "
               f"{field.type.kind}", field.span, "key the list by an id field, e.g. `id: text`")


def _list_total(st: State, f: n.Fact, t: n.ListType):
    """`with points adding up to 80`: a numeric field of a list of records, and a plain number."""
    assert t.total is not None  # the caller checks
    field, expr = t.total
    fields = {fd.name: fd for fd in t.element} if isinstance(t.element, tuple) else {}
    value = literal(expr)
    ftype = fields[field].type if field in fields else None
    if not isinstance(ftype, n.ScalarType) or scalar_type(ftype.kind).kind != "number":
        st.err("E317", f"`{field}` is not a number field of list `{f.name}`", t.span,
               st.did_you_mean(field, fields) or "name a number field of the list's records")
        return None
    if value is None:
        st.err("E317", f"the total of `{f.name}` must be a plain number", expr.span)
        return None
    return (field, value)

