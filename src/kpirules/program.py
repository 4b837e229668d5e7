"""Program stage: one evaluation ready to run, built once per load: IR, generated code, validator.

Lowering and code generation happen here for every evaluation of a checked policy; evaluate.py
runs the result. A Program also keeps what explanations need to name things (tables, bands).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import attrs

from . import codegen, facts, ir
from . import model as m
from .lower import lower


@attrs.frozen(kw_only=True)
class Program:
    policy: ir.Policy
    evaluation: ir.Evaluation
    model: m.EvaluationModel       # the checked evaluation (fact declarations for validation)
    plain: Callable[[dict[str, Any]], tuple]          # generated: facts -> values
    traced: Callable[[dict[str, Any]], tuple]         # generated: facts -> (values, records)
    check_facts: facts.FactValidator                   # the fact validator of this evaluation
    tables: dict                   # table name -> {key: value}
    table_display: dict            # table name -> how its values read (percent, money, ...)
    table_info: dict               # table name -> (label, cites, notes)
    bands: dict                    # bands name -> model.BandsModel
    uses_as_of: bool = False       # a formula reads `evaluation_date`
    effective: tuple | None = None  # a version of its evaluation: (from, until or None)
    # What explanations derive from the IR once, not per evaluation (trace.py fills it).
    cache: dict = attrs.field(factory=dict, eq=False, repr=False)


def compile_policy(policy: m.PolicyModel) -> dict[str, tuple[Program, ...]]:
    """The Programs of each evaluation name: one, or its versions in date order."""
    lowered = lower(policy)
    tables = {t.name: dict(t.rows) for t in policy.tables}
    display = {t.name: t.value_type.display for t in policy.tables}
    info = {t.name: (t.label, t.cites, t.notes) for t in policy.tables}
    bands = {b.name: b for b in policy.bands}
    programs: dict[str, list[Program]] = {}
    for ev_model, ev in zip(policy.evaluations, lowered.evaluations, strict=True):
        programs.setdefault(ev.name, []).append(Program(
            policy=lowered, evaluation=ev, model=ev_model,
            plain=codegen.generate(lowered, ev, traced=False),
            traced=codegen.generate(lowered, ev, traced=True),
            check_facts=facts.compile(ev_model), tables=tables, table_display=display,
            table_info=info, bands=bands,
            uses_as_of=any(isinstance(node, ir.AsOf) for root in (*ev.values, *lowered.functions)
                           for node in ir.walk(root)),
            effective=ev_model.effective))
    # Versions in date order (the checker proved they neither overlap nor leave a gap).
    return {name: tuple(sorted(found, key=lambda p: p.effective[0] if p.effective else date.min))
            for name, found in programs.items()}
