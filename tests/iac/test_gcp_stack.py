"""The GCP stacks synthesize with the settings that matter (Testing API + the JSON)."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from modules.common.app import AppSource
from modules.common.workflow import resource_name
from tests.iac.azure_gcp_support import ENVS, StackView
from tests.iac.conftest import APP, EXAMPLE, ROOT, Synthesized

REFERENCE = r"\$\{[^}]+\}"


@pytest.fixture(params=ENVS)
def stack(request: pytest.FixtureRequest, synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "gcp", request.param)


@pytest.fixture
def dev(synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "gcp", "dev")


@pytest.fixture
def prod(synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "gcp", "prod")


def functions(stack: StackView) -> dict[str, dict[str, Any]]:
    """The Cloud Functions by the function they run (``STATEKIT_FUNCTION``)."""
    return {
        f["service_config"]["environment_variables"]["STATEKIT_FUNCTION"]: f
        for f in stack.resources("google_cloudfunctions2_function").values()
    }


WORKFLOW = resource_name(EXAMPLE.app.workflows[0])
ACTIVITIES = EXAMPLE.app.activities
(CONSUMER,) = EXAMPLE.app.queue_consumers


def iam(stack: StackView, resource_type: str, role: str) -> list[dict[str, Any]]:
    return [r for r in stack.resources(resource_type).values() if r["role"] == role]


def test_firestore_native_with_ttl_on_expires_at_epoch(stack: StackView) -> None:
    assert stack.has(
        "google_firestore_database", {"type": "FIRESTORE_NATIVE", "location_id": "europe-west1"}
    )
    assert stack.has(
        "google_firestore_field",
        {"collection": "statekit", "field": "expires_at_epoch", "ttl_config": {}},
    )


def test_firestore_listing_index_on_partition_then_key(stack: StackView) -> None:
    index = stack.one("google_firestore_index")
    assert index["collection"] == "statekit"
    assert index["query_scope"] == "COLLECTION"
    assert [(f["field_path"], f["order"]) for f in index["fields"]] == [
        ("pk", "ASCENDING"),
        ("key", "ASCENDING"),
    ]


def test_firestore_protection_and_recovery_follow_settings(dev: StackView, prod: StackView) -> None:
    assert prod.has(
        "google_firestore_database",
        {
            "delete_protection_state": "DELETE_PROTECTION_ENABLED",
            "point_in_time_recovery_enablement": "POINT_IN_TIME_RECOVERY_ENABLED",
            "deletion_policy": "ABANDON",
        },
    )
    assert "kms_key_name" in prod.one("google_firestore_database")["cmek_config"]
    assert dev.has(
        "google_firestore_database",
        {
            "delete_protection_state": "DELETE_PROTECTION_DISABLED",
            "point_in_time_recovery_enablement": "POINT_IN_TIME_RECOVERY_DISABLED",
        },
    )
    assert "cmek_config" not in dev.one("google_firestore_database")


def test_datastore_user_is_conditioned_to_the_one_database(stack: StackView) -> None:
    (grant,) = iam(stack, "google_project_iam_member", "roles/datastore.user")
    assert grant["member"].startswith("serviceAccount:${google_service_account.functions_identity")
    assert re.fullmatch(
        rf'resource.name == "projects/statekit-{stack.env}/databases/{REFERENCE}"',
        grant["condition"]["expression"],
    )


def test_memorystore_auth_and_transit_encryption(stack: StackView) -> None:
    if stack.env == "dev":  # the cache is switched off in dev
        assert not stack.resources("google_redis_instance")
        assert not stack.resources("google_secret_manager_secret")
        assert "statekit_cache_url" not in stack.config["output"]
        return
    assert stack.has(
        "google_redis_instance",
        {"auth_enabled": True, "transit_encryption_mode": "SERVER_AUTHENTICATION"},
    )
    version = stack.one("google_secret_manager_secret_version")
    assert re.fullmatch(r"\$\{google_redis_instance\.\w+\.auth_string\}", version["secret_data"])
    (reader,) = iam(
        stack, "google_secret_manager_secret_iam_member", "roles/secretmanager.secretAccessor"
    )
    assert "functions_identity" in reader["member"]
    for function in functions(stack).values():
        service = function["service_config"]
        assert service["environment_variables"]["STATEKIT_CACHE_URL"].endswith(
            ":6378/0?password_env=STATEKIT_CACHE_PASSWORD&ca_env=STATEKIT_CACHE_CA_CERT"
        )
        (secret,) = service["secret_environment_variables"]
        assert secret["key"] == "STATEKIT_CACHE_PASSWORD"
        assert secret["version"] == "latest"
        assert secret["secret"].startswith("${google_secret_manager_secret.")
        assert "STATEKIT_CACHE_PASSWORD" not in service["environment_variables"]
        assert service["direct_vpc_egress"] == "VPC_EGRESS_PRIVATE_RANGES_ONLY"
        # Deployed only once the secret has a value and the runtime account may read it.
        assert any(
            d.startswith("google_secret_manager_secret_version.") for d in function["depends_on"]
        )
        assert any(
            d.startswith("google_secret_manager_secret_iam_member.") for d in function["depends_on"]
        )


def test_pubsub_dead_letter_wiring(stack: StackView) -> None:
    subscriptions = {s["name"]: s for s in stack.resources("google_pubsub_subscription").values()}
    work = subscriptions[f"{APP}-{stack.env}-work"]
    dead_letters = subscriptions[f"{APP}-{stack.env}-work-dlq"]
    # Pub/Sub accepts 5..100 attempts: dev's 3 is raised to 5, prod's 5 kept.
    assert work["dead_letter_policy"]["max_delivery_attempts"] == 5
    assert work["dead_letter_policy"]["dead_letter_topic"].startswith(
        "${google_pubsub_topic.queue_dead-letter-topic"
    )
    assert dead_letters["topic"] == work["dead_letter_policy"]["dead_letter_topic"]
    push = work["push_config"]
    assert f"functions_{CONSUMER.name}_" in push["push_endpoint"]
    assert push["oidc_token"]["service_account_email"].startswith(
        "${google_service_account.queue_push-identity"
    )


def test_pubsub_service_agent_can_dead_letter(stack: StackView) -> None:
    (identity,) = [
        name
        for name, r in stack.resources("google_project_service_identity").items()
        if r["service"] == "pubsub.googleapis.com"
    ]
    agent = f"serviceAccount:${{google_project_service_identity.{identity}.email}}"
    (publisher,) = [
        r
        for r in iam(stack, "google_pubsub_topic_iam_member", "roles/pubsub.publisher")
        if r["member"] == agent
    ]
    assert "dead-letter-topic" in publisher["topic"]
    (subscriber,) = [
        r
        for r in iam(stack, "google_pubsub_subscription_iam_member", "roles/pubsub.subscriber")
        if r["member"] == agent
    ]
    assert "queue_subscription_" in subscriber["subscription"]


def test_function_identity_has_exactly_its_grants(stack: StackView) -> None:
    member_prefix = "serviceAccount:${google_service_account.functions_identity"
    granted: list[tuple[str, str]] = []
    for resource_type, resources in stack.config["resource"].items():
        if not resource_type.endswith("_iam_member"):
            continue
        for resource in resources.values():
            if resource["member"].startswith(member_prefix):
                granted.append((resource_type, resource["role"]))
    expected = {
        ("google_project_iam_member", "roles/datastore.user"),
        ("google_project_iam_member", "roles/cloudtrace.agent"),
        ("google_project_iam_member", "roles/monitoring.metricWriter"),
        ("google_pubsub_topic_iam_member", "roles/pubsub.publisher"),
        ("google_pubsub_subscription_iam_member", "roles/pubsub.subscriber"),
        ("google_project_iam_member", "roles/workflows.invoker"),
    }
    if stack.env != "dev":
        expected.add(
            ("google_secret_manager_secret_iam_member", "roles/secretmanager.secretAccessor")
        )
    assert sorted(granted) == sorted(expected)
    # Nobody gets to call a function except the named identities; allUsers only on an HTTP
    # function the App declares public, never allAuthenticatedUsers.
    public = {f.name for f in EXAMPLE.app.http if f.public}
    for resource in stack.resources("google_cloud_run_v2_service_iam_member").values():
        if resource["member"] == "allUsers":
            assert any(f"functions_{name}_" in resource["name"] for name in public), resource
        else:
            assert resource["member"].startswith("serviceAccount:")


def test_functions_source_bucket_and_entry_points(stack: StackView) -> None:
    bucket = stack.one("google_storage_bucket")
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["versioning"]["enabled"] is True
    assert bucket["public_access_prevention"] == "enforced"
    by_name = functions(stack)
    assert sorted(by_name) == sorted([f.name for f in EXAMPLE.app.functions] + [ACTIVITIES])
    for declared in EXAMPLE.app.functions:
        ingress = "ALLOW_ALL" if declared.kind == "http" else "ALLOW_INTERNAL_ONLY"
        assert by_name[declared.name]["service_config"]["ingress_settings"] == ingress
    assert by_name[ACTIVITIES]["service_config"]["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    for name, function in by_name.items():
        assert function["name"] == f"{APP}-{stack.env}-{name}"
        assert function["build_config"]["entry_point"] == "handle"
        assert function["service_config"]["environment_variables"]["STATEKIT_APP"] == EXAMPLE.ref
        assert function["build_config"]["runtime"] == "python312"
        source = function["build_config"]["source"]["storage_source"]
        assert source["object"].startswith("${google_storage_bucket_object.functions_source-object")


def test_function_urls_match_outputs(stack: StackView) -> None:
    outputs = {
        name.upper(): output["value"]
        for name, output in stack.config["output"].items()
        if name.endswith("_url")
    }
    for function in functions(stack).values():
        env = function["service_config"]["environment_variables"]
        assert {k: v for k, v in env.items() if k in outputs} == outputs
    assert outputs["STATEKIT_STORE_URL"].startswith(f"firestore://statekit-{stack.env}/")
    assert outputs["STATEKIT_QUEUE_URL"] == (
        f"pubsub://statekit-{stack.env}/{APP}-{stack.env}-work"
        f"?subscription={APP}-{stack.env}-work&dead_letter_topic={APP}-{stack.env}-work-dlq"
        f"&dead_letter_subscription={APP}-{stack.env}-work-dlq&max_attempts=5"
    )
    assert outputs["STATEKIT_WORKFLOW_URL"] == (
        f"workflows://statekit-{stack.env}/europe-west1/{APP}-{stack.env}-{WORKFLOW}"
    )


def test_main_py_exports_the_runtime_entry_point(dev: StackView) -> None:
    from modules.common.package import build_root

    staged = build_root() / "gcp-function" / f"{APP}-gcp-dev"
    main = (staged / "main.py").read_text()
    assert main == "from statekit.runtime.gcp import handle  # noqa: F401\n"
    assert callable(importlib.import_module("statekit.runtime.gcp").handle)
    for package in EXAMPLE.app.code:
        assert (staged / package / "__init__.py").exists()


def test_workflow_is_the_rendered_saga_calling_the_activity_function(stack: StackView) -> None:
    workflows = list(stack.resources("google_workflows_workflow").values())
    headers = {w["source_contents"].split(":", 1)[0] for w in workflows}
    assert headers == {f"# statekit workflow {w.name}" for w in EXAMPLE.app.workflows}
    for workflow in workflows:
        source = workflow["source_contents"]
        # Workflows' own expressions are escaped for Terraform; only the URL is a reference.
        unescaped = re.findall(r"(?<!\$)\$\{[^}]*\}", source)
        assert unescaped and all(
            r.startswith(f"${{google_cloudfunctions2_function.functions_{ACTIVITIES}_")
            for r in unescaped
        )
        assert "auth:\n            type: OIDC" in source
        assert workflow["service_account"].startswith(
            "${google_service_account.orchestrator_identity"
        )
    (invoker,) = [
        r
        for r in stack.resources("google_cloud_run_v2_service_iam_member").values()
        if "orchestrator_identity" in r["member"]
    ]
    assert f"functions_{ACTIVITIES}_" in invoker["name"]


def test_observability_retention_alerts_and_budget(stack: StackView) -> None:
    retention = {"dev": 7, "staging": 30, "prod": 365}[stack.env]
    assert stack.has(
        "google_logging_project_bucket_config",
        {"bucket_id": "_Default", "retention_days": retention},
    )
    assert stack.has("google_project_service", {"service": "cloudtrace.googleapis.com"})
    filters = [  # the threshold conditions (the state dashboard's alerts add PromQL ones)
        condition["condition_threshold"]["filter"]
        for p in stack.resources("google_monitoring_alert_policy").values()
        for condition in p["conditions"]
        if "condition_threshold" in condition
    ]
    assert any(
        f'subscription_id = "{APP}-{stack.env}-work-dlq"' in f and "num_undelivered_messages" in f
        for f in filters
    )
    assert any('response_code_class = "5xx"' in f for f in filters)
    budget = stack.one("google_billing_budget")
    assert budget["amount"]["specified_amount"]["units"] == str(
        {"dev": 20, "staging": 100, "prod": 500}[stack.env]
    )
    assert budget["billing_account"].startswith("${var.")


def test_labels_on_labelled_resources(stack: StackView) -> None:
    for resource_type in (
        "google_pubsub_topic",
        "google_storage_bucket",
        "google_cloudfunctions2_function",
    ):
        for resource in stack.resources(resource_type).values():
            assert resource["labels"]["environment"] == stack.env
            assert resource["labels"]["stack"] == f"{APP}-gcp-{stack.env}"
            assert "tags" not in resource  # Resource Manager tags are not free-form


def test_policy_rejects_a_prod_firestore_without_delete_protection(
    prod: StackView, synth_one: Callable[..., str]
) -> None:
    weaker = replace(
        prod.settings, database=replace(prod.settings.database, deletion_protection=False)
    )
    with pytest.raises(
        RuntimeError, match=r"(?s)policy check failed.*google_firestore_database.*delete_protection"
    ):
        synth_one(weaker)


def test_switched_off_components_leave_resources_and_urls_out(
    prod: StackView, synth_one: Callable[..., str]
) -> None:
    off = replace(
        prod.settings,
        components=replace(
            prod.settings.components, cache=False, queue=False, orchestrator=False, budget=False
        ),
    )
    config = json.loads(synth_one(off, AppSource.load("lean.app:APP")))
    resources = config["resource"]
    for resource_type in (
        "google_redis_instance",
        "google_compute_network",
        "google_pubsub_topic",
        "google_workflows_workflow",
        "google_billing_budget",
        "google_secret_manager_secret",
    ):
        assert resource_type not in resources
    (api,) = resources["google_cloudfunctions2_function"].values()
    assert api["build_config"]["entry_point"] == "handle"
    assert sorted(api["service_config"]["environment_variables"]) == [
        "OTEL_TRACES_SAMPLER",  # prod records one trace in ten (trace_sample_percent)
        "OTEL_TRACES_SAMPLER_ARG",
        "STATEKIT_APP",
        "STATEKIT_FUNCTION",
        "STATEKIT_GCP_TELEMETRY",  # tracing is on: spans to Cloud Trace, metrics to Monitoring
        "STATEKIT_STORE_URL",
    ]
    assert set(config["output"]) == {"statekit_store_url"}
    assert "variable" not in config  # no budget, no billing account to ask for


def test_source_requirements_are_the_tested_pins(dev: StackView) -> None:
    """The functions install exactly the versions pyproject.toml pins for GCP and its
    telemetry exporters (dev: tracing on, the cache off, so no Redis client)."""
    import tomllib

    from modules.common.package import build_root

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    staged = build_root() / "gcp-function" / f"{APP}-gcp-dev" / "requirements.txt"
    telemetry = set(extras["otel-gcp"]) - {"statekit[otel]"} | set(extras["otel"])
    assert set(staged.read_text().split()) == set(extras["gcp"]) | telemetry


def test_large_memory_gets_the_cpu_cloud_run_requires() -> None:
    from modules.gcp.functions import cpu_for

    assert [cpu_for(m) for m in (128, 4096, 6144, 10240)] == [None, None, "2", "4"]


def test_deployed_workflow_source_is_the_renderer_output(prod: StackView) -> None:
    """Undoing Terraform's escaping gives back exactly what the renderer produced."""
    from modules.common.workflow import cloud_workflows_yaml

    sources = {
        w["source_contents"].split(":", 1)[0]: w["source_contents"]
        for w in prod.resources("google_workflows_workflow").values()
    }
    assert len(sources) == len(EXAMPLE.app.workflows)
    for definition in EXAMPLE.app.workflows:
        source = sources[f"# statekit workflow {definition.name}"]
        url = re.search(r"url: (\$\{google_cloudfunctions2_function\.[^}]+\})", source)
        assert url is not None
        rendered = cloud_workflows_yaml(definition, "https://activity.example/")
        assert (
            source.replace(url.group(1), "https://activity.example/").replace("$${", "${")
            == rendered
        )


def test_tracing_off_leaves_the_exporters_switch_and_their_grants_out(
    dev: StackView, synth_one: Callable[..., str]
) -> None:
    quiet = replace(dev.settings, observability=replace(dev.settings.observability, tracing=False))
    config = json.loads(synth_one(quiet))
    roles = {r["role"] for r in config["resource"].get("google_project_iam_member", {}).values()}
    assert not roles & {"roles/cloudtrace.agent", "roles/monitoring.metricWriter"}
    for function in config["resource"]["google_cloudfunctions2_function"].values():
        assert "STATEKIT_GCP_TELEMETRY" not in function["service_config"]["environment_variables"]
