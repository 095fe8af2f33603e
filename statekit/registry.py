"""The registry of backends: scheme -> the class that translates for it.

Entries are import paths, not imports, so ``import statekit`` loads no cloud
SDK and a Lambda that uses DynamoDB never imports the Azure or Google SDKs. A
backend joins by adding one line here and one file beside this one.
"""

from __future__ import annotations

import importlib
from typing import Any

from statekit.errors import InvalidURL, StatekitError, redact_url
from statekit.urls import parse_url

# kind -> scheme -> (module:class, the pip extra that brings its SDK)
REGISTRY: dict[str, dict[str, tuple[str, str | None]]] = {
    "store": {
        "sqlite": ("statekit.store.backends.sqlite:SQLiteStore", None),
        "memory": ("statekit.store.backends.memory:MemoryStore", None),
        "dynamodb": ("statekit.store.backends.dynamodb.store:DynamoDBStore", "aws"),
        "cosmos": ("statekit.store.backends.cosmos.store:CosmosStore", "azure"),
        "firestore": ("statekit.store.backends.firestore.store:FirestoreStore", "gcp"),
        "redis": ("statekit.store.backends.redis.store:RedisStore", "redis"),
        "rediss": ("statekit.store.backends.redis.store:RedisStore", "redis"),
    },
    "cache": {
        "memory": ("statekit.cache.backends.memory:MemoryCache", None),
        "redis": ("statekit.cache.backends.redis:RedisCache", "redis"),
        "rediss": ("statekit.cache.backends.redis:RedisCache", "redis"),
    },
    "queue": {
        "sqlite": ("statekit.queue.backends.sqlite:SQLiteQueue", None),
        "sqs": ("statekit.queue.backends.sqs:SQSQueue", "aws"),
        "azurequeue": ("statekit.queue.backends.azurequeue:AzureQueue", "azure"),
        "pubsub": ("statekit.queue.backends.pubsub:PubSubQueue", "gcp"),
    },
    "workflows": {
        "local": ("statekit.workflows.engines.local.client:LocalWorkflows", None),
        "stepfunctions": (
            "statekit.workflows.engines.stepfunctions.client:StepFunctionsWorkflows",
            "aws",
        ),
        "durable": ("statekit.workflows.engines.durable.client:DurableWorkflows", None),
        "workflows": ("statekit.workflows.engines.cloud_workflows.client:CloudWorkflows", "gcp"),
    },
}

SOURCE_VARIABLES = {
    "store": "STATEKIT_STORE_URL",
    "cache": "STATEKIT_CACHE_URL",
    "queue": "STATEKIT_QUEUE_URL",
    "workflows": "STATEKIT_WORKFLOW_URL",
}


def backend_class(kind: str, scheme: str, url: str = "", source: str = "url") -> Any:
    """Import the class registered for ``scheme``; a missing SDK names the extra to install."""
    path, extra = REGISTRY[kind][scheme]
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("statekit"):
            raise InvalidURL(
                url, f"the {scheme!r} {kind} backend is not built yet", source
            ) from None
        hint = f"pip install 'statekit[{extra}]'" if extra else "reinstall statekit"
        raise InvalidURL(
            url, f"the {scheme!r} {kind} backend needs {exc.name!r}: {hint}", source
        ) from None
    return getattr(module, class_name)


def open_backend(kind: str, url: str, source: str = "url") -> Any:
    """Parse ``url`` for a backend of ``kind`` and build it."""
    label = f"{kind} url" if source == "url" else source
    parsed = parse_url(url, source=label, allowed_schemes=REGISTRY[kind])
    cls = backend_class(kind, parsed.scheme, url, label)
    try:
        return cls.from_url(parsed)
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


_SDK_MODULES = ("google.auth", "google.api_core", "botocore", "azure.core", "azure.identity")
