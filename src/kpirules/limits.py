"""Limits: how much of anything kpirules accepts, each refused with its own code (docs/limits.md).

A policy or a fact set is user input, often from a file nobody reviewed. Every cost that grows
with the input is bounded here, and every limit has a code, so that input far beyond a limit is
refused in milliseconds with a message instead of taking seconds, gigabytes or a traceback.
The parser's own limits (source size E106, nesting E104, literal digits E105, syntax errors
reported) stay beside the parser; diagnostics shown per run (E001) beside the renderer of
diagnostics; they are listed in docs/limits.md too.
"""

from __future__ import annotations

# ---- facts (codes F115..F119) ------------------------------------------------------------------

# F003: characters of a fact file or fact text (checked before it is parsed).
MAX_FACT_CHARS = 5_000_000
# F115: characters in one text of a fact set (a `text` fact, a `one of` name, a list line's text).
MAX_TEXT_CHARS = 10_000
# F116: entries in one list of a fact set.
MAX_LIST_ENTRIES = 10_000
# F117: keys in one object of a fact set (the facts, a record, a list line).
MAX_KEYS = 1_000
# F118: violations (and, separately, warnings) reported for one fact set; the rest are counted.
MAX_VIOLATIONS = 100
# Violations kept while reading, before the first MAX_VIOLATIONS in declaration order are chosen.
KEEP_VIOLATIONS = 10 * MAX_VIOLATIONS

# ---- did you mean ------------------------------------------------------------------------------

# A word or a name longer than this resembles nothing: no suggestion is looked for.
MAX_SUGGEST_CHARS = 64
# Candidates compared with one word (those closest in length are kept).
MAX_SUGGEST_CANDIDATES = 500
# Suggestions looked for in one check of a policy (only MAX_DIAGNOSTICS diagnostics are shown).
MAX_SUGGESTIONS = 50

# ---- messages ----------------------------------------------------------------------------------

# A diagnostic's message or help is cut to this many characters (it may quote a huge name).
MAX_MESSAGE_CHARS = 1000

# ---- policies (codes E320..E323) ---------------------------------------------------------------

# E320: a `{n}`, `{n,}` or `{n,m}` count in a `matching` pattern (RE2's own ceiling is 1000),
# and a pattern whose compiled program exceeds PATTERN_MEMORY bytes.
MAX_PATTERN_REPEAT = 1000
PATTERN_MEMORY = 8 << 20
# E321: functions calling functions, counted along the longest chain of calls.
MAX_CALL_DEPTH = 32
# E322: rows of one table.
MAX_TABLE_ROWS = 100_000
# E323: words and symbols the parser reads in one policy file (plain rows of large tables, read
# beside it, do not count); the largest shipped policy has 1,500.
MAX_TOKENS = 50_000

# ---- evaluation (code R002) --------------------------------------------------------------------

# R002: a value that reaches a `round` must be smaller than 10^MAX_ROUND_EXPONENT in size.
MAX_ROUND_EXPONENT = 1000
# R003: digits of a number the exact arithmetic computes with (past them, `1e39000 * 1e39000`
# would take seconds per operation); a value with an exponent past it is refused.
MAX_COMPUTE_EXPONENT = 10_000
