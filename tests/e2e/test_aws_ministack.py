"""The AWS stacks applied on MiniStack and the example app run through its real entry points.

For each environment in ``STATEKIT_E2E_ENVS`` (default ``dev,staging,prod``; ``make e2e
CLOUD=aws ENV=...`` runs one): synthesize with main.py, write the emulator override
(tests/e2e/override.py), ``terraform init`` and ``apply`` with the machine's
terraform and hashicorp/aws mirror, load the catalogue (``python -m
handlers.seed``), run the shared scenario through the SigV4-signed function URL,
check the consumer's effect in DynamoDB and the saga's executions in Step
Functions, check the functions' telemetry (EMF documents in their CloudWatch Logs,
X-Ray subsegments at a UDP socket given to MiniStack as the daemon address), then
``terraform destroy`` and check nothing is left.

Staging and prod: a TLS redis-server (tests/e2e/tls_redis.py) stands in for
ElastiCache with the password the stack put in Secrets Manager; prod's protected
table must refuse the first destroy.

Skipped, with the reason printed, where terraform or the provider mirror is
missing (a developer's fresh machine has neither; MiniStack itself is installed
by the project). All three run in ``make test``: dev about two minutes, staging and
prod about five together on this 2-core machine.
The poison-message path is left to tests/handlers/test_aws.py: the dev queue's
180 s visibility timeout times three receives would add nine minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("boto3", reason="the aws extra is not installed")

from handlers.app import APP
from statekit.observability.telemetry import OPERATION_DURATION
from statekit.workflows.definition import COMPENSATED, ENDING_KEY
from tests.e2e.aws_app import DeployedApp, client, leftovers
from tests.e2e.ministack import hermetic_env, running_ministack
from tests.e2e.override import write_local_stack
from tests.e2e.terraform import (
    Terraform,
    TerraformFailed,
    find_aws_mirror,
    find_terraform,
    write_cli_config,
)
from tests.e2e.tls_redis import (
    Certificate,
    free_host,
    redis_server,
    running_tls_redis,
    self_signed,
)
from tests.handlers.scenario import eventually, run_scenario
from tests.observability.emf_workload import metrics_written
from tests.observability.xray_daemon import Daemon, xray_daemon

ROOT = Path(__file__).resolve().parents[2]
ENVS = [
    e.strip()
    for e in os.environ.get("STATEKIT_E2E_ENVS", "dev,staging,prod").split(",")
    if e.strip()
]
REGION = "eu-west-1"  # environments/*.toml
TERRAFORM = find_terraform()
MIRROR = find_aws_mirror()
SKIP_REASON = (
    "terraform is not on PATH"
    if TERRAFORM is None
    else "no file-system provider mirror holding registry.terraform.io/hashicorp/aws "
    "(set STATEKIT_TF_PROVIDER_MIRROR)"
    if MIRROR is None
    else ""
)
if SKIP_REASON:
    print(f"tests/e2e/test_aws_ministack.py skipped: {SKIP_REASON}", file=sys.stderr)
pytestmark = pytest.mark.skipif(bool(SKIP_REASON), reason=SKIP_REASON)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cdktf.out/stacks`` of the requested AWS stacks, made by main.py as a user makes them."""
    outdir = tmp_path_factory.mktemp("cdktf.out")
    subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={
            **os.environ,
            "STATEKIT_CLOUDS": "aws",
            "STATEKIT_ENVS": ",".join(ENVS),
            "CDKTF_OUTDIR": str(outdir),
        },
        check=True,
        timeout=600,
        capture_output=True,
    )
    return outdir / "stacks"


def _outputs(terraform: Terraform) -> dict[str, Any]:
    return {
        name: out["value"] for name, out in json.loads(terraform.run("output", "-json")).items()
    }


def _seed(store_url: str, endpoint: str, workdir: Path) -> None:
    """The catalogue, loaded the way docs/iac.md tells a user to (python -m handlers.seed)."""
    subprocess.run(
        [sys.executable, "-m", "handlers.seed"],
        cwd=ROOT,
        env=hermetic_env(
            PYTHONPATH=str(ROOT),
            STATEKIT_STORE_URL=store_url,
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION=REGION,
        ),
        check=True,
        timeout=120,
    )


def _table(store_url: str) -> str:
    return store_url.removeprefix("dynamodb://").split("?")[0]


def _order_item(endpoint: str, table: str, order_id: str) -> dict[str, Any]:
    key = f"order-{order_id}/order"
    item = client("dynamodb", endpoint, REGION).get_item(
        TableName=table, Key={"pk": {"S": f"order-{order_id}"}, "sk": {"S": key}}
    )
    return dict(item.get("Item", {}))


def _saga_runs(endpoint: str, state_machine: str) -> dict[str, dict[str, Any]]:
    sfn = client("stepfunctions", endpoint, REGION)
    machines = sfn.list_state_machines()["stateMachines"]
    (arn,) = [m["stateMachineArn"] for m in machines if m["name"] == state_machine]
    runs = {}
    for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        entered = [
            e["stateEnteredEventDetails"]["name"]
            for e in history
            if "stateEnteredEventDetails" in e
        ]
        runs[execution["name"]] = {
            "status": described["status"],
            "error": described.get("error"),
            "output": json.loads(described.get("output") or "null"),
            "entered": entered,
        }
    return runs


def _has_cache(stack_dir: Path) -> bool:
    resources = json.loads((stack_dir / "cdk.tf.json").read_text()).get("resource", {})
    return any(t.startswith("aws_elasticache_") for t in resources)


@pytest.fixture
def cache_certificate(env: str, synthesized: Path, tmp_path: Path) -> Certificate | None:
    """For a stack with a cache: the TLS redis-server's address and certificate."""
    if not _has_cache(synthesized / f"{APP.name}-aws-{env}"):
        return None
    if redis_server() is None:
        pytest.fail("redis-server is missing: run make system (Debian redis-server)")
    return self_signed(tmp_path, free_host())


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    """The X-Ray daemon's UDP side; MiniStack's Lambda processes get its address."""
    with xray_daemon() as found:
        yield found


@pytest.fixture
def ministack(
    tmp_path: Path, cache_certificate: Certificate | None, daemon: Daemon
) -> Iterator[str]:
    extra = (
        {
            "REDIS_HOST": cache_certificate.host,
            "REDIS_PORT": "6379",
            "SSL_CERT_FILE": str(cache_certificate.cert),
        }
        if cache_certificate
        else {}
    )
    # Lambda sets AWS_XRAY_DAEMON_ADDRESS; MiniStack's workers inherit its environment.
    extra["AWS_XRAY_DAEMON_ADDRESS"] = daemon.address
    with running_ministack(tmp_path, REGION, extra) as endpoint:
        yield endpoint


def _destroy(terraform: Terraform, endpoint: str, stack_dir: Path) -> None:
    """``terraform destroy``; a table with deletion protection refuses it, as it should.

    For a protected table (prod) the first destroy must fail on that table;
    protection is then turned off the way an operator would, and destroy runs again.
    ``-refresh=false``: MiniStack's read-back gaps (EMULATORS.md) trip a refresh.
    """
    tables = json.loads((stack_dir / "cdk.tf.json").read_text())["resource"]["aws_dynamodb_table"]
    protected = [t["name"] for t in tables.values() if t.get("deletion_protection_enabled")]
    destroy = ("destroy", "-auto-approve", "-no-color", "-refresh=false")
    if not protected:
        terraform.run(*destroy, timeout=1200)
        return
    with pytest.raises(TerraformFailed, match="Table is protected against deletion"):
        terraform.run(*destroy, timeout=1200)
    # What remains is the table and what it needs (its key); the rest was destroyed.
    remaining = terraform.run("state", "list").split()
    assert all(f"aws_dynamodb_table.{name}" in remaining for name in tables), remaining
    dynamodb = client("dynamodb", endpoint, REGION)
    for table in protected:
        dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
    first = terraform.timings["destroy"]
    terraform.run(*destroy, timeout=1200)
    terraform.timings["destroy"] += first


def _cache_password(endpoint: str, cache_url: str) -> str:
    """The password the stack generated, read from Secrets Manager as the functions read it."""
    secret_arn = cache_url.split("password_secret=")[1].split("&", maxsplit=1)[0]
    secrets = client("secretsmanager", endpoint, REGION)
    return str(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])


# Apply, scenario and destroy of one stack: about four minutes on a loaded 2-core machine.
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("env", ENVS)
def test_stack_applies_runs_the_app_and_destroys_clean(
    env: str,
    synthesized: Path,
    ministack: str,
    *,
    cache_certificate: Certificate | None,
    daemon: Daemon,
    tmp_path: Path,
) -> None:
    endpoint = ministack
    subsegments = daemon.drain_in_background()
    stack = f"{APP.name}-aws-{env}"
    local = write_local_stack(synthesized / stack, tmp_path / stack, endpoint)
    print(f"\n{stack}: endpoints for {', '.join(local.services)}")
    print(f"{stack}: removed (MiniStack lacks them): {', '.join(local.removed) or 'nothing'}")
    assert MIRROR is not None and TERRAFORM is not None
    terraform = Terraform(TERRAFORM, local.directory, write_cli_config(MIRROR, tmp_path / "tf.rc"))
    terraform.run("init", "-no-color")
    applied = False
    try:
        terraform.run("apply", "-auto-approve", "-no-color", timeout=1200)
        applied = True
        managed = [r for r in terraform.run("state", "list").split() if not r.startswith("data.")]
        print(f"{stack}: applied {len(managed)} resources in {terraform.timings['apply']:.0f} s")
        outputs = _outputs(terraform)
        queue_name, dlq_name = (
            outputs["statekit_queue_url"].split("?dlq=")[0].rsplit("/", 1)[1],
            outputs["statekit_queue_url"].split("?dlq=")[1],
        )
        _seed(outputs["statekit_store_url"], endpoint, tmp_path)
        # The example's HTTP API: a private Http function, an IAM-signed function URL.
        (http,) = APP.http
        assert not http.public
        function_url = outputs[f"{http.name.replace('-', '_')}_endpoint"]
        app = DeployedApp(endpoint, REGION, function_url, queue_name, dlq_name)
        with ExitStack() as stand_in:
            cache = None
            if cache_certificate is not None:
                password = _cache_password(endpoint, outputs["statekit_cache_url"])
                cache_url = outputs["statekit_cache_url"]
                stand_in.enter_context(
                    running_tls_redis(
                        cache_certificate,
                        password,
                        tmp_path,
                        cluster="cluster=true" in cache_url,
                        user=urlsplit(cache_url).username or "",
                    )
                )
                cache = (cache_certificate, password)
            _drive(
                app,
                endpoint=endpoint,
                outputs=outputs,
                stack=stack,
                terraform=terraform,
                cache=cache,
            )
        _check_telemetry(endpoint, synthesized / stack, env, subsegments)
    finally:
        if applied or (local.directory / "terraform.tfstate").exists():
            _destroy(terraform, endpoint, synthesized / stack)
    print(f"{stack}: destroy {terraform.timings['destroy']:.0f} s")
    assert terraform.run("state", "list").strip() == ""
    assert leftovers(endpoint, REGION, f"{APP.name}-{env}") == {}


def _check_telemetry(
    endpoint: str, stack_dir: Path, env: str, subsegments: list[dict[str, Any]]
) -> None:
    """No layer: the functions wrote EMF into their logs and sent subsegments to the daemon."""
    functions = json.loads((stack_dir / "cdk.tf.json").read_text())["resource"][
        "aws_lambda_function"
    ]
    (http,) = APP.http
    http_function = f"{APP.name}-{env}-{http.name}"  # modules/common/naming.py
    assert http_function in {f["function_name"] for f in functions.values()}
    namespace = f"statekit/{APP.name}-{env}"
    logs = client("logs", endpoint, REGION)
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{http_function}")["events"]
    documents = [json.loads(e["message"]) for e in events if e["message"].startswith('{"_aws"')]
    assert documents, f"{http_function} wrote no EMF document into its log group"
    metrics_written(documents, namespace)  # each directive checked
    assert any(
        d.get("statekit.backend") == "dynamodb" and OPERATION_DURATION in d for d in documents
    )
    eventually(lambda: bool(subsegments), 10, "a subsegment at the X-Ray daemon address")
    names = {s["name"] for s in subsegments}
    assert "DynamoDB" in names, names
    assert all(s["type"] == "subsegment" and s["parent_id"] for s in subsegments)
    print(
        f"telemetry: {len(documents)} EMF documents in {http_function}'s log group, "
        f"{len(subsegments)} subsegments ({', '.join(sorted(names))})"
    )


def _drive(
    app: DeployedApp,
    *,
    endpoint: str,
    outputs: dict[str, Any],
    stack: str,
    terraform: Terraform,
    cache: tuple[Certificate, str] | None,
) -> None:
    """The scenario and the direct checks in DynamoDB, SQS, Step Functions and the cache."""
    assert app.call("GET", "/health") == (200, {"ok": True})

    started = time.perf_counter()
    seen = run_scenario(app, event_timeout=120, poison=False)
    scenario_seconds = time.perf_counter() - started

    # The consumer's effect, read from DynamoDB itself.
    table = _table(outputs["statekit_store_url"])
    order_id = seen["order"]["order_id"]
    assert "order_placed" in json.dumps(_order_item(endpoint, table, order_id))
    # A message sent straight to SQS: the event source mapping runs the consumer.
    sent = time.perf_counter()
    app.send_event(json.dumps({"type": "order_shipped", "order_id": order_id}))
    eventually(
        lambda: "order_shipped" in json.dumps(_order_item(endpoint, table, order_id)),
        120,
        "order_shipped recorded in DynamoDB",
    )
    queue_to_table = time.perf_counter() - sent

    if cache is not None:
        # The functions reached the TLS cache with the password from Secrets Manager.
        import redis

        certificate, password = cache
        server = redis.Redis(
            host=certificate.host,
            port=6379,
            password=password,
            ssl=True,
            ssl_ca_certs=str(certificate.cert),
        )
        assert server.dbsize() > 0, "the functions wrote nothing to the cache"

    # The sagas as Step Functions ran them: one succeeded, one compensated in reverse.
    machine = outputs["statekit_workflow_url"].rsplit("/", 1)[1]
    runs = _saga_runs(endpoint, machine)
    assert runs[order_id]["status"] == "SUCCEEDED", runs[order_id]
    compensated_id = seen["compensated"]["order_id"]
    compensated = runs[compensated_id]
    # A compensated run is a business outcome: the execution succeeds and says so
    # (statekit/workflows/engines/stepfunctions/asl.py).
    assert compensated["status"] == "SUCCEEDED", compensated
    assert compensated["output"][ENDING_KEY] == COMPENSATED, compensated
    undone = [s.removesuffix("__undo") for s in compensated["entered"] if s.endswith("__undo")]
    forward = [s for s in compensated["entered"] if s in undone]
    assert len(undone) == 2 and undone == forward[::-1], compensated["entered"]

    print(f"{stack}: apply {terraform.timings['apply']:.0f} s, scenario {scenario_seconds:.1f} s")
    print(f"{stack}: SQS message to DynamoDB effect {queue_to_table:.2f} s")
    for route, calls, median, worst in app.latency_table():
        print(
            f"{stack}: {route:<16} {calls:>3} calls  median {median:7.1f} ms  max {worst:7.1f} ms"
        )
