"""What the fault tests of every block share: a case's own stand-in, and the time bound.

Each fault test stops a stand-in of its own mid-run (other suites never see it down)
and checks that calls fail with a bounded BackendUnavailable, never a hang, then that
the client made before the stop works again once the stand-in is back on its port.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from statekit.errors import BackendUnavailable
from tests.conformance.registry import Case, Restartable

BOUND_SECONDS = 15.0


def restartable_cases(cases: dict[str, Case]) -> list[str]:
    """The cases with a server to lose (the embedded backends have none)."""
    return sorted(name for name, case in cases.items() if case.restartable is not None)


@contextmanager
def start_own(case: Case, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Restartable]:
    """Start the case's restartable stand-in with the SDK's variables set; stop it after."""
    if case.needs_module and importlib.util.find_spec(case.needs_module) is None:
        pytest.skip(f"{case.name}: optional extra missing ({case.needs_module} not installed)")
    assert case.restartable is not None
    own = case.restartable(workdir)
    for name, value in own.env.items():
        monkeypatch.setenv(name, value)
    try:
        yield own
    finally:
        own.stop()


def timed_unavailable(call: Callable[[], object], backend: str | None = None) -> float:
    """``call`` raises BackendUnavailable within the bound, naming ``backend`` (its name,
    or its URL where a backend names the server, as Redis does)."""
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as raised:
        call()
    elapsed = time.monotonic() - started
    if backend is not None:
        named = raised.value.backend
        assert named == backend or named.startswith(f"{backend}://"), named
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s to give up"
    return elapsed
