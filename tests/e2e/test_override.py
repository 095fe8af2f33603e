"""The emulator override changes exactly what it says (pure logic on a stack's JSON)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.override import OVERRIDE_FILE, UnknownResourceType, write_local_stack


def _stack() -> dict[str, Any]:
    return {
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "terraform": {"backend": {"s3": {"bucket": "state", "key": "k"}}},
        "data": {"aws_caller_identity": {"identity": {}}, "aws_partition": {"partition": {}}},
        "resource": {
            "aws_dynamodb_table": {"table": {"name": "t"}},
            "aws_appautoscaling_target": {
                "read": {"resource_id": "table/${aws_dynamodb_table.table.name}"}
            },
            "aws_appautoscaling_policy": {
                "read-policy": {"resource_id": "${aws_appautoscaling_target.read.resource_id}"}
            },
            "aws_cloudwatch_log_group": {"logs": {"name": "/x"}},
            "aws_cloudwatch_metric_alarm": {"alarm": {"alarm_name": "a"}},
            "aws_lambda_function": {"fn": {"depends_on": ["aws_dynamodb_table.table"]}},
        },
        "output": {"table": {"value": "${aws_dynamodb_table.table.name}"}},
    }


def _write(tmp_path: Path, config: dict[str, Any]) -> Path:
    stack = tmp_path / "stack"
    (stack / "assets").mkdir(parents=True)
    (stack / "assets" / "code.zip").write_bytes(b"zip")
    (stack / "cdk.tf.json").write_text(json.dumps(config))
    return stack


def test_override_sets_endpoints_backend_and_removes_only_what_the_emulator_lacks(
    tmp_path: Path,
) -> None:
    original = _stack()
    local = write_local_stack(_write(tmp_path, original), tmp_path / "local", "http://127.0.0.1:1")
    assert local.removed == [
        "aws_appautoscaling_policy.read-policy",
        "aws_appautoscaling_target.read",
    ]
    assert local.services == ["cloudwatch", "dynamodb", "lambda", "logs", "sts"]
    written = json.loads((local.directory / "cdk.tf.json").read_text())
    expected = copy.deepcopy(original)
    del expected["resource"]["aws_appautoscaling_target"]
    del expected["resource"]["aws_appautoscaling_policy"]
    assert written == expected  # nothing else changed
    override = json.loads((local.directory / OVERRIDE_FILE).read_text())
    assert override["terraform"] == {"backend": {"local": {"path": "terraform.tfstate"}}}
    provider = override["provider"]["aws"]
    assert provider["region"] == "eu-west-1"
    assert provider["endpoints"] == [{s: "http://127.0.0.1:1" for s in local.services}]
    assert (local.directory / "assets" / "code.zip").read_bytes() == b"zip"


def test_an_unknown_resource_type_stops_the_override(tmp_path: Path) -> None:
    config = _stack()
    config["resource"]["aws_s3_bucket"] = {"bucket": {}}
    with pytest.raises(UnknownResourceType, match="aws_s3_bucket: no endpoint known"):
        write_local_stack(_write(tmp_path, config), tmp_path / "local", "http://127.0.0.1:1")
