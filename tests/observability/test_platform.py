"""Which exporter a function sets up at cold start, and that a failing one never breaks it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from statekit.observability.platform import (
    AZURE_MODULES,
    GCP_MODULES,
    azure_credential_client_id,
    choose_platform,
    importable,
)

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING = lambda module: True  # noqa: E731  (every exporter package importable)
NOTHING = lambda module: False  # noqa: E731


# --- the choice (pure logic) ---------------------------------------------------------


def test_otlp_endpoint_wins_over_every_cloud() -> None:
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
        "K_SERVICE": "fn",
        "STATEKIT_GCP_TELEMETRY": "1",
    }
    assert choose_platform(environ, EVERYTHING) == "otlp"
    assert choose_platform(environ, NOTHING) == "otlp"  # configure_from_env says if it can


def test_a_signal_specific_otlp_endpoint_is_otlp_too() -> None:
    assert choose_platform({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318"}) == "otlp"


def test_aws_needs_lambda_and_the_stacks_switch() -> None:
    on = {"AWS_LAMBDA_FUNCTION_NAME": "shop-dev-api", "STATEKIT_AWS_TELEMETRY": "1"}
    assert choose_platform(on, NOTHING) == "aws"  # the SDK ships in the package
    assert choose_platform({"AWS_LAMBDA_FUNCTION_NAME": "fn"}, EVERYTHING) is None
    assert choose_platform({**on, "STATEKIT_AWS_TELEMETRY": "0"}, EVERYTHING) is None
    assert choose_platform({"STATEKIT_AWS_TELEMETRY": "1"}, EVERYTHING) is None  # not Lambda


def test_the_collector_layers_otlp_endpoint_wins_over_the_aws_exporters() -> None:
    environ = {
        "AWS_LAMBDA_FUNCTION_NAME": "shop-dev-api",
        "STATEKIT_AWS_TELEMETRY": "1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
    }
    assert choose_platform(environ, EVERYTHING) == "otlp"


def test_azure_needs_the_connection_string_and_the_distro() -> None:
    environ = {"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x"}
    assert choose_platform(environ, EVERYTHING) == "azure"
    assert choose_platform(environ, NOTHING) is None
    assert choose_platform({}, EVERYTHING) is None
    only_gcp = lambda module: module in GCP_MODULES  # noqa: E731
    assert choose_platform(environ, only_gcp) is None


def test_gcp_needs_the_service_the_switch_and_both_exporters() -> None:
    on = {"K_SERVICE": "fn", "STATEKIT_GCP_TELEMETRY": "1"}
    assert choose_platform(on, EVERYTHING) == "gcp"
    assert choose_platform({"K_SERVICE": "fn"}, EVERYTHING) is None
    assert choose_platform({**on, "STATEKIT_GCP_TELEMETRY": "0"}, EVERYTHING) is None
    assert choose_platform({"STATEKIT_GCP_TELEMETRY": "1"}, EVERYTHING) is None
    trace_only = lambda module: module == GCP_MODULES[0]  # noqa: E731
    assert choose_platform(on, trace_only) is None


def test_azure_is_chosen_before_gcp_when_both_look_present() -> None:
    environ = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
        "K_SERVICE": "fn",
        "STATEKIT_GCP_TELEMETRY": "1",
    }
    assert choose_platform(environ, EVERYTHING) == "azure"
    no_azure = lambda module: module not in AZURE_MODULES  # noqa: E731
    assert choose_platform(environ, no_azure) == "gcp"


def test_nothing_set_means_nothing_configured() -> None:
    assert choose_platform({}, EVERYTHING) is None


@pytest.mark.parametrize(
    ("authentication", "expected"),
    [
        ("Authorization=AAD", (True, None)),
        ("Authorization=AAD;ClientId=1234-abcd", (True, "1234-abcd")),
        ("", (False, None)),
        ("Authorization=Key", (False, None)),
    ],
)
def test_azure_authentication_string(
    authentication: str, expected: tuple[bool, str | None]
) -> None:
    assert azure_credential_client_id(authentication) == expected


def test_importable_answers_for_missing_parents() -> None:
    assert importable("statekit.observability.platform")
    assert not importable("statekit_no_such_package.sub")


# --- for real, in a fresh interpreter (global providers are set once per process) -----

CHILD = textwrap.dedent(
    """
    import json, logging, os, sys
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from statekit.observability import platform, telemetry
    chosen = platform.configure_for_platform("platform-test")
    again = platform.configure_for_platform("platform-test")
    done = platform.configured()
    print(json.dumps({
        "chosen": chosen,
        "again": again,
        "instrumented": telemetry.active() is not None,
        "exporters": list(done.exporters) if done else [],
    }))
    sys.stdout.flush()
    os._exit(0)  # no shutdown export: nothing here may reach Google
    """
)


def _run(env_extra: dict[str, str], tmp_path: Path) -> tuple[dict[str, object], str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "APPLICATIONINSIGHTS_", "GOOGLE_", "K_SERVICE"))
    }
    env.update({"PYTHONPATH": str(ROOT), "STATEKIT_HOME": str(tmp_path), **env_extra})
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def _credentials(tmp_path: Path) -> str:
    # An authorized-user file of made-up values: google.auth.default() loads it without
    # any network, so the exporters can be built; nothing is ever sent.
    path = tmp_path / "adc.json"
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "statekit-test",
                "client_secret": "not-a-secret",
                "refresh_token": "not-a-token",
            }
        )
    )
    return str(path)


GCP_PRESENT = all(importable(module) for module in GCP_MODULES)


def test_on_gcp_with_the_switch_the_google_exporters_are_set_up_or_nothing(
    tmp_path: Path,
) -> None:
    result, _ = _run(
        {
            "K_SERVICE": "orders",
            "STATEKIT_GCP_TELEMETRY": "1",
            "GOOGLE_CLOUD_PROJECT": "statekit-test",
            "GOOGLE_APPLICATION_CREDENTIALS": _credentials(tmp_path),
        },
        tmp_path,
    )
    if GCP_PRESENT:  # the otel-gcp extra is installed here: Cloud Trace + Cloud Monitoring
        assert result == {
            "chosen": "gcp",
            "again": "gcp",
            "instrumented": True,
            "exporters": ["CloudTraceSpanExporter", "CloudMonitoringMetricsExporter"],
        }
    else:  # documented: without the exporters, nothing is configured
        print("opentelemetry-exporter-gcp-trace/-monitoring absent: checking the no-op path")
        assert result["chosen"] is None
        assert result["instrumented"] is False


def test_on_gcp_without_the_switch_nothing_is_set_up(tmp_path: Path) -> None:
    result, _ = _run({"K_SERVICE": "orders"}, tmp_path)
    assert result["chosen"] is None
    assert result["instrumented"] is False


@pytest.mark.skipif(not GCP_PRESENT, reason="the otel-gcp extra is not installed")
def test_a_failing_exporter_is_logged_and_the_cold_start_goes_on(tmp_path: Path) -> None:
    result, stderr = _run(
        {
            "K_SERVICE": "orders",
            "STATEKIT_GCP_TELEMETRY": "1",
            "GOOGLE_CLOUD_PROJECT": "statekit-test",
            "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "missing.json"),
        },
        tmp_path,
    )
    assert result["chosen"] is None and result["again"] is None
    assert result["instrumented"] is False
    assert "configuring gcp export failed" in stderr
