"""The EMF exporter's lines, one by one, against the specification and what the dashboard reads.

The dashboard's SEARCH queries and the state-error alarm name the dimension sets
``DIMENSION_SETS`` (modules/aws/dashboard.py imports them from statekit.observability.emf)
and the instruments ``METRICS``; tests/iac/test_aws_observability.py checks the
synthesized dashboard against the same lines.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult, MetricsData

from statekit.observability import semconv
from statekit.observability.emf import (
    DIMENSION_SETS,
    MAX_DIMENSIONS,
    MAX_METRICS,
    EmfMetricExporter,
    documents,
)
from statekit.observability.telemetry import (
    CACHE_REQUESTS,
    IDEMPOTENCY_REPLAYS,
    METRICS,
    OPERATION_DURATION,
    QUEUE_MESSAGES,
    WORKFLOW_RUNS,
)
from tests.observability.emf_workload import NAMESPACE, emf_lines

# CloudWatch's unit names (MetricDatum).
UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Percent", "Count", "None"}
SETS = [list(dims) for dims in DIMENSION_SETS]


def check_document(line: str, started_ms: int, ended_ms: int) -> dict[str, Any]:
    """One line = one valid EMF document of statekit's namespace, sets and metrics."""
    assert line.endswith("\n") and line.count("\n") == 1, repr(line)
    document = json.loads(line)
    metadata = document["_aws"]
    assert set(metadata) == {"Timestamp", "CloudWatchMetrics"}
    assert isinstance(metadata["Timestamp"], int)
    assert started_ms <= metadata["Timestamp"] <= ended_ms, "epoch milliseconds, now"
    assert metadata["CloudWatchMetrics"], "a directive"
    for directive in metadata["CloudWatchMetrics"]:
        assert set(directive) == {"Namespace", "Dimensions", "Metrics"}
        assert directive["Namespace"] == NAMESPACE
        assert directive["Dimensions"], "at least one dimension set"
        for dims in directive["Dimensions"]:
            assert dims in SETS, f"{dims} is not a set the dashboard reads"
            assert len(dims) <= MAX_DIMENSIONS
            for name in dims:
                value = document[name]
                assert isinstance(value, str) and value.strip() and value.isascii(), (name, value)
        assert 1 <= len(directive["Metrics"]) <= MAX_METRICS
        for definition in directive["Metrics"]:
            assert set(definition) == {"Name", "Unit"}
            assert definition["Name"] in METRICS
            assert definition["Unit"] in UNITS
            check_value(document[definition["Name"]])
    return dict(document)


def check_value(value: Any) -> None:
    if isinstance(value, dict):  # a histogram's statistic set
        assert set(value) == {"Count", "Sum", "Min", "Max"}
        assert value["Count"] >= 1 and value["Min"] <= value["Max"]
        assert value["Min"] * value["Count"] <= value["Sum"] + 1e-12
    else:
        assert isinstance(value, int | float) and not isinstance(value, bool)


def metric_sets(documents_: list[dict[str, Any]]) -> set[tuple[str, tuple[str, ...]]]:
    return {
        (definition["Name"], tuple(dims))
        for document in documents_
        for directive in document["_aws"]["CloudWatchMetrics"]
        for dims in directive["Dimensions"]
        for definition in directive["Metrics"]
    }


def test_every_line_is_an_emf_document_under_the_dashboards_dimension_sets(
    tmp_path: Path,
) -> None:
    started = int(time.time() * 1000)
    lines = emf_lines(tmp_path)
    ended = int(time.time() * 1000)
    assert lines
    documents_ = [check_document(line, started, ended) for line in lines]
    # What the dashboard's panels and the alarm read, each written at least once.
    assert metric_sets(documents_) == {
        (OPERATION_DURATION, tuple(DIMENSION_SETS[0])),
        (OPERATION_DURATION, tuple(DIMENSION_SETS[1])),
        (CACHE_REQUESTS, tuple(DIMENSION_SETS[2])),
        (CACHE_REQUESTS, tuple(DIMENSION_SETS[3])),
        (QUEUE_MESSAGES, tuple(DIMENSION_SETS[4])),
        (WORKFLOW_RUNS, tuple(DIMENSION_SETS[5])),
    }
    units = {
        definition["Name"]: definition["Unit"]
        for document in documents_
        for directive in document["_aws"]["CloudWatchMetrics"]
        for definition in directive["Metrics"]
    }
    assert units == {
        OPERATION_DURATION: "Seconds",
        CACHE_REQUESTS: "Count",
        QUEUE_MESSAGES: "Count",
        WORKFLOW_RUNS: "Count",
    }


def test_the_alarms_outcomes_and_the_cache_ratio_come_out_as_counted(tmp_path: Path) -> None:
    documents_ = [json.loads(line) for line in emf_lines(tmp_path)]
    store_puts = [
        d
        for d in documents_
        if d.get(semconv.BLOCK) == "store" and d.get(semconv.OPERATION) == "put"
    ]
    by_outcome = {d[semconv.OUTCOME]: d[OPERATION_DURATION] for d in store_puts}
    assert set(by_outcome) == {"ok", "conflict"}  # the workload's one Conflict
    # (the local workflow executor's own puts are counted among the ok ones)
    assert by_outcome["conflict"]["Count"] == 1 and by_outcome["ok"]["Count"] >= 1
    hits = {d[semconv.CACHE_HIT]: d[CACHE_REQUESTS] for d in documents_ if CACHE_REQUESTS in d}
    assert hits == {"true": 1, "false": 1}
    # No set fits the replays' attributes: not written (the collector drops them alike).
    assert not any(IDEMPOTENCY_REPLAYS in line for line in emf_lines(tmp_path / "again"))


def _collected(reader: InMemoryMetricReader) -> MetricsData:
    data = reader.get_metrics_data()
    assert data is not None, "something was recorded"
    return data


def _provider() -> tuple[MeterProvider, InMemoryMetricReader]:
    reader = InMemoryMetricReader(
        preferred_temporality=EmfMetricExporter(NAMESPACE)._preferred_temporality
    )
    return MeterProvider(metric_readers=[reader]), reader


def test_counters_and_histograms_are_deltas_and_a_histogram_is_a_statistic_set() -> None:
    provider, reader = _provider()
    meter = provider.get_meter("statekit")
    duration = meter.create_histogram(OPERATION_DURATION, unit="s")
    requests = meter.create_counter(CACHE_REQUESTS)
    attributes = {semconv.BLOCK: "store", semconv.BACKEND: "dynamodb"}
    op = {**attributes, semconv.OPERATION: "get", semconv.OUTCOME: "ok"}
    for seconds in (0.002, 0.004, 0.009):
        duration.record(seconds, op)
    requests.add(5, {**attributes, semconv.CACHE_HIT: "true"})
    first = documents(_collected(reader), NAMESPACE)
    duration.record(0.001, op)
    second = documents(_collected(reader), NAMESPACE)
    provider.shutdown()

    (stats,) = [d[OPERATION_DURATION] for d in first if OPERATION_DURATION in d]
    assert stats == {"Count": 3, "Sum": pytest.approx(0.015), "Min": 0.002, "Max": 0.009}
    assert [d[CACHE_REQUESTS] for d in first if CACHE_REQUESTS in d] == [5]
    # The second collection holds only what happened since the first.
    assert [d[OPERATION_DURATION] for d in second] == [
        {"Count": 1, "Sum": 0.001, "Min": 0.001, "Max": 0.001}
    ]


def test_more_than_100_metrics_of_one_attribute_set_are_split_across_documents() -> None:
    provider, reader = _provider()
    meter = provider.get_meter("statekit")
    for index in range(150):
        meter.create_counter(f"statekit.test.c{index}").add(index + 1, {semconv.OUTCOME: "ok"})
    meter.create_counter("other.library.calls").add(1, {semconv.OUTCOME: "ok"})
    found = documents(_collected(reader), NAMESPACE)
    provider.shutdown()
    sizes = sorted(
        sum(len(d["Metrics"]) for d in doc["_aws"]["CloudWatchMetrics"]) for doc in found
    )
    assert sizes == [50, 100]
    names = [
        m["Name"] for doc in found for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    ]
    assert len(names) == len(set(names)) == 150
    assert all(name.startswith("statekit.") for name in names), "other libraries' are left out"
    assert all(
        doc[name] == int(name.rsplit("c", 1)[1]) + 1
        for doc in found
        for name in doc
        if name.startswith("statekit.test.")
    )


def test_a_dimension_value_cloudwatch_refuses_drops_that_set_only() -> None:
    provider, reader = _provider()
    counter = provider.get_meter("statekit").create_counter(CACHE_REQUESTS)
    counter.add(1, {semconv.BLOCK: "cache", semconv.BACKEND: "rédis", semconv.CACHE_HIT: "true"})
    (document,) = documents(_collected(reader), NAMESPACE)
    provider.shutdown()
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [[semconv.CACHE_HIT]]  # not the set naming the backend


class Writes(io.StringIO):
    """Records each write call (the exporter's contract: one call per whole line)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


def test_each_document_is_written_in_one_call_and_flushed() -> None:
    provider, reader = _provider()
    meter = provider.get_meter("statekit")
    meter.create_counter(CACHE_REQUESTS).add(2, {semconv.CACHE_HIT: "false"})
    meter.create_counter(WORKFLOW_RUNS).add(1, {"statekit.workflow.event": "started"})
    stream = Writes()
    result = EmfMetricExporter(NAMESPACE, stream=stream).export(_collected(reader))
    provider.shutdown()
    assert result is MetricExportResult.SUCCESS
    assert len(stream.calls) == 2
    for call in stream.calls:
        assert call.endswith("\n") and call.count("\n") == 1
        json.loads(call)


class Broken(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError("stdout closed")


def test_a_failing_stream_is_a_failed_export_never_an_exception() -> None:
    provider, reader = _provider()
    provider.get_meter("statekit").create_counter(CACHE_REQUESTS).add(1, {semconv.CACHE_HIT: "x"})
    result = EmfMetricExporter(NAMESPACE, stream=Broken()).export(_collected(reader))
    provider.shutdown()
    assert result is MetricExportResult.FAILURE


def test_the_namespace_and_the_dimension_sets_are_checked_at_construction() -> None:
    with pytest.raises(ValueError, match="namespace"):
        EmfMetricExporter(" ")
    with pytest.raises(ValueError, match="31 dimensions: 1 to 30"):
        EmfMetricExporter(NAMESPACE, dimension_sets=[[f"d{i}" for i in range(31)]])
    with pytest.raises(ValueError, match="0 dimensions"):
        EmfMetricExporter(NAMESPACE, dimension_sets=[[]])
