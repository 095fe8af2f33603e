"""Observability of state: spans, metrics and a mutation log for every state operation.

Built on OpenTelemetry (the ``otel`` extra), never on anything of statekit's own:
spans follow the database and messaging semantic conventions, metrics go through
the OpenTelemetry metrics API, and each mutation is one JSON record on the
standard ``logging`` logger ``statekit.mutations``.

Nothing is paid when nothing listens: a backend is wrapped only if, when it is
opened, an OpenTelemetry SDK is configured (or ``configure()`` named providers)
or the mutation logger is enabled. Configure telemetry before the first
``open_*`` call (the cloud runtimes and ``statekit dev`` do, at start-up).
"""

from statekit.observability.context import correlation_scope, current_correlation_id
from statekit.observability.export import configure_from_env
from statekit.observability.telemetry import configure, reset

__all__ = [
    "configure",
    "configure_from_env",
    "correlation_scope",
    "current_correlation_id",
    "reset",
]
