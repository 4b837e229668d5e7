"""Result stage: a JSON result read strictly, before `kpirules verify` compares anything.

kpirules writes results of one exact shape; a file that could be read two ways is refused, with
every problem at once, each with a code and the path of the field (as fact paths are written:
`values.quarterly_bonus`, `stamp`, `$` for the whole file):

- V101 a key twice in one object (JSON readers differ on which one they keep);
- V102 a field kpirules never writes: at the top, in `policy`, `stamp`, `stamp.signature`,
  `evaluation_version` or a warning (the trace is compared field by field with the re-evaluation);
- V103 a JSON number where kpirules writes a decimal string (`7488.00` for `"7488.00"`): every
  number of a result is a string, but for the line and column counts and indexes of the trace;
- V104 a stamp that says the result carries its trace (`"explained": true`) and no trace, or a
  trace that the stamp says is not there;
- V105 a field of another kind than kpirules writes there (`"policy": [...]`, a stamp field that is
  not a text, `"explained": "yes"`, a signature that is not an object of texts);
- V106 a text that is not Unicode text: a lone surrogate (`"\\ud800"`), which no UTF-8 file can hold.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

TOP_FIELDS = ("policy", "evaluation", "values", "as_of", "evaluation_version", "warnings", "stamp", "trace")
POLICY_FIELDS = ("name", "version", "sha256")
STAMP_FIELDS = ("schema", "trace_schema", "engine", "policy_sha256", "facts_sha256", "explained", "as_of",
                "signature")
SIGNATURE_FIELDS = ("algorithm", "key_id", "value")
VERSION_FIELDS = ("from", "until")
WARNING_FIELDS = ("code", "severity", "path", "message")
# The only numbers of a result: a trace's source positions, item counts and list indexes.
TRACE_INTEGERS = frozenset({"line", "column", "end_line", "end_column", "items", "index"})


@attrs.frozen
class Problem:
    code: str
    path: str
    message: str

    def render(self, file: str) -> str:
        return visible(f"{file}: error[{self.code}]: `{self.path}`: {self.message}")


# Characters a forged result could use to rewrite the auditor's terminal or reorder what a line
# says: C0 and C1 controls (escape sequences, carriage return), line and paragraph separators,
# zero-width characters and bidirectional overrides.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064"
                        "\u2066-\u2069\ufeff]")


def visible(text: str) -> str:
    """`text` with every control, separator, invisible and bidi character written as `<U+XXXX>`."""
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


class _Number:
    """A JSON number as written, kept apart from texts until it is known where it stands."""

    def __init__(self, text: str):
        self.text = text


class _Object(dict):
    duplicates: tuple[str, ...] = ()


def _object(pairs):
    out = _Object()
    dups = []
    for k, v in pairs:
        if k in out and k not in dups:
            dups.append(k)
        out[k] = v
    if dups:
        out.duplicates = tuple(dups)
    return out


def loads(text: str) -> Any:
    """JSON with numbers as `_Number` and objects that remember their duplicated keys
    (json.JSONDecodeError for text that is not JSON)."""
    return json.loads(text, object_pairs_hook=_object, parse_float=_Number, parse_int=_Number,
                      parse_constant=_Number)


def check(data: Any) -> tuple[Any, list[Problem]]:
    """(the result as plain JSON values, its problems). The trace's integers become ints."""
    problems: list[Problem] = []
    plain = _walk(data, "$", (), problems)
    if isinstance(plain, dict):
        _kinds(plain, problems)
        _fields(plain, "$", TOP_FIELDS, problems)
        for key, allowed in (("policy", POLICY_FIELDS), ("stamp", STAMP_FIELDS),
                             ("evaluation_version", VERSION_FIELDS)):
            if isinstance(plain.get(key), dict):
                _fields(plain[key], key, allowed, problems)
        stamp = plain.get("stamp")
        if isinstance(stamp, dict) and isinstance(stamp.get("signature"), dict):
            _fields(stamp["signature"], "stamp.signature", SIGNATURE_FIELDS, problems)
        if isinstance(plain.get("warnings"), list):
            for i, w in enumerate(plain["warnings"]):
                if isinstance(w, dict):
                    _fields(w, f"warnings[{i}]", WARNING_FIELDS, problems)
        if isinstance(stamp, dict) and "explained" in stamp:
            said, has = stamp["explained"], "trace" in plain
            if said is True and not has:
                problems.append(Problem("V104", "trace", "the stamp says the result carries its trace "
                                        "(`\"explained\": true`), and the result has none: it was removed"))
            elif said is False and has:
                problems.append(Problem("V104", "trace", "the stamp says the result carries no trace "
                                        "(`\"explained\": false`), and the result has one: it was added"))
    problems.sort(key=lambda p: (p.code, p.path))
    return plain, problems


def _walk(v: Any, path: str, trail: tuple, problems: list[Problem]) -> Any:
    if isinstance(v, _Number):
        key = trail[-1] if trail else None
        if trail and trail[0] == "trace" and key in TRACE_INTEGERS and v.text.isdigit():
            return int(v.text)
        problems.append(Problem("V103", path, f"the number {v.text[:40]} is written where kpirules writes a "
                                "decimal string (`\"" + v.text[:40] + "\"`); a result's numbers are texts, so that "
                                "none is rounded by a JSON reader"))
        return v.text
    if isinstance(v, str) and _surrogate(v):
        problems.append(Problem("V106", path, "holds a lone surrogate (an escape such as `\\ud800`), which is not "
                                "Unicode text; kpirules never writes one"))
        return v.encode("utf-8", "replace").decode("utf-8")
    if isinstance(v, dict):
        for k in list(v):
            if _surrogate(k):
                problems.append(Problem("V106", path, "has a key with a lone surrogate (an escape such as "
                                        "`\\ud800`), which is not Unicode text; kpirules never writes one"))
                v = _Object({(kk.encode("utf-8", "replace").decode("utf-8") if _surrogate(kk) else kk): vv
                             for kk, vv in v.items()})
                break
        for k in getattr(v, "duplicates", ()):
            problems.append(Problem("V101", _join(path, k), f"the key `{k}` appears twice in the same object; "
                                    "a reader may take either value, so the result is ambiguous"))
        return {k: _walk(val, _join(path, k), (*trail, k), problems) for k, val in v.items()}
    if isinstance(v, list):
        return [_walk(item, f"{path}[{i}]", trail, problems) for i, item in enumerate(v)]
    return v


def _surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_TEXT, _BOOL, _OBJECT, _LIST = "a text", "`true` or `false`", "an object", "a list"
_KINDS = {_TEXT: str, _BOOL: bool, _OBJECT: dict, _LIST: list}
# What kpirules writes at each place (checked when the place is present; the trace is compared
# with the re-evaluation instead).
_SHAPE = {
    "policy": _OBJECT, "evaluation": _TEXT, "values": _OBJECT, "as_of": _TEXT, "evaluation_version": _OBJECT,
    "warnings": _LIST, "stamp": _OBJECT, "trace": _OBJECT,
    "stamp.schema": _TEXT, "stamp.trace_schema": _TEXT, "stamp.engine": _TEXT, "stamp.policy_sha256": _TEXT,
    "stamp.facts_sha256": _TEXT, "stamp.explained": _BOOL, "stamp.as_of": _TEXT, "stamp.signature": _OBJECT,
    "stamp.signature.algorithm": _TEXT, "stamp.signature.key_id": _TEXT, "stamp.signature.value": _TEXT,
    "policy.name": _TEXT, "policy.sha256": _TEXT,
}


def _kinds(result: dict, problems: list[Problem]) -> None:
    for path, kind in _SHAPE.items():
        parent: Any = result
        *heads, last = path.split(".")
        for head in heads:
            parent = parent.get(head) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or last not in parent:
            continue
        v = parent[last]
        if not isinstance(v, _KINDS[kind]) or (kind == _TEXT and isinstance(v, bool)):
            problems.append(Problem("V105", path, f"must be {kind}, as kpirules writes it; got {_show(v)}"))
    version = result.get("policy", {}).get("version") if isinstance(result.get("policy"), dict) else None
    if version is not None and not isinstance(version, str):
        problems.append(Problem("V105", "policy.version", f"must be a text or null; got {_show(version)}"))
    ev = result.get("evaluation_version")
    if isinstance(ev, dict):
        for key in VERSION_FIELDS:
            if key in ev and not (isinstance(ev[key], str) or (key == "until" and ev[key] is None)):
                problems.append(Problem("V105", f"evaluation_version.{key}", f"must be a date written YYYY-MM-DD"
                                        f"{' or null' if key == 'until' else ''}; got {_show(ev[key])}"))
    warnings = result.get("warnings")
    if isinstance(warnings, list):
        for i, w in enumerate(warnings):
            if not isinstance(w, dict) or not all(isinstance(w.get(k), str) for k in WARNING_FIELDS):
                problems.append(Problem("V105", f"warnings[{i}]", "must be an object of texts (code, severity, "
                                        f"path, message); got {_show(w)}"))


def _fields(obj: dict, path: str, allowed: tuple[str, ...], problems: list[Problem]) -> None:
    for k in obj:
        if k not in allowed:
            problems.append(Problem("V102", _join(path, k), f"kpirules never writes a field `{k}` here (it writes: "
                                    + ", ".join(allowed) + "); an added field is not part of what was computed"))


def _join(path: str, key: str) -> str:
    return key if path == "$" else f"{path}.{key}"


def _show(v: Any) -> str:
    return f"`{json.dumps(v, ensure_ascii=False)[:40]}`" if not isinstance(v, _Number) else f"`{v.text[:40]}`"
