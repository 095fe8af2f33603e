"""statekit's spans as X-Ray subsegments of the Lambda invocation, sent to the X-Ray daemon.

With active tracing, Lambda records a segment per invocation and hands its trace
to the function in ``_X_AMZN_TRACE_ID`` (``Root=1-…;Parent=<segment id>;Sampled=1``).
``invocation_context`` makes that segment the OpenTelemetry parent of the spans an
invocation starts, with its sampling decision: the tracer provider samples by
parent only, so an unsampled invocation (or a span outside any invocation) records
nothing and costs the SDK's no-op span. ``XRaySpanExporter`` sends each sampled span
as a subsegment document to the daemon Lambda runs, over UDP at
``AWS_XRAY_DAEMON_ADDRESS``: the header ``{"format":"json","version":1}``, a newline,
the document (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html).

A subsegment keeps the span's own ids (an OpenTelemetry span id is X-Ray's 64-bit
id, a trace id its 128 bits) and the span's attributes as they are: statekit puts
no value and no secret in them. A few low-cardinality ones become annotations
(indexed, searchable: ``annotation.statekit_outcome = "conflict"``), keys made of
letters, digits and ``_``; the rest go to metadata. Downstream calls are named
after the service (``DynamoDB``, ``SQS``, ``SFN`` in namespace ``aws``; ``redis``,
``postgresql``… in namespace ``remote``) so the trace map shows one node per
service; the operation is in the annotations. Outcomes ``unavailable`` and
``error`` set ``fault``, ``invalid`` sets ``error``; a ``conflict`` is an answer,
not a failure, and sets neither (it is annotated).
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from statekit.observability import semconv

TRACE_HEADER_VARIABLE = "_X_AMZN_TRACE_ID"
DAEMON_ADDRESS_VARIABLE = "AWS_XRAY_DAEMON_ADDRESS"
DEFAULT_DAEMON = ("127.0.0.1", 2000)
HEADER = b'{"format":"json","version":1}\n'
MAX_DOCUMENT = 64 * 1024  # bytes, header included: the daemon's datagram
MAX_NAME = 200

# Low-cardinality span attributes worth searching on (X-Ray indexes 50 annotations a
# trace; these are 11 keys), and the correlation id, to find a request's trace.
ANNOTATED = (
    semconv.DB_SYSTEM,
    semconv.DB_OPERATION,
    semconv.MESSAGING_SYSTEM,
    semconv.MESSAGING_OPERATION,
    "statekit.workflow.engine",
    semconv.OPERATION,
    semconv.OUTCOME,
    semconv.CONFLICT,
    semconv.CACHE_HIT,
    semconv.ERROR_TYPE,
    semconv.CORRELATION_ID,
)
# What a call reaches, by its semantic-convention system: AWS services by the name
# their SDK gives them; anything not named here and not local is "remote".
AWS_SERVICES = {"aws.dynamodb": "DynamoDB", "aws_sqs": "SQS", "stepfunctions": "SFN"}
LOCAL_SYSTEMS = frozenset({"sqlite", "statekit.memory", "statekit.sqlite", "local", "memory"})
SYSTEM_ATTRIBUTES = (semconv.DB_SYSTEM, semconv.MESSAGING_SYSTEM, "statekit.workflow.engine")
FAULT_OUTCOMES = frozenset({"unavailable", "error"})

_ROOT = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")
_ID = re.compile(r"[0-9a-f]{16}")
_NOT_KEY = re.compile(r"[^A-Za-z0-9_]")
_NOT_NAME = re.compile(r"[^\w\s.:/%&#=+\\\-@]")

_log = logging.getLogger("statekit.observability")


@dataclass(frozen=True)
class TraceHeader:
    """The parts of ``_X_AMZN_TRACE_ID`` a subsegment needs."""

    root: str  # 1-<8 hex epoch seconds>-<24 hex>
    parent: str  # the invocation segment's id, 16 hex
    sampled: bool


def parse_trace_header(value: str | None) -> TraceHeader | None:
    """``Root=…;Parent=…;Sampled=1`` (other fields, e.g. ``Lineage``, ignored); None if unusable."""
    if not value:
        return None
    fields = dict(
        (key.strip(), item.strip())
        for key, _, item in (part.partition("=") for part in value.split(";"))
    )
    root, parent = fields.get("Root", "").lower(), fields.get("Parent", "").lower()
    if not (_ROOT.fullmatch(root) and _ID.fullmatch(parent)):
        return None
    return TraceHeader(root, parent, fields.get("Sampled") == "1")


def otel_trace_id(root: str) -> int:
    """``1-5759e988-bd862e3fe1be46a994272793`` -> the 128-bit OpenTelemetry trace id."""
    return int(root[2:10] + root[11:], 16)


def xray_trace_id(trace_id: int) -> str:
    digits = format(trace_id, "032x")
    return f"1-{digits[:8]}-{digits[8:]}"


@contextmanager
def invocation_context(header_value: str | None) -> Iterator[TraceHeader | None]:
    """While the invocation runs: its X-Ray segment is the parent of the spans it starts."""
    header = parse_trace_header(header_value)
    if header is None:
        yield None
        return
    parent = SpanContext(
        trace_id=otel_trace_id(header.root),
        span_id=int(header.parent, 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if header.sampled else TraceFlags.DEFAULT),
    )
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        yield header
    finally:
        otel_context.detach(token)


def daemon_address(value: str | None) -> tuple[str, int]:
    """``host:port``, or ``tcp:host:port udp:host:port`` (the UDP one); the default else."""
    if not value or not value.strip():
        return DEFAULT_DAEMON
    parts = value.split()
    chosen = next((p[4:] for p in parts if p.startswith("udp:")), parts[0])
    host, sep, port = chosen.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(
            f"{DAEMON_ADDRESS_VARIABLE}={value!r} is not host:port (nor tcp:host:port udp:host:port)"
        )
    return host.strip("[]"), int(port)


def subsegment(span: ReadableSpan) -> dict[str, Any] | None:
    """The subsegment document of a finished, sampled span with a parent; None for others."""
    span_context, parent = span.context, span.parent
    if (
        span_context is None
        or parent is None
        or not span_context.trace_flags.sampled
        or span.start_time is None
        or span.end_time is None
    ):
        return None
    attributes = dict(span.attributes or {})
    document: dict[str, Any] = {
        "name": span.name,
        "id": format(span_context.span_id, "016x"),
        "trace_id": xray_trace_id(span_context.trace_id),
        "parent_id": format(parent.span_id, "016x"),
        "type": "subsegment",
        "start_time": span.start_time / 1e9,
        "end_time": span.end_time / 1e9,
    }
    system = next((str(attributes[a]) for a in SYSTEM_ATTRIBUTES if a in attributes), None)
    if span.kind is SpanKind.CLIENT and system and system not in LOCAL_SYSTEMS:
        service = AWS_SERVICES.get(system)
        document["name"] = service or system
        document["namespace"] = "aws" if service else "remote"
        if service:
            document["aws"] = _aws_fields(attributes)
    document["name"] = _NOT_NAME.sub("_", document["name"])[:MAX_NAME] or "statekit"
    annotations = {
        _NOT_KEY.sub("_", key): value
        for key in ANNOTATED
        if isinstance(value := attributes.get(key), str | bool | int | float)
    }
    if annotations:
        document["annotations"] = annotations
    rest = {key: value for key, value in attributes.items() if key not in ANNOTATED}
    document["metadata"] = {"statekit": {"span": span.name, **_json_ready(rest)}}
    _flag_failure(document, attributes, span)
    return document


def _aws_fields(attributes: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    operation = attributes.get(semconv.OPERATION) or attributes.get(semconv.DB_OPERATION)
    if operation is None:
        operation = attributes.get(semconv.MESSAGING_OPERATION)
    if operation is not None:
        fields["operation"] = str(operation)
    table = attributes.get(semconv.DB_COLLECTION)
    if table is not None and attributes.get(semconv.DB_SYSTEM) == "aws.dynamodb":
        fields["table_name"] = str(table)
    return fields


def _json_ready(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attributes.items()}


def _flag_failure(document: dict[str, Any], attributes: Mapping[str, Any], span: Any) -> None:
    outcome = attributes.get(semconv.OUTCOME)
    if outcome in {"conflict", "ok"}:
        return
    if outcome in FAULT_OUTCOMES:
        document["fault"] = True
    elif outcome == "invalid":
        document["error"] = True
    elif span.status.status_code is trace.StatusCode.ERROR:
        document["fault"] = True
    else:
        return
    error_type = attributes.get(semconv.ERROR_TYPE)
    if error_type is not None:
        # The class only: an exception's message may quote the data.
        document["cause"] = {"exceptions": [{"id": document["id"], "type": str(error_type)}]}


class XRaySpanExporter(SpanExporter):
    """Sends each sampled span with a parent as one subsegment datagram to the daemon."""

    def __init__(self, address: tuple[str, int] = DEFAULT_DAEMON) -> None:
        family, _, _, _, resolved = socket.getaddrinfo(
            address[0], address[1], type=socket.SOCK_DGRAM
        )[0]
        self.address = resolved  # resolved once: sendto would look the name up each time
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        self._socket.setblocking(False)  # a full buffer drops the datagram, never stalls

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        failed = 0
        for span in spans:
            try:
                document = subsegment(span)
                if document is None:
                    continue
                data = HEADER + json.dumps(document, separators=(",", ":"), default=str).encode()
                if len(data) > MAX_DOCUMENT:
                    document["metadata"] = {"statekit": {"span": span.name, "truncated": True}}
                    data = HEADER + json.dumps(document, separators=(",", ":")).encode()
                self._socket.sendto(data, self.address)
            except Exception:  # one span's failure never stops the others
                failed += 1
        if failed:
            _log.debug("statekit telemetry: %d of %d subsegments not sent", failed, len(spans))
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._socket.close()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # a datagram is sent when exported
