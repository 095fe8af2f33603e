"""Environment files are validated before any construct is made, with one clear error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from modules.common.environment import EnvironmentFileError, load_environments, parse_environment
from modules.common.plan import plan_stacks

ROOT = Path(__file__).resolve().parents[2]
PROD = ROOT / "environments" / "prod.toml"


def prod_data() -> dict[str, Any]:
    with PROD.open("rb") as handle:
        return tomllib.load(handle)


def test_the_three_environments_load() -> None:
    environments = load_environments()
    assert [e.name for e in environments] == ["dev", "staging", "prod"]
    prod = environments[-1]
    assert prod.production
    assert prod.for_cloud("aws").state_backend.kind == "s3"
    assert prod.for_cloud("aws", "shop").stack_name == "shop-aws-prod"
    assert prod.app == "handlers.app:APP"


@pytest.mark.parametrize(
    ("change", "field", "allowed"),
    [
        (
            lambda d: d["cache"].update(engine="memcache"),
            "cache.engine",
            "'valkey', 'redis', 'memcached'",
        ),
        (lambda d: d["queue"].update(max_receive_count=0), "queue.max_receive_count", "1 to 1000"),
        (lambda d: d["database"].update(pitr=True), "database.pitr", "capacity_mode"),
        (lambda d: d.update(clouds=["aws", "oracle"]), "clouds[1]", "'aws', 'azure', 'gcp'"),
        (lambda d: d["aws"].pop("region"), "aws.region", "region"),
        (
            lambda d: d["gcp"].update(state_backend={"kind": "s3", "bucket": "b"}),
            "gcp.state_backend.kind",
            "'local', 'gcs'",
        ),
        (
            lambda d: d["aws"]["state_backend"].pop("bucket"),
            "aws.state_backend.bucket",
            "non-empty",
        ),
        (
            lambda d: d["observability"].update(log_retention_days=100),
            "observability.log_retention_days",
            "365",
        ),
        (lambda d: d["components"].update(cache="yes"), "components.cache", "true, false"),
        (lambda d: d.update(name="production"), "name", "prod"),
        (lambda d: d["tags"].update(team="Platform Team"), "tags.team", "GCP label rules"),
    ],
)
def test_a_bad_field_is_named_with_its_allowed_values(change, field: str, allowed: str) -> None:
    data = prod_data()
    change(data)
    with pytest.raises(EnvironmentFileError) as caught:
        parse_environment(data, PROD)
    error = caught.value
    assert error.field == field
    assert str(PROD) in str(error)
    assert f"field '{field}'" in str(error)
    assert allowed in str(error)


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "dev.toml"
    bad.write_text('name = "dev"\nclouds = [aws]\n')
    with pytest.raises(
        EnvironmentFileError, match=r"dev\.toml: field '\(syntax\)': not valid TOML"
    ):
        load_environments(["dev"], tmp_path)


def test_overrides_select_clouds_and_environments() -> None:
    plan = plan_stacks(envs=["prod"], clouds=["aws", "gcp"], app_name="shop")
    assert [s.stack_name for s in plan] == ["shop-aws-prod", "shop-gcp-prod"]
    with pytest.raises(EnvironmentFileError, match=r"STATEKIT_CLOUDS.*'ibm' is not a cloud"):
        plan_stacks(clouds=["ibm"])
    with pytest.raises(EnvironmentFileError, match=r"no environments/qa\.toml"):
        plan_stacks(envs=["qa"])


def test_main_rejects_a_bad_file_before_synthesizing(tmp_path: Path) -> None:
    envs = tmp_path / "environments"
    envs.mkdir()
    text = PROD.read_text().replace('mode = "serverless"', 'mode = "cluster-of-one"')
    (envs / "prod.toml").write_text(text)
    outdir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        env={**os.environ, "STATEKIT_ENV_DIR": str(envs), "CDKTF_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        "field 'cache.mode': 'cluster-of-one' is not allowed (allowed: 'serverless', 'cluster')"
        in (result.stderr)
    )
    assert not outdir.exists()


@pytest.mark.parametrize("reference", ["handlers.app", "pkg.mod:APP:x", "1pkg:APP", 3])
def test_the_app_reference_is_checked(reference, tmp_path: Path) -> None:
    text = (ROOT / "environments" / "dev.toml").read_text()
    bad = text.replace('app = "handlers.app:APP"', f"app = {json.dumps(reference)}")
    (tmp_path / "dev.toml").write_text(bad)
    with pytest.raises(EnvironmentFileError, match=r"dev\.toml: field 'app': .* is not an App"):
        load_environments(["dev"], tmp_path)


def test_the_app_reference_reaches_the_stack_settings() -> None:
    (settings, *_) = plan_stacks(envs=["dev"], app_name="shop")
    assert settings.app_ref == "handlers.app:APP"
    assert settings.all_tags()["app"] == "shop"


@pytest.mark.parametrize(
    ("configured", "override", "expected"),
    [
        # A module that is not there: named in the file's field.
        ("no_such_pkg.app:APP", None, "field 'app': app 'no_such_pkg.app:APP'"),
        # STATEKIT_APP wins over the file, and is named as the source.
        ("handlers.app:APP", "handlers.app:NOPE", "STATEKIT_APP: app 'handlers.app:NOPE'"),
        # Two queue consumers cannot share the stack's one queue.
        ("handlers.app:APP", "twoconsumers:APP", "at most one QueueConsumer"),
    ],
)
def test_main_rejects_a_bad_app_before_synthesizing(
    tmp_path: Path, configured: str, override: str | None, expected: str
) -> None:
    envs = tmp_path / "environments"
    envs.mkdir()
    text = (ROOT / "environments" / "dev.toml").read_text()
    (envs / "dev.toml").write_text(text.replace("handlers.app:APP", configured))
    (tmp_path / "twoconsumers.py").write_text(
        "from statekit.app import App, QueueConsumer\n"
        "def handle(message): pass\n"
        "APP = App('two', code=['twoconsumers'], functions=["
        "QueueConsumer('a', 'twoconsumers:handle'), QueueConsumer('b', 'twoconsumers:handle')])\n"
    )
    environment = {**os.environ, "STATEKIT_ENV_DIR": str(envs), "CDKTF_OUTDIR": str(tmp_path / "out")}
    environment.pop("STATEKIT_APP", None)
    if override:
        environment["STATEKIT_APP"] = override
        environment["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
