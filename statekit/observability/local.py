"""Telemetry of ``statekit dev``: each request's state operations shown, OTLP when asked.

- shown: an SDK ``TracerProvider`` with a ``RequestOperations`` processor, given to
  ``configure``. Item keys are put on the spans here (``record_keys``) because this
  is the developer's own machine and its own data; values never are. With an OTLP
  export on as well, keys follow ``$STATEKIT_TRACE_KEYS`` as on the clouds (the
  spans leave the process) and the lines name partitions.
- exported: ``OTEL_EXPORTER_OTLP_ENDPOINT`` set: ``configure_from_env``, as on the clouds.

A failure here is printed and the server runs without it: telemetry is secondary.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statekit.observability.export import configure_from_env
from statekit.observability.telemetry import configure, reset

if TYPE_CHECKING:
    from statekit.observability.request_operations import RequestOperations


@dataclass
class LocalTelemetry:
    """What ``configure_for_dev`` set up; ``shutdown`` exports what is left and undoes it."""

    operations: RequestOperations | None
    tracer_provider: Any
    meter_provider: Any
    exporting: bool

    def shutdown(self) -> None:
        if self.operations is not None:
            reset()
        for provider in (self.tracer_provider, self.meter_provider):
            if provider is None:
                continue
            try:
                provider.shutdown()  # a last export for the OTLP ones
            except Exception as exc:
                _warn(f"stopping telemetry failed: {type(exc).__name__}: {exc}")


def configure_for_dev(
    show_operations: bool, service_name: str | None = None
) -> LocalTelemetry | None:
    """Set up what ``statekit dev`` shows and exports; None when neither is on."""
    try:
        return _configure(show_operations, service_name)
    except Exception as exc:  # never stops the dev server
        _warn(f"telemetry not set up: {type(exc).__name__}: {exc}")
        return None


def _configure(show_operations: bool, service_name: str | None) -> LocalTelemetry | None:
    exported = configure_from_env(service_name)
    tracer_provider, meter_provider = exported if exported is not None else (None, None)
    if not show_operations:
        if exported is None:
            return None
        return LocalTelemetry(None, tracer_provider, meter_provider, exporting=True)
    try:
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        _warn(
            "state operations are not shown: install the otel extra (pip install 'statekit[otel]')"
        )
        return None
    from statekit.observability.request_operations import RequestOperations

    if tracer_provider is None:
        tracer_provider = TracerProvider()
    operations = RequestOperations()
    tracer_provider.add_span_processor(operations)
    # Keys only while they stay on this machine (see the module's docstring).
    configure(tracer_provider, meter_provider, record_keys=None if exported else True)
    return LocalTelemetry(
        operations, tracer_provider, meter_provider, exporting=exported is not None
    )


def _warn(message: str) -> None:
    print(f"statekit dev: {message}", file=sys.stderr, flush=True)
