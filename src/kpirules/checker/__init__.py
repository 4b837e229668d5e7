"""Check stage: surface tree to checked model, or diagnostics. Ordered passes, one module each.

Each pass is a function of the shared `State` (state.py): it reads what the passes before it
found, adds its own findings and diagnostics, and never raises, so one run reports every
problem. `check` runs them in the order of PASSES and builds the model (model.py) when no pass
found an error. Expressions are typed by expressions.py, which the passes that type share.
"""

from __future__ import annotations

import hashlib

from .. import dates
from .. import model as m
from .. import nodes as n
from ..source import SourceFile
from . import bands, dependencies, examples, facts, functions, ladders, names, tables, tiers, typecheck, unused, weights
from .expressions import FUNCTIONS
from .names import RESERVED
from .state import EvaluationState, State

__all__ = ["check", "PASSES", "FUNCTIONS", "RESERVED"]

PASSES = (
    tables.run,        # table rows and cells; the names pass declares the tables kept here
    names.run,         # every scope and what is declared in it: all later passes look names up
    bands.run,         # bands cover their range exactly once
    tiers.run,         # tier schedules cover their domain exactly once (issue 10)
    ladders.run,       # shared ladders' lines; `using` resolved before items are typed
    functions.run,     # function result types, read at their calls by the types pass
    facts.run,         # fact declarations (their bounds are typed with the values)
    dependencies.run,  # each evaluation's values ordered so each follows what it reads; cycles
    typecheck.run,     # types and units, in that order; records what each evaluation reads
    weights.run,       # scorecard weights add up to the declared total
    unused.run,        # facts nothing reads (needs what types recorded)
    examples.run,      # examples name declared facts and computed values (needs the values)
)


def check(policy: n.Policy, source: SourceFile):
    """Returns (model or None, diagnostics)."""
    st = State(policy=policy, source=source)
    for run in PASSES:
        run(st)
    if any(d.is_error for d in st.diags):
        return None, st.diags
    return _model(st), st.diags


def _model(st: State) -> m.PolicyModel:
    policy, source = st.policy, st.source
    return m.PolicyModel(name=policy.name, label=policy.label, version=policy.version, source=source,
                         sha256=hashlib.sha256(source.text.encode("utf-8")).hexdigest(),
                         tables=tuple(st.tables.values()),
                         evaluations=tuple(_evaluation(es) for es in st.evaluations),
                         bands=tuple(st.bands.values()), functions=tuple(st.functions.values()),
                         examples=tuple(policy.examples), diagnostics=tuple(st.diags),
                         tiers=tuple(st.tiers.values()))


def _evaluation(es: EvaluationState) -> m.EvaluationModel:
    ev = es.node
    effective = None
    if ev.effective is not None:  # the names pass proved both dates exist
        until = ev.effective.until
        effective = (dates.parse_date(ev.effective.start.text), dates.parse_date(until.text) if until else None)
    return m.EvaluationModel(name=ev.name, label=ev.label, facts=tuple(_fact(es, f) for f in es.facts),
                             values=tuple(es.values), span=ev.span, effective=effective)


def _fact(es: EvaluationState, f: n.Fact) -> m.FactDecl:
    parts = es.fact_parts[f.name]
    bounds, field_bounds = es.bounds[f.name]
    return m.FactDecl(name=f.name, label=f.label, type=es.scope[f.name].type, bounds=bounds,
                      field_bounds=field_bounds, limit=parts["limit"], rule=f.type.span.text, span=f.span,
                      cites=n.cite_texts(f.cites), notes=n.note_texts(f.cites), minimum=parts["minimum"],
                      total=parts["total"], key=getattr(f.type, "key", None))
