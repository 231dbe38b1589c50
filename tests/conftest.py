"""Shared fixtures; shared helpers live in tests/helpers/."""

import os

import pytest

from tests.helpers.runs import FASHION_MISSING, FASHION_PRESENT


@pytest.fixture
def needs_fashion_mnist():
    if not FASHION_PRESENT:
        if os.environ.get("CI"):
            pytest.fail(FASHION_MISSING + " (CI must install it: see .ci/run)")
        pytest.skip(FASHION_MISSING)
