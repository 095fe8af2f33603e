"""Telemetry for the cloud the function runs on, set up once at cold start by the runtime adapters.

``configure_for_platform()`` picks, in this order:

1. ``otlp``: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or a traces/metrics variant) is set:
   ``configure_from_env`` (the ADOT collector layer on Lambda, a local collector).
2. ``aws``: ``AWS_LAMBDA_FUNCTION_NAME`` is set (Lambda) and the stack turned it on
   with ``STATEKIT_AWS_TELEMETRY=1``: metrics as embedded-metric-format lines on
   standard output into the namespace ``STATEKIT_METRICS_NAMESPACE`` (emf.py), spans
   as X-Ray subsegments of the invocation to the Lambda X-Ray daemon (xray.py). No
   layer, no network call, no extra permission.
3. ``azure``: ``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set (the stack sets it)
   and the Azure Monitor OpenTelemetry distro (extra ``otel-azure``) is importable:
   the distro, to Application Insights, with the managed identity when
   ``APPLICATIONINSIGHTS_AUTHENTICATION_STRING`` says ``Authorization=AAD``.
4. ``gcp``: ``K_SERVICE`` is set (Cloud Run / Cloud Functions), the stack turned it
   on with ``STATEKIT_GCP_TELEMETRY=1``, and Google's exporters (extra ``otel-gcp``)
   are importable: Cloud Trace and Cloud Monitoring (metrics as
   ``workload.googleapis.com/<instrument>``).
5. nothing: statekit stays unwrapped and pays nothing.

Per invocation, ``invocation_scope()`` gives the platform its say (on ``aws``: the
Lambda segment as the parent of the invocation's spans), and ``flush_platform()``
exports what is buffered before the instance may be frozen.

A failure while configuring is logged and answered with None: telemetry never
breaks a cold start.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from statekit.observability.export import (
    ENDPOINT_VARIABLES,
    configure_from_env,
    install_providers,
)

Platform = Literal["otlp", "aws", "azure", "gcp"]

AZURE_CONNECTION_VARIABLE = "APPLICATIONINSIGHTS_CONNECTION_STRING"
AZURE_AUTHENTICATION_VARIABLE = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"
GCP_SERVICE_VARIABLE = "K_SERVICE"
GCP_SWITCH_VARIABLE = "STATEKIT_GCP_TELEMETRY"
AWS_FUNCTION_VARIABLE = "AWS_LAMBDA_FUNCTION_NAME"
AWS_SWITCH_VARIABLE = "STATEKIT_AWS_TELEMETRY"
AWS_NAMESPACE_VARIABLE = "STATEKIT_METRICS_NAMESPACE"
# Without a flush, metrics still leave once a minute (a long invocation's included).
AWS_EXPORT_INTERVAL_MS = 60_000
AZURE_MODULES = ("azure.monitor.opentelemetry",)
GCP_MODULES = ("opentelemetry.exporter.cloud_trace", "opentelemetry.exporter.cloud_monitoring")
# Cloud Monitoring takes one point per series every 10 s at most; a minute is plenty.
GCP_EXPORT_INTERVAL_MS = 60_000

_log = logging.getLogger("statekit.observability")


def importable(module: str) -> bool:
    """The module can be imported here (found, without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package
        return False


def choose_platform(
    environ: Mapping[str, str], can_import: Callable[[str], bool] = importable
) -> Platform | None:
    """Which exporter this process should set up, from its environment alone."""
    if any(environ.get(variable) for variable in ENDPOINT_VARIABLES):
        return "otlp"
    if environ.get(AWS_FUNCTION_VARIABLE) and environ.get(AWS_SWITCH_VARIABLE, "").strip() == "1":
        return "aws"  # the SDK ships in the function package: a missing one is logged
    if environ.get(AZURE_CONNECTION_VARIABLE) and all(map(can_import, AZURE_MODULES)):
        return "azure"
    if (
        environ.get(GCP_SERVICE_VARIABLE)
        and environ.get(GCP_SWITCH_VARIABLE, "").strip() == "1"
        and all(map(can_import, GCP_MODULES))
    ):
        return "gcp"
    return None


def azure_credential_client_id(authentication: str) -> tuple[bool, str | None]:
    """From ``Authorization=AAD;ClientId=<id>``: (use Entra ID, the user-assigned identity)."""
    fields = dict(part.split("=", 1) for part in authentication.split(";") if "=" in part)
    aad = fields.get("Authorization", "").strip().upper() == "AAD"
    return aad, (fields.get("ClientId") or "").strip() or None


@dataclass(frozen=True)
class PlatformTelemetry:
    """What ``configure_for_platform`` set up: the global providers and their exporters."""

    platform: Platform
    tracer_provider: Any
    meter_provider: Any
    exporters: tuple[str, ...]  # class names, for the log line and for checks


class _Done:
    lock = threading.Lock()
    configured = False
    telemetry: PlatformTelemetry | None = None


def configure_for_platform(service_name: str | None = None) -> Platform | None:
    """Set up the exporter of the cloud the function runs on, once; which one, or None."""
    with _Done.lock:
        if not _Done.configured:
            _Done.configured = True
            _Done.telemetry = _configure(choose_platform(os.environ), service_name)
        return _Done.telemetry.platform if _Done.telemetry else None


def configured() -> PlatformTelemetry | None:
    """What ``configure_for_platform`` set up, if anything."""
    return _Done.telemetry


def invocation_scope() -> AbstractContextManager[Any]:
    """Around one invocation: on ``aws``, its X-Ray segment parents the spans it starts."""
    telemetry = _Done.telemetry
    if telemetry is None or telemetry.platform != "aws":
        return nullcontext()
    try:
        from statekit.observability.xray import TRACE_HEADER_VARIABLE, invocation_context

        return invocation_context(os.environ.get(TRACE_HEADER_VARIABLE))
    except Exception:  # never fails the invocation
        _log.warning("statekit telemetry: no X-Ray parent for this invocation", exc_info=True)
        return nullcontext()


def flush_platform(timeout_millis: int = 5_000) -> None:
    """Export what is buffered now: a function instance may be frozen after its response."""
    telemetry = _Done.telemetry
    if telemetry is None:
        return
    for provider in (telemetry.tracer_provider, telemetry.meter_provider):
        try:
            provider.force_flush(timeout_millis)
        except Exception:  # an export failure never fails the invocation
            _log.warning("statekit telemetry: flush failed", exc_info=True)


def _configure(platform: Platform | None, service_name: str | None) -> PlatformTelemetry | None:
    if platform is None:
        return None
    try:
        exporters = _CONFIGURE[platform](service_name)
        from opentelemetry import metrics, trace

        telemetry = PlatformTelemetry(
            platform, trace.get_tracer_provider(), metrics.get_meter_provider(), exporters
        )
    except Exception:  # telemetry is secondary: a cold start never fails on it
        _log.warning("statekit telemetry: configuring %s export failed", platform, exc_info=True)
        return None
    _log.info("statekit telemetry: %s export (%s)", platform, ", ".join(exporters))
    return telemetry


def _configure_otlp(service_name: str | None) -> tuple[str, ...]:
    if configure_from_env(service_name) is None:
        raise RuntimeError("OTLP export needs the otel extra (opentelemetry-sdk and exporter)")
    return ("OTLPSpanExporter", "OTLPMetricExporter")


def _configure_aws(service_name: str | None) -> tuple[str, ...]:
    namespace = os.environ.get(AWS_NAMESPACE_VARIABLE, "").strip()
    if not namespace:
        raise RuntimeError(
            f"{AWS_SWITCH_VARIABLE}=1 but {AWS_NAMESPACE_VARIABLE} is not set: the stack sets "
            "both (the CloudWatch namespace of the dashboard, statekit/<app>-<env>)"
        )
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

        from statekit.observability.emf import EmfMetricExporter
        from statekit.observability.xray import (
            DAEMON_ADDRESS_VARIABLE,
            XRaySpanExporter,
            daemon_address,
        )
    except ImportError as error:
        raise RuntimeError(
            f"AWS export needs opentelemetry-sdk in the function package ({error}); "
            "modules/aws/package.py adds it when observability.tracing is on"
        ) from error
    name = service_name or os.environ.get("OTEL_SERVICE_NAME") or os.environ[AWS_FUNCTION_VARIABLE]
    # No detectors: the exporters read no resource, and a cold start pays for each one.
    resource = Resource({"service.name": name})
    span_exporter = XRaySpanExporter(daemon_address(os.environ.get(DAEMON_ADDRESS_VARIABLE)))
    metric_exporter = EmfMetricExporter(namespace)
    # Spans only under a sampled invocation segment (xray.invocation_context): Lambda
    # samples, and a span with no segment to hang from would be an orphan.
    install_providers(
        resource,
        span_exporter,
        metric_exporter,
        AWS_EXPORT_INTERVAL_MS,
        sampler=ParentBased(ALWAYS_OFF),
    )
    return (type(span_exporter).__name__, type(metric_exporter).__name__)


def _configure_azure(service_name: str | None) -> tuple[str, ...]:
    from azure.monitor.opentelemetry import configure_azure_monitor

    options: dict[str, Any] = {"logger_name": "statekit"}  # the mutation log, not the host's
    aad, client_id = azure_credential_client_id(os.environ.get(AZURE_AUTHENTICATION_VARIABLE, ""))
    if aad:  # the stack turns Application Insights' local (key) authentication off
        from azure.identity import ManagedIdentityCredential

        options["credential"] = ManagedIdentityCredential(client_id=client_id)
    if service_name:
        from opentelemetry.sdk.resources import Resource

        options["resource"] = Resource.create({"service.name": service_name})
    configure_azure_monitor(**options)
    return ("AzureMonitorTraceExporter", "AzureMonitorMetricExporter", "AzureMonitorLogExporter")


def _configure_gcp(service_name: str | None) -> tuple[str, ...]:
    from opentelemetry.exporter.cloud_monitoring import CloudMonitoringMetricsExporter
    from opentelemetry.exporter.cloud_trace import CloudTraceSpanExporter
    from opentelemetry.sdk.resources import Resource

    name = service_name or os.environ.get("OTEL_SERVICE_NAME") or os.environ[GCP_SERVICE_VARIABLE]
    resource = _gcp_resource().merge(Resource.create({"service.name": name}))
    span_exporter = CloudTraceSpanExporter()  # type: ignore[no-untyped-call]
    metric_exporter = CloudMonitoringMetricsExporter()
    install_providers(resource, span_exporter, metric_exporter, GCP_EXPORT_INTERVAL_MS)
    return (type(span_exporter).__name__, type(metric_exporter).__name__)


def _gcp_resource() -> Any:
    """The Cloud Run / Functions resource (one monitored resource type for every series)."""
    from opentelemetry.sdk.resources import Resource

    if not importable("opentelemetry.resourcedetector.gcp_resource_detector"):
        return Resource.get_empty()
    from opentelemetry.resourcedetector.gcp_resource_detector import GoogleCloudResourceDetector

    try:
        return GoogleCloudResourceDetector().detect()
    except Exception:  # no metadata server: the exporter falls back to a generic resource
        _log.info("statekit telemetry: no GCP resource detected", exc_info=True)
        return Resource.get_empty()


_CONFIGURE: dict[Platform, Callable[[str | None], tuple[str, ...]]] = {
    "otlp": _configure_otlp,
    "aws": _configure_aws,
    "azure": _configure_azure,
    "gcp": _configure_gcp,
}
