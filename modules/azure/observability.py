"""Logs, traces, alerts and the budget.

- Log Analytics workspace and a workspace-based Application Insights (traces and
  logs from the function app), both with the environment's retention; App Insights
  takes Entra-authenticated telemetry only (no ingestion key).
- Alerts to an action group (the environment's alarm email): failed function
  requests, and messages moved to the poison queue. Queue Storage publishes depth
  only per account, so the poison alert counts the host's "moving message to
  queue '<queue>-poison'" log lines instead of a queue metric.
- A monthly consumption budget on the resource group: an alert at the threshold
  percentage of actual cost and at 100% of forecast cost, starting on the first day
  of the month of synthesis (UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from cdktn import TerraformResourceLifecycle
from cdktn_provider_azurerm.application_insights import ApplicationInsights
from cdktn_provider_azurerm.consumption_budget_resource_group import (
    ConsumptionBudgetResourceGroup,
    ConsumptionBudgetResourceGroupNotification,
    ConsumptionBudgetResourceGroupTimePeriod,
)
from cdktn_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktn_provider_azurerm.monitor_action_group import (
    MonitorActionGroup,
    MonitorActionGroupEmailReceiver,
)
from cdktn_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
)
from cdktn_provider_azurerm.monitor_metric_alert import (
    MonitorMetricAlert,
    MonitorMetricAlertAction,
    MonitorMetricAlertCriteria,
)
from cdktn_provider_azurerm.monitor_scheduled_query_rules_alert_v2 import (
    MonitorScheduledQueryRulesAlertV2,
    MonitorScheduledQueryRulesAlertV2Action,
    MonitorScheduledQueryRulesAlertV2Criteria,
)
from constructs import Construct

from . import roles
from .context import AzureContext

# Application Insights accepts only these retention periods (days).
INSIGHTS_RETENTION_DAYS = (30, 60, 90, 120, 180, 270, 365, 550, 730)


def workspace_retention(days: int) -> int:
    """Log Analytics keeps 30 to 730 days: shorter settings get the minimum."""
    return min(max(days, 30), 730)


def insights_retention(days: int) -> int:
    """The shortest Application Insights period that keeps ``days`` (730 at most)."""
    return next((d for d in INSIGHTS_RETENTION_DAYS if d >= days), INSIGHTS_RETENTION_DAYS[-1])


def budget_start(today: date | None = None) -> str:
    """The first day of the current month (UTC): the only past start a monthly budget takes.

    The Consumption API's rule for ``timePeriod.startDate``: "Must be first of the month
    ... Past start date should be selected within the timegrain period" (BudgetTimePeriod,
    learn.microsoft.com): a fixed date in an earlier month is rejected at creation. The
    value changes each month, and azurerm replaces a budget whose start date changes, so
    the budget ignores later changes to its time period (``lifecycle.ignore_changes``).
    """
    today = today or datetime.now(UTC).date()
    return f"{today.year:04d}-{today.month:02d}-01T00:00:00Z"


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: AzureContext) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        retention = ctx.settings.observability.log_retention_days
        self.workspace = LogAnalyticsWorkspace(
            self,
            "logs",
            name=ctx.naming.name("logs"),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            sku="PerGB2018",
            retention_in_days=workspace_retention(retention),
        )
        self.insights = ApplicationInsights(
            self,
            "insights",
            name=ctx.naming.name("insights"),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            application_type="other",
            workspace_id=self.workspace.id,
            retention_in_days=insights_retention(retention),
            local_authentication_enabled=False,
        )
        email = ctx.settings.observability.alarm_email
        self.action_group = MonitorActionGroup(
            self,
            "alerts",
            name=ctx.naming.name("alerts"),
            resource_group_name=ctx.resource_group_name,
            # Shown in alert messages (at most 12 characters): the App and the environment.
            short_name=re.sub(r"[^a-z0-9]", "", f"{ctx.naming.app}{ctx.settings.env}")[:12],
            email_receiver=(
                [MonitorActionGroupEmailReceiver(name="oncall", email_address=email)]
                if email
                else None
            ),
        )

    def storage_diagnostics(
        self, construct_id: str, account_id: str, services: tuple[str, ...]
    ) -> None:
        """Read, write and delete logs of a storage account's services, into the workspace."""
        for service in services:
            MonitorDiagnosticSetting(
                self,
                f"{construct_id}-{service}",
                name="statekit-logs",
                target_resource_id=f"{account_id}/{service}Services/default",
                log_analytics_workspace_id=self.workspace.id,
                enabled_log=[
                    MonitorDiagnosticSettingEnabledLog(category=category)
                    for category in ("StorageRead", "StorageWrite", "StorageDelete")
                ],
            )

    def app_settings(self) -> dict[str, str]:
        """Telemetry with the function's identity (App Insights local auth is off)."""
        return {"APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Authorization=AAD"}

    def grant_telemetry(self, principal_id: str) -> None:
        roles.grant(
            self,
            "function-telemetry",
            role=roles.MONITORING_METRICS_PUBLISHER,
            on=self.insights.id,
            principal_id=principal_id,
        )

    def function_error_alert(self) -> MonitorMetricAlert:
        threshold = self.ctx.settings.observability.function_error_alarm_threshold
        return MonitorMetricAlert(
            self,
            "function-errors",
            name=self.ctx.naming.name("function-errors"),
            resource_group_name=self.ctx.resource_group_name,
            scopes=[self.insights.id],
            description="statekit functions: failed requests or executions",
            severity=2,
            frequency="PT5M",
            window_size="PT5M",
            criteria=[
                MonitorMetricAlertCriteria(
                    metric_namespace="microsoft.insights/components",
                    metric_name="requests/failed",
                    aggregation="Count",
                    operator="GreaterThanOrEqual",
                    threshold=threshold,
                )
            ],
            action=[MonitorMetricAlertAction(action_group_id=self.action_group.id)],
        )

    def poison_queue_alert(self, poison_queue_name: str) -> MonitorScheduledQueryRulesAlertV2:
        threshold = self.ctx.settings.observability.dead_letter_alarm_threshold
        query = (
            "traces\n"
            f'| where message has "{poison_queue_name}"\n'
            '| where message has "Moving message to queue"\n'
            "| summarize moved = count()"
        )
        return MonitorScheduledQueryRulesAlertV2(
            self,
            "poison-queue",
            name=self.ctx.naming.name("poison-queue"),
            resource_group_name=self.ctx.resource_group_name,
            location=self.ctx.location,
            description=f"messages moved to the dead-letter queue {poison_queue_name}",
            scopes=[self.insights.id],
            severity=2,
            evaluation_frequency="PT5M",
            window_duration="PT15M",
            criteria=[
                MonitorScheduledQueryRulesAlertV2Criteria(
                    query=query,
                    time_aggregation_method="Total",
                    metric_measure_column="moved",
                    operator="GreaterThanOrEqual",
                    threshold=threshold,
                )
            ],
            action=MonitorScheduledQueryRulesAlertV2Action(action_groups=[self.action_group.id]),
        )

    def budget(self) -> ConsumptionBudgetResourceGroup:
        budget = self.ctx.settings.budget
        emails = list(budget.alert_emails) or (
            [self.ctx.settings.observability.alarm_email]
            if self.ctx.settings.observability.alarm_email
            else []
        )
        # A notification needs a recipient: the emails, else whoever owns the resource group.
        contact_emails = emails or None
        contact_roles = None if emails else ["Owner"]
        return ConsumptionBudgetResourceGroup(
            self,
            "budget",
            name=self.ctx.naming.name("budget"),
            resource_group_id=self.ctx.resource_group_id,
            amount=budget.monthly_limit,
            time_grain="Monthly",
            time_period=ConsumptionBudgetResourceGroupTimePeriod(start_date=budget_start()),
            # Set once, at creation: a later month's synthesis must not replace the budget.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["time_period"]),
            notification=[
                ConsumptionBudgetResourceGroupNotification(
                    operator="GreaterThanOrEqualTo",
                    threshold=budget.alert_threshold_percent,
                    threshold_type="Actual",
                    contact_emails=contact_emails,
                    contact_roles=contact_roles,
                ),
                ConsumptionBudgetResourceGroupNotification(
                    operator="GreaterThanOrEqualTo",
                    threshold=100,
                    threshold_type="Forecasted",
                    contact_emails=contact_emails,
                    contact_roles=contact_roles,
                ),
            ],
        )
