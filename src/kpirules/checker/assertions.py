"""Assertions: `assert CONDITION else "message"` in an evaluation, typed as a value.

An assertion is one of the evaluation's computed steps, ordered after what its condition reads
(the dependencies pass orders it like a value, by its position-derived name `assert@LINE:COL`,
which no formula can read). Its condition must be true or false (E303 otherwise); when it is
false for a fact set, the evaluation stops with the message (runtime.assertion_failed).
"""

from __future__ import annotations

from .. import model as m
from .. import nodes as n
from .expressions import boolean
from .state import Ctx, EvaluationState, State


def value(st: State, es: EvaluationState, d: n.Assert, used: set) -> list:
    """The ValueDef (kind `assert`) of an assertion, typed in `es`."""
    ctx = Ctx(scope=es.scope)
    boolean(st, d.condition, ctx, "`assert`")
    if not d.message.strip():
        st.err("E303", "an assertion needs a message saying what went wrong", d.span,
               'write e.g. `assert allocated == pool else "the shares must add up to the pool"`')
    used.update(ctx.used)
    return [m.ValueDef(kind="assert", name=d.name, label=d.message, type=m.BOOLEAN, node=d,
                       deps=tuple(dict.fromkeys(ctx.deps)), cites=(), span=d.span)]
