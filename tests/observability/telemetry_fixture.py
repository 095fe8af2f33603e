"""In-memory OpenTelemetry providers for the observability tests (the SDK's own exporters)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from statekit import observability


@dataclass
class Captured:
    spans_exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self) -> list[ReadableSpan]:
        return list(self.spans_exporter.get_finished_spans())

    def points(self, metric_name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, data point) of every point of ``metric_name`` collected so far."""
        found: list[tuple[dict[str, Any], Any]] = []
        data = self.reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else []:
            for scope in resource_metrics.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == metric_name:
                        found.extend((dict(p.attributes or {}), p) for p in metric.data.data_points)
        return found


def captured_telemetry(record_keys: bool = False) -> Iterator[Captured]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    observability.configure(tracer_provider, meter_provider, record_keys=record_keys)
    try:
        yield Captured(exporter, reader)
    finally:
        observability.reset()
        tracer_provider.shutdown()
        meter_provider.shutdown()


@contextmanager
def telemetry_scope(record_keys: bool = False) -> Iterator[Captured]:
    """``captured_telemetry`` as a ``with`` block, for tests that make closures inside it."""
    yield from captured_telemetry(record_keys)


@pytest.fixture
def telemetry() -> Iterator[Captured]:
    yield from captured_telemetry()


def all_attribute_values(spans: list[ReadableSpan]) -> list[str]:
    return [str(value) for span in spans for value in (span.attributes or {}).values()]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})
