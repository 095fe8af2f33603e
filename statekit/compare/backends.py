"""Which cloud a backend (a URL scheme) belongs to, for grouping measured results."""

from __future__ import annotations

BACKEND_CLOUD = {
    "dynamodb": "aws",
    "sqs": "aws",
    "stepfunctions": "aws",
    "elasticache": "aws",
    "cosmos": "azure",
    "azurequeue": "azure",
    "durable": "azure",
    "firestore": "gcp",
    "pubsub": "gcp",
    "workflows": "gcp",
    "redis": "all",  # ElastiCache, Azure Cache for Redis and Memorystore all speak it
    "postgresql": "all",  # Aurora, Flexible Server and Cloud SQL
    "memcached": "all",  # ElastiCache and Memorystore (Azure has no managed Memcached)
    "sqlite": "local",
    "memory": "local",
    "local": "local",
}


def cloud_of_backend(backend: str) -> str:
    """``dynamodb`` -> ``aws``; a name like ``cosmos-https`` uses its first word."""
    head = backend.lower().replace("_", "-").split("-")[0]
    return BACKEND_CLOUD.get(head, "other")
