"""Facts stage: read a fact set exactly and validate it against an evaluation's declarations.

JSON numbers are kept as their text and turned into Decimal here, never through float. Every
violation is collected with the fact's path (`projects[3].collected`), so a user sees all of
them at once; unknown facts are warnings.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

from . import exact as x
from . import model as m
from .errors import FactError, FactViolation

# Literals past these are refused rather than computed with (they are never a real amount).
MAX_DIGITS = 40
MAX_EXPONENT = 40

_DECIMAL_STRING = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


class RawNumber(str):
    """A JSON number's text, exactly as written."""


class BadConstant(str):
    """`NaN`, `Infinity` or `-Infinity` in a JSON file (not JSON, but Python's reader accepts them)."""


class Pairs(dict):
    """A JSON object that remembers keys it saw twice."""
    duplicates: tuple = ()


def _pairs(items):
    obj = Pairs()
    dups = []
    for k, v in items:
        if k in obj:
            dups.append(k)
        obj[k] = v
    obj.duplicates = tuple(dups)
    return obj


def read_json(text: str):
    """Parse JSON text exactly. Raises FactError for text that is not JSON."""
    try:
        return json.loads(text, parse_float=RawNumber, parse_int=RawNumber,
                          parse_constant=BadConstant, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise FactError([FactViolation(path="$", code="F001",
                                       message=f"not valid JSON at line {exc.lineno} column {exc.colno}: "
                                               f"{exc.msg.lower()}")]) from None
    except RecursionError:
        raise FactError([FactViolation(path="$", code="F001", message="JSON nests too deeply")]) from None


def _show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, RawNumber):
        return str(v)
    if isinstance(v, BadConstant):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return str(v)


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
    def number(self, path, v, what="a number"):
        if isinstance(v, bool) or v is None or isinstance(v, (list, dict)):
            self.bad(path, f"expected {what}, got {_show(v)}", "F101")
            return None
        if isinstance(v, _Float):
            self.bad(path, f"expected {what}, got the float {v}: floats are not exact; pass an int, "
                     f"a Decimal or a decimal string", "F102")
            return None
        if isinstance(v, BadConstant):
            self.bad(path, f"expected {what}, got `{v}` (not a number)", "F102")
            return None
        if isinstance(v, RawNumber):
            text = str(v)
        elif isinstance(v, str):
            text = v
            if not _DECIMAL_STRING.fullmatch(text):
                self.bad(path, f"expected {what}, got {_show(v)}: {_why_not_decimal(text)}", "F103")
                return None
        else:
            self.bad(path, f"expected {what}, got {_show(v)}", "F101")
            return None
        try:
            d = Decimal(text)
        except InvalidOperation:
            self.bad(path, f"expected {what}, got {_show(v)}", "F103")
            return None
        t = d.as_tuple()
        if len(t.digits) > MAX_DIGITS or abs(d.adjusted()) > MAX_EXPONENT:
            self.bad(path, f"number {_show(v)} is out of range (at most {MAX_DIGITS} digits and "
                     f"magnitude below 10^{MAX_EXPONENT})", "F104")
            return None
        if d == 0:
            d = abs(d)
        return d

    # ---- facts ---------------------------------------------------------------------------------
    def value(self, path, v, t: m.Type, decl: m.FactDecl | None, field_bounds=None):
        if t.kind == "number":
            what = {"integer": "an integer", "count": "a count (a whole number >= 0)",
                    "money": "an amount of money (a JSON number or decimal string)",
                    "percent": "a number (0.85 for 85%)"}.get(t.display, "a number")
            d = self.number(path, v, what)
            if d is None:
                return None
            if t.display in ("integer", "count"):
                if not x.is_integer(d):
                    self.bad(path, f"expected {what}, got {_show(v)}", "F105")
                    return None
                d = Decimal(int(d))
                if t.display == "count" and d < 0:
                    self.bad(path, f"must be >= 0 (a count), got {_show(v)}", "F110")
                    return None
            return d
        if t.kind == "boolean":
            if not isinstance(v, bool):
                self.bad(path, f"expected true or false, got {_show(v)}", "F101")
                return None
            return v
        if t.kind == "text":
            if not isinstance(v, str) or isinstance(v, (RawNumber, BadConstant)):
                self.bad(path, f"expected a text, got {_show(v)}", "F101")
                return None
            return str(v)
        if t.kind == "enum":
            if not isinstance(v, str) or isinstance(v, (RawNumber, BadConstant)):
                self.bad(path, f"expected one of {', '.join(t.values)}, got {_show(v)}", "F101")
                return None
            if v not in t.values:
                self.bad(path, f"expected one of {', '.join(t.values)}, got {_show(v)}", "F106")
                return None
            return str(v)
        if t.kind == "record":
            if not isinstance(v, dict):
                self.bad(path, f"expected an object with keys {', '.join(t.keys)}, got {_show(v)}", "F101")
                return None
            self._duplicates(path, v)
            out = {}
            for key in t.keys:
                if key not in v:
                    self.bad(f"{path}.{key}", "missing", "F107")
                    continue
                out[key] = self.value(f"{path}.{key}", v[key], t.element, None)
            for key in v:
                if key not in t.keys:
                    self.warn(f"{path}.{key}", f"unknown key, ignored (keys: {', '.join(t.keys)})")
            return out if len(out) == len(t.keys) and None not in out.values() else None
        if t.kind == "list":
            if not isinstance(v, list):
                self.bad(path, f"expected a list, got {_show(v)}", "F101")
                return None
            if decl is not None and decl.limit is not None and len(v) > decl.limit:
                self.bad(path, f"has {len(v)} entries; at most {decl.limit} are allowed", "F108")
            out, ok = [], True
            for i, el in enumerate(v):
                p = f"{path}[{i}]"
                if t.fields:
                    r = self._line(p, el, t, field_bounds or {})
                else:
                    r = self.value(p, el, t.element, None)
                    if r is not None and decl is not None:
                        r = self.bounds(p, r, decl.bounds, {}, decl.rule)
                ok = ok and r is not None
                out.append(r)
            return out if ok else None
        raise AssertionError(t.kind)

    def _line(self, path, el, t: m.Type, field_bounds):
        if not isinstance(el, dict):
            self.bad(path, f"expected an object with fields {', '.join(f[0] for f in t.fields)}, "
                     f"got {_show(el)}", "F101")
            return None
        self._duplicates(path, el)
        out, ok = {}, True
        for name, ftype, _label in t.fields:
            p = f"{path}.{name}"
            if name not in el:
                self.bad(p, "missing", "F107")
                ok = False
                continue
            r = self.value(p, el[name], ftype, None)
            if r is not None and name in field_bounds:
                r = self.bounds(p, r, field_bounds[name], {}, "")
            ok = ok and r is not None
            out[name] = r
        known = {f[0] for f in t.fields}
        for key in el:
            if key not in known:
                self.warn(f"{path}.{key}", "unknown field, ignored")
        return out if ok else None

    def _duplicates(self, path, obj):
        for key in getattr(obj, "duplicates", ()):
            self.bad(f"{path}.{key}" if path != "$" else key, "appears twice in the same object", "F109")

    def bounds(self, path, value, bounds, env, rule, compiled=None):
        """Check `value` against each bound; bounds naming other facts read them from env."""
        for b in bounds:
            if b.op == "matching":
                if not re.fullmatch(b.value, value):
                    self.bad(path, f"must match `{b.value}`, got {_show(value)}", "F111")
                    return None
                continue
            bound = _bound_value(b, env)
            if bound is _UNKNOWN:
                continue  # the other fact is itself invalid; that is reported already
            c = x.compare(value, bound)
            ok = {">=": c >= 0, "<=": c <= 0, ">": c > 0, "<": c < 0, "==": c == 0, "!=": c != 0}[b.op]
            if not ok:
                src = b.value.span.text
                literal = _is_literal(b.value)
                shown = src if literal else f"`{src}` ({x.to_string(bound)})"
                extra = f" (rule: `{rule}`)" if rule else ""
                self.bad(path, f"must be {b.op} {shown}{extra}, got {x.to_string(value)}", "F110")
                return None
        return value


_UNKNOWN = object()


def _is_literal(expr) -> bool:
    from . import nodes as n
    return isinstance(expr, n.Number) or (isinstance(expr, n.Unary) and isinstance(expr.operand, n.Number))


def _bound_value(b: m.Bound, env):
    """A bound is a literal, another fact, or arithmetic on those (the checker made sure)."""
    from . import nodes as n

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


def _why_not_decimal(text: str) -> str:
    if text != text.strip():
        return "spaces are not allowed around a number"
    if "," in text:
        return "thousands separators are not allowed; write 1234, not 1,234"
    if "_" in text:
        return "underscores are not allowed in a number"
    if re.fullmatch(r"-?[0-9.]+[eE][+-]?[0-9]+", text):
        return "exponent notation is not allowed; write the number in full"
    if text.lower() in ("nan", "infinity", "-infinity", "inf", "-inf"):
        return "not a number"
    if text.endswith("%"):
        return "write a percentage as a decimal (0.85 for 85%)"
    return "not a decimal number"


def validate(evaluation: m.EvaluationModel, facts) -> tuple[dict, tuple]:
    """Validated facts (name -> exact value) and warnings, or FactError with every violation."""
    v = Validator()
    if not isinstance(facts, dict):
        raise FactError([FactViolation(path="$", code="F101",
                                       message=f"expected an object of facts, got {_show(facts)}")])
    facts = _from_python(facts)
    v._duplicates("$", facts)
    out = {}
    for decl in evaluation.facts:
        if decl.name not in facts:
            v.bad(decl.name, f"missing (declared as `{decl.rule}`)", "F107")
            continue
        field_bounds = dict(decl.field_bounds)
        r = v.value(decl.name, facts[decl.name], decl.type, decl, field_bounds)
        if r is not None:
            out[decl.name] = r
    declared = {d.name for d in evaluation.facts}
    for key in facts:
        if key not in declared:
            v.warn(key, f"unknown fact, ignored (evaluation `{evaluation.name}` does not declare it)")
    # Bounds last: they may name other facts, which must be read first.
    for decl in evaluation.facts:
        if decl.type.kind == "number" and decl.name in out and decl.bounds:
            if v.bounds(decl.name, out[decl.name], decl.bounds, out, decl.rule) is None:
                out.pop(decl.name, None)
    if v.violations:
        raise FactError(v.violations, v.warnings)
    return out, tuple(v.warnings)


def _from_python(obj):
    """Facts given as Python values (from the API): ints, Decimals and strings stand as written.

    A float is refused: its binary value is not the number the user meant.
    """
    if isinstance(obj, Pairs):
        return obj
    if isinstance(obj, dict):
        out = Pairs((k, _from_python(v)) for k, v in obj.items())
        return out
    if isinstance(obj, list):
        return [_from_python(v) for v in obj]
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int):
        return RawNumber(str(obj))
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            return BadConstant(str(obj))
        return RawNumber(format(obj, "f"))
    if isinstance(obj, float):
        return _Float(repr(obj))
    return obj


class _Float(BadConstant):
    """A Python float passed to the API: refused, see _from_python."""
