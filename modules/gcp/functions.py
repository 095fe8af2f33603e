"""Cloud Functions (2nd gen): one per function of the App, plus the workflow activities.

- Source: one archive (see package.py) in a bucket with uniform access, public
  access prevention, versioning and soft delete (CMEK when set).
- Identities: the functions run as one dedicated service account that gets only
  what the code uses, each on the exact resource (granted by the components);
  builds run as their own account (logs, the build image, the source and the build
  buckets Cloud Functions copies it through).
- Every function's entry point is ``handle`` in the package's ``main.py`` (the
  kit's runtime), which dispatches on ``STATEKIT_FUNCTION``. HTTP functions:
  IAM-authenticated (``roles/run.invoker``), or ``allUsers`` when declared public.
  Queue consumer: internal ingress, invoked by the work subscription's
  authenticated push (OIDC). Schedules: internal ingress, called by Cloud
  Scheduler with an OIDC token (triggers.py). ``activities``: internal ingress,
  invoked by the workflows' identity only.
- Memory and timeout per function (the App's, else ``[functions]``).
- Every function gets the ``STATEKIT_*_URL`` variables; secrets only as Secret
  Manager references (``secret_environment_variables``). With the cache on, egress
  to private ranges goes through the VPC (Direct VPC egress) to reach Memorystore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktn import ITerraformDependable
from cdktn_provider_google.cloud_run_v2_service_iam_member import CloudRunV2ServiceIamMember
from cdktn_provider_google.cloudfunctions2_function import (
    Cloudfunctions2Function,
    Cloudfunctions2FunctionBuildConfig,
    Cloudfunctions2FunctionBuildConfigSource,
    Cloudfunctions2FunctionBuildConfigSourceStorageSource,
    Cloudfunctions2FunctionServiceConfig,
    Cloudfunctions2FunctionServiceConfigDirectVpcNetworkInterface,
    Cloudfunctions2FunctionServiceConfigSecretEnvironmentVariables,
)
from cdktn_provider_google.project_iam_member import ProjectIamMember, ProjectIamMemberCondition
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.storage_bucket import (
    StorageBucket,
    StorageBucketEncryption,
    StorageBucketSoftDeletePolicy,
    StorageBucketVersioning,
)
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from cdktn_provider_google.storage_bucket_object import StorageBucketObject
from constructs import Construct

from statekit.observability.platform import GCP_SWITCH_VARIABLE

from ..common.app import AppSource, DeployedFunction
from .context import GcpContext
from .kms import DataKey
from .network import PrivateNetwork, function_max_instances
from .package import function_source

STORAGE_AGENT = "gs-project-accounts.iam.gserviceaccount.com"
RUN_INVOKER = "roles/run.invoker"
# What a user-specified build service account needs (Cloud Run functions, "Configure the
# build service account": Logs Writer for build logs, Artifact Registry Writer for the
# image, Storage Object Admin to read the source and write the build's objects; the last
# is granted on the build buckets only, below, plus object viewer on our source bucket).
BUILD_PROJECT_ROLES = ("roles/logging.logWriter", "roles/artifactregistry.writer")
BUILD_BUCKET_PREFIXES = ("gcf-v2-sources-", "gcf-v2-uploads-")


def cpu_for(memory_mb: int) -> str | None:
    """Cloud Run's CPU minimums for large memory (over 4 GiB needs 2 CPUs, over 8 GiB 4)."""
    if memory_mb > 8192:
        return "4"
    if memory_mb > 4096:
        return "2"
    return None  # the platform's default for the memory size


ENTRY_POINT = "handle"  # statekit.runtime.gcp.handle, re-exported by the package's main.py
DESCRIPTIONS = {
    "http": "HTTP API",
    "queue": "queue consumer (Pub/Sub push)",
    "schedule": "scheduled job (Cloud Scheduler)",
    "activity": "workflow activities",
}
PUBLIC = "allUsers"


@dataclass(frozen=True)
class SecretVariable:
    name: str  # the environment variable
    secret_id: str
    # The secret's version and the runtime account's read grant: a revision deploys only
    # once the secret has a value and the account can read it.
    readable_after: tuple[ITerraformDependable, ...]


class CloudFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: GcpContext,
        key: DataKey | None,
        app: AppSource,
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        self.app = app
        production = ctx.settings.production
        grants = [key.allow("storage", ctx.service_agent(STORAGE_AGENT))] if key else []
        self.bucket = StorageBucket(
            self,
            "source-bucket",
            name=ctx.naming.unique("function-source"),
            project=ctx.project,
            location=ctx.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=StorageBucketVersioning(enabled=True),
            soft_delete_policy=StorageBucketSoftDeletePolicy(
                retention_duration_seconds=(30 if production else 7) * 24 * 3600
            ),
            encryption=StorageBucketEncryption(default_kms_key_name=key.id) if key else None,
            force_destroy=not production,
            depends_on=[*ctx.apis, *grants],
        )
        source = function_source(self, "source", ctx.settings, app)
        self.source_object = StorageBucketObject(
            self,
            "source-object",
            bucket=self.bucket.name,
            name=f"functions-{source.asset_hash}.zip",
            source=source.path,
            content_type="application/zip",
        )
        self.identity = ServiceAccount(
            self,
            "identity",
            account_id=ctx.naming.name("functions", 30),
            display_name=f"{app.name} functions (runtime)",
            project=ctx.project,
            depends_on=ctx.apis,
        )
        self.build_identity = ServiceAccount(
            self,
            "build-identity",
            account_id=ctx.naming.name("build", 30),
            display_name=f"{app.name} functions (build)",
            project=ctx.project,
            depends_on=ctx.apis,
        )
        build_member = f"serviceAccount:{self.build_identity.email}"
        self.build_grants: list[ITerraformDependable] = [
            ProjectIamMember(
                self,
                f"build-{role.split('.')[-1]}",
                project=ctx.project,
                role=role,
                member=build_member,
            )
            for role in BUILD_PROJECT_ROLES
        ]
        # The build copies the source through Cloud Functions' own buckets (gcf-v2-sources-*,
        # gcf-v2-uploads-*): object admin there only, by an IAM condition on the bucket name.
        self.build_grants.append(
            ProjectIamMember(
                self,
                "build-objectAdmin",
                project=ctx.project,
                role="roles/storage.objectAdmin",
                member=build_member,
                condition=ProjectIamMemberCondition(
                    title="Cloud Functions build buckets only",
                    expression=" || ".join(
                        f'resource.name.startsWith("projects/_/buckets/{prefix}")'
                        for prefix in BUILD_BUCKET_PREFIXES
                    ),
                ),
            )
        )
        self.build_grants.append(
            StorageBucketIamMember(
                self,
                "build-reads-source",
                bucket=self.bucket.name,
                role="roles/storage.objectViewer",
                member=build_member,
            )
        )
        # With tracing on, the functions export statekit's spans to Cloud Trace and its
        # metrics to Cloud Monitoring (statekit.observability.platform, extra otel-gcp).
        self.telemetry_environment: dict[str, str] = {}
        self.telemetry_grants: list[ProjectIamMember] = []
        if ctx.settings.observability.tracing:
            self.telemetry_environment = {GCP_SWITCH_VARIABLE: "1"}
            self.telemetry_grants = [
                ProjectIamMember(
                    self,
                    grant_id,
                    project=ctx.project,
                    role=role,
                    member=self.member,
                )
                for grant_id, role in (
                    ("trace-agent", "roles/cloudtrace.agent"),
                    ("metric-writer", "roles/monitoring.metricWriter"),
                )
            ]
        self.functions: dict[str, Cloudfunctions2Function] = {}

    @property
    def member(self) -> str:
        return f"serviceAccount:{self.identity.email}"

    def create(
        self,
        spec: DeployedFunction,
        environment: Mapping[str, str],
        secrets: list[SecretVariable],
        network: PrivateNetwork | None,
    ) -> Cloudfunctions2Function:
        ctx = self.ctx
        settings = ctx.settings.functions
        function = Cloudfunctions2Function(
            self,
            spec.name,
            name=ctx.naming.name(spec.name),
            project=ctx.project,
            location=ctx.region,
            description=f"{self.app.name} {spec.name}: {DESCRIPTIONS[spec.kind]}",
            build_config=Cloudfunctions2FunctionBuildConfig(
                runtime=settings.runtime.replace(".", ""),
                entry_point=ENTRY_POINT,
                service_account=self.build_identity.id,
                source=Cloudfunctions2FunctionBuildConfigSource(
                    storage_source=Cloudfunctions2FunctionBuildConfigSourceStorageSource(
                        bucket=self.bucket.name, object=self.source_object.name
                    )
                ),
            ),
            service_config=Cloudfunctions2FunctionServiceConfig(
                service_account_email=self.identity.email,
                available_memory=f"{spec.memory_mb}M",
                available_cpu=cpu_for(spec.memory_mb),
                timeout_seconds=spec.timeout_s,
                max_instance_count=function_max_instances(ctx.settings),
                # HTTP functions take calls from anywhere (IAM decides who); the others
                # only from Google's own services in the project (push, scheduler, workflows).
                ingress_settings="ALLOW_ALL" if spec.kind == "http" else "ALLOW_INTERNAL_ONLY",
                all_traffic_on_latest_revision=True,
                environment_variables={
                    **environment,
                    **self.telemetry_environment,
                    **spec.environment(self.app.ref),
                },
                secret_environment_variables=[
                    Cloudfunctions2FunctionServiceConfigSecretEnvironmentVariables(
                        key=secret.name,
                        project_id=ctx.project,
                        secret=secret.secret_id,
                        version="latest",
                    )
                    for secret in secrets
                ]
                or None,
                direct_vpc_network_interface=(
                    [
                        Cloudfunctions2FunctionServiceConfigDirectVpcNetworkInterface(
                            network=network.network.id, subnetwork=network.subnet.id
                        )
                    ]
                    if network
                    else None
                ),
                direct_vpc_egress="VPC_EGRESS_PRIVATE_RANGES_ONLY" if network else None,
            ),
            depends_on=[
                *self.build_grants,
                *self.telemetry_grants,  # its first spans and points are not refused
                *(after for secret in secrets for after in secret.readable_after),
            ],
        )
        self.functions[spec.name] = function
        if spec.kind == "http" and spec.public:
            self.allow_invoke(spec.name, f"{spec.name}-public", PUBLIC)
        return function

    def allow_invoke(
        self, component: str, construct_id: str, member: str
    ) -> CloudRunV2ServiceIamMember:
        """``member`` may call one function (its Cloud Run service), and nothing else."""
        function = self.functions[component]
        return CloudRunV2ServiceIamMember(
            self,
            construct_id,
            project=self.ctx.project,
            location=self.ctx.region,
            name=function.name,
            role=RUN_INVOKER,
            member=member,
        )

    def uri(self, component: str) -> str:
        return self.functions[component].service_config.uri
