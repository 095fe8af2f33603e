"""Session-wide fixtures: the stand-in pool and an isolated embedded default."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.standins.base import StandInPool


@pytest.fixture(scope="session")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInPool]:
    pool = StandInPool(tmp_path_factory.mktemp("standins"))
    yield pool
    pool.stop_all()


@pytest.fixture(autouse=True, scope="session")
def _isolated_statekit_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The embedded default writes under a temporary folder, never the developer's .statekit/."""
    home = tmp_path_factory.mktemp("statekit-home")
    previous = os.environ.get("STATEKIT_HOME")
    os.environ["STATEKIT_HOME"] = str(home)
    for variable in (
        "STATEKIT_STORE_URL",
        "STATEKIT_CACHE_URL",
        "STATEKIT_QUEUE_URL",
        "STATEKIT_WORKFLOW_URL",
    ):
        os.environ.pop(variable, None)
    yield home
    if previous is None:
        os.environ.pop("STATEKIT_HOME", None)
    else:
        os.environ["STATEKIT_HOME"] = previous
