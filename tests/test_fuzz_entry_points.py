"""No exception but ours: every public entry point, on the fuzz corpus and on generated input,
either succeeds or raises a `KpiRulesError` whose `code` is a listed code; the command line never
says "internal error" (exit 70).

The entry points: `load_policy_text`, `load_policy`, `read_facts`, `Policy.evaluate` (plain and
explained, on every evaluation, with odd Python objects as facts), the renderers, `fmt`, and
`kpirules check | fmt | test | eval | verify` through `cli.main`. The corpus is data in
tests/fuzz/corpus/ (policies.json, facts.json, fact_texts.json: JSON so that a lone surrogate can
be kept); a crash found by a long run (`python tests/fuzz/fuzz_entry_points.py`) is added there.
The hypothesis tests run a bounded number of examples; `-m slow` runs many more.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpirules
from kpirules import fmt as kpi_fmt
from kpirules.cli import main
from kpirules.render import html as html_renderer
from kpirules.render import markdown as markdown_renderer
from kpirules.render import text as text_renderer

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
CODE = re.compile(r"^[EWFRU]\d{3}$")
SHIPPED = sorted((ROOT / "policies").glob("*.rules"))
EXAMPLES = {p.stem: ROOT / "examples" / f"{p.stem}.json" for p in SHIPPED}


class NotOurs(AssertionError):
    """An entry point raised something other than a KpiRulesError with a code, or the command
    line reported an internal error."""


@contextlib.contextmanager
def ours(what: str):
    """Fail on any exception but a KpiRulesError with a listed code."""
    try:
        yield
    except kpirules.KpiRulesError as exc:
        if not CODE.match(str(exc.code)):
            raise NotOurs(f"{what}: {type(exc).__name__} without a listed code ({exc.code!r})") from exc
        str(exc).encode("utf-8")  # its message can be written out
    except Exception as exc:  # noqa: BLE001 - the point of the test
        raise NotOurs(f"{what}: {type(exc).__name__}: {exc}"[:2000]) from exc


def cli(args: list) -> int:
    """main(args), its output captured: fails on an internal error (exit 70) or an exception."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse refusing the arguments
        code = exc.code if isinstance(exc.code, int) else 2
    except Exception as exc:  # noqa: BLE001
        raise NotOurs(f"kpirules {' '.join(map(str, args))}: {type(exc).__name__}: {exc}"[:2000]) from exc
    text = err.getvalue()
    if code == 70 or "internal error" in text:
        raise NotOurs(f"kpirules {' '.join(map(str, args))}: {text}"[:2000])
    out.getvalue().encode("utf-8")  # what a terminal or a file would receive can be written
    text.encode("utf-8")
    return code


def _write(path: Path, text: str) -> None:
    # A lone surrogate cannot be UTF-8: written as the invalid bytes a broken editor would write.
    path.write_bytes(text.encode("utf-8", "surrogatepass"))


# ---- what each entry point is given ------------------------------------------------------------

def exercise_policy_text(text: str, folder: Path | None = None):
    """Load a policy text every way there is; the Policy when it loads."""
    policy = None
    with ours("load_policy_text"):
        policy = kpirules.load_policy_text(text, "fuzz.rules")
    with ours("fmt.format_text"):
        formatted = kpi_fmt.format_text(text, "fuzz.rules")
        with ours("load_policy_text(format_text(...))"):
            kpirules.load_policy_text(formatted, "fuzz.rules")
    if folder is not None:
        path = folder / "fuzz.rules"
        _write(path, text)
        with ours("load_policy"):
            kpirules.load_policy(path)
        cli(["check", path])
        cli(["check", "--strict", path])
        cli(["fmt", "--check", path])
        if policy is not None:
            cli(["test", path])
    return policy


def exercise_facts(policy, facts, folder: Path | None = None, fact_text: str | None = None) -> None:
    """Evaluate every evaluation of `policy` on `facts`, plain and explained, and render it."""
    for evaluation in policy.evaluations:
        for explain in (False, True):
            result = None
            with ours(f"evaluate({evaluation}, explain={explain})"):
                result = policy.evaluate(facts, evaluation=evaluation, explain=explain)
            if result is None:
                continue
            with ours("to_json / renderers"):
                data = result.to_json()
                json.dumps(data, ensure_ascii=False).encode("utf-8")
                for lang in ("en", "zh"):
                    text_renderer.render(data, explain=explain, lang=lang).encode("utf-8")
                    if explain:
                        markdown_renderer.render(data, explain=True, lang=lang).encode("utf-8")
                        html_renderer.render(data, explain=True, lang=lang).encode("utf-8")
    if folder is None:
        return
    facts_path = folder / "facts.json"
    if fact_text is None:
        try:
            fact_text = json.dumps(facts, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return
    _write(facts_path, fact_text)
    policy_path = folder / "policy.rules"
    policy_path.write_text(policy._model.source.text, encoding="utf-8")
    for evaluation in policy.evaluations:
        for fmt in ("text", "markdown", "html", "json"):
            cli(["eval", policy_path, facts_path, "--evaluation", evaluation, "--format", fmt, "--explain"])
        result_path = folder / "result.json"
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["eval", str(policy_path), str(facts_path), "--evaluation", evaluation, "--format", "json"])
        if code == 0:
            result_path.write_text(out.getvalue(), encoding="utf-8")
            cli(["verify", result_path, facts_path, policy_path])
            for forged in _forged_results(out.getvalue()):
                _write(result_path, forged)
                cli(["verify", result_path, facts_path, policy_path])


def _forged_results(text: str) -> list:
    """A result file damaged the ways an attacker or a careless tool would damage it."""
    out = [text[: len(text) // 2], text.replace('"', "'", 3), "[]", "null", '{"values": 1}',
           text.replace("{", "{\"values\": {}, ", 1)]
    try:
        data = json.loads(text)
    except ValueError:
        return out
    for key in list(data):
        broken = dict(data)
        broken[key] = [broken[key]]
        out.append(json.dumps(broken))
        out.append(json.dumps({k: v for k, v in data.items() if k != key}))
    if isinstance(data.get("values"), dict):
        for name in data["values"]:
            out.append(json.dumps(dict(data, values=dict(data["values"], **{name: 7488.0}))))
            out.append(json.dumps(dict(data, values=dict(data["values"], **{name: "\ud800"}))))
    return out


def exercise_fact_text(text: str, policy=None, folder: Path | None = None) -> None:
    facts = None
    with ours("read_facts(text)"):
        facts = kpirules.read_facts(text, is_text=True)
    if folder is not None:
        path = folder / "facts.json"
        _write(path, text)
        with ours("read_facts(path)"):
            kpirules.read_facts(path)
    if policy is not None and facts is not None:
        exercise_facts(policy, facts, folder, fact_text=text)
    if policy is not None and folder is not None:
        # Batch mode: the text as the lines of a .jsonl fact file, each line's files written.
        lines = folder / "facts.jsonl"
        _write(lines, text + "\n" + text.replace("\n", " ") + "\n")
        policy_path = folder / "batch.rules"
        policy_path.write_text(policy._model.source.text, encoding="utf-8")
        evaluation = policy.evaluations[0]
        cli(["eval", policy_path, lines, "--evaluation", evaluation, "--out", folder / "out"])


# ---- the corpus --------------------------------------------------------------------------------

def _corpus(name: str) -> list:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


POLICIES = _corpus("policies.json")
FACTS = _corpus("facts.json")
FACT_TEXTS = _corpus("fact_texts.json")


@pytest.fixture(scope="module")
def shipped():
    return {p.stem: kpirules.load_policy(p) for p in SHIPPED}


@pytest.mark.parametrize("case", POLICIES, ids=[c["name"] for c in POLICIES])
def test_corpus_policy(case, tmp_path):
    policy = exercise_policy_text(case["text"], tmp_path)
    for facts in case.get("facts", ()):
        assert policy is not None, f"{case['name']}: the policy does not load"
        exercise_facts(policy, facts, tmp_path)


@pytest.mark.parametrize("case", FACTS, ids=[c["name"] for c in FACTS])
def test_corpus_facts_on_every_shipped_policy(case, shipped, tmp_path):
    for name, policy in shipped.items():
        facts = case["facts"]
        if case.get("merge") and name in EXAMPLES and EXAMPLES[name].exists():
            base = json.loads(EXAMPLES[name].read_text(encoding="utf-8"))
            facts = {**base, **facts} if isinstance(facts, dict) else facts
        exercise_facts(policy, facts, tmp_path if case.get("cli") else None)


@pytest.mark.parametrize("case", FACT_TEXTS, ids=[c["name"] for c in FACT_TEXTS])
def test_corpus_fact_text(case, shipped, tmp_path):
    exercise_fact_text(case["text"], shipped.get(case.get("policy", "")), tmp_path)


# Python objects no JSON file holds, given to Policy.evaluate.
class _Str(str):
    def __str__(self):
        return "not me"


class _Weird:
    def __eq__(self, other):
        raise RuntimeError("compared")

    __hash__ = object.__hash__


def _deep(n: int):
    out: list = []
    for _ in range(n):
        out = [out]
    return out


ODD_VALUES = [None, True, 0, -1, 2**4000, 10**5000, -(2**200), 1.5, math.nan, math.inf, -math.inf, Decimal("NaN"),
              Decimal("sNaN"), Decimal("-Infinity"), Decimal("1e999999"), Decimal("1e-999999"), Fraction(1, 3), 1j,
              b"bytes", bytearray(b"x"), "\ud800", "x" * 20000, _Str("senior"), [], {}, set(), frozenset({1}), (1, 2),
              date(2026, 1, 1), datetime(2026, 1, 1, 12), object(), _Weird(), _deep(50_000), {1: 2, None: 3, (1,): 4},
              {"\ud800": 1}, range(10), iter([1]), type, print]


def test_odd_python_values_in_every_fact_of_every_shipped_policy(shipped):
    for name, policy in shipped.items():
        base = json.loads(EXAMPLES[name].read_text(encoding="utf-8")) if EXAMPLES[name].exists() else {}
        for evaluation in policy.evaluations:
            declared = [f[0] for f in policy.facts_of(evaluation)]
            for fact in declared:
                for value in ODD_VALUES:
                    with ours(f"{name}.{evaluation}: `{fact}` = {type(value).__name__}"):
                        policy.evaluate(dict(base, **{fact: value}), evaluation=evaluation)
            for facts in ODD_VALUES:
                with ours(f"{name}.{evaluation}: facts = {type(facts).__name__}"):
                    policy.evaluate(facts, evaluation=evaluation)
        for as_of in ("2026-02-30", "x", 5, None, date.max, "9999-12-31", "\ud800"):
            with ours(f"{name}: as_of={as_of!r}"):
                policy.evaluate(base, as_of=as_of)  # type: ignore[arg-type]
        with ours(f"{name}: evaluation=None/odd"):
            policy.evaluate(base, evaluation="\ud800")


def test_every_error_has_a_code():
    """The errors' codes are what the corpus tests check."""
    with pytest.raises(kpirules.PolicyError) as p:
        kpirules.load_policy_text("policy\n", "x.rules")
    assert CODE.match(p.value.code)
    with pytest.raises(kpirules.FactError) as f:
        kpirules.read_facts("{", is_text=True)
    assert f.value.code == "F001"
    with pytest.raises(kpirules.UsageError) as u:
        kpirules.load_policy(SHIPPED[0]).evaluate({}, evaluation="no such")
    assert u.value.code == "U001"
    from kpirules.parser import ParseFailure
    assert issubclass(ParseFailure, kpirules.PolicyError)


# ---- generated input ---------------------------------------------------------------------------

_HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\ud800", "\udfff", "a\ud83d", "\x00", "\x1b[2J", "\r\n# x", "\u202e", "1e999999", "NaN",
                     "-0", "0.0000000000000000000000000000000000000000001", "2026-02-30", "2026-Q5", "９",
                     "x" * 10_001, "senior", "done", "true"]),
)
_JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**50), max_value=10**50),
              st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=True, allow_infinity=True),
              _HOSTILE_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_HOSTILE_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _mutated_facts(policy_name: str):
    """A shipped example's facts with some values (or keys) replaced by generated ones."""
    base = json.loads(EXAMPLES[policy_name].read_text(encoding="utf-8")) if EXAMPLES[policy_name].exists() else {}

    def mutate(draws):
        facts = json.loads(json.dumps(base))
        for key, value, drop in draws:
            target = facts
            keys = list(target) if isinstance(target, dict) else []
            if keys and isinstance(key, int):
                k = keys[key % len(keys)]
                if drop:
                    del target[k]
                else:
                    target[k] = value
            elif isinstance(key, str):
                target[key] = value
        return facts
    return st.lists(st.tuples(st.one_of(st.integers(0, 50), _HOSTILE_TEXT), _JSONISH, st.booleans()),
                    min_size=1, max_size=3).map(mutate)


_MUTATED = st.sampled_from([p.stem for p in SHIPPED]).flatmap(lambda n: st.tuples(st.just(n), _mutated_facts(n)))


def _slow(request) -> bool:
    return "slow" in (request.config.getoption("-m") or "")


FEW, MANY = 40, 2000


def _run(test, examples):
    settings(max_examples=examples, deadline=None, database=None,
             suppress_health_check=list(HealthCheck))(test)()


def _facts_property(shipped):
    @given(_MUTATED)
    def prop(drawn):
        name, facts = drawn
        exercise_facts(shipped[name], facts)
    return prop


def _policy_property():
    import test_robustness

    @given(st.one_of(test_robustness.TEXTS, test_robustness.PROGRAMS, test_robustness.MUTANTS.map(lambda m: m[1])))
    def prop(text):
        policy = exercise_policy_text(text)
        if policy is not None:
            for evaluation in policy.evaluations:
                exercise_facts(policy, {}, None) if evaluation else None
    return prop


def _fact_text_property():
    @given(st.one_of(_JSONISH.map(lambda v: json.dumps(v, default=str)), st.text(max_size=80),
                     st.binary(max_size=60).map(lambda b: b.decode("utf-8", "surrogateescape"))))
    def prop(text):
        exercise_fact_text(text)
    return prop


def test_fuzz_evaluate_with_mutated_facts(shipped):
    _run(_facts_property(shipped), FEW)


def test_fuzz_policy_texts():
    _run(_policy_property(), FEW)


def test_fuzz_fact_texts():
    _run(_fact_text_property(), FEW)


@pytest.mark.slow
def test_fuzz_long(shipped, request):
    if not _slow(request):
        pytest.skip("slow profile: run with -m slow")
    _run(_facts_property(shipped), MANY)
    _run(_policy_property(), MANY)
    _run(_fact_text_property(), MANY)
