"""What the fault tests of every block share: a case's own stand-in, the time bound,
and how a call that found the service down is traced.

Each fault test stops a stand-in of its own mid-run (other suites never see it down)
and checks that calls fail with a bounded BackendUnavailable, never a hang, then that
the client made before the stop works again once the stand-in is back on its port.
Each block's observability test checks, through ``traced_unavailable``, that such a
call is one error span with outcome ``unavailable`` and counted as such (issue 17).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from statekit.clients.shared import SharedClient
from statekit.errors import BackendUnavailable
from statekit.observability import semconv
from statekit.observability.telemetry import OPERATION_DURATION
from tests.conformance.registry import Case, Restartable
from tests.observability.telemetry_fixture import (
    Captured,
    all_attribute_values,
    attrs,
    captured_telemetry,
)

BOUND_SECONDS = 15.0


def restartable_cases(cases: dict[str, Case]) -> list[str]:
    """The cases with a server to lose (the embedded backends have none)."""
    return sorted(name for name, case in cases.items() if case.restartable is not None)


@contextmanager
def start_own(case: Case, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Restartable]:
    """Start the case's restartable stand-in with the SDK's variables set; stop it after."""
    case.skip_without_its_extra()
    assert case.restartable is not None
    own = case.restartable(workdir)
    for name, value in own.env.items():
        monkeypatch.setenv(name, value)
    try:
        yield own
    finally:
        own.stop()


Client = TypeVar("Client", bound=SharedClient)


def traced_own(
    case: Case,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_client: Callable[[str], Client],
) -> Iterator[tuple[Restartable, Client, Captured]]:
    """A client on a stand-in of the test's own (stopped mid-test), traced from its opening."""
    with start_own(case, workdir, monkeypatch) as own:
        for captured in captured_telemetry():
            client = open_client(own.url)
            try:
                yield own, client, captured
            finally:
                client.close()


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


# Where each block's spans name the operation (database, messaging, workflow client).
_OPERATION_ATTRIBUTES = (semconv.DB_OPERATION, semconv.MESSAGING_OPERATION, semconv.OPERATION)


def traced_unavailable(
    captured: Captured,
    call: Callable[[], object],
    *,
    block: str,
    operation: str,
    secrets: Iterable[str] = (),
    backend: str | None = None,
) -> ReadableSpan:
    """``call`` raises BackendUnavailable within the bound and leaves exactly one span:
    status ERROR, outcome ``unavailable``, the error's type, none of ``secrets`` among
    its attributes; and one more duration count of ``block``/``operation`` with outcome
    ``unavailable``, nothing else. Returns the span."""
    spans_before = len(captured.spans())
    counts_before = _unavailable_counts(captured)
    timed_unavailable(call, backend)
    new = captured.spans()[spans_before:]
    assert len(new) == 1, f"one span for the failed {operation}, got {[s.name for s in new]}"
    span = new[0]
    attributes = attrs(span)
    assert operation in [attributes.get(name) for name in _OPERATION_ATTRIBUTES], attributes
    assert span.status.status_code is StatusCode.ERROR, span.status
    assert attributes.get(semconv.OUTCOME) == "unavailable", attributes
    assert attributes.get(semconv.ERROR_TYPE) == "BackendUnavailable", attributes
    assert semconv.CONFLICT not in attributes
    values = all_attribute_values([span])
    leaked = [secret for secret in secrets if secret and any(secret in v for v in values)]
    assert not leaked, f"secrets among the span's attributes: {leaked}"
    counts = _unavailable_counts(captured)
    added = {key: counts[key] - counts_before.get(key, 0) for key in counts}
    assert {key: n for key, n in added.items() if n} == {(block, operation): 1}, counts
    return span


def _unavailable_counts(captured: Captured) -> dict[tuple[str, str], int]:
    """(block, operation) -> calls recorded with outcome ``unavailable`` so far."""
    return {
        (a[semconv.BLOCK], a[semconv.OPERATION]): point.count
        for a, point in captured.points(OPERATION_DURATION)
        if a[semconv.OUTCOME] == "unavailable"
    }


def secrets_of(env: Mapping[str, str]) -> list[str]:
    """The values of a stand-in's variables that hold credentials (keys, secrets, tokens)."""
    return [value for name, value in env.items() if _SECRET_NAME.search(name)]


_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD", re.IGNORECASE)
