"""The words the playground's editor highlights: every quoted keyword of grammar.lark (read from
the grammar itself, so a new keyword is highlighted without touching this file), in the classes
of the Pygments lexer (highlight.py, which needs Pygments and so is not imported here)."""

from __future__ import annotations

import functools
import re
from importlib import resources

# Classes as in highlight.py; every other grammar keyword is a plain keyword.
CLASSES = {
    "namespace": ("policy", "module", "import"),
    "declaration": ("table", "evaluation", "fact", "let", "output", "scorecard", "item", "gate", "bands", "ladder",
                    "function", "example"),
    "type": ("integer", "count", "number", "money", "percent", "boolean", "text", "date", "period"),
    "constant": ("true", "false", "none"),
    "operator": ("and", "or", "not"),
}
BUILTINS = ("max", "min", "abs")


@functools.cache
def keywords() -> tuple[str, ...]:
    text = resources.files("kpirules").joinpath("grammar.lark").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^\s*//.*$", "", text)
    return tuple(sorted(set(re.findall(r'"([a-z][a-z_]*)"', text))))


def language() -> dict:
    words = keywords()
    classified = {w for ws in CLASSES.values() for w in ws}
    return {"classes": {k: [w for w in ws if w in words] for k, ws in CLASSES.items()},
            "keywords": [w for w in words if w not in classified], "builtins": list(BUILTINS)}
