"""With tracing on, the Lambda package carries the OpenTelemetry SDK, and it runs from there alone.

The package is staged as for a stack, then a child interpreter with no site-packages
(``-I -S``: only the standard library and the package, as the code directory is on
Lambda, where the runtime adds boto3) sets up the ``aws`` platform, makes a state
operation under an invocation segment, and must write EMF and send a subsegment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from modules.aws.package import stage_package
from modules.common.package import code_packages
from modules.common.settings import (
    Components,
    FunctionsSettings,
    ObservabilitySettings,
    StackSettings,
)
from tests.observability.xray_daemon import xray_daemon

THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
PACKAGES = code_packages(
    ["handlers"]
)  # the example App's code and statekit, as a stack stages them
ROOT_ID = "1-6942a0b1-0123456789abcdef01234567"
PARENT_ID = "a1b2c3d4e5f60718"


def _stack(tracing: bool) -> StackSettings:
    # x86_64 and this interpreter's version: the child below runs the package here.
    return StackSettings(
        env="dev",
        cloud="aws",
        region="eu-west-1",
        owner="team",
        components=Components(cache=False),
        functions=FunctionsSettings(runtime=THIS_RUNTIME, architecture="x86_64"),  # type: ignore[arg-type]
        observability=ObservabilitySettings(tracing=tracing),
    )


def test_the_package_has_the_sdk_only_when_tracing_is_on() -> None:
    traced = stage_package(_stack(tracing=True), PACKAGES)
    bare = stage_package(_stack(tracing=False), PACKAGES)
    assert (traced / "opentelemetry" / "sdk" / "trace" / "__init__.py").is_file()
    assert (traced / "typing_extensions.py").is_file()
    (api_info,) = traced.glob("opentelemetry_api-*.dist-info")
    assert "contextvars_context" in (api_info / "entry_points.txt").read_text()
    # The otel extra's pins (the OTLP exporter for a collector layer), not every
    # distribution of the namespace installed here (Google's or Azure's exporters).
    assert (traced / "opentelemetry" / "exporter" / "otlp").is_dir()
    assert not (traced / "opentelemetry" / "exporter" / "cloud_trace").exists()
    assert not (traced / "azure").exists()
    assert not (bare / "opentelemetry").exists()


CHILD = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {package!r})
    import statekit
    from statekit.observability import platform
    chosen = platform.configure_for_platform()
    with platform.invocation_scope():
        with statekit.open_store("memory://") as store:
            store.put("orders/o-1", {{"n": 1}})
    platform.flush_platform()
    import opentelemetry.trace
    sys.stderr.write("RESULT " + json.dumps({{
        "chosen": chosen,
        "sdk_from": opentelemetry.trace.__file__,
    }}) + "\\n")
    """
)


def test_the_staged_package_alone_exports_on_lambda(tmp_path: Path) -> None:
    package = stage_package(_stack(tracing=True), PACKAGES)
    with xray_daemon() as daemon:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", CHILD.format(package=str(package))],
            env={
                "AWS_LAMBDA_FUNCTION_NAME": "shop-dev-api",
                "STATEKIT_AWS_TELEMETRY": "1",
                "STATEKIT_METRICS_NAMESPACE": "statekit/shop-dev",
                "STATEKIT_HOME": str(tmp_path),
                "AWS_XRAY_DAEMON_ADDRESS": daemon.address,
                "_X_AMZN_TRACE_ID": f"Root={ROOT_ID};Parent={PARENT_ID};Sampled=1",
            },
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        (subsegment,) = daemon.receive(1)
    result = json.loads(
        next(line for line in done.stderr.splitlines() if line.startswith("RESULT "))[7:]
    )
    assert result["chosen"] == "aws"
    assert result["sdk_from"].startswith(str(package)), "the SDK came from the package"
    (document,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert document["statekit.operation"] == "put"
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "statekit/shop-dev"
    assert subsegment["trace_id"] == ROOT_ID and subsegment["parent_id"] == PARENT_ID
