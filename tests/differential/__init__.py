"""Differential tests: the engine's plain and traced evaluation against an exact reference.

tree.py (our own policy tree and its printer), gen.py (hypothesis strategies), reference.py (the
Fraction interpreter), compare.py (the one comparison rule and the known-bug waivers), and the
tests: test_differential.py, test_regressions.py, test_team_regressions.py, test_shipped_agreement.py.
"""
