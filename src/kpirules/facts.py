"""Facts stage: read a fact set exactly, and validate it with one validator generated per evaluation.

JSON numbers become Decimal straight from their text, never through float. `compile(evaluation)`
turns the evaluation's fact declarations into a validator once, at load time: one check per
declared fact, with every literal bound already resolved to its exact value. The same validator
serves valid facts (the hot path of every evaluation: no path is built, nothing is copied twice)
and bad ones (every violation is collected with the fact's path, `projects[3].collected`, so a
user sees all of them at once; unknown facts are warnings).

Validation never depends on the caller's `decimal` context: numbers are compared exactly, sums
go through `exact.py`, and no conversion whose cost grows with a number's size (a million-digit
integer from `1e999999`) happens before the number's size has been checked.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from . import dates, patterns
from . import exact as x
from . import model as m
from . import nodes as n
from .diagnostics import close_in_length
from .errors import FactError, FactViolation
from .limits import KEEP_VIOLATIONS, MAX_FACT_CHARS, MAX_KEYS, MAX_LIST_ENTRIES, MAX_TEXT_CHARS, MAX_VIOLATIONS

# Numbers past these are refused rather than computed with (they are never a real amount).
MAX_DIGITS = 40
MAX_EXPONENT = 40
# A value shown in a message is cut to this many characters (a fact file may hold anything).
SHOW_CHARS = 60

# Characters a message about a fact never echoes as they are: C1 controls (U+009B starts a
# terminal escape), bidi overrides, line and paragraph separators, lone surrogates (json.dumps
# already escapes C0 controls).
_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_RAW_UNSAFE = re.compile("[\x00-\x1f" + _UNSAFE.pattern[1:])  # the same, and C0 controls (raw text)

_DECIMAL_STRING = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")

# An int of more bits than this is at least 2^133 > 10^40: out of range, whatever its digits.
# Checked before Decimal(int), whose cost grows with the square of the int's length.
_MAX_BITS = 133
# An int is shown with its digits only up to this size (str() of a huge int is slow, and
# Python refuses it past 4300 digits).
_SHOW_BITS = 4000
# Python ints within the size range: |v| < 10^40.
_INT_LIMIT = 10**MAX_EXPONENT

_RANGE = (f"a fact's number may have at most {MAX_DIGITS} digits, and its size must lie between "
          f"10^-{MAX_EXPONENT} and 10^{MAX_EXPONENT}")


# ---- reading --------------------------------------------------------------------------------

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
    # The engine's context, not the caller's: under a context that does not trap
    # InvalidOperation, Decimal("1e99999999999999999999") would quietly be NaN. Conversion from
    # text is exact whatever the context's precision.
    try:
        return Decimal(text, context=x.EXACT)
    except InvalidOperation:
        return Unrepresentable(text)


def read_json(text: str):
    """Parse a JSON fact file exactly: numbers become Decimal, objects remember duplicate keys.

    `NaN`, `Infinity` and `-Infinity` (not JSON, but common) are read as Decimal's non-finite
    values so that validation can name the fact that holds them. Raises FactError for text that
    is not JSON, or whose top level is not an object.
    """
    if len(text) > MAX_FACT_CHARS:
        raise FactError([FactViolation(path="$", code="F003",
                                       message=f"the fact text has more than {MAX_FACT_CHARS} characters; "
                                               f"split the fact set")])
    text = text.removeprefix("\ufeff")  # a byte-order mark, as Windows editors write it
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
    if _SURROGATE.search(text) or _ESCAPED_SURROGATE.search(text):
        # A lone surrogate (`"\\ud800"`) is no character: no key or text holding one can be hashed
        # for a stamp or written out. Rare, so the walk happens only when the text may hold one.
        found = _surrogates(data)
        if found:
            raise FactError(found[:MAX_VIOLATIONS])
    return data


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _surrogates(data) -> list:
    """F119 for every key or text of a read fact file holding a lone surrogate, with its path."""
    out: list = []
    stack: list = [("$", data)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, str):
            p = _text_problem(v)
            if p is not None and p.code == "F119":
                out.append(FactViolation(path=path, code="F119", message=p.message))
        elif isinstance(v, dict):
            for k, e in v.items():
                here = _key(path, k)
                if _SURROGATE.search(k):
                    out.append(FactViolation(path=here, code="F119", message="the key holds a lone surrogate, "
                                             "which is not a character (the text was not decoded from valid UTF-8)"))
                stack.append((here, e))
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", e) for i, e in enumerate(v))
    return sorted(out, key=lambda f: f.path)


def _near(exc: json.JSONDecodeError) -> str:
    """The text around the error, from its line (a fact file may be one long line)."""
    lines = exc.doc.split("\n")  # the decoder counts lines by "\n" only
    line = lines[exc.lineno - 1].rstrip("\r") if exc.lineno <= len(lines) else ""
    start = max(0, exc.colno - 1 - SHOW_CHARS // 2)
    snippet = _RAW_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", line[start:start + SHOW_CHARS].strip())
    if not snippet:
        return ""
    return f" (near `{'…' if start else ''}{snippet}`)"


# ---- showing values in messages -------------------------------------------------------------

def _clip(s: str) -> str:
    return s if len(s) <= SHOW_CHARS else s[:SHOW_CHARS - 1] + "…"


def _show(v) -> str:
    """A value as a person reads it in a message: JSON spelling, in backticks."""
    if isinstance(v, bool):
        return "`true`" if v else "`false`"
    if v is None:
        return "`null`"
    if isinstance(v, Decimal):
        # Spelled by the engine's context: str() would follow the caller's (`1e+5` if it sets
        # capitals=0).
        return f"`{_clip(x.EXACT.to_sci_string(v))}`"
    if isinstance(v, Unrepresentable):
        return f"`{_clip(v.text)}`"
    if isinstance(v, str):
        # Only the start is encoded: the text may be megabytes long, and the clipped JSON of
        # the start is the clipped JSON of the whole.
        return f"`{_clip(_safe(json.dumps(str.__str__(v)[:SHOW_CHARS], ensure_ascii=False)))}`"
    if isinstance(v, int) and v.bit_length() > _SHOW_BITS:
        return f"an integer of about {int(v.bit_length() * 0.30103):,} digits"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return f"`{_clip(str(v))}`"


def _safe(shown: str) -> str:
    """JSON text with the characters _UNSAFE escaped as JSON escapes them (`\\u009b`)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", shown)


def _key(path: str, key) -> str:
    """The path of `key` inside the object at `path`: `rollout.sales_tools`, `x["odd key"]`."""
    k = str(key)
    if len(k) <= SHOW_CHARS and _IDENTIFIER.fullmatch(k):
        return k if path == "$" else f"{path}.{k}"
    # A key is any text: clipped, and escaped so that a message never echoes a control character.
    quoted = f"[{_safe(json.dumps(k[:SHOW_CHARS], ensure_ascii=False))}{'…' if len(k) > SHOW_CHARS else ''}]"
    return quoted if path == "$" else f"{path}{quoted}"


def _names(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _suggest(word, choices) -> str:
    if not isinstance(word, str):
        return ""
    # A long text resembles no name, and only names close in length are compared (limits.py).
    close = difflib.get_close_matches(word, close_in_length(word, [str(c) for c in choices]), n=1)
    return f"; did you mean `{close[0]}`?" if close else ""


def _is_number(v) -> bool:
    """A finite number as JSON or the API gives it (not a boolean)."""
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, Decimal) and v.is_finite())


def _why_not_decimal(text: str, display: str = "number") -> str:
    plain = "write digits with an optional leading `-` and decimal point, e.g. `1234.50`"
    if text != text.strip():
        return "spaces are not allowed around a number"
    if not text:
        return "the text is empty"
    if re.fullmatch(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", text):
        return f"thousands separators are not allowed; write `{_clip(text.replace(',', ''))}`"
    if "," in text:
        return f"a comma is not allowed in a number; {plain}"
    if "_" in text:
        return f"underscores are not allowed in a number; write `{_clip(text.replace('_', ''))}`"
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


# ---- scalar checks --------------------------------------------------------------------------
# A scalar check is `check(v) -> value | Problem`. It knows nothing of paths: the container
# that called it adds the path, and only when there is a problem, so a valid fact set builds
# no path strings at all. (Values are never None and never a Problem.)

class Problem:
    """A broken rule of one scalar, before the caller names the path.

    `value` is set when the value is well typed and only a bound failed: it is still the
    fact's value, and may still bound another fact (whose own check then reads it).
    """
    __slots__ = ("code", "message", "value")

    def __init__(self, code: str, message: str, value=None):
        self.code = code
        self.message = message
        self.value = value


_NUMBER_WORDS = {"integer": "an integer (a whole number)",
                 "count": "a count (a whole number >= 0)",
                 "money": "an amount of money (a JSON number or decimal string)",
                 "percent": "a number (0.85 for 85%)"}


def _out_of_range(v) -> Problem:
    return Problem("F104", f"{_show(v)} is out of range: {_RANGE}")


def _unusual_number(v, what: str):
    """A number fact given something other than a plain Decimal, int or str: a problem, or the
    value as one of those three (a subclass such as IntEnum becomes its base value)."""
    if isinstance(v, bool) or v is None or isinstance(v, (list, tuple, Mapping)):
        return Problem("F101", f"expected {what}, got {_show(v)}")
    if isinstance(v, float):
        return Problem("F102", f"expected {what}, got the float {_show(v)}: a float is not exact; pass "
                               f"an `int`, a `Decimal` or a decimal string")
    if isinstance(v, Unrepresentable):
        return _out_of_range(v)
    if isinstance(v, Decimal):
        return Decimal(v)   # from a Decimal: exact, no context involved
    if isinstance(v, int):
        return int(v)
    if isinstance(v, str):
        return str.__str__(v)
    return Problem("F101", f"expected {what}, got {_show(v)}")


def _sized(v, what: str, display: str):
    """`v` as an exact, finite Decimal whose size is within range (or zero), or a Problem.

    The order is what makes hostile numbers cheap: the size (exponent, bit length) is read
    before anything whose cost grows with it. Decimal(text) and the checks below cost at most
    linear time in the digits actually written; none depends on the caller's context.
    """
    t = type(v)
    if t is not Decimal and t is not int and t is not str:
        v = _unusual_number(v, what)
        if type(v) is Problem:
            return v
        t = type(v)
    if t is Decimal:
        if not v.is_finite():
            return Problem("F102", f"expected {what}, got {_show(v)}, which is not a finite number "
                                   f"(JSON has no `NaN` or `Infinity`)")
        d = v
    elif t is int:
        if v.bit_length() > _MAX_BITS:
            return _out_of_range(v)
        d = Decimal(v)
    else:
        if not _DECIMAL_STRING.fullmatch(v):
            return Problem("F103", f"expected {what}, got {_show(v)}: {_why_not_decimal(v, display)}")
        d = Decimal(v)  # well-formed, so exact and context-free
    if not d:
        # Zero has no size; "-0" is zero. A zero written with an absurd exponent (`0e999999999`)
        # is plain 0, so that no later step spells out its zeros.
        exp = d.as_tuple().exponent
        return d.copy_abs() if -MAX_DIGITS <= exp <= MAX_EXPONENT else x.ZERO
    a = d.adjusted()
    if a >= MAX_EXPONENT or a <= -MAX_EXPONENT:
        return _out_of_range(v)
    return d


def _decimal_check(display: str):
    """money, percent, number, points: at most MAX_DIGITS digits as written (`1.10` keeps its 0)."""
    what = _NUMBER_WORDS.get(display, "a number")

    def check(v):
        # The plainest valid numbers are accepted at once; anything else takes the full road
        # below, which decides (and explains) every case, these included.
        tv = type(v)
        if tv is Decimal:
            if v.is_finite() and v and -MAX_EXPONENT < v.adjusted() < MAX_EXPONENT and len(str(v)) <= MAX_DIGITS:
                return v
        elif tv is int:
            if -_INT_LIMIT < v < _INT_LIMIT:
                return Decimal(v)
        elif tv is str and len(v) <= MAX_DIGITS and _DECIMAL_STRING.fullmatch(v):
            d = Decimal(v)  # at most 40 characters: size and digits are in range
            if d:
                return d
        d = _sized(v, what, display)
        # The size is in range, so an int has at most 40 digits, and a spelling of at most 40
        # characters cannot have more; only longer ones need their digits counted.
        if type(d) is Decimal and type(v) is not int and len(v if type(v) is str else str(d)) > MAX_DIGITS \
                and len(d.as_tuple().digits) > MAX_DIGITS:
            return _out_of_range(v)
        return d
    return check


def _integer_check(display: str):
    """integer and count: a whole number within the size range, as a Decimal of exponent 0.

    The digits as written do not matter (`2.0` and `2.000…0` are the integer 2); the size does,
    and it is checked before the integer is made.
    """
    what = _NUMBER_WORDS[display]
    count = display == "count"

    def check(v):
        # A JSON integer (a Decimal of exponent 0) or a Python int within range is accepted at
        # once; anything else takes the full road below, which decides (and explains) every case.
        tv = type(v)
        if tv is Decimal:
            if v.is_finite() and v and v.same_quantum(x.ONE) and -MAX_EXPONENT < v.adjusted() < MAX_EXPONENT \
                    and not (count and v.is_signed()):
                return v
        elif tv is int and -_INT_LIMIT < v < _INT_LIMIT and not (count and v < 0):
            return Decimal(v)
        d = _sized(v, what, display)
        if type(d) is not Decimal:
            return d
        if not d.same_quantum(x.ONE):  # `2.0`, `2E+1`: bring it to exponent 0 once whole
            whole = d.to_integral_value(context=x.EXACT)  # never signals Inexact
            if whole != d:
                return Problem("F105", f"expected {what}, got {_show(v)}")
            d = Decimal(int(whole))  # at most 40 digits: the size was checked
        if count and d.is_signed():
            return Problem("F110", f"a count must be >= 0, got {_show(v)}")
        return d
    return check


def _boolean_check(v):
    if type(v) is bool:
        return v
    hint = ""
    if isinstance(v, str):
        hint = " (write `true` or `false` without quotes)"
    elif _is_number(v) and v in (0, 1):
        hint = " (a number is not a boolean; write `true` or `false`)"
    return Problem("F101", f"expected `true` or `false`, got {_show(v)}{hint}")


def _text_problem(s: str):
    """F115 for a text past MAX_TEXT_CHARS, F119 for one holding a lone surrogate, else None."""
    if len(s) > MAX_TEXT_CHARS:
        return Problem("F115", f"has {len(s)} characters; a fact's text may have at most {MAX_TEXT_CHARS}")
    if not s.isascii() and _SURROGATE.search(s):
        i = _SURROGATE.search(s).start()  # type: ignore[union-attr]
        return Problem("F119", f"holds a lone surrogate U+{ord(s[i]):04X} at character {i + 1}, which is not "
                               f"a character (the text was not decoded from valid UTF-8)")
    return None


def _text_check(v):
    if type(v) is str or isinstance(v, str):
        s = v if type(v) is str else str.__str__(v)
        p = _text_problem(s)
        return s if p is None else p
    hint = " (write it in quotes)" if _is_number(v) else ""
    return Problem("F101", f"expected a text, got {_show(v)}{hint}")


def _enum_check(values: tuple):
    allowed = frozenset(values)

    def check(v):
        if type(v) is str and v in allowed:
            return v
        if isinstance(v, str):
            s = str.__str__(v)
            if s in allowed:
                return s
            p = _text_problem(s)
            if p is not None:
                return p
            return Problem("F106", f"expected one of {_names(values)}, got {_show(v)}{_suggest(v, values)}")
        return Problem("F101", f"expected one of {_names(values)}, got {_show(v)}")
    return check


def _scalar_check(t: m.Type | None):
    if t is None:
        raise AssertionError("a list or record without an element type")
    if t.kind == "number":
        return _integer_check(t.display) if t.display in ("integer", "count") else _decimal_check(t.display)
    if t.kind == "boolean":
        return _boolean_check
    if t.kind == "text":
        return _text_check
    if t.kind == "enum":
        return _enum_check(t.values)
    if t.kind == "date":
        return _date_check
    if t.kind == "period":
        return _period_check(t.values[0])
    raise AssertionError(f"not a scalar type: {t.kind}")


def _date_check(v):
    """A date: ISO text `2026-07-01` (JSON), or a `datetime.date` from Python; nothing else."""
    if type(v) is date:
        return v
    if isinstance(v, str):
        text = str.__str__(v)
        if len(text) <= 40:  # a date is 10 characters; a long text is refused without parsing
            try:
                return dates.parse_date(text)
            except dates.DateProblem as problem:
                return Problem("F114", f"expected a date, got {_show(v)}: {problem}")
        return Problem("F114", f"expected a date written YYYY-MM-DD, got a text of {len(text)} characters")
    what = "a date and time (give the date alone)" if isinstance(v, datetime) else _show(v)
    return Problem("F114", f"expected a date written YYYY-MM-DD (e.g. \"2026-07-01\"), got {what}")


def _period_check(unit: str):
    def check(v):
        if type(v) is dates.Period and v.unit == unit:
            return v
        if isinstance(v, str) and len(v) <= 20:
            try:
                return dates.parse_period(str.__str__(v), unit)
            except dates.DateProblem as problem:
                return Problem("F114", f"expected a {unit}, got {_show(v)}: {problem}")
        return Problem("F114", f"expected a {unit} written {dates.PERIOD_FORMS[unit]}, got {_show(v)}")
    return check


# ---- bounds ---------------------------------------------------------------------------------
# A bound is resolved once, when the validator is built: a literal (or arithmetic on literals)
# becomes its exact value; a bound that names facts becomes a function of the facts already
# validated (composed here once from exact.py's operations, never re-read from the tree).

_HOLDS = {">=": lambda c: c >= 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, "<": lambda c: c < 0,
          "==": lambda c: c == 0, "!=": lambda c: c != 0}
# Decimal against Decimal: Python's comparisons are exact and read no context.
_DECIMAL_OPS = {">=": Decimal.__ge__, "<=": Decimal.__le__, ">": Decimal.__gt__, "<": Decimal.__lt__,
                "==": Decimal.__eq__, "!=": Decimal.__ne__}
_ARITHMETIC = {"+": x.add, "-": x.sub, "*": x.mul, "/": x.div}
_UNKNOWN = object()


class _Unresolvable(Exception):
    """A bound outside the documented forms (a literal, a fact, `+ - * /` on those).

    The checker lets some through (`<= max(total, 1)`); such a bound is not checked, as before.
    """


def _compose(e):
    """(function of the valid facts, names it reads) for a bound expression."""
    if isinstance(e, n.Number):
        value = e.value
        return (lambda env: value), ()
    if isinstance(e, n.DateLit):
        day = dates.parse_date(e.text)  # the checker proved it a day that exists
        return (lambda env: day), ()
    if isinstance(e, n.Name):
        name = e.name
        return (lambda env: env[name]), (name,)
    if isinstance(e, n.Unary) and e.op == "neg":
        f, names = _compose(e.operand)
        return (lambda env: x.neg(f(env))), names
    if isinstance(e, n.Binary) and e.op in _ARITHMETIC:
        op = _ARITHMETIC[e.op]
        (f, a), (g, b) = _compose(e.left), _compose(e.right)
        return (lambda env: op(f(env), g(env))), a + b
    raise _Unresolvable(e)


def _is_literal(expr) -> bool:
    return isinstance(expr, (n.Number, n.DateLit)) or (isinstance(expr, n.Unary) and isinstance(expr.operand, n.Number))


class _Limit:
    """One resolved bound: `value op bound`. `const` is the bound's exact value (literals), or
    `resolve(env)` reads it from the validated facts (bounds that name facts)."""
    __slots__ = ("const", "decimal_holds", "exact_holds", "literal", "op", "resolve", "source")

    def __init__(self, b: m.Bound):
        self.op = b.op
        assert not isinstance(b.value, str)  # only `matching` bounds hold text, and those are _Patterns
        self.source: str = b.value.span.text
        self.literal = _is_literal(b.value)
        self.const = _UNKNOWN
        self.resolve = None
        f, names = _compose(b.value)
        if names:
            self.resolve = f
        else:
            try:
                self.const = f({})
            except x.DivideByZero:
                self.const = _UNKNOWN  # never a number to compare with: the bound is skipped
        self.decimal_holds = _DECIMAL_OPS[b.op]
        test = _HOLDS[b.op]
        self.exact_holds = lambda v, bound: test(x.compare(v, bound))  # a Fraction bound (`total / 3`)

    def bound(self, env):
        """The bound's value for these facts, or _UNKNOWN when a fact it reads is invalid."""
        if self.resolve is None:
            return self.const
        try:
            return self.resolve(env)
        except (KeyError, x.DivideByZero):
            return _UNKNOWN

    def problem(self, value, bound, rule: str) -> Problem:
        shown = self.source if self.literal else f"`{self.source}` (= {_plain(bound)})"
        extra = f" (rule: `{rule}`)" if rule else ""
        return Problem("F110", f"must be {self.op} {shown}, got `{_plain(value)}`{extra}", value)


def _plain(v) -> str:
    """A number or a date in a message, as written."""
    return dates.show(v) if isinstance(v, (date, dates.Period)) else x.to_string(v)


class _Pattern:
    __slots__ = ("compiled", "pattern")

    def __init__(self, b: m.Bound):
        self.pattern = str(b.value)  # `matching`: the bound is the pattern's text
        self.compiled = patterns.compile(self.pattern)  # RE2: linear in the text's length


def _limits(bounds) -> tuple:
    out: list = []
    for b in bounds:
        if b.op == "matching":
            out.append(_Pattern(b))
            continue
        try:
            out.append(_Limit(b))
        except _Unresolvable:
            continue  # see _Unresolvable
    return tuple(out)


def _check_limits(value, limits, env, rule: str):
    """None when `value` keeps every bound, else the first Problem (in the written order)."""
    for lim in limits:
        if type(lim) is _Pattern:
            if lim.compiled.fullmatch(value) is None:
                return Problem("F111", f"must match the pattern `{lim.pattern}`, got {_show(value)}", value)
            continue
        bound = lim.const if lim.resolve is None else lim.bound(env)
        if bound is _UNKNOWN:
            continue  # the other fact is itself invalid or missing; that is reported already
        if type(bound) is Decimal and type(value) is Decimal:
            ok = lim.decimal_holds(value, bound)
        else:
            ok = lim.exact_holds(value, bound)
        if not ok:
            return lim.problem(value, bound, rule)
    return None


def _literal_only(limits) -> bool:
    return all(type(lim) is _Pattern or lim.resolve is None for lim in limits)


def _bounded_check(check, limits, rule: str):
    """A scalar check with literal bounds folded in; a broken bound is a Problem with a value."""
    if not limits:
        return check
    if all(type(lim) is _Limit and type(lim.const) is Decimal for lim in limits):
        # Number bounds with Decimal values (nearly all): compared directly; the general
        # check below runs only to explain a failure.
        tests = tuple((lim.decimal_holds, lim.const) for lim in limits)

        def bounded_number(v):
            r = check(v)
            if type(r) is Problem:
                return r
            for holds, bound in tests:
                if not holds(r, bound):
                    return _check_limits(r, limits, None, rule)
            return r
        return bounded_number

    def bounded(v):
        r = check(v)
        if type(r) is Problem:
            return r
        p = _check_limits(r, limits, None, rule)
        return r if p is None else p
    return bounded


def _too_many_keys(size: int) -> Problem:
    return Problem("F117", f"has {size} keys; an object of a fact set may have at most {MAX_KEYS}")


class Collected:
    """Violations (or warnings) as they are found: all are counted, the first KEEP_VIOLATIONS kept
    (a million bad entries must not make a million objects live at once)."""

    __slots__ = ("kept", "total")

    def __init__(self) -> None:
        self.kept: list = []
        self.total = 0

    def append(self, v) -> None:
        self.total += 1
        if len(self.kept) < KEEP_VIOLATIONS:
            self.kept.append(v)

    def __len__(self) -> int:
        return self.total

    def __iter__(self):
        return iter(self.kept)


def _reported(found: Collected, declared, severity: str) -> list:
    """The first MAX_VIOLATIONS in declaration order, and F118 with the count of the rest."""
    out = _in_order(found.kept, declared) if severity == "error" else list(found.kept)
    if found.total <= MAX_VIOLATIONS:
        return out
    what = "violations" if severity == "error" else "warnings"
    return out[:MAX_VIOLATIONS] + [FactViolation(
        path="$", code="F118", severity=severity,
        message=f"{found.total - MAX_VIOLATIONS} more {what} not shown ({found.total} in all)")]


# ---- containers -----------------------------------------------------------------------------
# A container check is `check(v, path, errors, warnings) -> value | None`: it appends
# FactViolations (it knows the path) and returns None when the value itself is unusable.

def _duplicates(path, obj, errors):
    for key, times in obj.duplicates.items():
        n_ = "twice" if times == 2 else f"{times} times"
        errors.append(FactViolation(path=_key(path, key), code="F109",
                                    message=f"the key `{key}` appears {n_} in the same object; give it "
                                            f"once (JSON would silently keep the last)"))


def _bad(errors, path, p: Problem):
    errors.append(FactViolation(path=path, code=p.code, message=p.message))


def _warn(warnings, path, message):
    warnings.append(FactViolation(path=path, code="F200", message=message, severity="warning"))


_MISSING = object()


def _record_check(t: m.Type):
    keys = t.keys
    width = len(keys)
    element = _scalar_check(t.element)

    def record(v, path, errors, warnings):
        tv = type(v)
        if tv is not dict and tv is not Pairs and not isinstance(v, Mapping):
            _bad(errors, path, Problem("F101", f"expected an object with keys {_names(keys)}, got {_show(v)}"))
            return None
        if len(v) > MAX_KEYS:
            _bad(errors, path, _too_many_keys(len(v)))
            return None
        if tv is not dict and getattr(v, "duplicates", None):
            _duplicates(path, v, errors)
        out = {}
        ok = True
        for key in keys:
            e = v.get(key, _MISSING)
            if e is _MISSING:
                errors.append(FactViolation(path=_key(path, key), code="F107",
                                            message=f"missing key `{key}` (`{path}` needs the keys {_names(keys)})"))
                ok = False
                continue
            r = element(e)
            if type(r) is Problem:
                _bad(errors, _key(path, key), r)
                ok = False
                continue
            out[key] = r
        if not ok or len(v) != width:  # a key is missing or unknown
            for key in v:
                if key not in keys:
                    _warn(warnings, _key(path, key), f"unknown key, ignored (`{path}` has the keys "
                          f"{_names(keys)}){_suggest(key, keys)}")
        return out if ok else None
    return record


def _line_check(t: m.Type, field_bounds: dict):
    """One line of a list of records; its fields' bounds are literals, checked right here."""
    names = tuple(f[0] for f in t.fields)
    width = len(names)
    # Field bounds are literals (a line's field cannot name a fact); a message quotes no rule.
    fields = tuple((name, _bounded_check(_scalar_check(ftype), _limits(field_bounds.get(name, ())), ""))
                   for name, ftype, _label in t.fields)

    def line(v, path, i, errors, warnings):
        tv = type(v)
        if tv is not dict and tv is not Pairs and not isinstance(v, Mapping):
            _bad(errors, f"{path}[{i}]", Problem("F101", f"expected an object with the fields "
                                                         f"{_names(names)}, got {_show(v)}"))
            return None
        if len(v) > MAX_KEYS:
            _bad(errors, f"{path}[{i}]", _too_many_keys(len(v)))
            return None
        here = None  # the line's path, made on the first problem only
        if tv is not dict and getattr(v, "duplicates", None):
            here = f"{path}[{i}]"
            _duplicates(here, v, errors)
        out = {}
        ok = True
        for name, check in fields:
            e = v.get(name, _MISSING)
            if e is _MISSING:
                here = here or f"{path}[{i}]"
                errors.append(FactViolation(path=_key(here, name), code="F107",
                                            message=f"missing field `{name}` (each line needs the fields "
                                                    f"{_names(names)})"))
                ok = False
                continue
            r = check(e)
            if type(r) is Problem:
                here = here or f"{path}[{i}]"
                _bad(errors, _key(here, name), r)
                ok = False
                continue
            out[name] = r
        if not ok or len(v) != width:
            here = here or f"{path}[{i}]"
            for key in v:
                if key not in names:
                    _warn(warnings, _key(here, key), f"unknown field, ignored (a line has the fields "
                          f"{_names(names)}){_suggest(key, names)}")
        return out if ok else None
    return line


def _list_check(decl: m.FactDecl, element_limits=()):
    """A list; `element_limits` are literal bounds on each element, checked as it is read."""
    t = decl.type
    limit, minimum, rule = decl.limit, decl.minimum, decl.rule
    total_field, total = decl.total if decl.total is not None else (None, None)
    key_field = decl.key
    lines = _line_check(t, dict(decl.field_bounds)) if t.fields else None
    element = None if t.fields else _bounded_check(_scalar_check(t.element), element_limits, rule)

    def items(v, path, errors, warnings):
        tv = type(v)
        if tv is not list and not isinstance(v, (list, tuple)):
            _bad(errors, path, Problem("F101", f"expected a list, got {_show(v)}"))
            return None
        size = len(v)
        if size > MAX_LIST_ENTRIES:  # refused before any entry is read
            _bad(errors, path, Problem("F116", f"has {size} entries; a fact's list may have at most "
                                               f"{MAX_LIST_ENTRIES}"))
            return None
        if limit is not None and size > limit:
            _bad(errors, path, Problem("F108", f"has {size} entries; at most {limit} are allowed (rule: `{rule}`)"))
        if minimum is not None and size < minimum:
            _bad(errors, path, Problem("F108", f"has {size} entries; at least {minimum} are needed (rule: `{rule}`)"))
        out = []
        ok = True
        if element is not None:
            for i, e in enumerate(v):
                r = element(e)
                if type(r) is Problem:
                    _bad(errors, f"{path}[{i}]", r)
                    r = r.value  # None unless only a bound failed
                out.append(r)
            return out  # bounds naming facts are checked once every fact is read
        seen: dict = {}  # `keyed by`: each key, and the first line that has it
        for i, e in enumerate(v):
            r = lines(e, path, i, errors, warnings)
            if r is None:
                ok = False
            elif key_field is not None:
                k = r[key_field]
                if k in seen:
                    shown = f'"{k}"' if isinstance(k, str) else x.to_string(k)
                    _bad(errors, _key(f"{path}[{i}]", key_field),
                         Problem("F120", f"repeats the {key_field} {shown} of `{path}[{seen[k]}]`; each line's "
                                         f"`{key_field}` must be unique (rule: `keyed by {key_field}`)"))
                    ok = False
                else:
                    seen[k] = i
            out.append(r)
        if total is not None and ok:
            # Exactly, whatever the caller's context: a 28-digit sum would refuse points that
            # add up to exactly 80 and accept 80.00000000000000000000000000005.
            got = x.ZERO
            for line in out:
                got = x.add(got, line[total_field])
            if x.compare(got, total) != 0:
                _bad(errors, path, Problem("F113", f"the `{total_field}` of its entries add up to "
                                                   f"{x.to_string(got)}; they must add up to "
                                                   f"{x.to_string(total)} (rule: `{rule}`)"))
        return out
    return items


# ---- the validator --------------------------------------------------------------------------

class FactValidator:
    """The validator of one evaluation's facts, built once from its declarations.

    `validate(facts)` returns (valid facts by name, warnings) or raises FactError with every
    violation, grouped by fact in declaration order.
    """

    def __init__(self, evaluation: m.EvaluationModel):
        self.evaluation = evaluation
        self.declared = tuple(d.name for d in evaluation.facts)
        self._declared_set = frozenset(self.declared)
        self._rules = {d.name: d.rule for d in evaluation.facts}
        # (name, scalar check or None, container check or None), in declaration order.
        readers = []
        # Bounds are checked after every fact is read, because they may name other facts:
        # (name, kind, limits, rule) with kind "one", "each" (list elements) or "every" (record values).
        bounded = []
        for decl in evaluation.facts:
            t = decl.type
            limits = _limits(decl.bounds) if not t.fields else ()
            # Literal bounds of a scalar or of a list's elements are checked as the value is
            # read: their violations sort to the same place as if checked last. A record's are
            # checked last (its bound violations follow all its type violations), and so are
            # bounds naming facts, which must all be read first.
            now = limits if t.kind != "record" and _literal_only(limits) else ()
            if t.kind == "list":
                readers.append((decl.name, None, _list_check(decl, now)))
            elif t.kind == "record":
                readers.append((decl.name, None, _record_check(t)))
            else:
                readers.append((decl.name, _bounded_check(_scalar_check(t), now, decl.rule), None))
            if limits and not now:
                kind = {"list": "each", "record": "every"}.get(t.kind, "one")
                bounded.append((decl.name, kind, limits, decl.rule))
        self._readers = tuple(readers)
        self._bounded = tuple(bounded)

    def validate(self, facts) -> tuple[dict, tuple]:
        tf = type(facts)
        if tf is not dict and tf is not Pairs and not isinstance(facts, Mapping):
            raise FactError([FactViolation(path="$", code="F101",
                                           message=f"expected an object of facts (`{{...}}`), got {_show(facts)}")])
        if len(facts) > MAX_KEYS:
            raise FactError([FactViolation(path="$", code="F117", message=_too_many_keys(len(facts)).message)])
        errors = Collected()
        warnings = Collected()
        if tf is not dict and getattr(facts, "duplicates", None):
            _duplicates("$", facts, errors)
        read = {}
        broken = None  # facts read with a violation; their values bound no other fact
        missing = False
        for name, scalar, container in self._readers:
            v = facts.get(name, _MISSING)
            if v is _MISSING:
                errors.append(FactViolation(path=name, code="F107",
                                            message=f"missing (evaluation `{self.evaluation.name}` declares "
                                                    f"it as `{self._rules[name]}`)"))
                missing = True
                continue
            if scalar is not None:
                r = scalar(v)
                if type(r) is Problem:
                    _bad(errors, name, r)
                    if r.value is None:
                        broken = (broken or set()) | {name}
                        continue
                    r = r.value  # only a bound failed: still valid enough to bound other facts
            else:
                before = len(errors)
                r = container(v, name, errors, warnings)
                if r is None or len(errors) > before:
                    broken = (broken or set()) | {name}
                if r is None:
                    continue
            read[name] = r
        if missing or len(facts) != len(self._readers):
            self._unknown(facts, warnings)
        if self._bounded:
            env = read if not broken else {k: v for k, v in read.items() if k not in broken}
            self._check_bounds(read, env, errors)
        if errors.total:
            raise FactError(_reported(errors, self.declared, "error"), _reported(warnings, self.declared, "warning"))
        return read, tuple(_reported(warnings, self.declared, "warning"))

    def _unknown(self, facts, warnings):
        absent = None
        for key in facts:
            if key not in self._declared_set:
                if absent is None:
                    absent = [d for d in self.declared if d not in facts]
                _warn(warnings, _key("$", key), f"unknown fact, ignored (evaluation `{self.evaluation.name}` "
                      f"does not declare it){_suggest(key, absent)}")

    def _check_bounds(self, read, env, errors):
        for name, kind, limits, rule in self._bounded:
            val = read.get(name, _MISSING)
            if val is _MISSING:
                continue
            if kind == "one":
                p = _check_limits(val, limits, env, rule)
                if p is not None:
                    _bad(errors, name, p)
            elif kind == "each":
                for i, el in enumerate(val):
                    if el is not None:
                        p = _check_limits(el, limits, env, rule)
                        if p is not None:
                            _bad(errors, f"{name}[{i}]", p)
            else:
                for key, el in val.items():
                    p = _check_limits(el, limits, env, rule)
                    if p is not None:
                        _bad(errors, f"{name}.{key}", p)

    def __call__(self, facts):
        """The validated facts, or None when they are not valid (the contract of the former
        `compile_fast`, kept until its callers move to `validate`)."""
        try:
            return self.validate(facts)[0]
        except FactError:
            return None


def compile(evaluation: m.EvaluationModel) -> FactValidator:
    """The fact validator of `evaluation`; build it once, at load time."""
    return FactValidator(evaluation)


compile_fast = compile  # the former name; callers move to `compile`


def validate(evaluation: m.EvaluationModel, facts, compiled: FactValidator | None = None) -> tuple[dict, tuple]:
    """Validated facts (name -> exact value) and warnings, or FactError with every violation.

    `compiled` is the evaluation's validator from `compile`; without it one is built for this
    call (correct, but the cost of building is paid every time).
    """
    validator = compiled if compiled is not None else FactValidator(evaluation)
    return validator.validate(facts)


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
