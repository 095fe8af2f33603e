"""The registry of backends, for every block: scheme -> the class that translates for it.

Shaped like fsspec's ``known_implementations``: each entry names its class as an
import path (``module:Class``), the pip extra that brings its SDK, and the cloud it
runs on. Entries are import paths, not imports, so ``import statekit`` loads no
cloud SDK and a Lambda that uses DynamoDB never imports the Azure or Google SDKs.
A backend joins by adding one line here and one module in its block's ``backends/``.

The comparison's cloud of each backend (``statekit.compare.backends``) and the
README's capability table (``statekit.capabilities_table``) are derived from here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal, get_args

from statekit.errors import InvalidURL, StatekitError, redact_url
from statekit.urls import parse_url

Cloud = Literal["aws", "azure", "gcp"]
# The clouds statekit deploys to, in the order every report lists them.
CLOUDS: tuple[Cloud, ...] = get_args(Cloud)
# Where a backend runs: one cloud, every cloud ("all": Redis is ElastiCache, Azure Cache
# for Redis and Memorystore alike), or nowhere but the process/machine ("local").
Where = Literal["aws", "azure", "gcp", "all", "local"]

Block = Literal["store", "cache", "queue", "workflows"]


class MissingExtra(StatekitError):
    """A backend's SDK is not installed: names the module and the extra that brings it."""

    def __init__(self, target: str, module: str, extra: str | None) -> None:
        self.hint = f"pip install 'statekit[{extra}]'" if extra else "reinstall statekit"
        super().__init__(f"{target} needs {module!r}: {self.hint}")
        self.module = module
        self.extra = extra


@dataclass(frozen=True)
class Backend:
    target: str  # "package.module:Class"
    cloud: Where
    extra: str | None = None  # the pip extra with its SDK; None: needs nothing beyond statekit

    def load(self) -> Any:
        """Import the class. A missing SDK raises MissingExtra; a missing statekit module is
        a broken install and propagates as it is."""
        module_name, _, class_name = self.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if not exc.name or exc.name.split(".")[0] == "statekit":
                raise
            raise MissingExtra(self.target, exc.name, self.extra) from None
        return getattr(module, class_name)


REGISTRY: dict[Block, dict[str, Backend]] = {
    "store": {
        "sqlite": Backend("statekit.store.backends.sqlite:SQLiteStore", "local"),
        "memory": Backend("statekit.store.backends.memory:MemoryStore", "local"),
        "dynamodb": Backend("statekit.store.backends.dynamodb.store:DynamoDBStore", "aws", "aws"),
        "cosmos": Backend("statekit.store.backends.cosmos.store:CosmosStore", "azure", "azure"),
        "firestore": Backend(
            "statekit.store.backends.firestore.store:FirestoreStore", "gcp", "gcp"
        ),
        "redis": Backend("statekit.store.backends.redis.store:RedisStore", "all", "redis"),
        "rediss": Backend("statekit.store.backends.redis.store:RedisStore", "all", "redis"),
        "postgresql": Backend(
            "statekit.store.backends.postgresql:PostgreSQLStore", "all", "postgresql"
        ),
    },
    "cache": {
        "memory": Backend("statekit.cache.backends.memory:MemoryCache", "local"),
        "redis": Backend("statekit.cache.backends.redis:RedisCache", "all", "redis"),
        "rediss": Backend("statekit.cache.backends.redis:RedisCache", "all", "redis"),
        "memcached": Backend(
            "statekit.cache.backends.memcached:MemcachedCache", "all", "memcached"
        ),
    },
    "queue": {
        "sqlite": Backend("statekit.queue.backends.sqlite:SQLiteQueue", "local"),
        "sqs": Backend("statekit.queue.backends.sqs:SQSQueue", "aws", "aws"),
        "azurequeue": Backend("statekit.queue.backends.azurequeue:AzureQueue", "azure", "azure"),
        "pubsub": Backend("statekit.queue.backends.pubsub:PubSubQueue", "gcp", "gcp"),
        "postgresql": Backend(
            "statekit.queue.backends.postgresql:PostgreSQLQueue", "all", "postgresql"
        ),
    },
    "workflows": {
        "local": Backend("statekit.workflows.engines.local.client:LocalWorkflows", "local"),
        "stepfunctions": Backend(
            "statekit.workflows.engines.stepfunctions.client:StepFunctionsWorkflows", "aws", "aws"
        ),
        "durable": Backend("statekit.workflows.engines.durable.client:DurableWorkflows", "azure"),
        "workflows": Backend(
            "statekit.workflows.engines.cloud_workflows.client:CloudWorkflows", "gcp", "gcp"
        ),
    },
}


def cloud_of_scheme() -> dict[str, Where]:
    """Every registered scheme, of any block, and where its backend runs."""
    return {scheme: entry.cloud for block in REGISTRY.values() for scheme, entry in block.items()}


def backend_class(kind: Block, scheme: str, url: str = "", source: str = "url") -> Any:
    """Import the class registered for ``scheme``; a missing SDK names the extra to install."""
    try:
        return REGISTRY[kind][scheme].load()
    except MissingExtra as exc:
        raise InvalidURL(
            url, f"the {scheme!r} {kind} backend needs {exc.module!r}: {exc.hint}", source
        ) from None


def open_backend(kind: Block, url: str, source: str = "url") -> Any:
    """Parse ``url`` for a backend of ``kind`` and build it."""
    label = f"{kind} url" if source == "url" else source
    parsed = parse_url(url, source=label, allowed_schemes=REGISTRY[kind])
    cls = backend_class(kind, parsed.scheme, url, label)
    from statekit.observability.instrument import instrument

    try:
        backend = cls.from_url(parsed)
    except StatekitError:
        raise
    except Exception as exc:
        # An SDK that cannot find credentials (google.auth's DefaultCredentialsError,
        # botocore's NoRegionError, azure.identity's errors) raises its own type at
        # client creation: report it as ours, naming the URL without any secret.
        if not type(exc).__module__.startswith(_SDK_MODULES):
            raise
        raise StatekitError(
            f"cannot open the {kind} backend {redact_url(url)!r}: {type(exc).__name__}: "
            f"{exc} (the function's identity or local credentials must be configured)"
        ) from None
    return instrument(kind, backend, parsed)


_SDK_MODULES = ("google.auth", "google.api_core", "botocore", "azure.core", "azure.identity")
