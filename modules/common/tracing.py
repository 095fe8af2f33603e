"""The trace sampler of every function, set through OpenTelemetry's standard variables.

``observability.trace_sample_percent`` below 100 makes the SDK record that share of
traces: ``parentbased_traceidratio`` (a request its platform traced keeps its state
operations' spans; an untraced one is sampled by its trace id), which
``TracerProvider()`` reads from ``OTEL_TRACES_SAMPLER``/``_ARG``. The Azure Monitor
distro reads the same variables but names its ratio sampler
``microsoft.fixed_percentage`` (Application Insights' own sampling, which keeps
its item counts right). An unsampled span costs about a third of a recorded one
(benchmarks/observability_overhead.py); metrics are not sampled. On Lambda without a
collector layer the invocation's X-Ray sampling decision rules instead (statekit's
spans are children of its segment), so the variables matter on the OTLP path there.
"""

from __future__ import annotations

from .settings import StackSettings

SAMPLER_VARIABLE = "OTEL_TRACES_SAMPLER"
SAMPLER_ARGUMENT_VARIABLE = "OTEL_TRACES_SAMPLER_ARG"
RATIO_SAMPLERS = {"azure": "microsoft.fixed_percentage"}
DEFAULT_RATIO_SAMPLER = "parentbased_traceidratio"


def sampling_environment(settings: StackSettings) -> dict[str, str]:
    """The sampler variables for the functions; none when every trace is kept."""
    percent = settings.observability.trace_sample_percent
    if not settings.observability.tracing or percent >= 100:
        return {}
    return {
        SAMPLER_VARIABLE: RATIO_SAMPLERS.get(settings.cloud, DEFAULT_RATIO_SAMPLER),
        SAMPLER_ARGUMENT_VARIABLE: f"{percent / 100:g}",
    }
