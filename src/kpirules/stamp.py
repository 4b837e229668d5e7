"""Result stage: the reproducibility stamp of a JSON result, and the canonical form of a fact set.

A stamp says what produced a result, so that anyone holding the same policy and facts can
re-evaluate and compare (`kpirules verify`):

    "stamp": {"schema": "kpirules.result/1", "trace_schema": "kpirules.trace/1",
              "engine": "0.1.0", "policy_sha256": "...", "facts_sha256": "...", "explained": false}

`explained` says whether the result carries its trace, so that a removed trace is noticed; a
stamp may also carry a `signature` (signing.py) saying who made the result.

No timestamp, no host, no path: the same policy and facts give the same stamp, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from decimal import Decimal
from fractions import Fraction

from . import exact as x
from .trace import SCHEMA as TRACE_SCHEMA

RESULT_SCHEMA = "kpirules.result/1"
# Numbers past this many digits before (or zeros after) the point are no valid fact (facts.py
# refuses them); their hash uses Decimal's short exponent form instead of a million digits.
_PLAIN_DIGITS = 100


def canonical_facts(facts) -> bytes:
    """The fact set as canonical JSON (UTF-8 bytes): what `facts_sha256` hashes.

    - objects with their keys sorted (by code point), at every depth;
    - every number as a JSON *string* of its exact decimal digits, as read: `36000.00` stays
      `"36000.00"` (not `"36000"`), `1e3` becomes `"1000"`, `-0` becomes `"0"`; so a number
      written as a decimal string (`"36000.00"`, which the engine reads as the same number)
      hashes the same as the bare number (a number no fact can hold, such as `1e400`, is
      written in exponent form, `"1E+400"`);
    - texts, booleans, null and lists as they are; non-ASCII characters as themselves;
    - no whitespace at all (`,` and `:` as separators), no trailing newline.

    The facts are hashed as read (`read_facts`), before validation: unknown facts count too.
    """
    return json.dumps(_canonical(facts), ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def _canonical(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, Decimal):
        if not v.is_finite() or abs(v.adjusted()) > _PLAIN_DIGITS:
            return str(v)  # never a valid fact: kept short rather than spelled out in full
        return x.to_string(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Fraction):
        return f"{v.numerator}/{v.denominator}" if v.denominator != 1 else str(v.numerator)
    if isinstance(v, dict):
        return {str(k): _canonical(val) for k, val in v.items()}
    if isinstance(v, (list, tuple)):
        return [_canonical(i) for i in v]
    if isinstance(v, float):  # never from read_facts; an API caller's float is shown as written
        return repr(v)
    return getattr(v, "text", None) or str(v)  # e.g. an unrepresentable number: its text


def facts_sha256(facts) -> str:
    """The sha256 (hex) of `canonical_facts(facts)`."""
    return hashlib.sha256(canonical_facts(facts)).hexdigest()


def make(policy: dict, facts, as_of: date | None = None, explained: bool | None = None) -> dict:
    """The stamp of a result of `policy` (Result.policy: name, version, sha256) on `facts` as read,
    whether the result carries its trace (`explained`; when None, `Result.to_json` says so from the
    result it writes), and the date it was made as of when one was given (it decides effective-dated
    versions)."""
    from . import __version__
    out = {
        "schema": RESULT_SCHEMA,
        "trace_schema": TRACE_SCHEMA,
        "engine": __version__,
        "policy_sha256": policy["sha256"],
        "facts_sha256": facts_sha256(facts),
    }
    if explained is not None:
        out["explained"] = explained
    if as_of is not None:
        out["as_of"] = as_of.isoformat()
    return out


# ---- verification: a result against a fresh evaluation ----------------------------------------

# At most this many differences inside the trace are listed (a changed value changes many nodes).
MAX_TRACE_DIFFERENCES = 20


def compare(claimed: dict, fresh: dict) -> tuple[list, list, int]:
    """(problems, notes, values compared): `claimed` (a JSON result as read) against `fresh`.

    `fresh` is the JSON result of re-evaluating the same evaluation on the facts and policy
    given to `kpirules verify`, with its own stamp. Problems are lines `what: result says X,
    re-evaluation gives Y`; notes (a different engine version) do not fail verification.
    Every warning the result lists must be one the re-evaluation gives (a forged warning is a
    difference; one more warning in the re-evaluation is not, as a batch line's id field draws one).
    """
    problems: list = []
    notes: list = []
    _stamp(claimed.get("stamp"), fresh["stamp"], problems, notes)
    claimed_stamp = claimed.get("stamp")
    said_stamp = claimed_stamp if isinstance(claimed_stamp, dict) else {}
    for key in ("name", "version", "sha256"):
        said_policy = claimed.get("policy")
        said = said_policy.get(key) if isinstance(said_policy, dict) else None
        got = fresh["policy"].get(key)
        if key == "sha256" and said == said_stamp.get("policy_sha256") and said != got:
            continue  # the same difference as the stamp's, said once
        if said != got:
            problems.append(f"policy.{key}: result says {show(said)}, re-evaluation gives {show(got)}")
    for key in ("as_of", "evaluation_version"):  # the date of the result, and the version it ran
        said, got = claimed.get(key, _ABSENT), fresh.get(key, _ABSENT)
        if said != got:
            problems.append(f"{key}: result says {show(said)}, re-evaluation gives {show(got)}")
    values = claimed.get("values")
    said_values: dict = values if isinstance(values, dict) else {}
    names = list(fresh["values"]) + [k for k in said_values if k not in fresh["values"]]
    for name in names:
        said, got = said_values.get(name, _ABSENT), fresh["values"].get(name, _ABSENT)
        if said != got:
            problems.append(f"{name}: result says {show(said)}, re-evaluation gives {show(got)}")
    said_warnings = claimed.get("warnings", [])
    for i, w in enumerate(said_warnings if isinstance(said_warnings, list) else [said_warnings]):
        if w not in fresh.get("warnings", []):  # a batch line's id field may draw a warning re-evaluated
            problems.append(f"warnings[{i}]: result says {show(w)}, re-evaluation gives no such warning")
    if "trace" in claimed:
        found: list = []
        _diff(claimed["trace"], fresh.get("trace"), "", "trace", found)
        problems.extend(found[:MAX_TRACE_DIFFERENCES])
        if len(found) > MAX_TRACE_DIFFERENCES:
            problems.append(f"trace: {len(found) - MAX_TRACE_DIFFERENCES} more differences not shown")
    return problems, notes, len(names)


# Never written out as they are: controls, bidi overrides, separators, lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


class _Absent:
    def __repr__(self) -> str:
        return "nothing"


_ABSENT = _Absent()


def show(v) -> str:
    """A JSON value in a one-line message: decimal strings and texts as they are."""
    if v is _ABSENT or v is None:
        return "nothing"
    if isinstance(v, bool):
        return "true" if v else "false"
    from .audit import visible  # a forged text cannot write escape sequences to the terminal
    if isinstance(v, str):
        return visible(v) if v else '""'
    try:
        text = visible(json.dumps(v, ensure_ascii=False, sort_keys=True))
    except (TypeError, ValueError, RecursionError):  # keys of mixed types, or nesting too deep
        text = repr(type(v).__name__)
    return text if len(text) <= 80 else text[:77] + "..."


def _stamp(said, got: dict, problems: list, notes: list) -> None:
    if not isinstance(said, dict):
        problems.append("stamp: the result has no stamp, so the policy and facts it was made from cannot "
                        "be checked (write results with `kpirules eval --format json`)")
        return
    labels = {"policy_sha256": "policy sha256", "facts_sha256": "facts sha256", "schema": "result schema",
              "trace_schema": "trace schema", "explained": "explained"}
    if "as_of" in said or "as_of" in got:
        labels["as_of"] = "as-of date"
    for key in ("policy_sha256", "facts_sha256", "schema", "trace_schema", "explained",
                *(("as_of",) if "as_of" in labels else ())):
        if said.get(key, _ABSENT) != got.get(key, _ABSENT):
            problems.append(f"stamp {labels[key]}: result says {show(said.get(key, _ABSENT))}, "
                            f"re-evaluation gives {show(got.get(key, _ABSENT))}")
    if said.get("engine") != got["engine"]:
        notes.append(f"stamp engine: result says kpirules {show(said.get('engine', _ABSENT))}, re-evaluation "
                     f"uses kpirules {got['engine']}; the values are compared all the same")
    for key in sorted(set(said) - set(got) - {"as_of", "signature"}):
        problems.append(f"stamp {key}: result says {show(said[key])}, re-evaluation gives nothing")


def _diff(said, got, node: str, path: str, out: list) -> None:
    """Every difference between two trace documents, as `trace NODE FIELD: result says X, ...`."""
    if isinstance(said, dict) and isinstance(said.get("id"), str) and "kind" in said:
        node, path = said["id"], ""
    if isinstance(said, dict) and isinstance(got, dict):
        if _is_span(said) and _is_span(got):
            # The file is shown as the policy was named on the command line; where verify runs
            # may spell it differently, and the policy's sha256 already covers its text.
            said = {**said, "file": _file_name(said["file"])}
            got = {**got, "file": _file_name(got["file"])}
        for key in list(said) + [k for k in got if k not in said]:
            _diff(said.get(key, _ABSENT), got.get(key, _ABSENT), node, f"{path}.{key}" if path else key, out)
        return
    if isinstance(said, list) and isinstance(got, list) and len(said) == len(got):
        for i, (a, b) in enumerate(zip(said, got, strict=True)):
            _diff(a, b, node, f"{path}[{i}]", out)
        return
    if said != got or type(said) is not type(got):
        where = f"trace {node} {path}".rstrip() if node else f"trace {path}".rstrip()
        out.append(f"{where}: result says {show(said)}, re-evaluation gives {show(got)}")


def _is_span(d: dict) -> bool:
    return set(d) == {"file", "line", "column", "end_line", "end_column"}


def _file_name(path):
    return path.replace("\\", "/").rsplit("/", 1)[-1] if isinstance(path, str) else path
