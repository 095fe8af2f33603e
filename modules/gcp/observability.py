"""Logs, traces, alerts and the budget on Google Cloud.

- Cloud Logging: the project's ``_Default`` log bucket keeps logs for
  ``observability.log_retention_days``.
- Cloud Trace: the API is enabled (apis.py) and the functions' identity may write
  traces (``roles/cloudtrace.agent``, granted in functions.py when tracing is on).
- Alert policies (to an e-mail channel when ``alarm_email`` is set): undelivered
  messages in the dead-letter subscription, and 5xx responses of the functions.
- A billing budget on this project: an alert at the threshold percentage of actual
  spend and at 100% of forecast. A budget belongs to a billing account, which no
  environment file names: it is the Terraform variable ``billing_account``
  (``TF_VAR_billing_account``), a required input at plan time, never a secret.
"""

from __future__ import annotations

from cdktn import TerraformVariable
from cdktn_provider_google.billing_budget import (
    BillingBudget,
    BillingBudgetAllUpdatesRule,
    BillingBudgetAmount,
    BillingBudgetAmountSpecifiedAmount,
    BillingBudgetBudgetFilter,
    BillingBudgetThresholdRules,
)
from cdktn_provider_google.logging_project_bucket_config import LoggingProjectBucketConfig
from cdktn_provider_google.monitoring_alert_policy import (
    MonitoringAlertPolicy,
    MonitoringAlertPolicyAlertStrategy,
    MonitoringAlertPolicyConditions,
    MonitoringAlertPolicyConditionsConditionThreshold,
    MonitoringAlertPolicyConditionsConditionThresholdAggregations,
    MonitoringAlertPolicyDocumentation,
)
from cdktn_provider_google.monitoring_notification_channel import MonitoringNotificationChannel
from constructs import Construct

from .context import GcpContext

ALIGNMENT = "300s"


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: GcpContext) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        settings = ctx.settings.observability
        self.log_bucket = LoggingProjectBucketConfig(
            self,
            "log-retention",
            project=ctx.project,
            location="global",
            bucket_id="_Default",
            retention_days=settings.log_retention_days,
            depends_on=ctx.apis,
        )
        self.channels: list[str] = []
        if settings.alarm_email:
            self.channels.append(self._email_channel("oncall", settings.alarm_email))

    def _email_channel(self, construct_id: str, email: str) -> str:
        channel = MonitoringNotificationChannel(
            self,
            f"channel-{construct_id}",
            project=self.ctx.project,
            display_name=f"statekit {self.ctx.settings.env} {construct_id}",
            type="email",
            labels={"email_address": email},
            depends_on=self.ctx.apis,
        )
        return channel.id

    def _threshold_alert(
        self, construct_id: str, title: str, metric_filter: str, threshold: int, documentation: str
    ) -> MonitoringAlertPolicy:
        """Alert when the summed metric over 5 minutes reaches ``threshold``."""
        return MonitoringAlertPolicy(
            self,
            construct_id,
            project=self.ctx.project,
            display_name=f"statekit {self.ctx.settings.env}: {title}",
            combiner="OR",
            severity="ERROR",
            notification_channels=self.channels or None,
            documentation=MonitoringAlertPolicyDocumentation(
                content=documentation, mime_type="text/markdown"
            ),
            alert_strategy=MonitoringAlertPolicyAlertStrategy(auto_close="86400s"),
            conditions=[
                MonitoringAlertPolicyConditions(
                    display_name=title,
                    condition_threshold=MonitoringAlertPolicyConditionsConditionThreshold(
                        filter=metric_filter,
                        comparison="COMPARISON_GT",
                        # counts are whole numbers: "> threshold - 1" is ">= threshold"
                        threshold_value=threshold - 1,
                        duration="0s",
                        aggregations=[
                            MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                                alignment_period=ALIGNMENT,
                                per_series_aligner="ALIGN_MAX"
                                if "num_undelivered" in metric_filter
                                else "ALIGN_SUM",
                                cross_series_reducer="REDUCE_SUM",
                            )
                        ],
                    ),
                )
            ],
            depends_on=self.ctx.apis,
        )

    def dead_letter_alert(self, dead_letter_subscription: str) -> MonitoringAlertPolicy:
        return self._threshold_alert(
            "dead-letters",
            "messages in the dead-letter queue",
            (
                'resource.type = "pubsub_subscription" AND '
                f'resource.labels.subscription_id = "{dead_letter_subscription}" AND '
                'metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"'
            ),
            self.ctx.settings.observability.dead_letter_alarm_threshold,
            f"Messages failed every delivery attempt and wait in `{dead_letter_subscription}`.",
        )

    def function_error_alert(self, function_names: list[str]) -> MonitoringAlertPolicy:
        names = "|".join(sorted(function_names))
        return self._threshold_alert(
            "function-errors",
            "function errors (5xx)",
            (
                'resource.type = "cloud_run_revision" AND '
                'metric.type = "run.googleapis.com/request_count" AND '
                'metric.labels.response_code_class = "5xx" AND '
                f'resource.labels.service_name = monitoring.regex.full_match("{names}")'
            ),
            self.ctx.settings.observability.function_error_alarm_threshold,
            "A statekit function answered with a server error (or crashed).",
        )

    def budget(self, project_number: str) -> BillingBudget:
        budget = self.ctx.settings.budget
        billing_account = TerraformVariable(
            self,
            "billing_account",
            type="string",
            description="The billing account (XXXXXX-XXXXXX-XXXXXX) the budget of this project belongs to",
        )
        channels = list(self.channels)
        for index, email in enumerate(budget.alert_emails):
            channels.append(self._email_channel(f"budget-{index}", email))
        return BillingBudget(
            self,
            "budget",
            billing_account=billing_account.string_value,
            display_name=self.ctx.naming.name("budget"),
            budget_filter=BillingBudgetBudgetFilter(
                projects=[f"projects/{project_number}"], calendar_period="MONTH"
            ),
            amount=BillingBudgetAmount(
                specified_amount=BillingBudgetAmountSpecifiedAmount(
                    currency_code=budget.currency, units=str(budget.monthly_limit)
                )
            ),
            threshold_rules=[
                BillingBudgetThresholdRules(
                    threshold_percent=budget.alert_threshold_percent / 100,
                    spend_basis="CURRENT_SPEND",
                ),
                BillingBudgetThresholdRules(threshold_percent=1.0, spend_basis="FORECASTED_SPEND"),
            ],
            all_updates_rule=BillingBudgetAllUpdatesRule(
                monitoring_notification_channels=channels or None,
                # With no channel, billing admins still get the default e-mails.
                disable_default_iam_recipients=bool(channels),
            ),
            depends_on=self.ctx.apis,
        )
