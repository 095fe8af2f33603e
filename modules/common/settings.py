"""Cloud-neutral settings: one frozen dataclass per component, one ``StackSettings`` per stack.

Every cloud's constructs take these objects and nothing else, so an environment
file means the same thing on AWS, Azure and Google Cloud (the Azure Verified
Modules idea: one settings interface, secure production defaults written down).

The defaults below ARE the production defaults. ``environments/dev.toml`` and
``staging.toml`` relax them explicitly, so every relaxation is visible in review.
Field types drive validation in ``modules/common/environment.py``: a ``Literal``
lists the allowed values, ``metadata={"min": .., "max": ..}`` bounds a number,
and ``metadata={"doc": ..}`` is shown in errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from statekit import registry

# The list of clouds is written once, in statekit's registry.
Cloud = registry.Cloud
CLOUDS = registry.CLOUDS

# The one TTL attribute name shared by the store backends and the table constructs:
# statekit writes epoch seconds here so DynamoDB/Firestore native TTL reclaims items.
TTL_ATTRIBUTE = "expires_at_epoch"


def _bounded(low: int, high: int, default: int) -> int:
    """A dataclass field whose value the environment loader checks against [low, high]."""
    return field(default=default, metadata={"min": low, "max": high})


@dataclass(frozen=True)
class Components:
    """Which optional components a stack provisions. The database and functions are always on."""

    cache: bool = True
    queue: bool = True
    orchestrator: bool = True
    budget: bool = True


@dataclass(frozen=True)
class DatabaseSettings:
    # document: each cloud's document store (DynamoDB, Cosmos DB, Firestore);
    # postgres: Aurora Serverless v2 / Flexible Server / Cloud SQL (docs/postgresql.md).
    engine: Literal["document", "postgres"] = "document"
    # on_demand: pay per request (DynamoDB PAY_PER_REQUEST, Cosmos serverless, Firestore).
    # provisioned: fixed capacity with autoscaling between min and max.
    capacity_mode: Literal["on_demand", "provisioned"] = "on_demand"
    min_capacity: int = _bounded(1, 40000, 5)
    max_capacity: int = _bounded(1, 40000, 100)
    autoscaling_target_percent: int = _bounded(20, 90, 70)
    partition_key: str = "pk"
    sort_key: str = "sk"
    ttl_attribute: str = TTL_ATTRIBUTE
    point_in_time_recovery: bool = True
    deletion_protection: bool = True
    customer_managed_key: bool = True
    # Cosmos DB only; "strong" matches statekit's strongly consistent reads by default.
    consistency: Literal["strong", "bounded_staleness", "session"] = "strong"
    public_network_access: bool = False


@dataclass(frozen=True)
class CacheSettings:
    engine: Literal["valkey", "redis", "memcached"] = "valkey"  # memcached: AWS and GCP only
    # serverless: ElastiCache Serverless; cluster: a replication group / Standard tier.
    mode: Literal["serverless", "cluster"] = "serverless"
    node_type: str = "cache.t4g.small"
    replicas: int = _bounded(0, 5, 1)
    max_data_gb: int = _bounded(1, 5000, 10)
    tls_min_version: Literal["1.2"] = "1.2"
    snapshot_retention_days: int = _bounded(0, 35, 7)


@dataclass(frozen=True)
class QueueSettings:
    max_receive_count: int = _bounded(1, 1000, 5)
    visibility_timeout_seconds: int = _bounded(0, 43200, 60)
    message_retention_seconds: int = _bounded(60, 1209600, 345600)
    dead_letter_retention_seconds: int = _bounded(60, 1209600, 1209600)
    batch_size: int = _bounded(1, 10, 10)


@dataclass(frozen=True)
class OrchestratorSettings:
    log_level: Literal["ALL", "ERROR", "FATAL", "OFF"] = "ERROR"
    tracing: bool = True
    type: Literal["standard", "express"] = "standard"


@dataclass(frozen=True)
class FunctionsSettings:
    runtime: Literal["python3.11", "python3.12"] = "python3.12"
    memory_mb: int = _bounded(128, 10240, 512)
    timeout_seconds: int = _bounded(1, 900, 30)
    reserved_concurrency: int = _bounded(-1, 1000, -1)  # -1: unreserved
    architecture: Literal["arm64", "x86_64"] = "arm64"


@dataclass(frozen=True)
class ObservabilitySettings:
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731] = 365
    tracing: bool = True
    # The share of traces whose spans are recorded and exported (parent-based: a traced
    # request keeps its state operations' spans). Metrics count every operation whatever
    # the share. Below 100 it cuts the SDK's per-operation cost (docs/observability.md).
    trace_sample_percent: int = _bounded(0, 100, 100)
    dead_letter_alarm_threshold: int = _bounded(1, 100000, 1)
    function_error_alarm_threshold: int = _bounded(1, 100000, 1)
    # Alert when this percentage of state operations in 5 minutes failed (unavailable,
    # invalid or error; a Conflict is an answer, not a failure): docs/observability.md.
    state_error_percent_threshold: int = _bounded(1, 100, 5)
    # AWS: the ADOT collector Lambda layer (arn:aws:lambda:<region>:901920570463:layer:
    # aws-otel-collector-<arch>-ver-...) that receives OTLP on localhost and exports spans to
    # X-Ray and statekit's metrics to CloudWatch; empty (the default): the functions do it
    # themselves, EMF on stdout and subsegments to Lambda's X-Ray daemon (docs/observability.md).
    aws_otel_collector_layer: str = ""
    alarm_email: str = ""


@dataclass(frozen=True)
class BudgetSettings:
    monthly_limit: int = _bounded(1, 10_000_000, 500)
    currency: Literal["USD", "EUR", "GBP"] = "USD"
    alert_threshold_percent: int = _bounded(1, 1000, 80)
    alert_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class StateBackendSettings:
    """Where Terraform keeps this stack's state. ``local`` writes next to the stack."""

    kind: Literal["local", "s3", "azurerm", "gcs"] = "local"
    # s3 and gcs: bucket; azurerm: storage_account_name + container_name + resource_group_name.
    bucket: str = ""
    key: str = ""  # object key (s3, azurerm) or prefix (gcs); default: <stack>/terraform.tfstate
    region: str = ""  # s3 only; default: the stack's region
    use_lockfile: bool = True  # s3 native locking (Terraform >= 1.10), no DynamoDB lock table
    dynamodb_table: str = ""  # s3 legacy locking, for Terraform < 1.10
    encrypt: bool = True
    resource_group_name: str = ""
    storage_account_name: str = ""
    container_name: str = ""
    path: str = ""  # local only; default: terraform.<stack>.tfstate in the stack folder


@dataclass(frozen=True)
class CloudTarget:
    """Where one cloud's stack of an environment goes."""

    region: str
    project: str = ""  # GCP project id (required for gcp)
    state_backend: StateBackendSettings = field(default_factory=StateBackendSettings)


@dataclass(frozen=True)
class EnvironmentSettings:
    """One environment file, validated: everything but the choice of cloud."""

    name: str
    owner: str
    production: bool
    clouds: tuple[Cloud, ...]
    targets: dict[Cloud, CloudTarget]
    tags: dict[str, str] = field(default_factory=dict)
    components: Components = field(default_factory=Components)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    orchestrator: OrchestratorSettings = field(default_factory=OrchestratorSettings)
    functions: FunctionsSettings = field(default_factory=FunctionsSettings)
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    source: str = ""  # the file it was read from, for error messages
    # The App this environment deploys ("pkg.module:APP"); "" = STATEKIT_APP or the default.
    app: str = ""

    def for_cloud(self, cloud: Cloud, app_name: str = "") -> StackSettings:
        target = self.targets[cloud]
        return StackSettings(
            app_name=app_name,
            env=self.name,
            cloud=cloud,
            region=target.region,
            project=target.project,
            owner=self.owner,
            production=self.production,
            tags=dict(self.tags),
            components=self.components,
            database=self.database,
            cache=self.cache,
            queue=self.queue,
            orchestrator=self.orchestrator,
            functions=self.functions,
            observability=self.observability,
            budget=self.budget,
            state_backend=target.state_backend,
            source=self.source,
            app_ref=self.app,
        )


@dataclass(frozen=True)
class StackSettings:
    """Everything one ``<app>-<cloud>-<env>`` stack needs."""

    env: str
    cloud: Cloud
    region: str
    owner: str
    production: bool = True
    project: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    components: Components = field(default_factory=Components)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    orchestrator: OrchestratorSettings = field(default_factory=OrchestratorSettings)
    functions: FunctionsSettings = field(default_factory=FunctionsSettings)
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    state_backend: StateBackendSettings = field(default_factory=StateBackendSettings)
    # The App's name (``App.name``): every resource name and the stack name start with it.
    # The stack construct sets it from the App it is given.
    app_name: str = ""
    source: str = ""  # the environment file, for the stack's fingerprint and errors
    app_ref: str = ""  # the environment file's ``app`` ("" = STATEKIT_APP or the default)

    @property
    def stack_name(self) -> str:
        """``<app>-<cloud>-<env>``: two apps in one account get two stacks."""
        if not self.app_name:
            raise ValueError(
                f"StackSettings for {self.cloud}/{self.env}: app_name is empty; "
                "build the stack with an App (it sets the name)"
            )
        return f"{self.app_name}-{self.cloud}-{self.env}"

    def all_tags(self) -> dict[str, str]:
        """The tags/labels every resource carries: the file's tags plus the three required ones."""
        return {
            **self.tags,
            "app": self.app_name,
            "environment": self.env,
            "stack": self.stack_name,
            "owner": self.owner,
        }
