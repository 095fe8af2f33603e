"""The booking service, declared only through statekit.app (tests/apps/booking), synthesized
for aws, azure and gcp x dev and prod.

Its stacks must hold exactly its functions with their triggers (the nightly schedule's
cron on each cloud), its IAM (``send_email`` for the e-mail consumer only), names
from its name, the record of what they were synthesized from, and nothing of the
example App. tests/iac/test_app_options.py covers what booking does not declare
(a public API, per-function memory, a batch size, a weekday cron).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from modules.common.app import AppSource
from statekit.app import parse_cron
from tests.iac.conftest import APP, EXAMPLE, ROOT, Synthesized, synthesize_app

REF = "booking.app:APP"
ENVS = ["dev", "prod"]
CLOUDS = ["aws", "azure", "gcp"]
CRON = "0 3 * * *"  # tests/apps/booking/app.py: nightly
DEPLOYED = ["activities", "api", "emails", "nightly"]


@pytest.fixture(scope="module")
def booking(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize_app(tmp_path_factory.mktemp("booking.out"), AppSource.load(REF), ENVS)


def stack(cloud: str, env: str) -> str:
    return f"booking-{cloud}-{env}"


def test_every_cloud_and_environment_has_the_apps_stack(booking: Synthesized) -> None:
    assert sorted(booking.settings) == sorted(stack(c, e) for c in CLOUDS for e in ENVS)


def test_the_stack_records_the_app_and_what_it_was_synthesized_from(
    booking: Synthesized,
) -> None:
    source = AppSource.load(REF)
    for name, settings in booking.settings.items():
        record = booking.config(name)["//"]["statekit"]
        assert record["app"] == "booking"
        assert record["app_ref"] == REF
        assert record["code_fingerprint"] == source.code_fingerprint()
        assert record["environment"] == settings.env
        assert record["environment_file"].endswith(f"{settings.env}.toml")
        assert len(record["environment_fingerprint"]) == 64
        assert record["functions"] == ["api", "emails", "nightly"]
        assert record["workflows"] == ["group_booking"]


def test_nothing_of_the_example_app_is_in_its_stacks(booking: Synthesized) -> None:
    assert APP != "booking"
    for name in booking.settings:
        text = booking.text(name)
        assert "handlers" not in text, name
        assert f"{APP}-" not in text, name
        for workflow in EXAMPLE.app.workflows:
            assert str(workflow.name) not in text, name


@pytest.mark.parametrize("env", ENVS)
def test_aws_functions_triggers_and_roles(booking: Synthesized, env: str) -> None:
    name = stack("aws", env)
    functions = {
        f["environment"]["variables"]["STATEKIT_FUNCTION"]: f
        for f in booking.resources(name, "aws_lambda_function").values()
    }
    assert sorted(functions) == DEPLOYED
    for function_name, function in functions.items():
        assert function["function_name"] == f"booking-{env}-{function_name}"
        assert function["handler"] == "statekit.runtime.aws.handle"
        assert function["environment"]["variables"]["STATEKIT_APP"] == REF
        assert function["memory_size"] == booking.settings[name].functions.memory_mb
    # A private HTTP function: an IAM-only function URL, no public API.
    (url,) = booking.resources(name, "aws_lambda_function_url").values()
    assert url["authorization_type"] == "AWS_IAM"
    assert "functions_api_" in url["function_name"]
    assert not booking.resources(name, "aws_apigatewayv2_api")
    assert "api_endpoint" in booking.config(name)["output"]
    (mapping,) = booking.resources(name, "aws_lambda_event_source_mapping").values()
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert "functions_emails_" in mapping["function_name"]
    (schedule,) = booking.resources(name, "aws_scheduler_schedule").values()
    assert schedule["schedule_expression"] == "cron(0 3 * * ? *)"
    assert schedule["schedule_expression"] == parse_cron(CRON).eventbridge()
    assert schedule["schedule_expression_timezone"] == "UTC"
    assert "functions_nightly_" in schedule["target"]["arn"]
    (scheduler_policy,) = [
        p for k, p in booking.resources(name, "aws_iam_role_policy").items() if "scheduler" in k
    ]
    (invoke,) = json.loads(scheduler_policy["policy"])["Statement"][:1]
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert len(invoke["Resource"]) == 1 and "functions_nightly_" in invoke["Resource"][0]
    # send_email is granted to the function that declares it, and to no other.
    for key, policy in booking.resources(name, "aws_iam_role_policy").items():
        statements = json.loads(policy["policy"])["Statement"]
        actions = {a for s in statements for a in s["Action"]}
        assert ("ses:SendEmail" in actions) == key.startswith("functions_emails-policy"), key
    (machine,) = booking.resources(name, "aws_sfn_state_machine").values()
    assert machine["name"] == f"booking-{env}-group-booking"
    tasks = [s for s in json.loads(machine["definition"])["States"].values() if s["Type"] == "Task"]
    assert tasks and all("functions_activities_" in json.dumps(t) for t in tasks)


@pytest.mark.parametrize("env", ENVS)
def test_azure_function_app_hosts_the_app(booking: Synthesized, env: str) -> None:
    name = stack("azure", env)
    (app,) = booking.resources(name, "azurerm_function_app_flex_consumption").values()
    assert app["name"].startswith(f"booking-{env}-")
    settings = app["app_settings"]
    assert settings["STATEKIT_APP"] == REF
    assert settings["STATEKIT_FUNCTION"] == "*"
    assert settings["STATEKIT_QUEUE_NAME"]
    assert settings["STATEKIT_WORKFLOW_URL"].endswith("/group_booking?key_env=STATEKIT_DURABLE_KEY")
    assert settings["STATEKIT_WORKFLOW_URL_GROUP_BOOKING"] == settings["STATEKIT_WORKFLOW_URL"]
    roles = {
        r["role_definition_name"]
        for r in booking.resources(name, "azurerm_role_assignment").values()
    }
    assert "Communication and Email Service Owner" in roles
    staged = Path.cwd() / "build" / "azure-function" / name
    assert (staged / "function_app.py").read_text() == (
        "from statekit.runtime.azure import function_app\napp = function_app()\n"
    )
    assert (staged / "booking" / "app.py").is_file()
    assert not (staged / "handlers").exists()
    # The runtime registers the timer from the App: NCRONTAB with the seconds field.
    assert parse_cron(CRON).ncrontab() == "0 0 3 * * *"


@pytest.mark.parametrize("env", ENVS)
def test_gcp_functions_triggers_and_invokers(booking: Synthesized, env: str) -> None:
    name = stack("gcp", env)
    functions = {
        f["service_config"]["environment_variables"]["STATEKIT_FUNCTION"]: f
        for f in booking.resources(name, "google_cloudfunctions2_function").values()
    }
    assert sorted(functions) == DEPLOYED
    for function_name, function in functions.items():
        assert function["name"] == f"booking-{env}-{function_name}"
        assert function["build_config"]["entry_point"] == "handle"
        assert function["service_config"]["environment_variables"]["STATEKIT_APP"] == REF
    assert functions["api"]["service_config"]["ingress_settings"] == "ALLOW_ALL"
    for internal in ("emails", "nightly", "activities"):
        assert functions[internal]["service_config"]["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    invokers = {
        (m["member"], re.sub(r"_[0-9A-F]{8}\.name}$", "", m["name"]))
        for m in booking.resources(name, "google_cloud_run_v2_service_iam_member").values()
    }
    # The private API has no invoker but the callers a team grants: nobody anonymous.
    assert not any(member.startswith("all") for member, _ in invokers)
    assert {target for _, target in invokers} == {
        f"${{google_cloudfunctions2_function.functions_{f}" for f in ("emails", "nightly", "activities")
    }
    (job,) = booking.resources(name, "google_cloud_scheduler_job").values()
    assert (job["schedule"], job["time_zone"]) == (CRON, "Etc/UTC")
    assert job["http_target"]["oidc_token"]["service_account_email"].startswith(
        "${google_service_account.schedules_identity"
    )
    assert "functions_nightly_" in job["http_target"]["uri"]
    (push,) = [
        s for s in booking.resources(name, "google_pubsub_subscription").values() if "push_config" in s
    ]
    assert "functions_emails_" in push["push_config"]["push_endpoint"]
    assert push["push_config"]["oidc_token"]["service_account_email"]
    (workflow,) = booking.resources(name, "google_workflows_workflow").values()
    assert workflow["name"] == f"booking-{env}-group-booking"
    assert "functions_activities_" in workflow["source_contents"]


# Resources named inside another resource of the stack's own (a policy inside its role,
# a secret inside its vault, a database inside its account): their names may repeat.
SCOPED_TYPES = {
    "aws_iam_role_policy",
    "aws_apigatewayv2_stage",
    "azurerm_key_vault_secret",
    "azurerm_monitor_diagnostic_setting",
    "azurerm_cosmosdb_sql_database",
    "azurerm_cosmosdb_sql_container",
    "azurerm_storage_queue",
    "azurerm_storage_container",
    "google_tags_tag_value",
}


def resource_names(config: dict[str, Any]) -> set[str]:
    """Every name-like attribute of every account-level resource (what must not collide)."""
    keys = ("name", "function_name", "account_id", "bucket", "alarm_name", "alias", "short_name")
    return {
        str(resource[key])
        for resource_type, resources in config.get("resource", {}).items()
        if resource_type not in SCOPED_TYPES
        for resource in resources.values()
        for key in keys
        if isinstance(resource.get(key), str) and "${" not in resource[key]
    }


@pytest.mark.parametrize("cloud", CLOUDS)
def test_two_apps_in_one_account_share_no_resource_name(
    booking: Synthesized, synthesized: Synthesized, cloud: str
) -> None:
    mine = resource_names(booking.config(stack(cloud, "dev")))
    theirs = resource_names(synthesized.config(f"{APP}-{cloud}-dev"))
    shared = mine & theirs
    assert not shared, sorted(shared)
    assert any(n.startswith("booking-dev-") for n in mine)


def test_the_kit_never_names_the_example_app() -> None:
    """No import, path or name in modules/ or statekit/ code refers to handlers/ (prose may
    say that ``handlers.app:APP`` is the default)."""
    reference = re.compile(r"(from|import)\s+handlers\b|[\"']handlers[./:]")
    allowed = {("statekit/app/declaration.py", 'DEFAULT_APP = "handlers.app:APP"')}
    found = []
    for folder in ("modules", "statekit"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if reference.search(line) and not any(
                    relative == file and text in line for file, text in allowed
                ):
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
