"""The AWS stacks: the settings that matter, checked on the synthesized Terraform JSON."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from typing import Any

import cdktn
import pytest

from modules.common.app import AppSource
from modules.common.bytecode import interpreter_for, runtime_version
from modules.common.settings import TTL_ATTRIBUTE, Components, StackSettings
from modules.common.workflow import resource_name, url_variable
from tests.iac.conftest import APP, EXAMPLE, Synthesized

PROD = f"{APP}-aws-prod"
PROD_RUNTIME = "python3.12"  # environments/prod.toml
WORKFLOWS = [resource_name(w) for w in EXAMPLE.app.workflows]
DEPLOYED = [f.name for f in EXAMPLE.app.functions] + (
    [EXAMPLE.app.activities] if EXAMPLE.app.workflows else []
)


def only(synthesized: Synthesized, stack: str, resource_type: str) -> dict[str, Any]:
    resources = synthesized.resources(stack, resource_type)
    assert len(resources) == 1, f"{stack}: expected one {resource_type}, got {sorted(resources)}"
    return next(iter(resources.values()))


def has(
    synthesized: Synthesized, stack: str, resource_type: str, properties: dict[str, Any]
) -> bool:
    return bool(
        cdktn.Testing.to_have_resource_with_properties(
            synthesized.text(stack), resource_type, properties
        )
    )


def policy_statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return list(json.loads(resource["policy"])["Statement"])


def test_table_keys_ttl_backups_key_and_protection_in_prod(synthesized: Synthesized) -> None:
    assert has(
        synthesized,
        PROD,
        "aws_dynamodb_table",
        {
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": "pk",
            "range_key": "sk",
            "attribute": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}],
            "ttl": {"attribute_name": TTL_ATTRIBUTE, "enabled": True},
            "point_in_time_recovery": {"enabled": True},
            "deletion_protection_enabled": True,
        },
    )
    table = only(synthesized, PROD, "aws_dynamodb_table")
    key_ref = table["server_side_encryption"]["kms_key_arn"]
    assert table["server_side_encryption"]["enabled"] is True
    assert key_ref.startswith("${aws_kms_key.") and key_ref.endswith(".arn}")
    assert has(synthesized, PROD, "aws_kms_key", {"enable_key_rotation": True})


def test_staging_table_is_provisioned_with_autoscaling(synthesized: Synthesized) -> None:
    stack = f"{APP}-aws-staging"
    assert has(
        synthesized,
        stack,
        "aws_dynamodb_table",
        {
            "billing_mode": "PROVISIONED",
            "read_capacity": 5,
            "write_capacity": 5,
            "ttl": {"attribute_name": TTL_ATTRIBUTE, "enabled": True},
        },
    )
    targets = synthesized.resources(stack, "aws_appautoscaling_target")
    assert sorted(t["scalable_dimension"] for t in targets.values()) == [
        "dynamodb:table:ReadCapacityUnits",
        "dynamodb:table:WriteCapacityUnits",
    ]
    assert all(t["max_capacity"] == 50 for t in targets.values())
    assert len(synthesized.resources(stack, "aws_appautoscaling_policy")) == 2


def test_queue_has_an_encrypted_dead_letter_queue_and_redrive(synthesized: Synthesized) -> None:
    queues = synthesized.resources(PROD, "aws_sqs_queue")
    main = next(q for q in queues.values() if "redrive_policy" in q)
    dlq_id = next(name for name, q in queues.items() if "redrive_policy" not in q)
    redrive = json.loads(main["redrive_policy"])
    assert redrive == {
        "deadLetterTargetArn": f"${{aws_sqs_queue.{dlq_id}.arn}}",
        "maxReceiveCount": 5,
    }
    assert all(q["kms_master_key_id"].startswith("${aws_kms_key.") for q in queues.values())
    policies = synthesized.resources(PROD, "aws_sqs_queue_policy").values()
    assert len(policies) == 2
    for policy in policies:
        (statement,) = json.loads(policy["policy"])["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Visibility timeout covers six times the function timeout (SQS + Lambda guidance).
    assert main["visibility_timeout_seconds"] >= 6 * 30
    dev_queues = synthesized.resources(f"{APP}-aws-dev", "aws_sqs_queue").values()
    assert all(q["sqs_managed_sse_enabled"] is True for q in dev_queues)
    dev_main = next(q for q in dev_queues if "redrive_policy" in q)
    assert json.loads(dev_main["redrive_policy"])["maxReceiveCount"] == 3


def test_queue_trigger_reports_batch_item_failures(synthesized: Synthesized) -> None:
    assert has(
        synthesized,
        PROD,
        "aws_lambda_event_source_mapping",
        {
            "function_response_types": ["ReportBatchItemFailures"],
            "batch_size": 10,
        },
    )
    mapping = only(synthesized, PROD, "aws_lambda_event_source_mapping")
    assert mapping["event_source_arn"].startswith("${aws_sqs_queue.queue_")
    (consumer,) = EXAMPLE.app.queue_consumers
    assert mapping["function_name"].startswith(f"${{aws_lambda_function.functions_{consumer.name}_")


def test_cache_is_tls_with_auth_from_secrets_manager(synthesized: Synthesized) -> None:
    cache = only(synthesized, PROD, "aws_elasticache_serverless_cache")
    assert cache["engine"] == "valkey"
    assert cache["kms_key_id"].startswith("${aws_kms_key.")
    assert cache["snapshot_retention_limit"] == 7
    assert cache["user_group_id"].startswith("${aws_elasticache_user_group.")
    # Staging uses a replication group: TLS required, auth token, encrypted at rest.
    assert has(
        synthesized,
        f"{APP}-aws-staging",
        "aws_elasticache_replication_group",
        {
            "transit_encryption_enabled": True,
            "transit_encryption_mode": "required",
            "at_rest_encryption_enabled": "true",
            "num_cache_clusters": 2,
            "automatic_failover_enabled": True,
        },
    )
    group = only(synthesized, f"{APP}-aws-staging", "aws_elasticache_replication_group")
    assert group["auth_token"].startswith("${data.aws_secretsmanager_random_password.")
    # One shard, cluster mode disabled: a plain client, no cluster=true.
    staging = synthesized.config(f"{APP}-aws-staging")["output"]["statekit_cache_url"]["value"]
    assert "cluster=" not in staging


def test_functions_get_the_four_urls_and_outputs_match(synthesized: Synthesized) -> None:
    config = synthesized.config(PROD)
    functions = synthesized.resources(PROD, "aws_lambda_function")
    assert {f["handler"] for f in functions.values()} == {"statekit.runtime.aws.handle"}
    assert sorted(f["function_name"] for f in functions.values()) == sorted(
        f"{APP}-prod-{name}" for name in DEPLOYED
    )
    outputs = {
        name.upper(): out["value"]
        for name, out in config["output"].items()
        if name.startswith("statekit_")
    }
    for function in functions.values():
        variables = function["environment"]["variables"]
        assert {k: v for k, v in variables.items() if k in outputs} == outputs
        assert variables["STATEKIT_APP"] == EXAMPLE.ref
        assert function["function_name"] == f"{APP}-prod-{variables['STATEKIT_FUNCTION']}"
        for workflow in EXAMPLE.app.workflows:
            assert variables[url_variable(workflow)].endswith(
                f"/{APP}-prod-{resource_name(workflow)}"
            )
        assert function["tracing_config"] == {"mode": "Active"}
        assert function["vpc_config"]["security_group_ids"]
    assert outputs["STATEKIT_STORE_URL"].startswith("dynamodb://${aws_dynamodb_table.")
    assert outputs["STATEKIT_CACHE_URL"].startswith("rediss://statekit@")
    assert "password_secret=${aws_secretsmanager_secret." in outputs["STATEKIT_CACHE_URL"]
    # Serverless (prod's cache) speaks only Redis Cluster: the URL says so.
    assert outputs["STATEKIT_CACHE_URL"].endswith("&cluster=true")
    assert outputs["STATEKIT_QUEUE_URL"].startswith("sqs://sqs.eu-west-1.amazonaws.com/")
    assert "?dlq=${aws_sqs_queue." in outputs["STATEKIT_QUEUE_URL"]
    assert outputs["STATEKIT_WORKFLOW_URL"].startswith("stepfunctions://eu-west-1/")
    assert outputs["STATEKIT_WORKFLOW_URL"].endswith(f"/{APP}-prod-{WORKFLOWS[0]}")
    for http in EXAMPLE.app.http:
        endpoint = config["output"][f"{http.name.replace('-', '_')}_endpoint"]["value"]
        kind = "aws_apigatewayv2_api" if http.public else "aws_lambda_function_url"
        assert endpoint.startswith(f"${{{kind}.")
    if any(not http.public for http in EXAMPLE.app.http):
        assert has(synthesized, PROD, "aws_lambda_function_url", {"authorization_type": "AWS_IAM"})


def test_function_role_names_exact_arns(synthesized: Synthesized) -> None:
    policies = synthesized.resources(PROD, "aws_iam_role_policy")
    # The activities function's role: its access policy and, after the state machines,
    # its workflow policy (modules/aws/functions.py).
    role = f"functions_{EXAMPLE.app.activities}-"
    statements = [
        s
        for name, policy in policies.items()
        if name.startswith((f"{role}policy_", f"{role}workflow-policy_"))
        for s in policy_statements(policy)
    ]
    by_sid = {s["Sid"]: s["Resource"] for s in statements}
    assert by_sid["Store"] == ["${aws_dynamodb_table.database_table_89143D61.arn}"]
    assert by_sid["Queue"] == [
        "${aws_sqs_queue.queue_140BE0E7.arn}",
        "${aws_sqs_queue.queue_dlq_441322FF.arn}",
    ]
    assert by_sid["CacheSecret"] == ["${aws_secretsmanager_secret.cache_secret_30642925.arn}"]
    assert by_sid["Workflow"][0].startswith(
        f"${{aws_sfn_state_machine.orchestrator_{WORKFLOWS[0]}_"
    )
    assert by_sid["Workflow"][len(WORKFLOWS)].endswith(f":execution:{APP}-prod-{WORKFLOWS[0]}:*")
    assert by_sid["StackKey"] == ["${aws_kms_key.key_F64E54E4.arn}"]
    # "*" only where the API has no resource-level permissions.
    wildcard = {s["Sid"] for s in statements if "*" in s["Resource"]}
    assert wildcard == {"Tracing"}


def test_state_machine_logs_traces_and_runs_the_saga(synthesized: Synthesized) -> None:
    machine = next(iter(synthesized.resources(PROD, "aws_sfn_state_machine").values()))
    assert machine["tracing_configuration"] == {"enabled": True}
    assert machine["logging_configuration"]["level"] == "ERROR"
    # Execution data (the saga's input: card tokens) stays out of production logs; dev
    # and staging keep it for debugging (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
    assert machine["logging_configuration"]["include_execution_data"] is False
    for dev_machine in synthesized.resources(f"{APP}-aws-dev", "aws_sfn_state_machine").values():
        assert dev_machine["logging_configuration"]["include_execution_data"] is True
    assert machine["encryption_configuration"]["type"] == "CUSTOMER_MANAGED_KMS_KEY"
    definition = json.loads(machine["definition"])
    tasks = [s for s in definition["States"].values() if s["Type"] == "Task"]
    assert tasks
    # Every task invokes the activities function: directly, or through the Lambda
    # integration that waits for a task token (an awaited event).
    invoked = {
        t["Parameters"]["FunctionName"]
        if t["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
        else t["Resource"]
        for t in tasks
    }
    (function,) = invoked
    assert function.startswith(f"${{aws_lambda_function.functions_{EXAMPLE.app.activities}_")


def test_observability_alarms_logs_and_budget(synthesized: Synthesized) -> None:
    alarms = synthesized.resources(PROD, "aws_cloudwatch_metric_alarm").values()
    # The state-error alarm is metric math over statekit's own metric
    # (tests/iac/test_aws_observability.py); the others watch one AWS metric each.
    metrics = sorted((a["namespace"], a["metric_name"]) for a in alarms if "metric_query" not in a)
    assert len([a for a in alarms if "metric_query" in a]) == 1
    assert metrics == sorted(
        [("AWS/Lambda", "Errors")] * len(DEPLOYED)
        + [("AWS/SQS", "ApproximateNumberOfMessagesVisible")]
        + [("AWS/States", "ExecutionsFailed")] * len(WORKFLOWS)
    )
    assert all(a["alarm_actions"] == ["${aws_sns_topic.alerts_topic_3313844B.arn}"] for a in alarms)
    groups = synthesized.resources(PROD, "aws_cloudwatch_log_group").values()
    assert {g["retention_in_days"] for g in groups} == {365}
    assert has(
        synthesized,
        PROD,
        "aws_budgets_budget",
        {
            "budget_type": "COST",
            "limit_amount": "500",
            "time_unit": "MONTHLY",
            "cost_filter": [{"name": "TagKeyValue", "values": [f"user:stack${APP}-aws-prod"]}],
        },
    )


def test_provider_is_pinned_to_a_range_the_offline_mirror_satisfies(
    synthesized: Synthesized,
) -> None:
    providers = synthesized.config(PROD)["terraform"]["required_providers"]
    assert providers["aws"]["version"] == ">= 5.100.0, < 7.0.0"
    assert synthesized.config(PROD)["terraform"]["backend"]["s3"]["use_lockfile"] is True
    assert synthesized.config(f"{APP}-aws-dev")["terraform"]["backend"] == {
        "local": {"path": f"terraform.{APP}-aws-dev.tfstate"}
    }


def test_a_switched_off_component_leaves_its_resources_and_url_out(
    synthesized: Synthesized,
) -> None:
    dev = synthesized.config(f"{APP}-aws-dev")  # environments/dev.toml: cache = false
    assert not any(
        t.startswith(("aws_elasticache", "aws_secretsmanager", "aws_vpc")) for t in dev["resource"]
    )
    assert "statekit_cache_url" not in dev["output"]
    for function in dev["resource"]["aws_lambda_function"].values():
        assert "STATEKIT_CACHE_URL" not in function["environment"]["variables"]
        assert "vpc_config" not in function


def test_queue_and_orchestrator_can_be_switched_off(synth_one) -> None:
    base = StackSettings(
        env="lean", cloud="aws", region="eu-west-1", owner="team", production=False
    )
    lean = dataclasses.replace(
        base, components=Components(cache=False, queue=False, orchestrator=False, budget=False)
    )
    config = json.loads(synth_one(lean, AppSource.load("lean.app:APP")))
    resource_types = set(config["resource"])
    assert not resource_types & {
        "aws_sqs_queue",
        "aws_sfn_state_machine",
        "aws_budgets_budget",
        "aws_lambda_event_source_mapping",
    }
    assert sorted(config["output"]) == ["ping_endpoint", "statekit_store_url"]
    for function in config["resource"]["aws_lambda_function"].values():
        assert sorted(function["environment"]["variables"]) == [
            "STATEKIT_APP",
            "STATEKIT_AWS_TELEMETRY",  # tracing is on by default (docs/observability.md)
            "STATEKIT_FUNCTION",
            "STATEKIT_METRICS_NAMESPACE",
            "STATEKIT_STORE_URL",
        ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: dataclasses.replace(d, deletion_protection=False),
            "aws_dynamodb_table.database_table_89143D61: deletion_protection: deletion_protection_enabled",
        ),
        (
            lambda d: dataclasses.replace(d, point_in_time_recovery=False),
            "backup: point_in_time_recovery.enabled is true",
        ),
        (
            lambda d: dataclasses.replace(d, customer_managed_key=False),
            "encryption: server_side_encryption with a customer-managed kms_key_arn",
        ),
    ],
)
def test_policy_aspect_fails_a_production_stack_missing_a_protection(
    synth_one, change, expected
) -> None:
    prod = StackSettings(
        env="prod",
        cloud="aws",
        region="eu-west-1",
        owner="team",
        production=True,
        components=Components(cache=False, queue=False, orchestrator=False, budget=False),
    )
    weakened = dataclasses.replace(prod, database=change(prod.database))
    with pytest.raises(
        RuntimeError, match="policy check failed for production stack lean-aws-prod"
    ) as caught:
        synth_one(weakened, AppSource.load("lean.app:APP"))
    assert expected in str(caught.value)


def test_lambda_asset_holds_the_handlers_and_statekit(synthesized: Synthesized) -> None:
    function = next(iter(synthesized.resources(PROD, "aws_lambda_function").values()))
    archive = synthesized.stack_dir(PROD) / function["filename"]
    with zipfile.ZipFile(archive) as package:
        names = set(package.namelist())
    expected = {
        *(f"{package}/__init__.py" for package in EXAMPLE.app.code),
        "statekit/runtime/aws.py",
        "statekit/app/__init__.py",
        "statekit/store/facade.py",
        "redis/__init__.py",
    }
    assert expected <= names
    # Bytecode only as the packager compiled it for the runtime, never a developer's cache.
    tag = "cpython-" + runtime_version(PROD_RUNTIME).replace(".", "")
    stray = [n for n in names if n.endswith(".pyc") and f".{tag}.pyc" not in n]
    assert not stray, stray
    if interpreter_for(runtime_version(PROD_RUNTIME)) is not None:
        assert f"statekit/runtime/__pycache__/aws.{tag}.pyc" in names
