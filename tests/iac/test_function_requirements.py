"""What each stack's functions install: the extras its settings call for, pinned as tested.

The cache's client only with a cache (Redis or Memcached), psycopg only with
PostgreSQL, the cloud's telemetry exporter only with tracing; on Lambda everything
but boto3 (the runtime's) is installed by pip for the function's platform, so a
binary wheel (psycopg) matches Lambda's architecture and Python, not this machine's.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pytest

from modules.common.package import PackageNotFound, _expanded, function_extras, pinned_requirements
from modules.common.settings import (
    CacheSettings,
    Components,
    DatabaseSettings,
    FunctionsSettings,
    ObservabilitySettings,
    StackSettings,
)


def settings(cloud: str, **changes: object) -> StackSettings:
    base = StackSettings(env="dev", cloud=cloud, region="r", owner="team")  # type: ignore[arg-type]
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cloud", "changes", "expected"),
    [
        ("aws", {}, ("aws", "redis", "otel")),
        ("azure", {}, ("azure", "redis", "otel-azure")),
        ("gcp", {}, ("gcp", "redis", "otel-gcp")),
        ("aws", {"components": Components(cache=False)}, ("aws", "otel")),
        ("gcp", {"cache": CacheSettings(engine="memcached")}, ("gcp", "memcached", "otel-gcp")),
        (
            "aws",
            {
                "database": DatabaseSettings(engine="postgres"),
                "observability": ObservabilitySettings(tracing=False),
            },
            ("aws", "redis", "postgresql"),
        ),
    ],
)
def test_the_extras_follow_the_stacks_settings(
    cloud: str, changes: dict[str, object], expected: tuple[str, ...]
) -> None:
    assert function_extras(settings(cloud, **changes)) == expected


def test_an_extra_naming_another_brings_its_pins() -> None:
    optional = {
        "otel": ["opentelemetry-api==1", "opentelemetry-sdk==1"],
        "otel-gcp": ["statekit[otel]", "exporter==2"],
    }
    assert _expanded(optional, ["otel-gcp"]) == {
        "opentelemetry-api==1",
        "opentelemetry-sdk==1",
        "exporter==2",
    }
    with pytest.raises(PackageNotFound, match="no extra 'nope'"):
        _expanded({"a": ["statekit[nope]"]}, ["a"])


def test_every_functions_extra_of_the_checkout_resolves_to_plain_pins() -> None:
    for extra in ("otel", "otel-azure", "otel-gcp", "postgresql", "memcached", "redis"):
        pins = pinned_requirements((extra,))
        assert pins and all("==" in pin and not pin.startswith("statekit") for pin in pins), pins


def test_lambda_gets_its_libraries_built_for_its_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL + Memcached stack on arm64: pip installs psycopg's aarch64 wheel for
    Python 3.12 (whatever this machine is), beside pymemcache and OpenTelemetry; boto3
    stays out (the runtime has it). A second stage reuses the installed folder."""
    from modules.aws.package import lambda_requirements, stage_package

    monkeypatch.setenv("STATEKIT_BUILD_DIR", str(tmp_path))
    stack = settings(
        "aws",
        database=DatabaseSettings(engine="postgres"),
        cache=CacheSettings(engine="memcached"),
        functions=FunctionsSettings(architecture="arm64", runtime="python3.12"),
    )
    requirements = lambda_requirements(stack)
    assert not any(pin.startswith(("boto3", "botocore")) for pin in requirements)
    folder = stage_package(stack, ["statekit"])
    top = {path.name for path in folder.iterdir()}
    assert {"statekit", "psycopg", "psycopg_pool", "pymemcache", "opentelemetry"} <= top
    assert "boto3" not in top and "bin" not in top
    (binary,) = (folder / "psycopg_binary").glob("_psycopg*.so")
    assert "cpython-312-aarch64" in binary.name, binary.name
    (installed,) = (tmp_path / "lambda-dependencies").iterdir()
    assert stage_package(stack, ["statekit"]) == folder
    assert [p.name for p in (tmp_path / "lambda-dependencies").iterdir()] == [installed.name]


def test_a_failed_install_names_the_pins_and_the_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modules.aws.package import DependencyInstallFailed, installed_dependencies

    monkeypatch.setenv("STATEKIT_BUILD_DIR", str(tmp_path))
    with pytest.raises(DependencyInstallFailed, match=r"no-such-package-statekit==0\.0\.1.*arm64"):
        installed_dependencies(["no-such-package-statekit==0.0.1"], "python3.12", "arm64")
    assert list((tmp_path / "lambda-dependencies").iterdir()) == []  # nothing half-written


def test_the_package_zip_holds_what_lambda_imports(tmp_path: Path) -> None:
    """The staged folder is what cdktn zips: a plain tree, importable from its root."""
    from modules.aws.package import stage_package

    folder = stage_package(settings("aws", components=Components(cache=False)), ["statekit"])
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as package:
        for path in folder.rglob("*"):
            package.write(path, path.relative_to(folder))
    with zipfile.ZipFile(archive) as package:
        names = set(package.namelist())
    assert "statekit/__init__.py" in names
    assert "opentelemetry/sdk/trace/__init__.py" in names
    assert not any(name.startswith("redis/") for name in names)


@pytest.mark.parametrize(
    ("cloud", "percent", "expected"),
    [
        ("aws", 100, {}),
        (
            "aws",
            10,
            {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"},
        ),
        (
            "gcp",
            25,
            {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
        ),
        (
            "azure",
            5,
            {
                "OTEL_TRACES_SAMPLER": "microsoft.fixed_percentage",
                "OTEL_TRACES_SAMPLER_ARG": "0.05",
            },
        ),
    ],
)
def test_the_sampler_variables_follow_the_share_of_traces(
    cloud: str, percent: int, expected: dict[str, str]
) -> None:
    from modules.common.tracing import sampling_environment

    chosen = settings(cloud, observability=ObservabilitySettings(trace_sample_percent=percent))
    assert sampling_environment(chosen) == expected
    silent = settings(
        cloud, observability=ObservabilitySettings(tracing=False, trace_sample_percent=5)
    )
    assert sampling_environment(silent) == {}


def test_the_sdk_samples_as_the_variables_say(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the functions do with the variables: the SDK's own reading of them."""
    from opentelemetry.sdk.trace import TracerProvider

    from modules.common.tracing import sampling_environment

    chosen = settings("aws", observability=ObservabilitySettings(trace_sample_percent=10))
    for name, value in sampling_environment(chosen).items():
        monkeypatch.setenv(name, value)
    tracer = TracerProvider().get_tracer("statekit")
    recorded = sum(tracer.start_span("op").is_recording() for _ in range(4000))
    assert 250 < recorded < 550  # 10 % of 4000 root spans, by trace id
