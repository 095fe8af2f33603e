"""Cloud Scheduler jobs: each Schedule of the App calls its function with an OIDC token.

The jobs run in UTC (``time_zone = "Etc/UTC"``, the cron as written) and act as one
dedicated service account that may invoke exactly the schedule functions
(``roles/run.invoker`` on each). The Cloud Scheduler API is enabled here, only when
the App has a schedule.
"""

from __future__ import annotations

from cdktn_provider_google.cloud_scheduler_job import (
    CloudSchedulerJob,
    CloudSchedulerJobHttpTarget,
    CloudSchedulerJobHttpTargetOidcToken,
    CloudSchedulerJobRetryConfig,
)
from cdktn_provider_google.service_account import ServiceAccount
from constructs import Construct

from statekit.app import parse_cron

from ..common.app import DeployedFunction
from .apis import enable_api
from .context import GcpContext
from .functions import CloudFunctions

SCHEDULER_API = "cloudscheduler.googleapis.com"
UTC = "Etc/UTC"


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: GcpContext,
        functions: CloudFunctions,
        schedules: list[DeployedFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        api = enable_api(self, "api", ctx.project, SCHEDULER_API)
        self.identity = ServiceAccount(
            self,
            "identity",
            account_id=ctx.naming.name("scheduler", 30),
            display_name=f"{ctx.naming.app} schedules (invokes the schedule functions)",
            project=ctx.project,
            depends_on=ctx.apis,
        )
        member = f"serviceAccount:{self.identity.email}"
        self.jobs: dict[str, CloudSchedulerJob] = {}
        for schedule in schedules:
            invoker = functions.allow_invoke(
                schedule.name, f"scheduler-invokes-{schedule.name}", member
            )
            uri = functions.uri(schedule.name)
            self.jobs[schedule.name] = CloudSchedulerJob(
                self,
                schedule.name,
                name=ctx.naming.name(schedule.name),
                project=ctx.project,
                region=ctx.region,
                description=f"{ctx.naming.app} {schedule.name}: {schedule.cron} (UTC)",
                schedule=parse_cron(schedule.cron, schedule.name).unix(),
                time_zone=UTC,
                attempt_deadline=f"{min(max(schedule.timeout_s, 15), 1800)}s",
                retry_config=CloudSchedulerJobRetryConfig(retry_count=2),
                http_target=CloudSchedulerJobHttpTarget(
                    uri=uri,
                    http_method="POST",
                    oidc_token=CloudSchedulerJobHttpTargetOidcToken(
                        service_account_email=self.identity.email, audience=uri
                    ),
                ),
                depends_on=[api, invoker],
            )
