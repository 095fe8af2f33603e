"""What an App may declare beyond the booking service, on aws, azure and gcp (dev).

The tickets App (tests/apps/tickets): a public HTTP function with its own memory and
timeout, a queue consumer with a batch size that sends e-mail, a weekday schedule
(numeric days of the week, which EventBridge counts from 1) and one workflow.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modules.common.app import AppSource
from statekit.app import parse_cron
from tests.iac.conftest import APP, EXAMPLE, Synthesized, synthesize_app

REF = "tickets.app:APP"
ENVS = ["dev"]
CRON = "30 2 * * 1-5"  # tests/apps/tickets/app.py: sweep


@pytest.fixture(scope="module")
def tickets(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize_app(tmp_path_factory.mktemp("tickets.out"), AppSource.load(REF), ENVS)


def stack(cloud: str, env: str) -> str:
    return f"tickets-{cloud}-{env}"


def test_every_cloud_and_environment_has_the_apps_stack(tickets: Synthesized) -> None:
    assert sorted(tickets.settings) == sorted(
        stack(cloud, env) for cloud in ("aws", "azure", "gcp") for env in ENVS
    )


def test_the_stack_records_the_app_and_what_it_was_synthesized_from(
    tickets: Synthesized,
) -> None:
    source = AppSource.load(REF)
    for name, settings in tickets.settings.items():
        record = tickets.config(name)["//"]["statekit"]
        assert record["app"] == "tickets"
        assert record["app_ref"] == REF
        assert record["code_fingerprint"] == source.code_fingerprint()
        assert record["environment"] == settings.env
        assert record["environment_file"].endswith(f"{settings.env}.toml")
        assert len(record["environment_fingerprint"]) == 64
        assert record["functions"] == ["mailer", "sweep", "web"]
        assert record["workflows"] == ["issue_ticket"]


def test_nothing_of_the_example_app_is_in_its_stacks(tickets: Synthesized) -> None:
    example_functions = {f.name for f in EXAMPLE.app.functions} - {"web", "mailer", "sweep"}
    for name in tickets.settings:
        text = tickets.text(name)
        assert "handlers" not in text, name
        if APP != "tickets":
            assert f"{APP}-" not in text, name
        for function in example_functions:
            assert f"tickets-{name.rsplit('-', 1)[1]}-{function}\"" not in text


@pytest.mark.parametrize("env", ENVS)
def test_aws_functions_triggers_and_roles(tickets: Synthesized, env: str) -> None:
    name = stack("aws", env)
    functions = {
        f["environment"]["variables"]["STATEKIT_FUNCTION"]: f
        for f in tickets.resources(name, "aws_lambda_function").values()
    }
    assert sorted(functions) == ["activities", "mailer", "sweep", "web"]
    for function_name, function in functions.items():
        assert function["function_name"] == f"tickets-{env}-{function_name}"
        assert function["handler"] == "statekit.runtime.aws.handle"
        assert function["environment"]["variables"]["STATEKIT_APP"] == REF
    assert (functions["web"]["memory_size"], functions["web"]["timeout"]) == (1024, 10)
    default = tickets.settings[name].functions
    assert functions["mailer"]["memory_size"] == default.memory_mb
    # Public HTTP: an HTTP API proxying every path; no IAM-only function URL for it.
    (api,) = tickets.resources(name, "aws_apigatewayv2_api").values()
    assert (api["name"], api["protocol_type"]) == (f"tickets-{env}-web", "HTTP")
    (route,) = tickets.resources(name, "aws_apigatewayv2_route").values()
    assert route["route_key"] == "$default"
    assert not tickets.resources(name, "aws_lambda_function_url")
    (mapping,) = tickets.resources(name, "aws_lambda_event_source_mapping").values()
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["batch_size"] == 5
    assert "functions_mailer_" in mapping["function_name"]
    (schedule,) = tickets.resources(name, "aws_scheduler_schedule").values()
    assert schedule["schedule_expression"] == "cron(30 2 ? * 2-6 *)"
    assert schedule["schedule_expression"] == parse_cron(CRON).eventbridge()
    assert schedule["schedule_expression_timezone"] == "UTC"
    assert "functions_sweep_" in schedule["target"]["arn"]
    assert schedule["target"]["role_arn"].startswith("${aws_iam_role.functions_triggers_scheduler")
    # send_email is granted to the function that declares it, and to no other.
    policies = tickets.resources(name, "aws_iam_role_policy")
    for key, policy in policies.items():
        statements = json.loads(policy["policy"])["Statement"]
        actions = {a for s in statements for a in s["Action"]}
        assert ("ses:SendEmail" in actions) == key.startswith("functions_mailer-policy"), key
    (machine,) = tickets.resources(name, "aws_sfn_state_machine").values()
    assert machine["name"] == f"tickets-{env}-issue-ticket"


@pytest.mark.parametrize("env", ENVS)
def test_azure_function_app_hosts_the_app(tickets: Synthesized, env: str) -> None:
    name = stack("azure", env)
    (app,) = tickets.resources(name, "azurerm_function_app_flex_consumption").values()
    settings = app["app_settings"]
    assert settings["STATEKIT_APP"] == REF
    assert settings["STATEKIT_FUNCTION"] == "*"
    assert settings["STATEKIT_QUEUE_NAME"]
    assert settings["STATEKIT_WORKFLOW_URL"].endswith("/issue_ticket?key_env=STATEKIT_DURABLE_KEY")
    assert app["instance_memory_in_mb"] == 2048  # the largest declared (1024) on Flex sizes
    roles = {r["role_definition_name"] for r in tickets.resources(name, "azurerm_role_assignment").values()}
    assert "Communication and Email Service Owner" in roles
    staged = Path.cwd() / "build" / "azure-function" / name
    assert (staged / "function_app.py").read_text() == (
        "from statekit.runtime.azure import function_app\napp = function_app()\n"
    )
    host = json.loads((staged / "host.json").read_text())
    assert host["extensions"]["queues"]["batchSize"] == 5
    assert (staged / "tickets" / "app.py").is_file()
    assert not (staged / "handlers").exists()
    # The runtime registers the timer from the App: NCRONTAB with the seconds field.
    assert parse_cron(CRON).ncrontab() == "0 30 2 * * 1-5"


@pytest.mark.parametrize("env", ENVS)
def test_gcp_functions_triggers_and_invokers(tickets: Synthesized, env: str) -> None:
    name = stack("gcp", env)
    functions = {
        f["service_config"]["environment_variables"]["STATEKIT_FUNCTION"]: f
        for f in tickets.resources(name, "google_cloudfunctions2_function").values()
    }
    assert sorted(functions) == ["activities", "mailer", "sweep", "web"]
    for function_name, function in functions.items():
        assert function["name"] == f"tickets-{env}-{function_name}"
        assert function["build_config"]["entry_point"] == "handle"
        assert function["service_config"]["environment_variables"]["STATEKIT_APP"] == REF
    assert functions["web"]["service_config"]["available_memory"] == "1024M"
    assert functions["web"]["service_config"]["timeout_seconds"] == 10
    assert functions["web"]["service_config"]["ingress_settings"] == "ALLOW_ALL"
    assert functions["sweep"]["service_config"]["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    invokers = {
        (m["member"], re.sub(r"_[0-9A-F]{8}\.name}$", "", m["name"]))
        for m in tickets.resources(name, "google_cloud_run_v2_service_iam_member").values()
    }
    assert ("allUsers", "${google_cloudfunctions2_function.functions_web") in invokers
    assert {target for _, target in invokers} == {
        f"${{google_cloudfunctions2_function.functions_{f}"
        for f in ("web", "mailer", "sweep", "activities")
    }
    (job,) = tickets.resources(name, "google_cloud_scheduler_job").values()
    assert (job["schedule"], job["time_zone"]) == (CRON, "Etc/UTC")
    assert job["http_target"]["oidc_token"]["service_account_email"].startswith(
        "${google_service_account.schedules_identity"
    )
    assert "functions_sweep_" in job["http_target"]["uri"]
    subscriptions = tickets.resources(name, "google_pubsub_subscription")
    (push,) = [s for s in subscriptions.values() if "push_config" in s]
    assert "functions_mailer_" in push["push_config"]["push_endpoint"]
    assert push["push_config"]["oidc_token"]["service_account_email"]
    (workflow,) = tickets.resources(name, "google_workflows_workflow").values()
    assert workflow["name"] == f"tickets-{env}-issue-ticket"
    assert "functions_activities_" in workflow["source_contents"]
