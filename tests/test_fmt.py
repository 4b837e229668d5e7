"""`kpirules fmt`: golden pairs, the round trip on every shipped policy and on generated ones
(`parse(fmt(p))` is `parse(p)`, `fmt(fmt(p))` is `fmt(p)`, every comment kept in order), and the
command's exit codes."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kpirules import nodes as n
from kpirules.cli import main
from kpirules.fmt import format_policy, format_text
from kpirules.parser import ParseFailure, comments, parse_text
from kpirules.source import SourceFile, Span

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_FMT = ROOT / "tests" / "golden" / "fmt"
CASES = sorted(p.name[:-len(".input.rules")] for p in GOLDEN_FMT.glob("*.input.rules"))
SHIPPED = sorted([*ROOT.glob("policies/*.rules"), *ROOT.glob("ruleset/*.rules")])


def tree(x):
    """A node tree with its spans left out, for comparison.

    Node equality already ignores the `span` fields, but `Example.expect` and `Example.errors`
    entries and `Blend.parts` keep a Span inside a plain tuple, which `==` does compare; this
    compares everything else exactly (a Decimal with a Decimal, a bool with a bool)."""
    if isinstance(x, Span):
        return None
    if attrs.has(type(x)):
        return (type(x).__name__,) + tuple((f.name, tree(getattr(x, f.name)))
                                           for f in attrs.fields(type(x)) if f.eq)
    if isinstance(x, (tuple, list)):
        return (type(x).__name__,) + tuple(tree(v) for v in x)
    if isinstance(x, dict):
        return ("dict",) + tuple((k, tree(v)) for k, v in x.items())
    return (type(x).__name__, x)


def comment_texts(text: str) -> list:
    return [c.text for c in comments(text)]


def round_trip(text: str) -> str:
    """Format `text` and check the three properties; returns the formatted text."""
    out = format_text(text)
    assert tree(parse_text(out)) == tree(parse_text(text))
    assert format_text(out) == out, "not idempotent"
    assert comment_texts(out) == comment_texts(text)
    return out


# ---- golden pairs -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_golden_pair(case, golden):
    text = (GOLDEN_FMT / f"{case}.input.rules").read_text(encoding="utf-8")
    golden(f"fmt/{case}.formatted.rules", round_trip(text))


def _node_types(x, seen):
    if attrs.has(type(x)):
        seen.add(type(x))
        for f in attrs.fields(type(x)):
            _node_types(getattr(x, f.name), seen)
    elif isinstance(x, (tuple, list)):
        for v in x:
            _node_types(v, seen)
    return seen


def test_golden_inputs_cover_every_node_type():
    seen = set()
    for case in CASES:
        _node_types(parse_text((GOLDEN_FMT / f"{case}.input.rules").read_text(encoding="utf-8")), seen)
    every = {c for c in vars(n).values() if isinstance(c, type) and attrs.has(c) and c.__module__ == n.__name__}
    assert sorted(c.__name__ for c in every - seen) == []


# ---- shipped policies and modules -------------------------------------------------------------

@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_round_trip(path):
    text = path.read_text(encoding="utf-8")
    out = round_trip(text)
    assert len(comment_texts(out)) == len(comment_texts(text)) > 0


def test_shipped_files_are_formatted(capsys):
    assert main(["fmt", "--check", str(ROOT / "policies"), str(ROOT / "ruleset")]) == 0
    assert capsys.readouterr().out == ""


def test_docs_policies_round_trip():
    """Every complete policy in docs/language.md that parses formats with the same properties."""
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    done = 0
    for block in re.findall(r"```rules\n(.*?)```", doc, re.S):
        try:
            parse_text(block)
        except ParseFailure:
            continue  # a fragment, loaded inside a policy by tests/test_docs.py
        round_trip(block)
        done += 1
    assert done >= 5


# ---- the layout, case by case -----------------------------------------------------------------

def value_of(expr: str) -> str:
    out = format_text(f"policy p\nevaluation e:\n    output x = {expr}\n")
    return out.split("output x = ", 1)[1].rstrip("\n")


@pytest.mark.parametrize("written, formatted", [
    ("(a + b) + c", "a + b + c"),
    ("a + (b + c)", "a + (b + c)"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a * b) + c", "a * b + c"),
    ("a * (b + c)", "a * (b + c)"),
    ("a / (b * c)", "a / (b * c)"),
    ("a×b÷c", "a * b / c"),
    ("-(a)", "-a"),
    ("-(-a)", "- -a"),
    ("-(a + b)", "-(a + b)"),
    ("(-a)[b]", "(-a)[b]"),
    ("not (a and b)", "not (a and b)"),
    ("(not a) and b", "not a and b"),
    ("not (a > b)", "not a > b"),
    ("(not a) > b", "(not a) > b"),
    ("(a or b) and c", "(a or b) and c"),
    # `and` inside `or` keeps (or gains) its parentheses: how a tie rule is read (issue 10).
    ("a or (b and c)", "a or (b and c)"),
    ("a or b and c", "a or (b and c)"),
    ("a and b or c", "(a and b) or c"),
    ("(a > b) == (c > d)", "(a > b) == (c > d)"),
    ("if a then b else (if c then d else e)", "if a then b else if c then d else e"),
    ("if (if a then b else c) then d else e", "if (if a then b else c) then d else e"),
    ("(if a then b else c) + 1", "(if a then b else c) + 1"),
    ("f( a,b )", "f(a, b)"),
    ("t[(k)]", "t[k]"),
    ("(r).k", "r.k"),
    ("blend(a 20%,(b+c) 0.8)", "blend(a 20%, (b + c) 0.8)"),
    ("10万 + 800元 + 85% + 0.50 + 007", "10万 + 800元 + 85% + 0.50 + 007"),
    ('"a # b \\" \\\\"', '"a # b \\" \\\\"'),
])
def test_expression_layout(written, formatted):
    assert value_of(written) == formatted


def test_clauses_go_under_their_definition_and_rows_one_per_line():
    out = format_text("policy p\ntable t (k) -> number: 1 -> 2; 3 -> 4\nlet x = 1, floor 0, cap 2\n")
    assert out == ("policy p\n\ntable t (k) -> number:\n    1 -> 2\n    3 -> 4\n\n"
                   "let x = 1\n    floor 0\n    cap 2\n")


def test_blank_lines_between_blocks_and_sections():
    text = ("policy p\nimport a\nimport b\ntable t (k) -> number:\n    1 -> 2\nevaluation e:\n"
            "    fact f: number\n    let x = f\n    scorecard s:\n        item i weight 1:\n            plus 1\n"
            "    output y = s\nexample \"e\":\n    expect y = 1\n")
    assert format_text(text) == (
        "policy p\n\nimport a\nimport b\n\ntable t (k) -> number:\n    1 -> 2\n\nevaluation e:\n"
        "    fact f: number\n\n    let x = f\n\n    scorecard s:\n        item i weight 1:\n            plus 1\n\n"
        "    output y = s\n\nexample \"e\":\n    expect y = 1\n")


def test_comments_stay_in_place():
    text = ("# head\npolicy p   # on the header\n\n# before e\nevaluation e:\n    fact f: number    # f\n"
            "    let x = f\n        # under x\n    # before y\n    let y = (f   # inside\n        + x)\n# the end\n")
    assert round_trip(text) == (
        "# head\npolicy p  # on the header\n\n# before e\nevaluation e:\n    fact f: number  # f\n\n"
        "    let x = f\n        # under x\n    # before y\n    let y = f + x  # inside\n# the end\n")


def test_trailing_comments_of_consecutive_lines_share_a_column():
    out = round_trip("policy p\ntable t (k) -> money:\n    senior -> 200万 # a\n    assistant -> 160万       # b\n")
    assert out.splitlines()[-2:] == ["    senior -> 200万     # a", "    assistant -> 160万  # b"]


def test_example_values_keep_their_spelling():
    text = ("policy p\nevaluation e:\n    fact n: number\n    output x = n\nexample \"e\":\n"
            "    given n = 10万\n    expect x = 100000.00\n    given n=[ 85% ,{a:\"t\", b: -0.50} ]\n")
    assert round_trip(text).endswith(
        "example \"e\":\n    given n = 10万\n    expect x = 100000.00\n    given n = [85%, {a: \"t\", b: -0.50}]\n")


def test_comment_scanner_skips_quoted_text():
    found = comments('policy p "a # b"  # c\n# d\nlet x = "\\" #"\n')
    assert [(c.text, c.own_line) for c in found] == [("# c", False), ("# d", True)]


# ---- generated policies (hypothesis) -----------------------------------------------------------

SP = Span(source=SourceFile(path="<generated>", text=""), start=0, end=0)
NAMES = st.sampled_from(["a", "b", "rate", "收入", "x_1", "_y", "完成率"])
LABELS = st.none() | st.text(alphabet="ab 季度#\"\\\t\n%", max_size=5)
TEXTS = st.text(alphabet="ab 季度#\"\\\t\n%", max_size=5)
DECIMALS = st.decimals(min_value=0, max_value=100000, places=2).map(lambda d: Decimal(format(d, "f")))
COUNTS = st.integers(min_value=0, max_value=20)
SCALARS = st.sampled_from(["integer", "count", "number", "money", "percent", "boolean", "text"])


def build(cls, **fields):
    """Nodes of `cls` from strategies for its fields; every span field gets the empty span."""
    spans = {f.name: SP for f in attrs.fields(cls) if not f.eq and f.default is attrs.NOTHING}

    def make(**kw):
        return cls(**spans, **kw)
    make.__name__ = cls.__name__  # a short repr for hypothesis
    return st.builds(make, **fields)


def tuples(strategy, min_size=0, max_size=3):
    return st.lists(strategy, min_size=min_size, max_size=max_size).map(tuple)


LEAVES = st.one_of(
    build(n.Number, value=DECIMALS, unit=st.just("number")),
    build(n.Number, value=DECIMALS.map(lambda d: d / 100), unit=st.just("percent")),
    build(n.Number, value=DECIMALS, unit=st.just("money")),
    build(n.Text, value=TEXTS),
    build(n.Bool, value=st.booleans()),
    build(n.Name, name=NAMES),
    build(n.ItemRef),
)


def _compound(children):
    return st.one_of(
        build(n.Binary, op=st.sampled_from(["+", "-", "*", "/", "and", "or"]), left=children, right=children),
        build(n.Unary, op=st.sampled_from(["neg", "not"]), operand=children),
        build(n.Compare, op=st.sampled_from([">=", "<=", "==", "!=", ">", "<"]), left=children, right=children),
        build(n.Conditional, condition=children, then=children, otherwise=children),
        build(n.Index, target=children, key=children),
        build(n.Field, target=children, name=NAMES),
        build(n.Call, function=st.sampled_from(["max", "min", "f"]), args=tuples(children)),
        build(n.Call, function=st.sampled_from(["sum", "count"]), args=tuples(children, 1, 1)),
        build(n.Blend, parts=tuples(st.tuples(children, DECIMALS.map(lambda d: d / 100), st.just(SP)), 1, 3)),
    )


EXPRS = st.recursive(LEAVES, _compound, max_leaves=6)
REMARKS = build(n.Cite, text=TEXTS) | build(n.Note, text=TEXTS)  # `cite` and `note` lines go in the same places
CITES = tuples(REMARKS, 0, 2)
CONSTRAINTS = tuples(st.one_of(build(n.RangeConstraint, low=EXPRS, high=EXPRS),
                               build(n.CompareConstraint, op=st.sampled_from([">=", "<=", ">", "<", "==", "!="]),
                                     bound=EXPRS),
                               build(n.PatternConstraint, pattern=TEXTS)), 0, 2)
SCALAR_TYPES = build(n.ScalarType, kind=SCALARS, constraints=CONSTRAINTS)
ENUMS = build(n.EnumType, values=tuples(NAMES, 1, 3))
FIELDS = tuples(build(n.FieldDecl, name=NAMES, label=LABELS, type=SCALAR_TYPES | ENUMS), 1, 3)
FACT_TYPES = st.one_of(
    SCALAR_TYPES, ENUMS,
    build(n.RecordType, kind=SCALARS, keys=tuples(NAMES, 1, 3), constraints=CONSTRAINTS),
    build(n.ListType, element=SCALAR_TYPES | ENUMS | FIELDS, limit=st.none() | COUNTS,
          minimum=st.none() | COUNTS, total=st.none() | st.tuples(NAMES, EXPRS)),
)
ROUNDS = build(n.Round, mode=st.sampled_from(["half up", "half even", "half down", "up", "down", "ceiling",
                                              "floor"]), quantum=DECIMALS)
CLAUSES = st.one_of(build(n.Floor, value=EXPRS), build(n.Cap, value=EXPRS), ROUNDS,
                    REMARKS, build(n.Filter, condition=EXPRS, reason=st.none() | TEXTS),
                    build(n.Round, mode=st.just("down"), quantum=DECIMALS, each=st.just(True)))
AGGREGATES = build(n.Aggregate, function=st.sampled_from(["sum", "count"]), list_name=NAMES,
                   body=st.none() | EXPRS)
DEFINITIONS = build(n.Definition, kind=st.sampled_from(["let", "output"]), name=NAMES, label=LABELS,
                    value=EXPRS | AGGREGATES, clauses=tuples(CLAUSES))
STEPS = tuples(build(n.LadderStep, sign=st.sampled_from(["minus", "plus"]), points=EXPRS,
                     rule=st.sampled_from(["full", "started", "prorated"]), step=EXPRS,
                     direction=st.sampled_from(["below", "above"])), 0, 2)
LADDERS = build(n.Ladder, rate=EXPRS, standard=EXPRS, none_rule=st.none() | st.just("standard") | EXPRS,
                steps=STEPS, cites=CITES, using=st.none() | NAMES)
ITEM_LINES = st.one_of(
    build(n.Adjust, sign=st.sampled_from(["minus", "plus"]), amount=EXPRS, per=st.none() | EXPRS,
          condition=st.none() | EXPRS),
    build(n.Override, value=EXPRS, condition=EXPRS), LADDERS,
    build(n.Floor, value=EXPRS), build(n.Cap, value=EXPRS), REMARKS)
ITEMS = build(n.Item, name=NAMES, label=LABELS, weight=DECIMALS, tags=tuples(NAMES), body=tuples(ITEM_LINES, 1, 3))
GATES = build(n.Gate, tag=NAMES, condition=EXPRS, reason=st.none() | TEXTS, clauses=CITES)
SCORECARDS = build(n.Scorecard, name=NAMES, label=LABELS, total=st.none() | DECIMALS, items=tuples(ITEMS, 1, 2),
                   gates=tuples(GATES, 0, 1),
                   clauses=tuples(st.one_of(build(n.Floor, value=EXPRS), build(n.Cap, value=EXPRS), ROUNDS,
                                            REMARKS), 0, 2))
FACTS = build(n.Fact, name=NAMES, label=LABELS, type=FACT_TYPES, cites=CITES)
EVALUATIONS = build(n.Evaluation, name=NAMES, label=LABELS, facts=tuples(FACTS, 1, 3),
                    body=tuples(DEFINITIONS | SCORECARDS, 0, 2))
TABLES = build(n.Table, name=NAMES, label=LABELS, key_name=NAMES, value_type=SCALARS,
               rows=tuples(build(n.Row, key=DECIMALS | TEXTS | build(n.Name, name=NAMES), value=EXPRS), 1, 3),
               cites=CITES)


def _band(name, low, low_inclusive, high, high_inclusive):
    return n.Band(name=name, low=low, low_inclusive=low_inclusive and low is not None, high=high,
                  high_inclusive=high_inclusive and high is not None, span=SP)


BANDS = build(n.Bands, name=NAMES, label=LABELS, low=EXPRS, high=EXPRS, bands=tuples(
    st.builds(_band, TEXTS, st.none() | EXPRS, st.booleans(), st.none() | EXPRS, st.booleans()), 1, 3))
LADDER_DEFS = build(n.LadderDef, name=NAMES, label=LABELS, steps=STEPS, cites=CITES).filter(
    lambda d: d.steps or d.cites)
FUNCTIONS = build(n.Function, name=NAMES, label=LABELS, params=tuples(build(n.Param, name=NAMES, kind=SCALARS), 1, 3),
                  body=EXPRS, clauses=tuples(CLAUSES))
VALUES = st.recursive(DECIMALS | DECIMALS.map(lambda d: -d) | TEXTS | st.booleans(),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
                      max_leaves=5)
EXAMPLES = build(n.Example, name=TEXTS, evaluation=st.none() | NAMES, base=st.none() | TEXTS,
                 given=tuples(st.tuples(tuples(NAMES, 1, 2), VALUES)),
                 expect=tuples(st.tuples(NAMES, VALUES, st.just(SP))),
                 errors=tuples(st.tuples(TEXTS, st.just(SP)), 0, 1)).filter(
    lambda e: e.base is not None or e.given or e.expect or e.errors)
POLICIES = build(n.Policy, name=NAMES, label=LABELS, version=st.none() | TEXTS,
                 imports=tuples(build(n.Import, path=tuples(NAMES, 1, 2)), 0, 2), tables=tuples(TABLES, 0, 1),
                 definitions=tuples(DEFINITIONS, 0, 2), evaluations=tuples(EVALUATIONS, 0, 1),
                 bands=tuples(BANDS, 0, 1), ladders=tuples(LADDER_DEFS, 0, 1), functions=tuples(FUNCTIONS, 0, 1),
                 examples=tuples(EXAMPLES, 0, 1), is_module=st.booleans())

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])
# Each example of these parses a whole shipped policy two or three times.
SHIPPED_SUBSETS = settings(FAST, max_examples=30)


@FAST
@given(POLICIES)
def test_generated_policies_round_trip(policy):
    out = format_policy(policy)
    assert tree(parse_text(out)) == tree(policy)
    assert format_text(out) == out


@FAST
@given(st.data())
def test_generated_expressions_round_trip(data):
    expr = data.draw(EXPRS)
    policy = n.Policy(name="p", label=None, version=None, imports=(), tables=(), evaluations=(),
                      definitions=(n.Definition(kind="let", name="x", label=None, value=expr, clauses=(), name_span=SP,
                                                span=SP),),
                      span=SP)
    out = format_policy(policy)
    assert tree(parse_text(out)) == tree(policy)
    assert format_text(out) == out


def _top_level_regions(text: str):
    """The shipped text cut before each top-level construct (with the comments above it)."""
    policy = parse_text(text)
    nodes = sorted([*policy.imports, *policy.tables, *policy.definitions, *policy.evaluations, *policy.bands,
                    *policy.ladders, *policy.functions, *policy.examples], key=lambda x: x.span.start)
    cuts = [text.rfind("\n", 0, x.span.start) + 1 for x in nodes]
    return [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]


@SHIPPED_SUBSETS
@given(st.sampled_from(SHIPPED), st.data())
def test_subsets_of_shipped_texts_round_trip(path, data):
    """Some top-level constructs of a shipped file, dropped with whatever comments ran with them."""
    head, *rest = _top_level_regions(path.read_text(encoding="utf-8"))
    keep = data.draw(st.lists(st.booleans(), min_size=len(rest), max_size=len(rest)))
    round_trip(head + "".join(r for r, k in zip(rest, keep) if k))


def _some(data, items, at_least=0):
    keep = data.draw(st.lists(st.booleans(), min_size=len(items), max_size=len(items)))
    chosen = tuple(x for x, k in zip(items, keep) if k)
    return chosen if len(chosen) >= at_least else tuple(items[:at_least])


@SHIPPED_SUBSETS
@given(st.sampled_from(SHIPPED), st.data())
def test_subsets_of_shipped_trees_round_trip(path, data):
    """Subsets of a shipped tree's statements (spans kept, so literals keep their spelling)."""
    policy = parse_text(path.read_text(encoding="utf-8"))
    evaluations = []
    for e in policy.evaluations:
        body = []
        for x in _some(data, e.body):
            if isinstance(x, n.Scorecard):
                x = attrs.evolve(x, items=_some(data, x.items, 1), gates=_some(data, x.gates),
                                 clauses=_some(data, x.clauses))
            body.append(x)
        evaluations.append(attrs.evolve(e, facts=_some(data, e.facts, 1), body=tuple(body)))
    subset = attrs.evolve(policy, evaluations=tuple(evaluations), tables=_some(data, policy.tables),
                          definitions=_some(data, policy.definitions), examples=_some(data, policy.examples),
                          imports=_some(data, policy.imports))
    out = format_policy(subset)
    assert tree(parse_text(out)) == tree(subset)
    assert format_text(out) == out


# ---- the command --------------------------------------------------------------------------------

MESSY = "policy p\nlet   x=1   # one\ntable t (k) -> number: 1 -> 2; 3 -> 4\n"
TIDY = "policy p\n\nlet x = 1  # one\n\ntable t (k) -> number:\n    1 -> 2\n    3 -> 4\n"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fmt_check_lists_files_that_would_change_and_changes_nothing(tmp_path, capsys):
    messy, tidy = tmp_path / "messy.rules", tmp_path / "tidy.rules"
    messy.write_text(MESSY, encoding="utf-8")
    tidy.write_text(TIDY, encoding="utf-8")
    code, out, err = run(capsys, "fmt", "--check", str(tmp_path))
    assert (code, out, err) == (1, f"{messy}\n", "")
    assert messy.read_text(encoding="utf-8") == MESSY
    assert run(capsys, "fmt", "--check", str(tidy)) == (0, "", "")


def test_fmt_rewrites_in_place_and_lists_the_changed_files(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    messy, tidy = tmp_path / "sub" / "messy.rules", tmp_path / "tidy.rules"
    messy.write_text(MESSY, encoding="utf-8")
    tidy.write_text(TIDY, encoding="utf-8")
    assert run(capsys, "fmt", str(tmp_path)) == (0, f"{messy}\n", "")
    assert messy.read_text(encoding="utf-8") == TIDY
    assert run(capsys, "fmt", str(tmp_path)) == (0, "", "")
    assert run(capsys, "fmt", "--check", str(tmp_path)) == (0, "", "")


def test_fmt_keeps_a_byte_order_mark_and_writes_unix_line_ends(tmp_path, capsys):
    bom, crlf = tmp_path / "bom.rules", tmp_path / "crlf.rules"
    bom.write_bytes(("\ufeff" + TIDY).encode("utf-8"))
    crlf.write_bytes(TIDY.replace("\n", "\r\n").encode("utf-8"))
    assert run(capsys, "fmt", "--check", str(bom)) == (0, "", "")
    assert run(capsys, "fmt", str(crlf)) == (0, f"{crlf}\n", "")
    assert crlf.read_bytes() == TIDY.encode("utf-8")


def test_fmt_on_a_file_that_does_not_parse_prints_its_diagnostics_and_exits_2(tmp_path, capsys):
    broken, messy = tmp_path / "broken.rules", tmp_path / "messy.rules"
    broken.write_text("policy p\nlet x = (1 +\n", encoding="utf-8")
    messy.write_text(MESSY, encoding="utf-8")
    code, out, err = run(capsys, "fmt", str(tmp_path))
    assert code == 2
    assert f"{broken}:" in err and "error[E" in err and "Traceback" not in err
    assert out == f"{messy}\n"  # the other files are still formatted
    assert broken.read_text(encoding="utf-8") == "policy p\nlet x = (1 +\n"
    code, _, err = run(capsys, "fmt", "--check", str(tmp_path / "missing.rules"))
    assert code == 2 and "error[E002]" in err


def test_fmt_without_rules_files_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "fmt", str(tmp_path))
    assert code == 2 and "no .rules files" in err
