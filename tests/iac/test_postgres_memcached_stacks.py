"""``database.engine = "postgres"`` and ``cache.engine = "memcached"``, synthesized.

AWS: Aurora Serverless v2 PostgreSQL behind RDS Proxy with IAM logins, in the VPC
with the functions; ElastiCache Serverless for Memcached. The functions' URLs name
no secret. (GCP and Azure: their own test functions below.)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from modules.common.settings import CacheSettings, DatabaseSettings, StackSettings

Synth = Callable[[StackSettings], str]


def settings(cloud: str, production: bool, **changes: Any) -> StackSettings:
    base = StackSettings(
        env="prod" if production else "dev",
        cloud=cloud,  # type: ignore[arg-type]
        region={"aws": "eu-west-1", "azure": "westeurope", "gcp": "europe-west1"}[cloud],
        project="statekit-test" if cloud == "gcp" else "",
        owner="team",
        production=production,
        database=DatabaseSettings(engine="postgres"),
        cache=CacheSettings(engine="memcached"),
    )
    return dataclasses.replace(base, **changes)


def one(config: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = config["resource"][resource_type]
    assert len(found) == 1, found
    return dict(next(iter(found.values())))


def function_env(config: dict[str, Any]) -> dict[str, str]:
    function = next(iter(config["resource"]["aws_lambda_function"].values()))
    return dict(function["environment"]["variables"])


@pytest.fixture(scope="module")
def aws_prod(synth_one: Synth) -> dict[str, Any]:
    return dict(json.loads(synth_one(settings("aws", production=True))))


@pytest.fixture(scope="module")
def aws_dev(synth_one: Synth) -> dict[str, Any]:
    return dict(json.loads(synth_one(settings("aws", production=False))))


def test_aws_aurora_serverless_v2_behind_rds_proxy_with_iam(aws_prod: dict[str, Any]) -> None:
    cluster = one(aws_prod, "aws_rds_cluster")
    assert cluster["engine"] == "aurora-postgresql" and cluster["engine_mode"] == "provisioned"
    assert cluster["iam_database_authentication_enabled"] is True
    assert cluster["manage_master_user_password"] is True and "master_password" not in cluster
    assert cluster["storage_encrypted"] is True and cluster["kms_key_id"].startswith(
        "${aws_kms_key."
    )
    assert cluster["deletion_protection"] is True and cluster["skip_final_snapshot"] is False
    assert cluster["backup_retention_period"] >= 7  # continuous backup: PITR in the window
    assert cluster["serverlessv2_scaling_configuration"]["min_capacity"] == 0.5
    instances = aws_prod["resource"]["aws_rds_cluster_instance"]
    assert len(instances) == 2 and all(
        i["instance_class"] == "db.serverless" for i in instances.values()
    )
    assert all(i["publicly_accessible"] is False for i in instances.values())
    proxy = one(aws_prod, "aws_db_proxy")
    assert proxy["require_tls"] is True and proxy["auth"][0]["iam_auth"] == "REQUIRED"
    assert "dynamodb" not in json.dumps(aws_prod["resource"].get("aws_dynamodb_table", {}))


def test_aws_dev_scales_to_zero_without_protections(aws_dev: dict[str, Any]) -> None:
    cluster = one(aws_dev, "aws_rds_cluster")
    assert cluster["serverlessv2_scaling_configuration"]["min_capacity"] == 0
    assert cluster["skip_final_snapshot"] is True
    assert len(aws_dev["resource"]["aws_rds_cluster_instance"]) == 1


def test_aws_functions_log_in_with_iam_through_the_proxy(aws_prod: dict[str, Any]) -> None:
    env = function_env(aws_prod)
    store = env["STATEKIT_STORE_URL"]
    assert store.startswith("postgresql://statekit@${aws_db_proxy.")
    assert "auth=aws_iam" in store and "sslmode=verify-full" in store and ":5432/statekit?" in store
    assert env["STATEKIT_CACHE_URL"].startswith("memcached://${aws_elasticache_serverless_cache.")
    assert env["STATEKIT_CACHE_URL"].endswith(":11211?tls=true")
    connect = [
        p["policy"]
        for p in aws_prod["resource"]["aws_iam_role_policy"].values()
        if "rds-db:connect" in p["policy"]
    ]
    # One login grant per function role (each declared function has its own role).
    assert len(connect) == len(aws_prod["resource"]["aws_lambda_function"])
    assert all(':dbuser:${element(split(":", aws_db_proxy.' in policy for policy in connect)
    assert all(")}/statekit" in policy for policy in connect)
    for function in aws_prod["resource"]["aws_lambda_function"].values():
        assert function["vpc_config"]["subnet_ids"]  # in the VPC with the proxy
    text = json.dumps(aws_prod)
    assert "password=" not in text and "master_password" not in text


def test_aws_memcached_is_serverless_in_the_vpc(aws_prod: dict[str, Any]) -> None:
    cache = one(aws_prod, "aws_elasticache_serverless_cache")
    assert cache["engine"] == "memcached" and cache["kms_key_id"].startswith("${aws_kms_key.")
    ports = {
        r["from_port"] for r in aws_prod["resource"]["aws_vpc_security_group_ingress_rule"].values()
    }
    assert {5432, 11211} <= ports


@pytest.fixture(scope="module")
def gcp_prod(synth_one: Synth) -> dict[str, Any]:
    return dict(json.loads(synth_one(settings("gcp", production=True))))


def test_gcp_cloud_sql_private_ip_iam_auth_and_pitr(gcp_prod: dict[str, Any]) -> None:
    instance = one(gcp_prod, "google_sql_database_instance")
    config = instance["settings"]
    assert instance["database_version"].startswith("POSTGRES_")
    assert config["ip_configuration"]["ipv4_enabled"] is False  # private IP only
    assert config["ip_configuration"]["private_network"].startswith("${google_compute_network.")
    assert config["ip_configuration"]["ssl_mode"] == "ENCRYPTED_ONLY"
    assert {"name": "cloudsql.iam_authentication", "value": "on"} in config["database_flags"]
    assert config["backup_configuration"]["point_in_time_recovery_enabled"] is True
    assert config["availability_type"] == "REGIONAL" and instance["deletion_protection"] is True
    user = one(gcp_prod, "google_sql_user")
    assert user["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"
    assert "trimsuffix" in user["name"] and "gserviceaccount.com" in user["name"]
    roles = {m["role"] for m in gcp_prod["resource"]["google_project_iam_member"].values()}
    assert {"roles/cloudsql.client", "roles/cloudsql.instanceUser"} <= roles
    one(gcp_prod, "google_service_networking_connection")  # one peering for both services
    memcache = one(gcp_prod, "google_memcache_instance")
    assert memcache["authorized_network"].startswith("${google_compute_network.")
    outputs = {k: v["value"] for k, v in gcp_prod["output"].items()}
    assert "auth=gcp_iam" in outputs["statekit_store_url"]
    assert outputs["statekit_store_url"].startswith("postgresql://${trimsuffix(")
    assert outputs["statekit_cache_url"].startswith("memcached://${google_memcache_instance.")
    assert "google_firestore_database" not in gcp_prod["resource"]


def test_azure_flexible_server_with_entra_pgbouncer_and_private_access(
    synth_one: Synth,
) -> None:
    prod = settings("azure", production=True, cache=CacheSettings(engine="redis"))
    config = json.loads(synth_one(prod))
    server = one(config, "azurerm_postgresql_flexible_server")
    assert server["authentication"]["password_auth_enabled"] is False
    assert server["authentication"]["active_directory_auth_enabled"] is True
    assert server["public_network_access_enabled"] is False
    assert server["high_availability"]["mode"] == "ZoneRedundant"
    assert server["backup_retention_days"] == 35 and "administrator_password" not in server
    pgbouncer = one(config, "azurerm_postgresql_flexible_server_configuration")
    assert pgbouncer["name"] == "pgbouncer.enabled" and pgbouncer["value"] == "true"
    admin = one(config, "azurerm_postgresql_flexible_server_active_directory_administrator")
    assert admin["principal_type"] == "ServicePrincipal"
    endpoints = config["resource"]["azurerm_private_endpoint"].values()
    assert any(
        e["private_service_connection"]["subresource_names"] == ["postgresqlServer"]
        for e in endpoints
    )
    store = config["output"]["statekit_store_url"]["value"]
    assert ":6432/statekit?auth=azure_entra&sslmode=verify-full" in store
    assert "azurerm_cosmosdb_account" not in config["resource"]


def test_azure_refuses_memcached_and_points_to_redis(synth_one: Synth) -> None:
    with pytest.raises(Exception, match=r"no managed Memcached.*cache.engine = \"redis\""):
        synth_one(settings("azure", production=False))
