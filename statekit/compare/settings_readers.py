"""The building blocks of the settings rules: readers that turn resource attributes into text.

A reader takes (resource, stack) and returns the value to show, or None when the
attribute is unset and there is nothing to say.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statekit.compare.tfjson import Resource, Stack, get_path

ASPECTS = (
    "encryption",
    "tls",
    "backup",
    "dead-letter",
    "consistency",
    "network",
    "capacity",
    "retention",
    "wiring",
)
Reader = Callable[[Resource, Stack], Any]


@dataclass(frozen=True)
class Setting:
    aspect: str
    label: str
    value: str
    resource: str  # "<type> <name>", so a reader can find it in cdk.tf.json


def attr(dotted: str, default: str | None = None) -> Reader:
    """The attribute's value; ``default`` (e.g. "provider default: AWS-owned key") if unset."""

    def read(resource: Resource, stack: Stack) -> Any:
        value = resource.get(dotted)
        if value in (None, "", [], {}):
            return default
        return stack.describe(value)

    return read


def flag(dotted: str, on: str, off: str, unset: str | None = None) -> Reader:
    def read(resource: Resource, stack: Stack) -> Any:
        value = resource.get(dotted)
        if value is None:
            return unset
        return on if value in (True, "true", "Enabled", "ENABLED") else off

    return read


def first(*readers: Reader) -> Reader:
    def read(resource: Resource, stack: Stack) -> Any:
        for reader in readers:
            value = reader(resource, stack)
            if value is not None:
                return value
        return None

    return read


def sqs_redrive(resource: Resource, stack: Stack) -> Any:
    """SQS's redrive policy is a JSON string (or a separate aws_sqs_queue_redrive_policy)."""
    raw = resource.get("redrive_policy")
    if raw is None:
        for other in stack.resources:
            if other.type == "aws_sqs_queue_redrive_policy" and resource.logical_id in str(
                other.config.get("queue_url", "")
            ):
                raw = other.config.get("redrive_policy")
    if raw is None:
        return None
    try:
        policy = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw
    except ValueError:
        return stack.describe(raw)
    if isinstance(policy, dict):
        target = stack.describe(policy.get("deadLetterTargetArn", "?"))
        return f"to {target} after {policy.get('maxReceiveCount', '?')} receives"
    return stack.describe(raw)


def sqs_tls(resource: Resource, stack: Stack) -> Any:
    """TLS-only on SQS is a queue policy denying aws:SecureTransport=false."""
    for other in stack.resources:
        if (
            other.type == "aws_sqs_queue_policy"
            and resource.logical_id in str(other.config.get("queue_url", ""))
            and "aws:SecureTransport" in str(other.config.get("policy", ""))
        ):
            return "HTTPS only (queue policy denies aws:SecureTransport=false)"
    return None


def poison_queue(resource: Resource, stack: Stack) -> Any:
    """Azure Queue Storage has no redrive: statekit moves dead letters to ``<queue>-poison``."""
    name = str(resource.config.get("name", ""))
    if name.endswith("-poison"):
        return "this is the poison (dead-letter) queue"
    names = {
        str(r.config.get("name", "")) for r in stack.resources if r.type == "azurerm_storage_queue"
    }
    return (
        f"to {name}-poison (statekit convention)"
        if f"{name}-poison" in names
        else "no poison queue in stack"
    )


def pubsub_dead_letter(resource: Resource, stack: Stack) -> Any:
    topic = resource.get("dead_letter_policy.dead_letter_topic")
    if topic is None:
        return None
    attempts = resource.get("dead_letter_policy.max_delivery_attempts") or 5
    return f"to {stack.describe(topic)} after {attempts} deliveries"


def cosmos_backup(resource: Resource, stack: Stack) -> Any:
    kind = resource.get("backup.type")
    if kind is None:
        return "provider default: periodic, 2 copies"
    tier = resource.get("backup.tier")
    if kind == "Continuous":
        return f"continuous point-in-time restore ({tier or 'Continuous30Days'})"
    hours = resource.get("backup.interval_in_minutes")
    return f"periodic{f' every {hours} min' if hours else ''}, no point-in-time restore"


def cosmos_serverless(resource: Resource, stack: Stack) -> Any:
    capabilities = resource.config.get("capabilities") or []
    names = [get_path(item, "name") for item in capabilities if isinstance(item, dict)]
    return "serverless" if "EnableServerless" in names else "provisioned throughput"


def cosmos_network(resource: Resource, stack: Stack) -> Any:
    public = resource.get("public_network_access_enabled")
    local_auth = (
        resource.get("local_authentication_disabled")
        or resource.get("local_authentication_enabled") is False
    )
    parts = [
        "public endpoint"
        if public in (None, True)
        else "no public endpoint (private endpoint only)"
    ]
    parts.append("keys disabled, Entra ID only" if local_auth else "account keys enabled")
    return "; ".join(parts)


def lambda_network(resource: Resource, stack: Stack) -> Any:
    if resource.get("vpc_config.subnet_ids"):
        return "in VPC subnets"
    return "AWS-managed network (no VPC)"


def function_urls(resource: Resource, stack: Stack) -> Any:
    """Which STATEKIT_*_URL variables the function receives (names only, never values)."""
    for path in ("environment.variables", "app_settings", "service_config.environment_variables"):
        variables = resource.get(path)
        if isinstance(variables, dict):
            names = sorted(
                k.removeprefix("STATEKIT_").removesuffix("_URL").lower()
                for k in variables
                if k.startswith("STATEKIT_") and k.endswith("_URL")
            )
            return ", ".join(names) if names else "none set"
    return None


def ttl_field(resource: Resource, stack: Stack) -> Any:
    if resource.get("ttl_config") is not None or resource.config.get("ttl_config") == {}:
        return f"TTL on field {resource.config.get('field', '?')}"
    return None


def dynamodb_capacity(resource: Resource, stack: Stack) -> Any:
    mode = resource.get("billing_mode") or "PROVISIONED"
    if mode == "PAY_PER_REQUEST":
        return "on demand"
    return f"provisioned {resource.get('read_capacity')} RCU / {resource.get('write_capacity')} WCU"
