"""Attribute names and values of the OpenTelemetry semantic conventions that statekit uses.

Written out here rather than imported from ``opentelemetry-semantic-conventions``
(an incubating package whose names still move) so the hot path imports nothing more.
Values are the registry's well-known ones where it has one, else ``<vendor>.<product>``.
"""

from __future__ import annotations

DB_SYSTEM = "db.system.name"
DB_OPERATION = "db.operation.name"
DB_COLLECTION = "db.collection.name"
DB_BATCH_SIZE = "db.operation.batch.size"
MESSAGING_SYSTEM = "messaging.system"
MESSAGING_OPERATION_TYPE = "messaging.operation.type"
MESSAGING_OPERATION = "messaging.operation.name"
MESSAGING_DESTINATION = "messaging.destination.name"
MESSAGING_MESSAGE_ID = "messaging.message.id"
MESSAGING_BATCH_COUNT = "messaging.batch.message_count"
ERROR_TYPE = "error.type"

# statekit's own attributes
BLOCK = "statekit.block"
BACKEND = "statekit.backend"
OPERATION = "statekit.operation"
OUTCOME = "statekit.outcome"
PARTITION = "statekit.partition"
KEY = "statekit.key"
CONFLICT = "statekit.conflict"
CACHE_HIT = "statekit.cache.hit"
ATTEMPT = "statekit.queue.attempt"
CORRELATION_ID = "statekit.correlation_id"
UPDATE_ATTEMPTS = "statekit.update.attempts"

DB_SYSTEMS = {
    "sqlite": "sqlite",
    "memory": "statekit.memory",
    "dynamodb": "aws.dynamodb",
    "cosmos": "azure.cosmosdb",
    "firestore": "gcp.firestore",
    "redis": "redis",
    "rediss": "redis",
    "postgresql": "postgresql",
    "memcached": "memcached",
}

MESSAGING_SYSTEMS = {
    "sqs": "aws_sqs",
    "azurequeue": "azure.storage.queue",
    "pubsub": "gcp_pubsub",
    "sqlite": "statekit.sqlite",
    "postgresql": "statekit.postgresql",
}
