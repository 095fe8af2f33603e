"""The local-emulator override of a synthesized AWS stack, generated, never hand-kept.

``write_local_stack(stack_dir, target, endpoint)`` copies a synthesized stack
(``cdk.tf.json`` and its assets) to ``target`` and changes exactly three things:

- ``local_override.tf.json`` (a Terraform override file, merged into the
  configuration at load time): the ``aws`` provider's ``endpoints`` for every
  service the stack's resources and data sources use, all at ``endpoint``, with
  the emulator's test credentials; and a ``local`` backend, replacing any remote
  one (the S3 backend of prod);
- the resources of the services the emulator lacks (``MISSING_SERVICES``:
  MiniStack has no Application Auto Scaling) are removed from ``cdk.tf.json``,
  with whatever references them; the caller prints the list returned;
- nothing else: every other resource, argument and output is the synthesized one.

It lives with the end-to-end test rather than in modules/: it rewrites the
synthesized JSON for an emulator, which no deployment ever needs, and it keys
on Terraform resource types, not on the constructs that made them. A stack
using a resource type this table does not know fails here by name, so a new
service can never be sent to the real AWS endpoint by a local run.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Resource/data-source type prefix -> the provider's ``endpoints`` key for its API.
# Longest prefix wins (aws_cloudwatch_log_group is Logs, other aws_cloudwatch_ CloudWatch).
SERVICE_OF_TYPE_PREFIX: dict[str, str] = {
    "aws_apigatewayv2_": "apigatewayv2",
    "aws_appautoscaling_": "applicationautoscaling",
    "aws_budgets_": "budgets",
    "aws_caller_identity": "sts",
    "aws_cloudwatch_dashboard": "cloudwatch",
    "aws_cloudwatch_log_": "logs",
    "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_default_security_group": "ec2",
    "aws_dynamodb_": "dynamodb",
    "aws_elasticache_": "elasticache",
    "aws_flow_log": "ec2",
    "aws_iam_": "iam",
    "aws_kms_": "kms",
    "aws_lambda_": "lambda",
    "aws_route_table": "ec2",
    "aws_scheduler_": "scheduler",
    "aws_secretsmanager_": "secretsmanager",
    "aws_security_group": "ec2",
    "aws_sfn_": "sfn",
    "aws_sns_": "sns",
    "aws_sqs_": "sqs",
    "aws_subnet": "ec2",
    "aws_vpc": "ec2",
}
# Data sources answered by the provider itself, with no API call.
LOCAL_DATA_SOURCES = {"aws_partition"}
# Services MiniStack does not implement (EMULATORS.md): their resources are removed.
MISSING_SERVICES = {"applicationautoscaling"}
# The provider always asks STS who the caller is (skip_requesting_account_id stays false:
# MiniStack's STS answers account 000000000000, which the budget's id needs).
ALWAYS = {"sts"}
EMULATOR_CREDENTIALS = {"access_key": "test", "secret_key": "test"}
OVERRIDE_FILE = "local_override.tf.json"
_REFERENCE = re.compile(r"\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\b")


class UnknownResourceType(ValueError):
    """A resource type with no known endpoint: a local run would call real AWS."""


@dataclass(frozen=True)
class LocalStack:
    directory: Path
    services: list[str]  # endpoint keys set in the override
    removed: list[str]  # "type.name" of every resource left out


def service_of(resource_type: str) -> str:
    matches = [p for p in SERVICE_OF_TYPE_PREFIX if resource_type.startswith(p)]
    if not matches:
        raise UnknownResourceType(
            f"{resource_type}: no endpoint known for this resource type; add its service to "
            "SERVICE_OF_TYPE_PREFIX in tests/e2e/override.py"
        )
    return SERVICE_OF_TYPE_PREFIX[max(matches, key=len)]


def used_services(config: dict[str, Any]) -> set[str]:
    services = set(ALWAYS)
    for resource_type in config.get("resource", {}):
        services.add(service_of(resource_type))
    for data_type in config.get("data", {}):
        if data_type not in LOCAL_DATA_SOURCES:
            services.add(service_of(data_type))
    return services


def _references(block: Any) -> set[tuple[str, str]]:
    return set(_REFERENCE.findall(json.dumps(block)))


def remove_missing(config: dict[str, Any]) -> list[str]:
    """Drop resources of ``MISSING_SERVICES`` and, transitively, what refers to them."""
    resources: dict[str, dict[str, Any]] = config.get("resource", {})
    gone = {
        (rtype, name)
        for rtype, by_name in resources.items()
        if service_of(rtype) in MISSING_SERVICES
        for name in by_name
    }
    changed = True
    while changed:
        changed = False
        for rtype, by_name in resources.items():
            for name, block in by_name.items():
                if (rtype, name) not in gone and _references(block) & gone:
                    gone.add((rtype, name))
                    changed = True
    for output, block in config.get("output", {}).items():
        if _references(block) & gone:
            raise ValueError(f"output {output} refers to a resource the emulator lacks")
    for rtype, name in gone:
        del resources[rtype][name]
        if not resources[rtype]:
            del resources[rtype]
    return sorted(f"{rtype}.{name}" for rtype, name in gone)


def override(config: dict[str, Any], endpoint: str, services: set[str]) -> dict[str, Any]:
    (provider,) = config["provider"]["aws"]
    return {
        "provider": {
            "aws": {
                "region": provider["region"],
                **EMULATOR_CREDENTIALS,
                "skip_credentials_validation": True,
                "skip_metadata_api_check": True,
                "skip_region_validation": True,
                "endpoints": [{service: endpoint for service in sorted(services)}],
            }
        },
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}},
    }


def write_local_stack(stack_dir: Path, target: Path, endpoint: str) -> LocalStack:
    """``stack_dir`` (``cdktf.out/stacks/<name>``) made ready for an emulator at ``endpoint``."""
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    services = used_services(config) - MISSING_SERVICES
    removed = remove_missing(config)
    shutil.copytree(stack_dir, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    (target / "cdk.tf.json").write_text(json.dumps(config, indent=2))
    (target / OVERRIDE_FILE).write_text(json.dumps(override(config, endpoint, services), indent=2))
    return LocalStack(target, sorted(services), removed)
