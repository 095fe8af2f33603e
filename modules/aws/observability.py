"""Logs, alarms and the budget: log groups with retention, alert topic, DLQ and error alarms."""

from __future__ import annotations

import json

from cdktn_provider_aws.budgets_budget import (
    BudgetsBudget,
    BudgetsBudgetCostFilter,
    BudgetsBudgetNotification,
)
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.sns_topic import SnsTopic
from cdktn_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktn_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from .context import AwsContext


def log_group(scope: Construct, id_: str, ctx: AwsContext, name: str) -> CloudwatchLogGroup:
    return CloudwatchLogGroup(
        scope,
        id_,
        name=name,
        retention_in_days=ctx.settings.observability.log_retention_days,
        kms_key_id=ctx.key_arn,
    )


class Alerts(Construct):
    """The SNS topic every alarm and the budget notify (encrypted; email subscription optional).

    ``key_arn``: a customer-managed key whose policy lets CloudWatch and Budgets use it
    (modules/aws/kms.py); ``alias/aws/sns`` would drop every alert.
    """

    def __init__(self, scope: Construct, id_: str, ctx: AwsContext, *, key_arn: str) -> None:
        super().__init__(scope, id_)
        self.topic = SnsTopic(
            self,
            "topic",
            name=ctx.naming.name("alerts"),
            kms_master_key_id=key_arn,
        )
        SnsTopicPolicy(
            self,
            "topic-policy",
            arn=self.topic.arn,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AlarmsAndBudgetsPublish",
                            "Effect": "Allow",
                            "Principal": {
                                "Service": ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
                            },
                            "Action": "SNS:Publish",
                            "Resource": self.topic.arn,
                            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
                        }
                    ],
                }
            ),
        )
        email = ctx.settings.observability.alarm_email
        if email:
            SnsTopicSubscription(
                self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=email
            )
        self.arn = self.topic.arn

    def alarm(
        self,
        id_: str,
        ctx: AwsContext,
        *,
        name: str,
        description: str,
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        threshold: int,
        statistic: str,
    ) -> None:
        CloudwatchMetricAlarm(
            self,
            id_,
            alarm_name=name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=statistic,
            period=300,
            evaluation_periods=1,
            threshold=threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self.arn],
            ok_actions=[self.arn],
        )


def dead_letter_alarm(alerts: Alerts, ctx: AwsContext, dlq_name: str) -> None:
    alerts.alarm(
        "dlq-depth",
        ctx,
        name=ctx.naming.name("dlq-depth"),
        description="messages in the statekit dead-letter queue: a consumer keeps failing",
        namespace="AWS/SQS",
        metric="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": dlq_name},
        threshold=ctx.settings.observability.dead_letter_alarm_threshold,
        statistic="Maximum",
    )


def function_error_alarm(alerts: Alerts, ctx: AwsContext, role: str, function_name: str) -> None:
    alerts.alarm(
        f"{role}-errors",
        ctx,
        name=ctx.naming.name(f"{role}-errors"),
        description=f"errors in the {role} function",
        namespace="AWS/Lambda",
        metric="Errors",
        dimensions={"FunctionName": function_name},
        threshold=ctx.settings.observability.function_error_alarm_threshold,
        statistic="Sum",
    )


def workflow_failure_alarm(
    alerts: Alerts, ctx: AwsContext, state_machine_arn: str, workflow: str
) -> None:
    key = workflow.replace("_", "-")
    alerts.alarm(
        f"{key}-failures",
        ctx,
        name=ctx.naming.name(f"{key}-failures"),
        description=f"failed, timed-out or aborted runs of the {workflow} workflow",
        namespace="AWS/States",
        metric="ExecutionsFailed",
        dimensions={"StateMachineArn": state_machine_arn},
        threshold=ctx.settings.observability.function_error_alarm_threshold,
        statistic="Sum",
    )


def monthly_budget(scope: Construct, ctx: AwsContext, alerts: Alerts) -> BudgetsBudget:
    """A cost budget over this stack's resources, by their ``stack`` tag.

    A tag filters costs only once ``stack`` is an active cost allocation tag, which
    the management account activates after the tag first appears in billing (up to
    24 hours after the first apply); until then the budget counts nothing
    (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html).
    Terraform cannot do it on the first apply (``aws_ce_cost_allocation_tag`` fails
    for a key billing has not seen yet), so docs/iac.md lists it as a step after it.
    """
    budget = ctx.settings.budget
    return BudgetsBudget(
        scope,
        "budget",
        name=ctx.naming.name("monthly"),
        budget_type="COST",
        time_unit="MONTHLY",
        limit_amount=str(budget.monthly_limit),
        limit_unit=budget.currency,
        cost_filter=[
            BudgetsBudgetCostFilter(
                name="TagKeyValue", values=[f"user:stack${ctx.settings.stack_name}"]
            )
        ],
        notification=[
            BudgetsBudgetNotification(
                comparison_operator="GREATER_THAN",
                notification_type=kind,
                threshold=budget.alert_threshold_percent,
                threshold_type="PERCENTAGE",
                subscriber_sns_topic_arns=[alerts.arn],
                subscriber_email_addresses=list(budget.alert_emails) or None,
            )
            for kind in ("ACTUAL", "FORECASTED")
        ],
    )
