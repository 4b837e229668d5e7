"""Unused-facts pass: a fact that no value, item, gate or bound of its evaluation reads (W401)."""

from __future__ import annotations

from .state import TOP, State

# Runs after types, which records what each evaluation reads. A fact offered as "did you mean"
# for a misspelled name is meant to be used, so it is not reported: offers made before the
# evaluation was checked or while it was (not later ones, nor the examples').


def run(st: State) -> None:
    for es in st.evaluations:
        offered = set().union(*(names for at, names in st.suggested.items() if TOP <= at <= es.index))
        for f in es.facts:
            if f.name not in es.used and f.name not in offered:
                st.warn("W401", f"fact `{f.name}` is declared but never used", f.span,
                        "remove it, or use it in a value")
