"""OTLP export configured from the standard OpenTelemetry variables.

``statekit dev`` and the cloud runtimes call ``configure_from_env()`` at start-up:
with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces/metrics variants) set and the
``otel`` extra installed, traces and metrics go over OTLP/HTTP to that collector
(the ADOT collector layer on Lambda, Azure Monitor's or Google's collector, a local
one); otherwise nothing is set up and statekit stays unwrapped.
"""

from __future__ import annotations

import os
from typing import Any

ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)


def configure_from_env(service_name: str | None = None) -> tuple[Any, Any] | None:
    """Install global SDK providers exporting over OTLP/HTTP; None when not asked or not installed."""
    if not any(os.environ.get(variable) for variable in ENDPOINT_VARIABLES):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
    except ImportError:
        return None
    resource = Resource.create(
        {"service.name": service_name or os.environ.get("OTEL_SERVICE_NAME", "statekit")}
    )
    return install_providers(resource, OTLPSpanExporter(), OTLPMetricExporter())


def install_providers(
    resource: Any,
    span_exporter: Any,
    metric_exporter: Any,
    interval_ms: int | None = None,
    sampler: Any = None,
) -> tuple[Any, Any]:
    """Global providers: spans batched to ``span_exporter``, metrics read every
    ``interval_ms`` (default: ``OTEL_METRIC_EXPORT_INTERVAL`` or 60 s) into
    ``metric_exporter``; the sampler from ``OTEL_TRACES_SAMPLER`` unless given."""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tracer_provider = TracerProvider(resource=resource, sampler=sampler)
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=interval_ms)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider
