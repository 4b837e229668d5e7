"""Scanner: where quoted texts, comments and brackets are in policy text, for every reader of it.

The grammar's lexer reads a policy only when it parses. The indentation checks, the syntax-error
wording, the error recovery and `kpirules fmt` also need to know, in text that may be broken,
whether a `#` starts a comment, whether a `(` is code, and where a line ends; they all ask here,
so they agree with each other and with the grammar (quoted text never spans lines, its escapes
are `\\"`, `\\\\`, `\\n` and `\\t`, a comment runs from `#` to the end of its line).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

# The escapes a quoted text may hold (the character after the backslash).
ESCAPES = '"\\nt'

# One token at a time. Quoted text is read leniently, so broken text scans too: an unknown escape
# is taken as written, and a text without its closing quote runs to the end of its line. In text
# that parses, every token here is a token of the grammar's lexer, or blanks and comments it skips.
_TOKEN = re.compile(r"""
    (?P<ws>[ \t\f\r\n]+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\[^\n]?)*"?)
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?:%|万|元)?)
  | (?P<name>[^\W\d]\w*)
  | (?P<punct>\.\.|->|>=|<=|==|!=|[^\s])
  | (?P<other>[\s\S])
""", re.VERBOSE)

OPEN = "([{"
CLOSE = ")]}"


class Token(NamedTuple):
    """A piece of text: its kind (ws, comment, string, number, name, punct, other), text, offset."""
    kind: str
    text: str
    start: int


def tokens(text: str, start: int = 0, end: int | None = None) -> Iterator[Token]:
    """Every token of text[start:end], blanks and comments included."""
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        m = _TOKEN.match(text, pos, end)
        # `other` matches any character, so some group always matches.
        assert m is not None and m.lastgroup is not None
        yield Token(m.lastgroup, m.group(), pos)
        pos = m.end()


def code_tokens(text: str, start: int = 0, end: int | None = None) -> Iterator[Token]:
    """The tokens of text[start:end] that are code: no blanks, no comments."""
    return (t for t in tokens(text, start, end) if t.kind not in ("ws", "comment"))


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, text) of every line, without its line break; a final line break ends an empty line."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            yield start, text[start:]
            return
        yield start, text[start:end]
        start = end + 1


def comment_start(line: str) -> int:
    """Where a `#` comment starts in a line (outside quoted text), or len(line)."""
    for tok in tokens(line):
        if tok.kind == "comment":
            return tok.start
    return len(line)


def has_code(line: str) -> bool:
    """Whether a line holds anything but blanks and a comment."""
    return bool(line[:comment_start(line)].strip(" \t\r\f"))


def is_comment_line(line: str) -> bool:
    """Whether a line, after its indentation, is a comment."""
    return line.lstrip(" \t").startswith("#")


def brackets(text: str, start: int = 0, end: int | None = None) -> Iterator[Token]:
    """The brackets of text[start:end] that are code (not in quoted text or a comment)."""
    return (t for t in tokens(text, start, end) if t.kind == "punct" and t.text in OPEN + CLOSE)


def bracket_depth(line: str, depth: int = 0) -> int:
    """The bracket depth after a line that starts at `depth`, as the parser's indenter counts it:
    a line break inside brackets does not end the line."""
    for tok in brackets(line):
        depth = depth + 1 if tok.text in OPEN else max(0, depth - 1)
    return depth


def skip_blank(text: str, pos: int) -> int:
    """The offset of the next character at or after `pos` that is not blank or in a comment."""
    for tok in tokens(text, pos):
        if tok.kind not in ("ws", "comment"):
            return tok.start
    return max(pos, len(text))


def bad_escape(text: str, offset: int) -> int | None:
    """In the quoted text whose `"` is at `offset`, the offset of the first backslash that starts
    no known escape, or None."""
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    i = offset + 1
    while i < end:
        ch = text[i]
        if ch == "\\":
            if (text[i + 1] if i + 1 < end else "") not in tuple(ESCAPES):
                return i
            i += 2
            continue
        if ch == '"':
            return None
        i += 1
    return None


def unquote(token: str) -> str:
    """The text a quoted-text token stands for: quotes dropped, escapes read."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class Comment(NamedTuple):
    """A `# ...` comment as written: its text (from `#`, trailing blanks dropped), the offset of its
    `#`, and whether it stands on its own line (nothing but blanks before it)."""
    text: str
    start: int
    own_line: bool


def comments(text: str) -> tuple:
    """Every comment of a policy text, in order. The grammar ignores comments; `kpirules fmt`
    keeps them. Quoted text cannot span lines, so a `#` outside quotes on a line starts one."""
    found = []
    for line_start, line in lines(text):
        at = comment_start(line)
        if at < len(line):
            found.append(Comment(text=line[at:].rstrip(" \t\r\f"), start=line_start + at,
                                 own_line=not line[:at].strip(" \t\f")))
    return tuple(found)
