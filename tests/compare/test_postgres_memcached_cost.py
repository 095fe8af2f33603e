"""``statekit compare`` prices the PostgreSQL and Memcached rows on each cloud (pricing.csv)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from statekit.compare.cost import estimate
from statekit.compare.pricing import load_pricing
from statekit.compare.tfjson import load_stack
from statekit.compare.workload import Workload

# The attributes pricing matches on, as modules/*/postgres.py and memcached.py synthesize them.
STACKS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "aws": (
        {"aws": [{"region": "eu-west-1"}]},
        {
            "aws_rds_cluster": {"c": {"engine": "aurora-postgresql"}},
            "aws_rds_cluster_instance": {"i": {"instance_class": "db.serverless"}},
            "aws_db_proxy": {"p": {"engine_family": "POSTGRESQL"}},
            "aws_elasticache_serverless_cache": {"m": {"engine": "memcached"}},
        },
    ),
    "gcp": (
        {"google": [{"region": "europe-west1"}]},
        {
            "google_sql_database_instance": {
                "s": {"settings": {"tier": "db-custom-1-3840", "availability_type": "REGIONAL"}}
            },
            "google_memcache_instance": {
                "m": {"node_count": 1, "node_config": {"cpu_count": 1, "memory_size_mb": 1024}}
            },
        },
    ),
    "azure": (
        {"azurerm": [{"features": [{}]}]},
        {
            "azurerm_postgresql_flexible_server": {
                "f": {
                    "location": "westeurope",
                    "sku_name": "GP_Standard_D2ds_v5",
                    "storage_mb": 32768,
                    "high_availability": {"mode": "ZoneRedundant"},
                }
            }
        },
    ),
}


@pytest.mark.parametrize("cloud", sorted(STACKS))
def test_postgres_and_memcached_resources_are_priced(tmp_path: Path, cloud: str) -> None:
    providers, resources = STACKS[cloud]
    folder = tmp_path / "stacks" / f"state-{cloud}-test"
    folder.mkdir(parents=True)
    (folder / "cdk.tf.json").write_text(json.dumps({"provider": providers, "resource": resources}))
    stack = load_stack(folder / "cdk.tf.json")
    usage: dict[str, float] = {
        "writes": 1_000_000,
        "reads": 5_000_000,
        "storage_gb": 10,
        "cache_size_gb": 1,
    }
    cost = estimate(stack, Workload("w", "", usage, {}), load_pricing())
    assert cost.unpriced == [], cost.unpriced
    assert cost.floor_usd + cost.usage_usd > 0
