"""Citation check: every `cite` of a policy against the source document it quotes (`kpirules check --source`).

A `cite` claims the source's own words (statements show it in quotation marks), so it must appear
in the source. Both sides are compared with their whitespace removed (every character for which
`str.isspace()` holds: spaces, tabs, line breaks, the full-width space U+3000, no-break spaces),
so a cite may join words a line break or a table cell split in the source; nothing else is
ignored. A cite that does not appear is E501, with the source's closest passage as help.

Finding the closest passage is bounded in cost: the source's character pairs are indexed once
(only when some cite is missing), each missing cite's rarer pairs vote for where an alignment
starts, and only the few best-voted regions are compared with difflib.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter, defaultdict
from pathlib import Path

from . import nodes as n
from .diagnostics import Diagnostic, error

# A character pair seen more often than this in the source says little about where a cite is.
_COMMON = 400
# How many best-voted regions are compared with difflib for each missing cite.
_CANDIDATES = 8
# Below this similarity the closest passage is not worth showing.
_UNLIKE = 0.3


class SourceDocument:
    """The text a policy quotes, with its whitespace removed for comparison."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        kept = [(i, ch) for i, ch in enumerate(text) if not ch.isspace()]
        self.compact = "".join(ch for _, ch in kept)
        self._offsets = [i for i, _ in kept]  # compact index -> index in text
        self._pairs: dict[str, list[int]] | None = None

    @classmethod
    def read(cls, path: str) -> SourceDocument:
        """Read a UTF-8 source document; OSError or UnicodeDecodeError when it cannot be read."""
        text = Path(path).read_text(encoding="utf-8")
        return cls(path, text[1:] if text.startswith("\ufeff") else text)

    def contains(self, quoted: str) -> bool:
        return compact(quoted) in self.compact

    def closest(self, quoted: str) -> tuple[str, int, float] | None:
        """The passage of the source most like `quoted`: (its text, its line, similarity 0..1)."""
        want = compact(quoted)
        if not want or not self.compact:
            return None
        best: tuple[float, int, int] | None = None
        for start, end in self._regions(want):
            region = self.compact[start:end]
            matcher = difflib.SequenceMatcher(None, want, region, autojunk=False)
            blocks = [b for b in matcher.get_matching_blocks() if b.size]
            solid = [b for b in blocks if b.size >= 2] or blocks
            if not solid:
                continue
            lo = start + solid[0].b
            hi = start + solid[-1].b + solid[-1].size
            ratio = difflib.SequenceMatcher(None, want, self.compact[lo:hi], autojunk=False).ratio()
            if best is None or ratio > best[0] or (ratio == best[0] and lo < best[1]):
                best = (ratio, lo, hi)
        if best is None or best[0] < _UNLIKE:
            return None
        lo, hi = self._to_line_ends(best[1], best[2], len(want))
        ratio = difflib.SequenceMatcher(None, want, self.compact[lo:hi], autojunk=False).ratio()
        first, last = self._offsets[lo], self._offsets[hi - 1] + 1
        passage = " ".join(self.text[first:last].split())
        return passage, self.text.count("\n", 0, first) + 1, ratio

    def _to_line_ends(self, lo: int, hi: int, size: int) -> tuple[int, int]:
        """The passage widened to the start and end of its source lines when they are near: a
        line (a table cell, a sentence) is how the source is read and quoted."""
        near = max(4, size // 2)
        line_start = self.text.rfind("\n", 0, self._offsets[lo]) + 1
        start = bisect.bisect_left(self._offsets, line_start)
        if lo - start <= near:
            lo = start
        line_end = self.text.find("\n", self._offsets[hi - 1])
        end = bisect.bisect_left(self._offsets, len(self.text) if line_end < 0 else line_end)
        if end - hi <= near:
            hi = max(hi, end)
        return lo, hi

    def _regions(self, want: str) -> list[tuple[int, int]]:
        """A few stretches of the compact source where `want` may have been quoted from."""
        size = len(want)
        length = len(self.compact)
        if size < 2:
            return []  # one character not in the source: nothing is like it
        pairs = self._index()
        votes: Counter = Counter()
        found = [(j, pairs.get(want[j:j + 2], [])) for j in range(size - 1)]
        usable = [(j, at) for j, at in found if 0 < len(at) <= _COMMON]
        if not usable:  # only common pairs: the rarest few still say something
            rarest = sorted((x for x in found if x[1]), key=lambda x: len(x[1]))[:3]
            usable = [(j, at[:_COMMON]) for j, at in rarest]
        bucket = max(8, size // 2)  # an alignment drifts with what was inserted or left out
        for j, at in usable:
            for p in at:
                votes[(p - j) // bucket] += 1
        regions = []
        for b, _ in votes.most_common(_CANDIDATES):
            start = max(0, b * bucket - size // 2)
            regions.append((start, min(length, b * bucket + bucket + size + size // 2)))
        return regions

    def _index(self) -> dict[str, list[int]]:
        if self._pairs is None:
            pairs: dict[str, list[int]] = defaultdict(list)
            text = self.compact
            for i in range(len(text) - 1):
                pairs[text[i:i + 2]].append(i)
            self._pairs = dict(pairs)
        return self._pairs


def compact(text: str) -> str:
    """`text` without its whitespace: what the check compares."""
    return "".join(text.split())


def cites(tree: n.Policy) -> list[n.Cite]:
    """Every `cite` line of a policy tree (with its imported modules merged in), in source order."""
    found = [x for x in n.walk(tree) if isinstance(x, n.Cite)]
    return sorted(found, key=lambda c: (c.span.path, c.span.start))


def check(tree: n.Policy, document: SourceDocument, seen: dict | None = None) -> tuple[int, list[Diagnostic]]:
    """(how many cites the tree has, an E501 for each that does not appear in the document).

    `seen` maps the cites already checked in this run to their diagnostic (None: found), so that
    a module imported by several policies is searched, and reported, once."""
    seen = {} if seen is None else seen
    out = []
    found = cites(tree)
    for c in found:
        key = (c.span.path, c.span.start)
        if key in seen:
            continue
        seen[key] = None if document.contains(c.text) else _missing(c, document)
        if seen[key] is not None:
            out.append(seen[key])
    return len(found), out


def _missing(c: n.Cite, document: SourceDocument) -> Diagnostic:
    span = c.span
    found = document.closest(c.text)
    if found is None:
        hint = ("nothing in the source is like it; if these are the author's own words, write "
                "`note` instead of `cite`")
    else:
        passage, line, ratio = found
        hint = (f"the closest passage of the source is at line {line} ({ratio:.0%} alike): \"{passage}\"; "
                "quote it exactly, or write the author's own words as `note`")
    return error("E501", f"this `cite` does not appear in the source `{document.path}`", span, hint)
