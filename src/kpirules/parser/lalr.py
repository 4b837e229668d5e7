"""Parser construction: the grammar, Lark's LALR parser for it (cached) and its indentation handling."""

from __future__ import annotations

import functools
from importlib import resources

from lark import Lark
from lark.indenter import DedentError, Indenter

from . import cache

# Brackets nested deeper than this are refused (E104); so are expressions (see `build`).
MAX_DEPTH = 64

# How the parser is built; part of the cache key, with the grammar's text (see cache.py).
OPTIONS = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": True}


class _Indenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def process(self, stream):
        return super().process(self._limit_brackets(stream))

    def _limit_brackets(self, stream):
        # Brackets build no node, so the depth measured on nodes cannot see `((((a))))`; count
        # them on the token stream and stop at the first one too many (E104).
        level = 0
        for tok in stream:
            if tok.type in self.OPEN_PAREN_types:
                level += 1
                if level > MAX_DEPTH:
                    raise TooDeep(tok)
            elif tok.type in self.CLOSE_PAREN_types:
                level = max(0, level - 1)
            yield tok

    def handle_NL(self, token):
        # Lark's DedentError carries only a message; keep the token, to point at the line (E103).
        levels = list(self.indent_level)
        try:
            yield from super().handle_NL(token)
        except DedentError:
            indent_str = token.rsplit("\n", 1)[1]
            width = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
            raise BadDedent(token, width, levels) from None


class TooDeep(Exception):
    """Brackets nested past MAX_DEPTH; raised from the token stream, caught in `parse`."""

    def __init__(self, token):
        super().__init__("brackets nest too deeply")
        self.token = token


class BadDedent(Exception):
    """A line dedented to a width no enclosing block has; raised by `_Indenter.handle_NL`."""

    def __init__(self, token, width, levels):
        super().__init__("bad dedent")
        self.token, self.width, self.levels = token, width, levels


@functools.lru_cache(maxsize=1)
def grammar() -> str:
    """The text of grammar.lark (beside the parser package, in the kpirules package)."""
    return resources.files("kpirules").joinpath("grammar.lark").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def lark() -> Lark:
    """The one parser of the process. Building its LALR tables takes longer than checking a
    policy, so the built parser is kept in the user's cache directory (see cache.py)."""
    return cache.build(grammar(), OPTIONS, postlex=_Indenter())
