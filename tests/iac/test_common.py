"""The cloud-neutral helpers: naming rules and the data-driven policy rules."""

from __future__ import annotations

import dataclasses
import re

import pytest

from modules.common.aspects import (
    PolicyRule,
    at_least,
    equals,
    get_path,
    is_set,
    is_true,
    rules_for,
)
from modules.common.naming import Naming
from modules.common.settings import TTL_ATTRIBUTE, StackSettings

SETTINGS = StackSettings(
    env="staging", cloud="azure", region="westeurope", owner="team", app_name="booking"
)


def test_names_fit_each_clouds_rules_and_are_stable() -> None:
    naming = Naming(SETTINGS)
    assert naming.name("queue") == "booking-staging-queue"
    assert naming.name("a very_long component " * 5, max_length=24) == "booking-staging-a-very-l"
    compact = naming.compact("queue")
    assert re.fullmatch(r"[a-z0-9]{3,24}", compact)
    assert compact == Naming(SETTINGS).compact("queue")  # deterministic across synths
    other = dataclasses.replace(SETTINGS, region="northeurope")
    assert Naming(other).compact("queue") != compact  # differs per region: global names
    second_app = dataclasses.replace(SETTINGS, app_name="tickets")
    assert Naming(second_app).compact("queue") != compact  # and per App
    assert Naming(second_app).name("queue") == "tickets-staging-queue"
    assert second_app.stack_name == "tickets-azure-staging"
    unique = naming.unique("bucket", max_length=30)
    assert len(unique) <= 30 and unique.endswith(naming.suffix())
    assert naming.pascal("place_order") == "BookingStagingPlaceOrder"


def test_names_need_the_apps_name() -> None:
    nameless = dataclasses.replace(SETTINGS, app_name="")
    with pytest.raises(ValueError, match="app_name is empty"):
        _ = nameless.stack_name
    with pytest.raises(ValueError, match="App's name"):
        Naming(nameless).name("queue")


def test_policy_rule_helpers_read_blocks_as_dicts_or_one_item_lists() -> None:
    config = {
        "point_in_time_recovery": [{"enabled": True}],
        "server_side_encryption": {"enabled": True, "kms_key_arn": "${aws_kms_key.k.arn}"},
        "snapshot_retention_limit": 7,
        "transit_encryption_mode": "required",
    }
    assert get_path(config, "point_in_time_recovery.enabled") is True
    assert is_true("point_in_time_recovery.enabled")(config)
    assert is_set("server_side_encryption.kms_key_arn")(config)
    assert not is_set("server_side_encryption.missing")(config)
    assert at_least("snapshot_retention_limit", 1)(config)
    assert not at_least("snapshot_retention_limit", 8)(config)
    assert equals("transit_encryption_mode", "required")(config)


def test_each_cloud_registers_rules_for_its_data_services() -> None:
    import modules.aws.policy  # noqa: F401  (registration happens at import)

    table_rules = rules_for("aws_dynamodb_table")
    assert {rule.requirement for rule in table_rules} == {
        "encryption",
        "backup",
        "deletion_protection",
    }
    assert all(isinstance(rule, PolicyRule) and rule.description for rule in table_rules)
    assert rules_for("no_such_resource_type") == []


def test_the_ttl_attribute_is_the_one_the_store_backends_write() -> None:
    from statekit.store.backends.dynamodb import store as dynamodb
    from statekit.store.backends.firestore import documents as firestore

    assert dynamodb.TTL_ATTRIBUTE == TTL_ATTRIBUTE
    assert firestore.TTL_FIELD == TTL_ATTRIBUTE
