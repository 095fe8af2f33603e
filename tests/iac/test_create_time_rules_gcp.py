"""The create-time rules behind issue 16's Google Cloud findings, on the synthesized JSON.

Each test cites the documented rule it encodes; no emulator takes a GCP apply, so
these are what stands between a synthesized stack and a failed first apply on a fresh
project.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.iac.azure_gcp_support import ENVS, StackView
from tests.iac.conftest import EXAMPLE, Synthesized

SERVICE_AGENT_EMAIL = re.compile(r"service-\$\{data\.google_project\.[^}]+\.number\}@")


@pytest.fixture(params=ENVS)
def stack(request: pytest.FixtureRequest, synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "gcp", request.param)


@pytest.fixture
def prod(synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "gcp", "prod")


def iam_members(stack: StackView) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{resource_type}.{name}", resource)
        for resource_type, resources in stack.config["resource"].items()
        if resource_type.endswith("_iam_member")
        for name, resource in resources.items()
    ]


def test_service_agents_are_created_before_they_are_granted(stack: StackView) -> None:
    # A service agent is created when its API is first used, not when it is enabled;
    # "google_project_service_identity ... Generate service identity for a service"
    # (google-beta) and the google_storage_project_service_account data source create it
    # and return its e-mail. A grant by a composed e-mail fails on a fresh project.
    identities = stack.resources("google_project_service_identity")
    data = stack.config.get("data", {})
    granted_agents = 0
    for address, resource in iam_members(stack):
        member = resource["member"]
        assert not SERVICE_AGENT_EMAIL.search(member), f"{address} grants a composed e-mail"
        if "google_project_service_identity." in member:
            name = member.split("google_project_service_identity.")[1].split(".")[0]
            assert name in identities, address
            granted_agents += 1
        if "data.google_storage_project_service_account." in member:
            assert "google_storage_project_service_account" in data
            granted_agents += 1
    assert granted_agents > 0  # the Pub/Sub agent at least (dead letters), in every env
    for identity in identities.values():
        assert identity["provider"] == "google-beta"
        assert identity["depends_on"], "the identity waits for its API"
    providers = stack.config["terraform"]["required_providers"]
    assert providers["google-beta"]["source"] == "hashicorp/google-beta"
    assert providers["google-beta"]["version"] == providers["google"]["version"]


def test_prod_creates_every_agent_its_customer_key_is_granted_to(prod: StackView) -> None:
    services = {r["service"] for r in prod.resources("google_project_service_identity").values()}
    assert services == {
        "pubsub.googleapis.com",
        "firestore.googleapis.com",
        "redis.googleapis.com",
        "secretmanager.googleapis.com",
        "workflows.googleapis.com",
    }
    key_users = {r["member"] for r in prod.resources("google_kms_crypto_key_iam_member").values()}
    assert any("google_storage_project_service_account" in m for m in key_users)


def test_build_account_has_the_roles_function_builds_need(stack: StackView) -> None:
    # Cloud Run functions, "Configure the build service account": Logs Writer, Artifact
    # Registry Writer and Storage Object Admin (the source and the build's buckets).
    build = "serviceAccount:${google_service_account.functions_build-identity"
    roles = {
        (resource["role"], json.dumps(resource.get("condition", {})))
        for _, resource in iam_members(stack)
        if resource["member"].startswith(build)
    }
    role_names = {role for role, _ in roles}
    assert {
        "roles/logging.logWriter",
        "roles/artifactregistry.writer",
        "roles/storage.objectAdmin",
        "roles/storage.objectViewer",
    } <= role_names
    (condition,) = [c for role, c in roles if role == "roles/storage.objectAdmin"]
    assert "gcf-v2-sources-" in condition and "gcf-v2-uploads-" in condition
    for function in stack.resources("google_cloudfunctions2_function").values():
        assert "functions_build-objectAdmin" in " ".join(function["depends_on"])


def with_cache(synthesized: Synthesized) -> list[StackView]:
    """The stacks with the cache (and so the VPC); dev has it off and has neither."""
    views = [StackView(synthesized, "gcp", env) for env in ENVS]
    for view in views:
        has_cache = view.settings.components.cache
        assert bool(view.resources("google_redis_instance")) is has_cache, view.name
        assert bool(view.resources("google_compute_subnetwork")) is has_cache, view.name
    cached = [view for view in views if view.settings.components.cache]
    assert cached
    return cached


def test_every_memorystore_ca_certificate_is_passed(synthesized: Synthesized) -> None:
    # Memorystore in-transit encryption, "Certificate authority rotation": during a
    # rotation server_ca_certs holds the old and the new CA; clients must trust all.
    for view in with_cache(synthesized):
        for function in view.resources("google_cloudfunctions2_function").values():
            ca = function["service_config"]["environment_variables"]["STATEKIT_CACHE_CA_CERT"]
            assert ca.startswith('${join("\\n", google_redis_instance.')
            assert ca.endswith(".server_ca_certs[*].cert)}")
            assert ".0." not in ca and "[0]" not in ca


def test_workflows_invoker_is_held_to_the_stacks_workflow(stack: StackView) -> None:
    # Workflows roles: roles/workflows.invoker is grantable on a project only, and
    # Workflows does not recognize resource-name conditions; tag conditions
    # (resource.matchTagId) are recognized by every service.
    (grant,) = [r for _, r in iam_members(stack) if r["role"] == "roles/workflows.invoker"]
    expression = grant["condition"]["expression"]
    key = stack.one("google_tags_tag_key")
    value = stack.one("google_tags_tag_value")
    assert expression.startswith('resource.matchTagId("${google_tags_tag_key.')
    assert "${google_tags_tag_value." in expression
    assert value["parent"].startswith("${google_tags_tag_key.")
    assert key["parent"] == f"projects/{stack.settings.project}"
    # Tags are Resource Manager objects: the API is enabled before the key is made.
    assert "google_project_service.api-cloudresourcemanager" in key["depends_on"]
    # Every workflow of the App carries the tag: one binding each.
    bindings = stack.resources("google_tags_location_tag_binding").values()
    workflows = stack.resources("google_workflows_workflow")
    assert len(bindings) == len(workflows) >= 1
    bound = set()
    for binding in bindings:
        assert binding["parent"].startswith("//workflows.googleapis.com/projects/")
        bound |= {n for n in workflows if f"${{google_workflows_workflow.{n}." in binding["parent"]}
        assert binding["tag_value"].startswith("${google_tags_tag_value.")
    assert bound == set(workflows)


def test_egress_subnet_holds_every_function_at_max_scale(synthesized: Synthesized) -> None:
    # Cloud Run Direct VPC egress, "IP address allocation": a /26 or larger range, and
    # twice as many addresses as instances; 4 addresses of each subnet are reserved.
    for view in with_cache(synthesized):
        functions = view.resources("google_cloudfunctions2_function").values()
        total = sum(f["service_config"]["max_instance_count"] for f in functions)
        (subnet,) = view.resources("google_compute_subnetwork").values()
        prefix = int(subnet["ip_cidr_range"].split("/")[1])
        assert prefix <= 26
        assert 2 ** (32 - prefix) - 4 >= 2 * total, view.name


def test_egress_prefix_rule() -> None:
    from modules.gcp.network import egress_prefix_length

    assert egress_prefix_length(10) == 26  # never smaller than /26
    assert egress_prefix_length(100) == 24  # 204 addresses
    assert egress_prefix_length(300) == 22  # 604 addresses: a /23 holds 512
    assert egress_prefix_length(510) == 22  # 1024 exactly
    assert egress_prefix_length(511) == 21


def test_prod_http_entry_points_require_identity(prod: StackView) -> None:
    # Cloud Run functions: a function without roles/run.invoker for allUsers rejects
    # unauthenticated calls ("Authenticating for invocation"); the stack grants the
    # invoker role only to named service accounts, allUsers only to an HTTP function the
    # App declares public, and internal functions stay internal.
    public = {f.name for f in EXAMPLE.app.http if f.public}
    for resource in prod.resources("google_cloud_run_v2_service_iam_member").values():
        assert resource["member"] != "allAuthenticatedUsers"
        if resource["member"] == "allUsers":
            assert any(f"functions_{name}_" in resource["name"] for name in public), resource
        else:
            assert resource["member"].startswith("serviceAccount:${google_service_account.")
    http = {f.name for f in EXAMPLE.app.http}
    for function in prod.resources("google_cloudfunctions2_function").values():
        ingress = function["service_config"]["ingress_settings"]
        if function["service_config"]["environment_variables"]["STATEKIT_FUNCTION"] not in http:
            assert ingress == "ALLOW_INTERNAL_ONLY"
