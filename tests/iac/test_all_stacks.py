"""Checks every synthesized stack must pass, whichever cloud: names, tags, URLs, no secrets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from modules.common.stack import URL_VARIABLES
from tests.iac.conftest import APP, Synthesized

REQUIRED_TAGS = ("environment", "stack", "owner")
# Attribute names whose value is a secret: in cdk.tf.json they may only be references.
SECRET_ATTRIBUTES = re.compile(
    r"^(password|passwords|auth_token|secret_string|secret_value|value|primary_access_key|"
    r"secondary_access_key|access_key|primary_key|connection_string|client_secret|api_key|"
    r"sas_token|secret_data|auth_string|private_key|token)$"
)
# Only these resource types may have an attribute called "value" that holds a secret.
SECRET_VALUE_TYPES = ("azurerm_key_vault_secret", "google_secret_manager_secret_version")
SECRET_REFERENCE = re.compile(
    r"\$\{[^}]*\.(random_password|result|auth_token|password|primary_access_key|primary_key|"
    r"primary_connection_string|secret_string|secret_data|auth_string|connection_string)\b[^}]*\}"
)
LITERAL_SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "password in a URL's user info": re.compile(r"[a-z]+://[^/\s:@\"]+:[^/\s@\"]+@"),
    "password in a URL's query": re.compile(r"[?&](password|auth|token|key)=(?!\$\{)[^&\"\s]+"),
    "Azure storage key": re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}"),
}
PURE_REFERENCE = re.compile(r"^\$\{[^}]+\}$")


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """``(path, key, value)`` for every key in nested dicts and lists."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", key, item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def test_every_enabled_cloud_and_environment_has_its_stack(synthesized: Synthesized) -> None:
    for name, settings in synthesized.settings.items():
        assert name == f"{APP}-{settings.cloud}-{settings.env}"
        assert (synthesized.stack_dir(name) / "cdk.tf.json").is_file()
    if synthesized.missing_clouds:
        print(f"not yet implemented, not synthesized: {sorted(synthesized.missing_clouds)}")


def test_every_tagged_resource_carries_environment_stack_and_owner(
    synthesized: Synthesized,
) -> None:
    for name, settings in synthesized.settings.items():
        tagged = 0
        for resource_type, resources in synthesized.config(name)["resource"].items():
            for resource_id, resource in resources.items():
                for attribute in ("tags", "labels"):
                    tags = resource.get(attribute)
                    if isinstance(tags, dict):
                        tagged += 1
                        expected = {
                            "environment": settings.env,
                            "stack": name,
                            "owner": settings.owner,
                        }
                        assert {k: tags.get(k) for k in REQUIRED_TAGS} == expected, (
                            f"{name}: {resource_type}.{resource_id}.{attribute}"
                        )
        assert tagged >= 5, f"{name}: only {tagged} tagged resources"


AWS_TAGGABLE = (
    "aws_dynamodb_table",
    "aws_sqs_queue",
    "aws_lambda_function",
    "aws_sfn_state_machine",
    "aws_cloudwatch_log_group",
    "aws_sns_topic",
    "aws_iam_role",
    "aws_budgets_budget",
)


def test_aws_taggable_resources_are_all_tagged(synthesized: Synthesized) -> None:
    for name in synthesized.names("aws"):
        for resource_type in AWS_TAGGABLE:
            for resource_id, resource in synthesized.resources(name, resource_type).items():
                assert "tags" in resource, f"{name}: {resource_type}.{resource_id} has no tags"


def test_urls_are_outputs_and_match_the_enabled_components(synthesized: Synthesized) -> None:
    for name, settings in synthesized.settings.items():
        outputs = synthesized.config(name).get("output", {})
        on = settings.components
        expected = {"store"} | {c for c in ("cache", "queue") if getattr(on, c)}
        if on.orchestrator:
            expected.add("workflow")
        url_outputs = {key for key in outputs if key.startswith("statekit_")}
        assert url_outputs == {URL_VARIABLES[c].lower() for c in expected}, name


def test_no_secret_value_in_any_synthesized_stack(synthesized: Synthesized) -> None:
    problems: list[str] = []
    for name in synthesized.settings:
        text = synthesized.text(name)
        for label, pattern in LITERAL_SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                problems.append(f"{name}: {label}: {match.group(0)[:40]}")
        config = synthesized.config(name)
        for resource_type, resources in config.get("resource", {}).items():
            for resource_id, resource in resources.items():
                for path, key, value in walk(resource):
                    if not SECRET_ATTRIBUTES.match(key) or path.startswith(".//"):
                        continue
                    if key == "value" and resource_type not in SECRET_VALUE_TYPES:
                        continue
                    for item in value if isinstance(value, list) else [value]:
                        if not (isinstance(item, str) and PURE_REFERENCE.match(item)):
                            problems.append(
                                f"{name}: {resource_type}.{resource_id}{path} is a literal"
                            )
        # Outputs and function settings may hold references, never to a secret attribute.
        exposed: list[tuple[str, Any]] = [
            (f"output.{key}", out.get("value")) for key, out in config.get("output", {}).items()
        ]
        exposed += [
            (f"env{path}", value)
            for path, key, value in walk(config.get("resource", {}))
            if key.startswith("STATEKIT_")
            or path.endswith(("app_settings", "environment_variables"))
        ]
        for where, value in exposed:
            exposed_secret = SECRET_REFERENCE.search(json.dumps(value))
            if exposed_secret:
                problems.append(f"{name}: {where} exposes {exposed_secret.group(0)}")
    assert not problems, "\n".join(problems)


def test_the_secret_scan_catches_a_planted_secret() -> None:
    """The scan above is only as good as its patterns: prove they fire."""
    planted = 'rediss://default:hunter2@cache:6379/0 "AKIAABCDEFGHIJKLMNOP" ?password=hunter2'
    hits = [label for label, pattern in LITERAL_SECRET_PATTERNS.items() if pattern.search(planted)]
    assert hits == [
        "AWS access key id",
        "password in a URL's user info",
        "password in a URL's query",
    ]
    assert SECRET_REFERENCE.search("${data.aws_secretsmanager_random_password.p.random_password}")
    assert not SECRET_REFERENCE.search("${aws_secretsmanager_secret.s.arn}")


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_only_the_synthesized_clouds_providers_are_in_a_stack(
    synthesized: Synthesized, cloud: str
) -> None:
    providers = {"aws": "aws", "azure": "azurerm", "gcp": "google"}
    for name in synthesized.names(cloud):
        required = set(synthesized.config(name)["terraform"]["required_providers"])
        others = {p for c, p in providers.items() if c != cloud}
        assert providers[cloud] in required
        assert not required & others, f"{name}: {sorted(required)}"


def test_every_function_of_every_stack_gets_the_environments_sampler(
    synthesized: Synthesized,
) -> None:
    """prod.toml records one trace in ten: each cloud's functions carry the sampler
    variables; the environments that keep every trace carry none."""
    from modules.common.tracing import sampling_environment

    for name, settings in synthesized.settings.items():
        expected = sampling_environment(settings)
        assert bool(expected) == (settings.env == "prod"), name
        resources = synthesized.config(name)["resource"]
        environments = [
            *(
                f["environment"]["variables"]
                for f in resources.get("aws_lambda_function", {}).values()
            ),
            *(
                a["app_settings"]
                for a in resources.get("azurerm_function_app_flex_consumption", {}).values()
            ),
            *(
                f["service_config"]["environment_variables"]
                for f in resources.get("google_cloudfunctions2_function", {}).values()
            ),
        ]
        assert environments, name
        for variables in environments:
            assert {k: variables.get(k) for k in expected} == expected, name
            assert "OTEL_TRACES_SAMPLER" in variables or not expected, name
