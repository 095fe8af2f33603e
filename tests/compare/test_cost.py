"""The cost arithmetic against hand-computed cases, on a small pricing file written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statekit.compare.cost import estimate
from statekit.compare.pricing import PRICING_FILE, PricingError, load_pricing
from statekit.compare.tfjson import load_stack
from statekit.compare.workload import Workload
from tests.compare.fixtures import aws_stack

HEADER = (
    "cloud,component,resource_type,match,choice,unit,usage,units_per_usage,scale_by,per,minimum,"
    "region,price_usd,source,checked,note"
)
SOURCE = "https://example.com/pricing"


def pricing_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "pricing.csv"
    path.write_text(
        "# test prices\n"
        + HEADER
        + "\n"
        + "\n".join(f"{row},{SOURCE},2026-11-26," for row in rows)
        + "\n"
    )
    return path


def stack_file(
    tmp_path: Path, resources: dict[str, dict[str, dict[str, object]]], region: str = "eu-west-1"
) -> Path:
    folder = tmp_path / "stacks" / "state-aws-test"
    folder.mkdir(parents=True)
    document = {"provider": {"aws": [{"region": region}]}, "resource": resources}
    (folder / "cdk.tf.json").write_text(json.dumps(document))
    return folder / "cdk.tf.json"


def workload(**usage: float) -> Workload:
    return Workload(name="w", description="", usage=dict(usage), needs={})


def test_usage_row_per_million(tmp_path: Path) -> None:
    prices = load_pricing(
        pricing_file(
            tmp_path,
            "aws,database,aws_dynamodb_table,,,1M writes,writes,1,,1000000,0,eu-west-1,1.25",
        )
    )
    stack = load_stack(stack_file(tmp_path, {"aws_dynamodb_table": {"t": {"name": "t"}}}))
    cost = estimate(stack, workload(writes=2_000_000), prices)
    # 2,000,000 / 1,000,000 x $1.25 = $2.50, all of it usage.
    assert cost.usage_usd == pytest.approx(2.50)
    assert cost.floor_usd == 0
    assert cost.unpriced == []


def test_fixed_hours_scaled_by_an_attribute_is_a_floor(tmp_path: Path) -> None:
    prices = load_pricing(
        pricing_file(
            tmp_path,
            "aws,cache,aws_elasticache_replication_group,node_type=cache.t4g.micro,node,node-hour,hours,1,num_cache_clusters,1,0,eu-west-1,0.02",
        )
    )
    stack = load_stack(
        stack_file(
            tmp_path,
            {
                "aws_elasticache_replication_group": {
                    "g": {"node_type": "cache.t4g.micro", "num_cache_clusters": 2}
                }
            },
        )
    )
    cost = estimate(stack, workload(reads=1), prices)
    # 2 nodes x 730 h x $0.02 = $29.20, charged whatever the workload does.
    assert cost.floor_usd == pytest.approx(29.20)
    assert cost.usage_usd == 0
    assert cost.by_component() == {"cache": pytest.approx((29.20, 0.0))}


@pytest.mark.parametrize(
    ("cache_gb", "floor", "usage"),
    [
        (0.05, 7.30, 0.0),  # 36.5 GB-h is under the 73 GB-h minimum: billed 73 x $0.10
        (1.0, 7.30, 65.70),  # 730 GB-h: the minimum's $7.30 plus (730 - 73) x $0.10
    ],
)
def test_minimum_is_the_floor_and_the_rest_is_usage(
    tmp_path: Path, cache_gb: float, floor: float, usage: float
) -> None:
    prices = load_pricing(
        pricing_file(
            tmp_path,
            "aws,cache,aws_elasticache_serverless_cache,,,GB-hour,cache_gb_hours,1,,1,73,eu-west-1,0.10",
        )
    )
    stack = load_stack(
        stack_file(tmp_path, {"aws_elasticache_serverless_cache": {"c": {"engine": "valkey"}}})
    )
    cost = estimate(stack, workload(cache_size_gb=cache_gb), prices)
    assert cost.floor_usd == pytest.approx(floor)
    assert cost.usage_usd == pytest.approx(usage)


def test_usage_is_charged_once_however_many_resources_share_it(tmp_path: Path) -> None:
    prices = load_pricing(
        pricing_file(
            tmp_path,
            "aws,queue,aws_sqs_queue,,,1M requests,queue_messages,3,,1000000,0,eu-west-1,0.40",
        )
    )
    stack = load_stack(
        stack_file(tmp_path, {"aws_sqs_queue": {"main": {"name": "q"}, "dlq": {"name": "q-dlq"}}})
    )
    cost = estimate(stack, workload(queue_messages=1_000_000), prices)
    # 1M messages x 3 requests / 1M x $0.40 = $1.20 once, not once per queue.
    assert cost.total_usd == pytest.approx(1.20)


def test_a_sum_over_components_matches_the_total(tmp_path: Path) -> None:
    prices = load_pricing(
        pricing_file(
            tmp_path,
            "aws,database,aws_dynamodb_table,,,GB-month,storage_gb,1,,1,0,eu-west-1,0.25",
            "aws,database,aws_kms_key,,,key-month,month,1,,1,0,eu-west-1,1.00",
            "aws,functions,aws_lambda_function,,,1M requests,function_invocations,1,,1000000,0,eu-west-1,0.20",
            "aws,functions,aws_lambda_function,,,GB-second,function_gb_seconds,1,,1,0,eu-west-1,0.0000166667",
        )
    )
    stack = load_stack(
        stack_file(
            tmp_path,
            {
                "aws_dynamodb_table": {"t": {}},
                "aws_kms_key": {"k1": {}, "k2": {}},
                "aws_lambda_function": {"a": {}, "b": {}},
            },
        )
    )
    cost = estimate(
        stack,
        workload(storage_gb=10, function_invocations=3_000_000, function_gb_seconds=600_000),
        prices,
    )
    # database: 10 x 0.25 = 2.50 usage; 2 keys x $1 = 2.00 floor. functions: 3 x 0.20 = 0.60 + 600000 x 0.0000166667 = 10.00002.
    assert cost.by_component()["database"] == pytest.approx((2.00, 2.50))
    assert cost.by_component()["functions"] == pytest.approx((0.0, 10.60002))
    assert cost.total_usd == pytest.approx(15.10002)


def test_nothing_unpriced_is_silently_zero(tmp_path: Path) -> None:
    prices = load_pricing(
        pricing_file(
            tmp_path,
            "aws,cache,aws_elasticache_replication_group,node_type=cache.t4g.micro,node,node-hour,hours,1,num_cache_clusters,1,0,eu-west-1,0.02",
            "aws,observability,aws_cloudwatch_log_group,,,GB ingested,log_gb,1,,1,0,eu-west-1,0.57",
        )
    )
    stack = load_stack(
        stack_file(
            tmp_path,
            {
                "aws_elasticache_replication_group": {
                    "g": {"node_type": "cache.r7g.large", "num_cache_clusters": 2}
                },
                "aws_cloudwatch_log_group": {"l": {}},
                "aws_mq_broker": {"b": {}},
            },
        )
    )
    cost = estimate(stack, workload(reads=1), prices)
    reasons = {item.what.split(" ")[0].rstrip(":"): item.reason for item in cost.unpriced}
    assert "no node price row matches" in reasons["aws_elasticache_replication_group"]
    assert "no row in pricing.csv" in reasons["aws_mq_broker"]
    assert "workload gives no 'log_gb'" in reasons["aws_cloudwatch_log_group"]
    assert cost.lines == []


def test_another_regions_price_is_used_only_with_a_note(tmp_path: Path) -> None:
    prices = load_pricing(
        pricing_file(
            tmp_path, "aws,database,aws_dynamodb_table,,,GB-month,storage_gb,1,,1,0,eu-west-1,0.283"
        )
    )
    stack = load_stack(stack_file(tmp_path, {"aws_dynamodb_table": {"t": {}}}, region="us-east-1"))
    cost = estimate(stack, workload(storage_gb=1), prices)
    assert cost.total_usd == pytest.approx(0.283)
    assert cost.lines[0].region_note == "priced at eu-west-1 list price (no row for us-east-1)"


def test_bad_pricing_rows_name_the_line(tmp_path: Path) -> None:
    path = pricing_file(
        tmp_path, "aws,database,aws_dynamodb_table,,,GB-month,storage_gb,1,,1,0,eu-west-1,cheap"
    )
    with pytest.raises(
        PricingError, match=r"pricing.csv:3 price_usd: expected a number, got 'cheap'"
    ):
        load_pricing(path)


def test_the_shipped_pricing_file_loads_and_cites_its_sources() -> None:
    rows = load_pricing(PRICING_FILE)
    assert {row.cloud for row in rows} == {"aws", "azure", "gcp"}
    assert all(row.source.startswith("https://") and row.checked for row in rows)
    assert "re-check" in PRICING_FILE.read_text().lower()


def test_the_shipped_prices_cover_every_resource_of_the_fixture_stacks(tmp_path: Path) -> None:
    path = tmp_path / "stacks" / "state-aws-dev" / "cdk.tf.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(aws_stack()))
    cost = estimate(
        load_stack(path),
        workload(
            reads=1,
            writes=1,
            storage_gb=1,
            cache_size_gb=1,
            queue_messages=1,
            workflow_transitions=1,
            function_invocations=1,
            function_gb_seconds=1,
            log_gb=1,
        ),
        load_pricing(),
    )
    assert cost.unpriced == []
