"""statekit's metrics as CloudWatch embedded-metric-format (EMF) lines on standard output.

On Lambda, standard output goes to CloudWatch Logs, which extracts the metrics of
every EMF document it finds there: no collector, no network call, no IAM permission
beyond writing logs. The documents follow the specification
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
one JSON object per line, ``_aws`` holding the Timestamp in milliseconds and the
``CloudWatchMetrics`` directives (Namespace, Dimensions, Metrics with Name and Unit),
each dimension and each metric value a top-level member; at most 100 metrics per
document and 30 dimensions per dimension set.

The dimension sets are ``DIMENSION_SETS``, the ones the stack's dashboard SEARCH
queries and state-error alarm name (modules/aws/dashboard.py imports them from here,
and gives the same list to the ADOT collector when a collector layer is used). A
data point is written under every set whose dimensions its attributes all carry;
a point that fits no set is not written (the collector's metric declarations drop
it alike). Counters are exported as deltas; a histogram becomes the statistic set
``{"Count", "Sum", "Min", "Max"}`` (as the collector writes it), which answers the
dashboard's SampleCount and Sum exactly.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    Sum,
)
from opentelemetry.sdk.metrics.export import Histogram as HistogramData

from statekit.observability import semconv

# The sets the dashboard and the alarm read (module docstring). QUEUE_EVENT and
# WORKFLOW_EVENT are the attribute names the queue and workflow wrappers write.
DIMENSION_SETS: tuple[tuple[str, ...], ...] = (
    (semconv.BLOCK, semconv.BACKEND, semconv.OPERATION, semconv.OUTCOME),
    (semconv.OUTCOME,),
    (semconv.BLOCK, semconv.BACKEND, semconv.CACHE_HIT),
    (semconv.CACHE_HIT,),
    (semconv.BLOCK, semconv.BACKEND, "statekit.queue.event"),
    ("statekit.workflow.event",),
)
METRIC_PREFIX = "statekit."  # only statekit's instruments, like the collector's selector
MAX_METRICS = 100  # per document (EMF specification)
MAX_DIMENSIONS = 30  # per dimension set (EMF specification)
MAX_DIMENSION_VALUE = 1024  # characters, ASCII, not blank (CloudWatch's Dimension)
# OpenTelemetry (UCUM) units CloudWatch has a name for; the rest are "None", or
# "Count" for a counter without a unit.
UNITS = {"s": "Seconds", "ms": "Milliseconds", "us": "Microseconds", "By": "Bytes", "%": "Percent"}
# Deltas for what adds up (a document holds what happened since the last one);
# up-down counters and gauges stay cumulative: their value is a level.
DELTA_TEMPORALITY: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.DELTA,
    Histogram: AggregationTemporality.DELTA,
    ObservableCounter: AggregationTemporality.DELTA,
    UpDownCounter: AggregationTemporality.CUMULATIVE,
    ObservableUpDownCounter: AggregationTemporality.CUMULATIVE,
    ObservableGauge: AggregationTemporality.CUMULATIVE,
}

_log = logging.getLogger("statekit.observability")

Attributes = Mapping[str, Any]
_Entry = tuple[str, str, Any, tuple[tuple[str, ...], ...]]  # name, unit, value, dimension sets


def check_dimension_sets(dimension_sets: Sequence[Sequence[str]]) -> None:
    """Each set names 1 to 30 dimensions, each a non-empty string (EMF specification)."""
    for dims in dimension_sets:
        if not 1 <= len(dims) <= MAX_DIMENSIONS:
            raise ValueError(
                f"EMF dimension set {list(dims)} has {len(dims)} dimensions: 1 to "
                f"{MAX_DIMENSIONS} are allowed"
            )
        if not all(isinstance(name, str) and name for name in dims):
            raise ValueError(f"EMF dimension set {list(dims)}: every name must be a string")


def documents(
    metrics_data: MetricsData,
    namespace: str,
    dimension_sets: Sequence[Sequence[str]] = DIMENSION_SETS,
) -> list[dict[str, Any]]:
    """The EMF documents of one collection: one per (timestamp, attribute set), <= 100 metrics."""
    sets = tuple(tuple(dims) for dims in dimension_sets)
    groups: dict[tuple[int, tuple[tuple[str, Any], ...]], list[_Entry]] = {}
    for resource_metrics in metrics_data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if not metric.name.startswith(METRIC_PREFIX):
                    continue
                unit = _unit(metric.unit, metric.data)
                for point in metric.data.data_points:
                    value = _value(metric.data, point)
                    attributes = dict(point.attributes or {})
                    matching = tuple(d for d in sets if _fits(d, attributes))
                    if value is None or not matching:
                        continue
                    key = (point.time_unix_nano // 1_000_000, _frozen(attributes))
                    groups.setdefault(key, []).append((metric.name, unit, value, matching))
    return [
        _document(namespace, timestamp, dict(frozen), chunk)
        for (timestamp, frozen), entries in groups.items()
        for chunk in _chunks(entries)
    ]


def _chunks(entries: list[_Entry]) -> list[list[_Entry]]:
    """At most 100 metrics a document, and a name once in it (its value is one member)."""
    chunks: list[list[_Entry]] = []
    for entry in entries:
        chunk = next(
            (c for c in chunks if len(c) < MAX_METRICS and all(e[0] != entry[0] for e in c)),
            None,
        )
        if chunk is None:
            chunks.append([entry])
        else:
            chunk.append(entry)
    return chunks


def _document(
    namespace: str, timestamp: int, attributes: Attributes, entries: list[_Entry]
) -> dict[str, Any]:
    directives: dict[tuple[tuple[str, ...], ...], list[dict[str, str]]] = {}
    for name, unit, _, sets in entries:
        directives.setdefault(sets, []).append({"Name": name, "Unit": unit})
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [
                {"Namespace": namespace, "Dimensions": [list(d) for d in sets], "Metrics": names}
                for sets, names in directives.items()
            ],
        }
    }
    # Every attribute is a member (the dimensions must be; the others help Logs Insights).
    for key, value in attributes.items():
        document[key] = list(value) if isinstance(value, tuple) else value
    for name, _, value, _ in entries:
        document[name] = value  # a metric's value wins over a namesake attribute
    return document


def _fits(dims: tuple[str, ...], attributes: Attributes) -> bool:
    for name in dims:
        value = attributes.get(name)
        if not (
            isinstance(value, str)
            and value.strip()
            and value.isascii()
            and len(value) <= MAX_DIMENSION_VALUE
        ):
            return False
    return True


def _frozen(attributes: Attributes) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(attributes.items()))


def _unit(unit: str | None, data: Any) -> str:
    if unit in UNITS:
        return UNITS[unit]
    if not unit and isinstance(data, Sum) and data.is_monotonic:
        return "Count"
    return "None"


def _value(data: Any, point: Any) -> Any:
    """A number, or the statistic set of a histogram; None for an empty histogram."""
    if isinstance(data, HistogramData | ExponentialHistogram):
        if not point.count:
            return None
        return {"Count": point.count, "Sum": point.sum, "Min": point.min, "Max": point.max}
    return point.value


class EmfMetricExporter(MetricExporter):
    """Writes each collection as EMF documents, one line (one ``write``) per document.

    ``stream`` defaults to ``sys.stdout`` as it is at each export: Lambda runtimes
    and emulators may replace it after start-up, and their replacement is where
    the function's output is collected.
    """

    def __init__(
        self,
        namespace: str,
        dimension_sets: Sequence[Sequence[str]] = DIMENSION_SETS,
        stream: TextIO | None = None,
    ) -> None:
        super().__init__(preferred_temporality=dict(DELTA_TEMPORALITY))
        if not namespace or not namespace.strip():
            raise ValueError("EMF export needs a CloudWatch namespace (statekit/<app>-<env>)")
        check_dimension_sets(dimension_sets)
        self.namespace = namespace
        self.dimension_sets = tuple(tuple(dims) for dims in dimension_sets)
        self._stream = stream

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            lines = [
                json.dumps(document, separators=(",", ":"), default=str) + "\n"
                for document in documents(metrics_data, self.namespace, self.dimension_sets)
            ]
            self._write(lines)
        except Exception:  # telemetry is secondary: logged, never raised into the reader
            _log.warning("statekit telemetry: EMF export failed", exc_info=True)
            return MetricExportResult.FAILURE
        return MetricExportResult.SUCCESS

    def _write(self, lines: Iterable[str]) -> None:
        stream = self._stream or sys.stdout
        for line in lines:
            # One write per document, the newline included, so a concurrent log line
            # can only come before or after it, never inside.
            stream.write(line)
        stream.flush()

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True  # every export is written (and flushed) before it returns

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None
