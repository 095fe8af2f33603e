"""DynamoDB table for the statekit store: pk/sk strings, TTL, PITR, KMS, autoscaling."""

from __future__ import annotations

from cdktn import TerraformResourceLifecycle
from cdktn_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktn_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktn_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from constructs import Construct

from .context import AwsContext


class Database(Construct):
    """``dynamodb://TABLE?region=REGION`` (docs/urls.md): pk S = partition, sk S = key."""

    def __init__(self, scope: Construct, id_: str, ctx: AwsContext) -> None:
        super().__init__(scope, id_)
        db = ctx.settings.database
        provisioned = db.capacity_mode == "provisioned"
        self.name = ctx.naming.name("store")
        self.table = DynamodbTable(
            self,
            "table",
            name=self.name,
            billing_mode="PROVISIONED" if provisioned else "PAY_PER_REQUEST",
            read_capacity=db.min_capacity if provisioned else None,
            write_capacity=db.min_capacity if provisioned else None,
            hash_key=db.partition_key,
            range_key=db.sort_key,
            attribute=[
                DynamodbTableAttribute(name=db.partition_key, type="S"),
                DynamodbTableAttribute(name=db.sort_key, type="S"),
            ],
            # Native TTL reclaims storage; statekit still filters expired items on read.
            ttl=DynamodbTableTtl(attribute_name=db.ttl_attribute, enabled=True),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(
                enabled=db.point_in_time_recovery
            ),
            # enabled=True without a key ARN is the AWS-managed key (aws/dynamodb).
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=ctx.key_arn
            ),
            deletion_protection_enabled=db.deletion_protection,
            # Autoscaling owns the capacity once deployed.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["read_capacity", "write_capacity"])
            if provisioned
            else None,
        )
        self.arn = self.table.arn
        if provisioned:
            for dimension, metric in (
                ("Read", "DynamoDBReadCapacityUtilization"),
                ("Write", "DynamoDBWriteCapacityUtilization"),
            ):
                target = AppautoscalingTarget(
                    self,
                    f"{dimension.lower()}-target",
                    service_namespace="dynamodb",
                    resource_id=f"table/{self.table.name}",
                    scalable_dimension=f"dynamodb:table:{dimension}CapacityUnits",
                    min_capacity=db.min_capacity,
                    max_capacity=db.max_capacity,
                )
                AppautoscalingPolicy(
                    self,
                    f"{dimension.lower()}-policy",
                    name=f"{self.name}-{dimension.lower()}",
                    policy_type="TargetTrackingScaling",
                    service_namespace=target.service_namespace,
                    resource_id=target.resource_id,
                    scalable_dimension=target.scalable_dimension,
                    target_tracking_scaling_policy_configuration=(
                        AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                            target_value=db.autoscaling_target_percent,
                            predefined_metric_specification=(
                                AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                                    predefined_metric_type=metric
                                )
                            ),
                        )
                    ),
                )

    def url(self, region: str) -> str:
        return f"dynamodb://{self.table.name}?region={region}"
