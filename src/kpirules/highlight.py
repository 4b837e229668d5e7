"""Pygments lexer for kpirules policy files (`.rules`).

Pygments finds it through the `pygments.lexers` entry point declared in pyproject.toml, so any
tool that highlights with Pygments (Sphinx, MkDocs, `pygmentize -l kpirules`, GitLab, ...) colours
policies once kpirules is installed. Nothing else in kpirules imports this module: Pygments stays
an optional dependency (`pip install kpirules[highlight]`).

The word lists below are the quoted keywords of grammar.lark; tests/test_highlight.py checks that
they are exactly that set (and that the TextMate grammar in editors/ has the same), so a keyword
added to the grammar without highlighting fails the tests.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, default, include, words
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

__all__ = ["KpirulesLexer", "KEYWORD_CLASSES", "KEYWORDS", "BUILTINS"]

# ---- the vocabulary, by class --------------------------------------------------------------

#: `policy`/`module` open a file, `import` brings in a module.
NAMESPACE = ("policy", "module", "import")
#: Words that declare something named (the name after them is highlighted as a declaration).
DECLARATIONS = ("table", "evaluation", "fact", "let", "output", "scorecard", "item", "gate",
                "bands", "ladder", "function", "example", "tiers")
#: The scalar types (`count` is also the aggregate `count(...)`/`count over`, see below).
TYPES = ("integer", "count", "number", "money", "percent", "boolean", "text", "date", "period")
#: Literal constants.
CONSTANTS = ("true", "false", "none")
#: Logical operators spelt as words.
OPERATOR_WORDS = ("and", "or", "not")
#: Every other keyword: clauses, modifiers, ladder and rounding words, examples.
OTHER = ("version", "one", "of", "list", "at", "most", "least", "with", "adding", "up", "to",
         "record", "in", "matching", "over", "floor", "cap", "round", "each", "cite", "note", "only",
         "if", "then", "else", "total", "weight", "score", "standard", "using", "per", "items",
         "from", "above", "below", "for", "given", "expect", "error", "blend", "sum", "minus",
         "plus", "full", "started", "prorated", "half", "even", "down", "ceiling", "days", "until", "effective",
         "keyed", "by", "allocate", "ties", "first", "last", "listed", "dense", "highest", "lowest", "shared",
         "order", "marginal", "retroactive", "on", "assert")

#: Keyword words by the token type they are given (outside the special contexts below).
KEYWORD_CLASSES = {
    Keyword.Namespace: NAMESPACE,
    Keyword.Declaration: DECLARATIONS,
    Keyword.Type: TYPES,
    Keyword.Constant: CONSTANTS,
    Operator.Word: OPERATOR_WORDS,
    Keyword: OTHER,
}
#: Every keyword the lexer highlights: must equal the quoted words of grammar.lark.
KEYWORDS = frozenset(w for ws in KEYWORD_CLASSES.values() for w in ws)

#: Functions every policy can call (checker.FUNCTIONS).
BUILTINS = ("max", "min", "abs")

# ---- building blocks -----------------------------------------------------------------------

# grammar.lark: NAME /[^\W\d]\w*/ (Unicode letters, `_`, then word characters); numbers are
# ASCII digits only (a full-width digit is an error there, and so here).
_NAME = r"[^\W\d]\w*"
_NUM = r"[0-9]+(?:\.[0-9]+)?"
_LABEL = r'"(?:[^"\\\n]|\\.)*"'
# Spaces inside a line; the grammar ignores tab, space and form feed (and \r before \n).
_SP = r"[\t \f]+"
_SPQ = r"[\t \f]*"


class KpirulesLexer(RegexLexer):
    """Lexer for kpirules bonus policies (`.rules` files)."""

    name = "kpirules"
    aliases = ["kpirules", "rules"]
    filenames = ["*.rules"]
    mimetypes = ["text/x-kpirules"]

    tokens = {
        "root": [
            (r"[\t \f\r\n]+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            include("declaration"),
            ('"', String.Double, "string"),
            include("number"),
            include("keyword"),
            (words(BUILTINS, suffix=r"\b(?=" + _SPQ + r"\()"), Name.Builtin),
            (_NAME + r"(?=" + _SPQ + r"\()", Name.Function),
            (_NAME, Name),
            (r"->|\.\.|>=|<=|==|!=|[<>=+\-*/×÷]", Operator),
            (r"[()\[\]{},;:.]", Punctuation),
        ],
        "declaration": [
            # policy NAME / module NAME
            (r"(policy|module)(" + _SP + r")(" + _NAME + ")",
             bygroups(Keyword.Namespace, Whitespace, Name.Namespace)),
            # ladder NAME label? ":" at the top level; `ladder expr standard ...` inside an
            # item is a statement, not a declaration (it never has a `:` after one word).
            (r"(ladder)(" + _SP + r")(" + _NAME + r")(?=" + _SPQ + r"(?:" + _LABEL + _SPQ
             + r")?:)", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (r"(table|bands|tiers|function)(" + _SP + r")(" + _NAME + ")",
             bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (r"(evaluation|scorecard)(" + _SP + r")(" + _NAME + ")",
             bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (r"(let|output|fact)(" + _SP + r")(" + _NAME + ")",
             bygroups(Keyword.Declaration, Whitespace, Name.Variable)),
            # item NAME label? weight N: the declaration; a bare `item` is the current item.
            (r"(item)(" + _SP + r")(" + _NAME + r")(?=" + _SPQ + r"(?:" + _LABEL + _SPQ
             + r")?weight\b)", bygroups(Keyword.Declaration, Whitespace, Name.Label)),
            (r"(gate)(" + _SP + r")(" + _NAME + ")",
             bygroups(Keyword.Declaration, Whitespace, Name.Label)),
            # example "title": the title names the example.
            (r"(example)(" + _SP + r")(?=\")", bygroups(Keyword.Declaration, Whitespace),
             "example-title"),
        ],
        "example-title": [
            ('"', String.Double, ("#pop", "string")),
            default("#pop"),
        ],
        "keyword": [
            # `count` is a type after `:`/`of`, but the aggregate in `count(...)`, `count over`
            # and the gate's `count only if`.
            (r"count\b(?=" + _SPQ + r"(?:\(|over\b|only\b))", Keyword),
            # `rank of ...` and `percentile of ...` rank members; alone, `rank` is a name.
            (r"(?:rank|percentile)\b(?=" + _SP + r"of\b)", Keyword),
            *[(words(ws, suffix=r"\b"), ttype) for ttype, ws in KEYWORD_CLASSES.items()],
        ],
        "number": [
            (_NUM + "%", Number),
            (_NUM + "[万元]", Number),
            (r"[0-9]+\.[0-9]+", Number.Float),
            (r"[0-9]+", Number.Integer),
        ],
        "string": [
            ('"', String.Double, "#pop"),
            (r'\\["\\nt]', String.Escape),
            (r'[^"\\\n]+', String.Double),
            (r"\\", Error),  # an escape the grammar does not know
            # An unterminated string ends at the end of its line (the parser reports it).
            default("#pop"),
        ],
    }
