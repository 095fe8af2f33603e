"""Small synthesized-looking stacks and reports for the compare tests.

The shapes follow what cdktn writes (``resource.<type>.<id>`` with ``//.metadata.path``),
cut down to the attributes the comparison reads, so these tests do not wait for a
three-cloud synthesis. tests/compare/test_real_synthesis.py checks the real one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _resource(stack: str, path: str, **config: Any) -> dict[str, Any]:
    return {
        **config,
        "//": {"metadata": {"path": f"{stack}/{path}", "uniqueId": path.replace("/", "_")}},
    }


def aws_stack(env: str = "dev", pitr: bool = False) -> dict[str, Any]:
    s = f"state-aws-{env}"
    return {
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "resource": {
            "aws_dynamodb_table": {
                "database_table": _resource(
                    s,
                    "database/table",
                    name=f"statekit-{env}-store",
                    billing_mode="PAY_PER_REQUEST",
                    point_in_time_recovery={"enabled": pitr},
                    server_side_encryption={"enabled": True},
                    deletion_protection_enabled=False,
                    ttl={"attribute_name": "expires_at_epoch", "enabled": True},
                )
            },
            "aws_sqs_queue": {
                "queue_queue": _resource(
                    s,
                    "queue/queue",
                    name=f"statekit-{env}-queue",
                    sqs_managed_sse_enabled=True,
                    redrive_policy=json.dumps(
                        {
                            "deadLetterTargetArn": "${aws_sqs_queue.queue_dlq.arn}",
                            "maxReceiveCount": 3,
                        }
                    ),
                ),
                "queue_dlq": _resource(
                    s, "queue/dlq", name=f"statekit-{env}-dlq", sqs_managed_sse_enabled=True
                ),
            },
            "aws_sfn_state_machine": {
                "orchestrator_sm": _resource(
                    s, "orchestrator/state-machine", name=f"statekit-{env}-flow", type="STANDARD"
                )
            },
            "aws_lambda_function": {
                "functions_http": _resource(
                    s,
                    "functions/http",
                    function_name=f"statekit-{env}-http",
                    architectures=["arm64"],
                    memory_size=256,
                    runtime="python3.12",
                    environment={"variables": {"STATEKIT_STORE_URL": "dynamodb://t"}},
                )
            },
            "aws_iam_role": {
                "functions_role": _resource(s, "functions/role", name=f"statekit-{env}-functions")
            },
            "aws_cloudwatch_log_group": {
                "functions_logs": _resource(
                    s, "functions/http-logs", name="/aws/lambda/x", retention_in_days=7
                )
            },
            "aws_cloudwatch_metric_alarm": {
                "alerts_dlq": _resource(s, "alerts/dlq-depth", alarm_name="dlq")
            },
            "aws_elasticache_serverless_cache": {
                "cache_cache": _resource(
                    s,
                    "cache/cache",
                    name=f"statekit-{env}-cache",
                    engine="valkey",
                    snapshot_retention_limit=0,
                )
            },
        },
    }


def azure_stack(env: str = "dev") -> dict[str, Any]:
    s = f"state-azure-{env}"
    return {
        "provider": {"azurerm": [{"features": [{}]}]},
        "resource": {
            "azurerm_resource_group": {
                "rg": _resource(s, "resource-group", name=f"statekit-{env}", location="westeurope")
            },
            "azurerm_cosmosdb_account": {
                "database_account": _resource(
                    s,
                    "database/account",
                    name=f"statekit-{env}-cosmos",
                    location="westeurope",
                    capabilities=[{"name": "EnableServerless"}],
                    consistency_policy={"consistency_level": "Session"},
                    backup={"type": "Continuous", "tier": "Continuous7Days"},
                    minimal_tls_version="Tls12",
                    public_network_access_enabled=True,
                    local_authentication_enabled=False,
                )
            },
            "azurerm_cosmosdb_sql_container": {
                "database_container": _resource(
                    s, "database/container", name="state", default_ttl=-1
                )
            },
            "azurerm_storage_account": {
                "queue_account": _resource(
                    s,
                    "queue/account",
                    name="skdevqueue",
                    location="westeurope",
                    min_tls_version="TLS1_2",
                )
            },
            "azurerm_storage_queue": {
                "queue_queue": _resource(s, "queue/queue", name="statekit-work"),
                "queue_poison": _resource(s, "queue/poison", name="statekit-work-poison"),
            },
            "azurerm_function_app_flex_consumption": {
                "functions_app": _resource(
                    s,
                    "functions/app",
                    name=f"statekit-{env}-functions",
                    location="westeurope",
                    https_only=True,
                    instance_memory_in_mb=2048,
                    app_settings={"STATEKIT_STORE_URL": "cosmos://x"},
                )
            },
            "azurerm_redis_cache": {
                "cache_redis": _resource(
                    s,
                    "cache/redis",
                    name=f"statekit-{env}-redis",
                    location="westeurope",
                    sku_name="Standard",
                    family="C",
                    capacity=1,
                    minimum_tls_version="1.2",
                    non_ssl_port_enabled=False,
                )
            },
            "azurerm_log_analytics_workspace": {
                "observability_logs": _resource(
                    s,
                    "observability/workspace",
                    name="logs",
                    location="westeurope",
                    retention_in_days=30,
                )
            },
        },
    }


def gcp_stack(env: str = "dev") -> dict[str, Any]:
    s = f"state-gcp-{env}"
    return {
        "provider": {"google": [{"project": f"statekit-{env}", "region": "europe-west1"}]},
        "resource": {
            "google_firestore_database": {
                "database_db": _resource(
                    s,
                    "database/firestore",
                    name="(default)",
                    type="FIRESTORE_NATIVE",
                    location_id="europe-west1",
                    point_in_time_recovery_enablement="POINT_IN_TIME_RECOVERY_DISABLED",
                )
            },
            "google_pubsub_topic": {
                "queue_topic": _resource(s, "queue/topic", name="work"),
                "queue_dead": _resource(s, "queue/dead-letter-topic", name="work-dead"),
            },
            "google_pubsub_subscription": {
                "queue_sub": _resource(
                    s,
                    "queue/subscription",
                    name="work-sub",
                    dead_letter_policy={
                        "dead_letter_topic": "${google_pubsub_topic.queue_dead.id}",
                        "max_delivery_attempts": 5,
                    },
                )
            },
            "google_workflows_workflow": {
                "orchestrator_wf": _resource(s, "orchestrator/workflow", name="place-order")
            },
            "google_cloudfunctions2_function": {
                "functions_http": _resource(
                    s,
                    "functions/http",
                    name="http",
                    service_config={"available_memory": "256M", "ingress_settings": "ALLOW_ALL"},
                )
            },
            "google_redis_instance": {
                "cache_redis": _resource(
                    s,
                    "cache/redis",
                    name="cache",
                    tier="BASIC",
                    memory_size_gb=1,
                    transit_encryption_mode="SERVER_AUTHENTICATION",
                    auth_enabled=True,
                )
            },
            "google_logging_project_bucket_config": {
                "observability_bucket": _resource(s, "observability/log-bucket", retention_days=30)
            },
        },
    }


STACKS = {"aws": aws_stack, "azure": azure_stack, "gcp": gcp_stack}


def write_stacks(outdir: Path, env: str = "dev", **aws_options: Any) -> Path:
    """``<outdir>/stacks/state-<cloud>-<env>/cdk.tf.json`` for the three clouds."""
    for cloud, make in STACKS.items():
        folder = outdir / "stacks" / f"state-{cloud}-{env}"
        folder.mkdir(parents=True, exist_ok=True)
        document = make(env, **aws_options) if cloud == "aws" else make(env)
        (folder / "cdk.tf.json").write_text(json.dumps(document, indent=2))
    return outdir


def write_reports(report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    conformance = {
        "suite": "store",
        "written_at": "2026-11-26T16:00:00Z",
        "backends": {
            "dynamodb": {
                "test_put_then_get": {"outcome": "passed"},
                "test_ttl": {"outcome": "passed"},
            },
            "cosmos": {
                "test_put_then_get": {"outcome": "passed"},
                "test_ttl": {
                    "outcome": "xfailed",
                    "reason": "cosmosdb-server stores TTL but never enforces it",
                },
            },
            "firestore": {
                "test_put_then_get": {"outcome": "passed"},
                "test_ttl": {"outcome": "skipped", "reason": "Skipped: backend declares no TTL"},
            },
        },
    }
    (report_dir / "conformance-store.json").write_text(json.dumps(conformance))
    bench = {
        "benchmark": "store",
        "written_at": "2026-11-26T16:05:00Z",
        "where": "stand-ins on 127.0.0.1",
        "results": [
            {
                "backend": "dynamodb",
                "operation": "get",
                "p50_ms": 3.1,
                "p95_ms": 7.9,
                "ops_per_s": 280,
            },
            {
                "backend": "cosmos",
                "operation": "get",
                "p50_ms": 2.2,
                "p95_ms": 5.0,
                "ops_per_s": 390,
            },
            {
                "backend": "firestore",
                "operation": "get",
                "p50_ms": 1.4,
                "p95_ms": 2.9,
                "ops_per_s": 610,
            },
            {
                "backend": "sqlite",
                "operation": "get",
                "p50_us": 21.0,
                "p95_us": 40.0,
                "ops_per_s": 41000,
            },
        ],
    }
    (report_dir / "bench-store.json").write_text(json.dumps(bench))
    return report_dir
