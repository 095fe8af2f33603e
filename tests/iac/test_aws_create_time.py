"""AWS rules checked when a resource is created (or first used), not by synthesis or checkov.

Each test encodes one documented rule behind a finding of issue 16, on the synthesized
JSON of every AWS stack; the source is cited beside it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.iac.conftest import APP, EXAMPLE, Synthesized

AWS_STACKS = (f"{APP}-aws-dev", f"{APP}-aws-staging", f"{APP}-aws-prod")


def _ref(resource_type: str, name: str) -> str:
    return f"{resource_type}.{name}"


def _statements(document: str) -> list[dict[str, Any]]:
    return list(json.loads(document)["Statement"])


def _service_principals(statement: dict[str, Any]) -> list[str]:
    services = statement.get("Principal", {}).get("Service", [])
    return [services] if isinstance(services, str) else list(services)


def _role_of(function: dict[str, Any]) -> str:
    match = re.fullmatch(r"\$\{aws_iam_role\.([^.]+)\.arn\}", function["role"])
    assert match, function["role"]
    return match.group(1)


def _role_ref(resource: dict[str, Any]) -> str:
    match = re.fullmatch(r"\$\{aws_iam_role\.([^.]+)\.(?:id|name)\}", resource["role"])
    assert match, resource["role"]
    return match.group(1)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_functions_are_created_after_every_permission_create_function_checks(
    synthesized: Synthesized, stack: str
) -> None:
    """CreateFunction checks the role's permissions for vpc_config (and a DLQ) at create
    time (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions):
    each function depends on its own role's access policy and, with a VPC, on that
    role's VPC-access attachment, and that policy must not wait for a state machine
    (which waits for the activities function)."""
    policies = synthesized.resources(stack, "aws_iam_role_policy")
    attachments = {
        n: a
        for n, a in synthesized.resources(stack, "aws_iam_role_policy_attachment").items()
        if a["policy_arn"].endswith("AWSLambdaVPCAccessExecutionRole")
    }
    functions = synthesized.resources(stack, "aws_lambda_function")
    declared = {f.name for f in EXAMPLE.app.functions}
    assert {f["environment"]["variables"]["STATEKIT_FUNCTION"] for f in functions.values()} == (
        declared | {EXAMPLE.app.activities}
    )
    roles = [_role_of(f) for f in functions.values()]
    assert len(set(roles)) == len(functions), "one role per function"
    for name, function in functions.items():
        role = _role_of(function)
        depends = set(function.get("depends_on", []))
        access = [
            n
            for n, p in policies.items()
            if _role_ref(p) == role and "aws_sfn_state_machine" not in json.dumps(p)
        ]
        assert len(access) == 1, (name, access)
        assert _ref("aws_iam_role_policy", access[0]) in depends, name
        if "vpc_config" in function:
            (attachment,) = [n for n, a in attachments.items() if _role_ref(a) == role]
            assert _ref("aws_iam_role_policy_attachment", attachment) in depends, name
        # The state machines' permission: a separate policy of the same role, naming them,
        # created after them.
        workflow = [
            p
            for p in policies.values()
            if _role_ref(p) == role and "${aws_sfn_state_machine." in p["policy"]
        ]
        assert len(workflow) == 1, name
        assert "states:DescribeStateMachine" in workflow[0]["policy"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_no_dead_letter_config_on_synchronously_invoked_functions(
    synthesized: Synthesized, stack: str
) -> None:
    """A function's DLQ receives failed asynchronous invocations only
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
    the function URL, Step Functions' Task and the SQS event source mapping
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html)
    all invoke synchronously, and the queue's redrive policy keeps failed messages."""
    for name, function in synthesized.resources(stack, "aws_lambda_function").items():
        assert "dead_letter_config" not in function, name


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_alert_topic_uses_a_key_cloudwatch_and_budgets_may_use(
    synthesized: Synthesized, stack: str
) -> None:
    """An alarm or a budget can publish to an encrypted topic only if the key policy lets
    its service principal use the key; AWS managed keys (alias/aws/sns) can not be changed
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services,
    https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html)."""
    topics = synthesized.resources(stack, "aws_sns_topic")
    assert len(topics) == 1
    key_ref = next(iter(topics.values()))["kms_master_key_id"]
    match = re.fullmatch(r"\$\{aws_kms_key\.([^.]+)\.arn\}", key_ref)
    assert match, f"{stack}: alert topic key {key_ref!r} is not a key of the stack"
    key = synthesized.resources(stack, "aws_kms_key")[match.group(1)]
    allowed = {
        service
        for s in _statements(key["policy"])
        if s["Effect"] == "Allow" and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(s["Action"])
        for service in _service_principals(s)
    }
    assert {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"} <= allowed


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_service_principals_are_tied_to_this_account(synthesized: Synthesized, stack: str) -> None:
    """Confused deputy (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html):
    each key-policy statement for a service principal, and the flow-logs trust policy
    (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html), carry
    aws:SourceAccount, or for CloudWatch Logs its documented encryption-context ARN
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
    account = "${data.aws_caller_identity.identity.account_id}"
    documents = [k["policy"] for k in synthesized.resources(stack, "aws_kms_key").values()]
    documents += [
        r["assume_role_policy"]
        for r in synthesized.resources(stack, "aws_iam_role").values()
        if "vpc-flow-logs.amazonaws.com" in r["assume_role_policy"]
    ]
    checked = 0
    for document in documents:
        for statement in _statements(document):
            if not _service_principals(statement):
                continue
            condition = statement.get("Condition", {})
            source_account = condition.get("StringEquals", {}).get("aws:SourceAccount")
            logs_context = condition.get("ArnLike", {}).get("kms:EncryptionContext:aws:logs:arn")
            assert source_account == account or (
                logs_context is not None and f":{account}:" in logs_context
            ), f"{stack}: {statement}"
            checked += 1
    assert checked >= 2


def test_serverless_cache_security_groups_open_the_reader_port(
    synthesized: Synthesized,
) -> None:
    """ElastiCache Serverless serves writes on 6379 and replica reads on 6380
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/set-up.html#elasticache-install-grant-access-VPN);
    a replication group listens on its one port."""
    for stack, last_port in ((f"{APP}-aws-prod", 6380), (f"{APP}-aws-staging", 6379)):
        rules = [
            *synthesized.resources(stack, "aws_vpc_security_group_ingress_rule").values(),
            *synthesized.resources(stack, "aws_vpc_security_group_egress_rule").values(),
        ]
        cache_rules = [r for r in rules if r.get("from_port") == 6379]
        assert len(cache_rules) == 2, stack
        assert {r["to_port"] for r in cache_rules} == {last_port}, stack


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_budget_filters_on_the_stack_tag(synthesized: Synthesized, stack: str) -> None:
    """A tag filter counts costs only once the tag is an activated cost allocation tag
    (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html):
    the budget filters on ``stack``, the tag every resource carries, and docs/iac.md
    lists its activation as the step after the first apply."""
    (budget,) = synthesized.resources(stack, "aws_budgets_budget").values()
    assert budget["cost_filter"] == [{"name": "TagKeyValue", "values": [f"user:stack${stack}"]}]
    for resource_type in ("aws_lambda_function", "aws_dynamodb_table", "aws_sqs_queue"):
        for resource in synthesized.resources(stack, resource_type).values():
            assert resource["tags"]["stack"] == stack
