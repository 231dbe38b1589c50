"""Fixtures of the tests that run the repository's shell scripts."""

import os

import pytest

from tests.helpers.runs import REPO
from tests.helpers.warm_python import warm_python


@pytest.fixture(scope="module")
def warm_env(tmp_path_factory):
    """The environment a script runs in, with a warm python's socket: one server for the
    module, each command a fresh fork of it."""
    env = {**os.environ, "JOBS": "1", "PYTHONPATH": str(REPO)}
    with warm_python(tmp_path_factory.mktemp("warm"), env) as warm:
        yield warm
