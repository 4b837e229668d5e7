"""Slow property runs only when asked for: `python -m pytest tests/differential -m slow`.

The default run stays short for CI; a test marked `slow` is skipped unless the `-m` expression
names `slow`.
"""

import pytest


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow profile: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
