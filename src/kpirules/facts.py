"""Facts stage: read a fact set exactly and validate it against an evaluation's declarations.

JSON numbers become Decimal straight from their text, never through float. Every violation is
collected with the fact's path (`projects[3].collected`), so a user sees all of them at once;
unknown facts are warnings.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from . import exact as x
from . import model as m
from . import nodes as n
from .errors import FactError, FactViolation

# Literals past these are refused rather than computed with (they are never a real amount).
MAX_DIGITS = 40
MAX_EXPONENT = 40
# A value shown in a message is cut to this many characters (a fact file may hold anything).
SHOW_CHARS = 60

_DECIMAL_STRING = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")


class Pairs(dict):
    """A JSON object that remembers the keys it saw more than once (key -> times seen)."""
    duplicates: dict  # set by _pairs


class Unrepresentable:
    """A JSON number whose exponent is too large even for Decimal (`1e99999999999999999999`)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"Unrepresentable({self.text!r})"


def _pairs(items):
    obj = Pairs()
    dups = {}
    for k, v in items:
        if k in obj:
            dups[k] = dups.get(k, 1) + 1
        obj[k] = v
    obj.duplicates = dups
    return obj


def _json_number(text: str):
    try:
        return Decimal(text)
    except InvalidOperation:
        return Unrepresentable(text)


def read_json(text: str):
    """Parse a JSON fact file exactly: numbers become Decimal, objects remember duplicate keys.

    `NaN`, `Infinity` and `-Infinity` (not JSON, but common) are read as Decimal's non-finite
    values so that validation can name the fact that holds them. Raises FactError for text that
    is not JSON, or whose top level is not an object.
    """
    if text.startswith("\ufeff"):  # a byte-order mark, as Windows editors write it
        text = text[1:]
    if not text.strip():
        raise FactError([FactViolation(path="$", code="F001",
                                       message="the fact file is empty; expected a JSON object of facts")])
    try:
        data = json.loads(text, parse_float=_json_number, parse_int=_json_number,
                          parse_constant=Decimal, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        msg = exc.msg[:1].lower() + exc.msg[1:]
        raise FactError([FactViolation(path="$", code="F001",
                                       message=f"not valid JSON at line {exc.lineno} column {exc.colno}: "
                                               f"{msg}{_near(exc)}")]) from None
    except RecursionError:
        raise FactError([FactViolation(path="$", code="F001", message="JSON nests too deeply")]) from None
    if not isinstance(data, dict):
        raise FactError([FactViolation(path="$", code="F101",
                                       message=f"expected a JSON object of facts (`{{...}}`), got {_show(data)}")])
    return data


def _near(exc: json.JSONDecodeError) -> str:
    """The text around the error, from its line (a fact file may be one long line)."""
    lines = exc.doc.split("\n")  # the decoder counts lines by "\n" only
    line = lines[exc.lineno - 1].rstrip("\r") if exc.lineno <= len(lines) else ""
    start = max(0, exc.colno - 1 - SHOW_CHARS // 2)
    snippet = line[start:start + SHOW_CHARS].strip()
    if not snippet:
        return ""
    return f" (near `{'…' if start else ''}{snippet}`)"


def _clip(s: str) -> str:
    return s if len(s) <= SHOW_CHARS else s[:SHOW_CHARS - 1] + "…"


def _show(v) -> str:
    """A value as a person reads it in a message: JSON spelling, in backticks."""
    if isinstance(v, bool):
        return "`true`" if v else "`false`"
    if v is None:
        return "`null`"
    if isinstance(v, Decimal):
        return f"`{_clip(str(v))}`"
    if isinstance(v, Unrepresentable):
        return f"`{_clip(v.text)}`"
    if isinstance(v, str):
        return f"`{_clip(json.dumps(v, ensure_ascii=False))}`"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return f"`{_clip(str(v))}`"


def _key(path: str, key) -> str:
    """The path of `key` inside the object at `path`: `rollout.sales_tools`, `x["odd key"]`."""
    k = str(key)
    if _IDENTIFIER.fullmatch(k):
        return k if path == "$" else f"{path}.{k}"
    quoted = f"[{json.dumps(k, ensure_ascii=False)}]"
    return quoted if path == "$" else f"{path}{quoted}"


def _names(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


_NUMBER_WORDS = {"integer": "an integer (a whole number)",
                 "count": "a count (a whole number >= 0)",
                 "money": "an amount of money (a JSON number or decimal string)",
                 "percent": "a number (0.85 for 85%)"}


class Validator:
    """Validates one fact set; collects violations and warnings."""

    def __init__(self):
        self.violations: list = []
        self.warnings: list = []

    def bad(self, path, message, code="F100"):
        self.violations.append(FactViolation(path=path, message=message, code=code))

    def warn(self, path, message, code="F200"):
        self.warnings.append(FactViolation(path=path, message=message, code=code, severity="warning"))

    # ---- numbers -----------------------------------------------------------------------------
    def number(self, path, v, what="a number", display="number"):
        """The exact Decimal of a number fact, or None (with the violation recorded)."""
        if isinstance(v, bool) or v is None or isinstance(v, (list, tuple, Mapping)):
            self.bad(path, f"expected {what}, got {_show(v)}", "F101")
            return None
        if isinstance(v, float):
            self.bad(path, f"expected {what}, got the float {_show(v)}: a float is not exact; pass an "
                     f"`int`, a `Decimal` or a decimal string", "F102")
            return None
        if isinstance(v, Unrepresentable):
            self.bad(path, f"{_show(v)} is out of range: {_RANGE}", "F104")
            return None
        if isinstance(v, Decimal):
            d = v
            if not d.is_finite():
                self.bad(path, f"expected {what}, got {_show(v)}, which is not a finite number "
                         f"(JSON has no `NaN` or `Infinity`)", "F102")
                return None
        elif isinstance(v, int):
            d = Decimal(v)
        elif isinstance(v, str):
            if not _DECIMAL_STRING.fullmatch(v):
                self.bad(path, f"expected {what}, got {_show(v)}: {_why_not_decimal(v, display)}", "F103")
                return None
            d = Decimal(v)
        else:
            self.bad(path, f"expected {what}, got {_show(v)}", "F101")
            return None
        if d == 0:
            return abs(d)  # "-0" is zero; its exponent does not matter
        if len(d.as_tuple().digits) > MAX_DIGITS or abs(d.adjusted()) >= MAX_EXPONENT:
            self.bad(path, f"{_show(v)} is out of range: {_RANGE}", "F104")
            return None
        return d

    # ---- facts ---------------------------------------------------------------------------------
    def value(self, path, v, t: m.Type, decl: m.FactDecl | None, field_bounds=None):
        """The validated value of `v` as type `t`; None where it (or a part of it) is invalid."""
        if t.kind == "number":
            what = _NUMBER_WORDS.get(t.display, "a number")
            d = self.number(path, v, what, t.display)
            if d is None:
                return None
            if t.display in ("integer", "count"):
                if not x.is_integer(d):
                    self.bad(path, f"expected {what}, got {_show(v)}", "F105")
                    return None
                d = Decimal(int(d))
                if t.display == "count" and d < 0:
                    self.bad(path, f"a count must be >= 0, got {_show(v)}", "F110")
                    return None
            return d
        if t.kind == "boolean":
            if not isinstance(v, bool):
                hint = ""
                if isinstance(v, str):
                    hint = " (write `true` or `false` without quotes)"
                elif _is_number(v) and v in (0, 1):
                    hint = " (a number is not a boolean; write `true` or `false`)"
                self.bad(path, f"expected `true` or `false`, got {_show(v)}{hint}", "F101")
                return None
            return v
        if t.kind == "text":
            if not isinstance(v, str):
                hint = " (write it in quotes)" if _is_number(v) else ""
                self.bad(path, f"expected a text, got {_show(v)}{hint}", "F101")
                return None
            return str(v)
        if t.kind == "enum":
            if not isinstance(v, str) or v not in t.values:
                code = "F106" if isinstance(v, str) else "F101"
                self.bad(path, f"expected one of {_names(t.values)}, got {_show(v)}{_suggest(v, t.values)}", code)
                return None
            return str(v)
        if t.kind == "record":
            if not isinstance(v, Mapping):
                self.bad(path, f"expected an object with keys {_names(t.keys)}, got {_show(v)}", "F101")
                return None
            self._duplicates(path, v)
            out = {}
            for key in t.keys:
                p = _key(path, key)
                if key not in v:
                    self.bad(p, f"missing key `{key}` (`{path}` needs the keys {_names(t.keys)})", "F107")
                    continue
                out[key] = self.value(p, v[key], t.element, None)
            for key in v:
                if key not in t.keys:
                    self.warn(_key(path, key), f"unknown key, ignored (`{path}` has the keys "
                              f"{_names(t.keys)}){_suggest(key, t.keys)}")
            return out if len(out) == len(t.keys) and None not in out.values() else None
        if t.kind == "list":
            if not isinstance(v, (list, tuple)):
                self.bad(path, f"expected a list, got {_show(v)}", "F101")
                return None
            if decl is not None and decl.limit is not None and len(v) > decl.limit:
                self.bad(path, f"has {len(v)} entries; at most {decl.limit} are allowed "
                         f"(rule: `{decl.rule}`)", "F108")
            if decl is not None and decl.minimum is not None and len(v) < decl.minimum:
                self.bad(path, f"has {len(v)} entries; at least {decl.minimum} are needed "
                         f"(rule: `{decl.rule}`)", "F108")
            out = []
            for i, el in enumerate(v):
                p = f"{path}[{i}]"
                if t.fields:
                    out.append(self._line(p, el, t, field_bounds or {}))
                else:
                    out.append(self.value(p, el, t.element, None))
            if decl is not None and decl.total is not None and all(line is not None for line in out):
                field, total = decl.total
                got = sum((line[field] for line in out), Decimal(0))
                if got != total:
                    self.bad(path, f"the `{field}` of its entries add up to {x.to_string(got)}; they must "
                             f"add up to {x.to_string(total)} (rule: `{decl.rule}`)", "F113")
            return out  # element bounds are checked once every fact is read (they may name facts)
        raise AssertionError(t.kind)

    def _line(self, path, el, t: m.Type, field_bounds):
        fields = [f[0] for f in t.fields]
        if not isinstance(el, Mapping):
            self.bad(path, f"expected an object with the fields {_names(fields)}, got {_show(el)}", "F101")
            return None
        self._duplicates(path, el)
        out, ok = {}, True
        for name, ftype, _label in t.fields:
            p = _key(path, name)
            if name not in el:
                self.bad(p, f"missing field `{name}` (each line needs the fields {_names(fields)})", "F107")
                ok = False
                continue
            r = self.value(p, el[name], ftype, None)
            if r is not None and name in field_bounds:
                r = self.bounds(p, r, field_bounds[name], {}, "")
            ok = ok and r is not None
            out[name] = r
        for key in el:
            if key not in fields:
                self.warn(_key(path, key), f"unknown field, ignored (a line has the fields "
                          f"{_names(fields)}){_suggest(key, fields)}")
        return out if ok else None

    def _duplicates(self, path, obj):
        for key, times in getattr(obj, "duplicates", {}).items():
            n = "twice" if times == 2 else f"{times} times"
            self.bad(_key(path, key), f"the key `{key}` appears {n} in the same object; give it once "
                     f"(JSON would silently keep the last)", "F109")

    def bounds(self, path, value, bounds, env, rule, compiled=None):
        """Check `value` against each bound; bounds naming other facts read them from env."""
        extra = f" (rule: `{rule}`)" if rule else ""
        for b in bounds:
            if b.op == "matching":
                if not re.fullmatch(b.value, value):
                    self.bad(path, f"must match the pattern `{b.value}`, got {_show(value)}", "F111")
                    return None
                continue
            bound = _bound_value(b, env)
            if bound is _UNKNOWN:
                continue  # the other fact is itself invalid or missing; that is reported already
            if not _HOLDS[b.op](x.compare(value, bound)):
                src = b.value.span.text
                shown = src if _is_literal(b.value) else f"`{src}` (= {x.to_string(bound)})"
                self.bad(path, f"must be {b.op} {shown}, got `{x.to_string(value)}`{extra}", "F110")
                return None
        return value


_RANGE = (f"a fact's number may have at most {MAX_DIGITS} digits, and its size must lie between "
          f"10^-{MAX_EXPONENT} and 10^{MAX_EXPONENT}")

_UNKNOWN = object()
_HOLDS = {">=": lambda c: c >= 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, "<": lambda c: c < 0,
          "==": lambda c: c == 0, "!=": lambda c: c != 0}


def _is_number(v) -> bool:
    """A finite number as JSON or the API gives it (not a boolean)."""
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, Decimal) and v.is_finite())


def _suggest(word, choices) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f"; did you mean `{close[0]}`?" if close else ""


def _is_literal(expr) -> bool:
    return isinstance(expr, n.Number) or (isinstance(expr, n.Unary) and isinstance(expr.operand, n.Number))


def _bound_value(b: m.Bound, env):
    """A bound is a literal, another fact, or arithmetic on those (the checker made sure)."""
    e = b.value
    if isinstance(e, n.Number):  # the common case, without the walk below
        return e.value

    def ev(e):
        if isinstance(e, n.Number):
            return e.value
        if isinstance(e, n.Name):
            if e.name not in env:
                raise KeyError(e.name)
            return env[e.name]
        if isinstance(e, n.Unary) and e.op == "neg":
            return x.neg(ev(e.operand))
        if isinstance(e, n.Binary) and e.op in ("+", "-", "*", "/"):
            fn = {"+": x.add, "-": x.sub, "*": x.mul, "/": x.div}[e.op]
            return fn(ev(e.left), ev(e.right))
        raise KeyError(e)
    try:
        return ev(b.value)
    except (KeyError, x.DivideByZero):
        return _UNKNOWN


def _why_not_decimal(text: str, display: str = "number") -> str:
    plain = "write digits with an optional leading `-` and decimal point, e.g. `1234.50`"
    if text != text.strip():
        return "spaces are not allowed around a number"
    if not text:
        return "the text is empty"
    if re.fullmatch(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", text):
        return f"thousands separators are not allowed; write `{text.replace(',', '')}`"
    if "," in text:
        return f"a comma is not allowed in a number; {plain}"
    if "_" in text:
        return f"underscores are not allowed in a number; write `{text.replace('_', '')}`"
    if re.fullmatch(r"[-+]?[0-9.]+[eE][+-]?[0-9]+", text):
        return "exponent notation is not allowed in a decimal string; write the number in full"
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return "not a number"
    if text.endswith("%"):
        if display == "percent":
            return "write a percentage as a decimal (0.85 for 85%)"
        return "a percent sign is not allowed here; write the number itself"
    if text.startswith("+"):
        return f"a leading `+` is not allowed; {plain}"
    return f"not a decimal number; {plain}"


def validate(evaluation: m.EvaluationModel, facts, fast=None) -> tuple[dict, tuple]:
    """Validated facts (name -> exact value) and warnings, or FactError with every violation.

    `fast` is the evaluation's `compile_fast` validator, tried first when given.
    """
    if fast is not None:
        done = fast(facts)
        if done is not None:
            return done, ()
    if not isinstance(facts, Mapping):
        raise FactError([FactViolation(path="$", code="F101",
                                       message=f"expected an object of facts (`{{...}}`), got {_show(facts)}")])
    v = Validator()
    v._duplicates("$", facts)
    decls = evaluation.facts
    read, broken = {}, set()
    for decl in decls:
        if decl.name not in facts:
            v.bad(decl.name, f"missing (evaluation `{evaluation.name}` declares it as `{decl.rule}`)", "F107")
            continue
        before = len(v.violations)
        r = v.value(decl.name, facts[decl.name], decl.type, decl, dict(decl.field_bounds))
        read[decl.name] = r
        if r is None or len(v.violations) > before:
            broken.add(decl.name)
    declared = [d.name for d in decls]
    declared_set = set(declared)
    for key in facts:
        if key not in declared_set:
            v.warn(_key("$", key), f"unknown fact, ignored (evaluation `{evaluation.name}` does not "
                   f"declare it){_suggest(key, [d for d in declared if d not in facts])}")
    # Bounds last: they may name other facts, which must be read (and valid) first.
    env = {name: val for name, val in read.items() if name not in broken}
    for decl in decls:
        if not decl.bounds or decl.name not in read:
            continue
        val = read[decl.name]
        if decl.type.kind == "list" and not decl.type.fields:
            for i, el in enumerate(val or ()):
                if el is not None and v.bounds(f"{decl.name}[{i}]", el, decl.bounds, env, decl.rule) is None:
                    broken.add(decl.name)
        elif decl.type.kind == "record" and val is not None:
            for key, el in val.items():
                if el is not None and v.bounds(f"{decl.name}.{key}", el, decl.bounds, env, decl.rule) is None:
                    broken.add(decl.name)
        elif decl.type.kind in ("number", "text") and val is not None:
            if v.bounds(decl.name, val, decl.bounds, env, decl.rule) is None:
                broken.add(decl.name)
    if v.violations:
        raise FactError(_in_order(v.violations, declared), v.warnings)
    return {name: read[name] for name in declared}, tuple(v.warnings)


def _in_order(violations, declared) -> list:
    """Violations grouped by fact, in the order the evaluation declares its facts; list elements by index."""
    index = {name: i for i, name in enumerate(declared)}

    def root(p: str) -> str:
        return re.split(r"[.\[]", p, maxsplit=1)[0] or p

    def key(f):
        if f.path == "$":
            return (-1, ())
        return (index.get(root(f.path), len(index)), tuple(int(i) for i in re.findall(r"\[([0-9]+)\]", f.path)))

    return sorted(violations, key=key)


# ---- the fast path -------------------------------------------------------------------------
# Most fact sets are valid. For them, a validator specialised to the evaluation at load time
# accepts only the plainest valid shapes and returns None at the first doubt; `validate` (above)
# then runs and reports every violation. Both return the same values for a valid fact set.

_LIMIT = Decimal(10) ** MAX_EXPONENT
_OPS = {">=": Decimal.__ge__, "<=": Decimal.__le__, ">": Decimal.__gt__, "<": Decimal.__lt__,
        "==": Decimal.__eq__, "!=": Decimal.__ne__}


def _fast_number(v):
    """A plain exact number, or None."""
    t = type(v)
    if t is Decimal:
        if not v.is_finite():
            return None
    elif t is int:
        v = Decimal(v)
    elif t is str and _DECIMAL_STRING.fullmatch(v):
        v = Decimal(v)
    else:
        return None
    if not -_LIMIT < v < _LIMIT or (v != 0 and abs(v.adjusted()) >= MAX_EXPONENT):
        return None
    if not v:
        return abs(v)
    if len(v.as_tuple().digits) > MAX_DIGITS:
        return None
    return v


def _fast_scalar(t: m.Type, bounds):
    """A checker for one scalar of type `t` with literal `bounds`; relations are checked later."""
    checks = []
    for b in bounds:
        if b.op == "matching":
            pattern = re.compile(b.value)
            checks.append(lambda v, p=pattern: p.fullmatch(v) is not None)
        elif isinstance(b.value, n.Number):
            op, bound = _OPS[b.op], b.value.value
            checks.append(lambda v, op=op, bound=bound: op(v, bound))
    if t.kind == "number":
        limits = tuple((_OPS[b.op], b.value.value) for b in bounds
                       if b.op != "matching" and isinstance(b.value, n.Number))
        if t.display in ("integer", "count"):
            low = Decimal(0) if t.display == "count" else -_LIMIT

            def integer(v):
                tv = type(v)
                if tv is int:
                    d = Decimal(v)
                elif tv is Decimal or (tv is str and _DECIMAL_STRING.fullmatch(v)):
                    d = Decimal(v)
                    if not d.is_finite() or d != d.to_integral_value():
                        return None
                    d = Decimal(int(d))
                else:
                    return None
                if not low <= d < _LIMIT:
                    return None
                for op, bound in limits:
                    if not op(d, bound):
                        return None
                return d
            return integer

        def number(v):
            d = _fast_number(v)
            if d is None:
                return None
            for op, bound in limits:
                if not op(d, bound):
                    return None
            return d
        return number
    if t.kind == "boolean":
        return lambda v: v if type(v) is bool else None
    if t.kind == "text":
        def text(v):
            if type(v) is not str:
                return None
            for c in checks:
                if not c(v):
                    return None
            return v
        return text
    if t.kind == "enum":
        allowed = frozenset(t.values)
        return lambda v: v if type(v) is str and v in allowed else None
    return None


_FAIL = object()


def compile_fast(evaluation: m.EvaluationModel):
    """facts -> validated dict, or None when only the full validator can decide."""
    readers = []
    relations = []
    for decl in evaluation.facts:
        reader = _fast_reader(decl)
        if reader is None:
            return None
        readers.append((decl.name, reader))
        for b in decl.bounds:
            if b.op != "matching" and not isinstance(b.value, n.Number):
                if not isinstance(b.value, n.Name) or decl.type.kind != "number":
                    return None  # arithmetic in a bound, or a relation on list elements
                relations.append((decl.name, _OPS[b.op], b.value.name))
    count = len(readers)

    def fast(facts):
        if type(facts) not in (dict, Pairs) or len(facts) != count or getattr(facts, "duplicates", None):
            return None
        out = {}
        for name, reader in readers:
            v = facts.get(name, _FAIL)
            if v is _FAIL:
                return None
            v = reader(v)
            if v is None:
                return None
            out[name] = v
        for name, op, other in relations:
            if not op(out[name], out[other]):
                return None
        return out
    return fast


def _fast_reader(decl: m.FactDecl):
    t = decl.type
    if t.kind in ("number", "boolean", "text", "enum"):
        return _fast_scalar(t, decl.bounds)
    if t.kind == "record":
        keys = t.keys
        if any(b.op != "matching" and not isinstance(b.value, n.Number) for b in decl.bounds):
            return None  # bounds naming other facts: the full validator checks them
        element = _fast_scalar(t.element, decl.bounds)
        if element is None:
            return None

        def record(v):
            if type(v) not in (dict, Pairs) or len(v) != len(keys) or getattr(v, "duplicates", None):
                return None
            out = {}
            for k in keys:
                if k not in v:
                    return None
                e = element(v[k])
                if e is None:
                    return None
                out[k] = e
            return out
        return record
    if t.kind == "list":
        limit = decl.limit
        minimum = decl.minimum or 0
        total = decl.total
        if t.fields:
            fields = []
            bounds = dict(decl.field_bounds)
            for name, ftype, _label in t.fields:
                reader = _fast_scalar(ftype, bounds.get(name, ()))
                if reader is None or any(b.op != "matching" and not isinstance(b.value, n.Number)
                                         for b in bounds.get(name, ())):
                    return None
                fields.append((name, reader))
            width = len(fields)

            def line(v):
                if type(v) not in (dict, Pairs) or len(v) != width or getattr(v, "duplicates", None):
                    return None
                out = {}
                for name, reader in fields:
                    e = v.get(name, _FAIL)
                    if e is _FAIL:
                        return None
                    e = reader(e)
                    if e is None:
                        return None
                    out[name] = e
                return out
            element = line
        else:
            element = _fast_scalar(t.element, decl.bounds)
            if element is None:
                return None

        def items(v):
            if type(v) is not list or (limit is not None and len(v) > limit) or len(v) < minimum:
                return None
            out = []
            for e in v:
                e = element(e)
                if e is None:
                    return None
                out.append(e)
            if total is not None and sum((line[total[0]] for line in out), Decimal(0)) != total[1]:
                return None
            return out
        return items
    return None
