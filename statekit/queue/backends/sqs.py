"""Amazon SQS: ``sqs://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE[?dlq=DLQ&endpoint=URL&max_attempts=N]``.

The dead-letter queue is SQS's own redrive policy (``maxReceiveCount`` =
``max_attempts``): SQS moves a message whose receive count would exceed it, so
the client enforces nothing. Standard and FIFO queues differ, and the backend
says so: only a FIFO queue (name ending ``.fifo``) deduplicates (5-minute window)
and keeps order (one message group, ``group=`` to name it); only a standard
queue takes a per-message delay (FIFO queues have a queue-wide delay only).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from statekit.errors import BackendUnavailable, StatekitError
from statekit.queue.backend import (
    OutgoingRaw,
    QueueBackend,
    QueueCapability,
    QueueLimits,
    QueueNotFound,
    ReceiptExpired,
    ReceivedRaw,
    SendFailed,
)
from statekit.urls import ConnectionURL

T = TypeVar("T")

MAX_BATCH = 10  # SendMessageBatch / DeleteMessageBatch entries
MAX_BATCH_BYTES = 262_144  # SendMessageBatch's total payload
FIFO_SUFFIX = ".fifo"
_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
_STALE = {"ReceiptHandleIsInvalid", "InvalidParameterValue", "MessageNotInflight"}

# Bounded retries and short connects: a dead endpoint is BackendUnavailable in
# seconds. The read timeout covers the 20 s long poll.
_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=2,
    read_timeout=25,
)


def _limits(fifo: bool) -> QueueLimits:
    return QueueLimits(
        max_body_bytes=262_144,
        max_receive_batch=10,
        max_send_batch=MAX_BATCH,
        max_visibility_seconds=43_200,
        max_delay_seconds=0 if fifo else 900,
        min_max_attempts=1,
        max_max_attempts=1000,
        dedup_window_seconds=300 if fifo else 0,
        notes="FIFO: one message group, ordered, deduplicated" if fifo else "standard queue",
    )


class SQSQueue(QueueBackend):
    name = "sqs"

    def __init__(
        self,
        *,
        region: str,
        account: str,
        queue: str,
        dlq: str,
        max_attempts: int,
        endpoint: str | None = None,
        group: str = "default",
    ) -> None:
        self.region = region
        self.queue = queue
        self.dlq = dlq
        self.max_attempts = max_attempts
        self.group = group
        self.fifo = queue.endswith(FIFO_SUFFIX)
        self.limits = _limits(self.fifo)
        common = {QueueCapability.DEAD_LETTER, QueueCapability.ATTEMPTS}
        self.capabilities = frozenset(
            common | {QueueCapability.DEDUP, QueueCapability.ORDERING}
            if self.fifo
            else common | {QueueCapability.DELAY}
        )
        self._client: Any = boto3.session.Session().client(
            "sqs", region_name=region, endpoint_url=endpoint, config=_CONFIG
        )
        # The queue URL is known without a GetQueueUrl call: a cold start pays nothing.
        base = (endpoint or f"https://sqs.{region}.amazonaws.com").rstrip("/")
        self.queue_url = f"{base}/{account}/{queue}"
        self.dlq_url = f"{base}/{account}/{dlq}"

    @classmethod
    def from_url(cls, url: ConnectionURL) -> SQSQueue:
        from statekit.queue.facade import max_attempts_param

        url.require_known_params(("dlq", "endpoint", "max_attempts", "group"))
        host = url.host.split(".")
        if len(host) != 4 or host[0] != "sqs" or host[2:] != ["amazonaws", "com"]:
            raise url.error("the host must be sqs.REGION.amazonaws.com")
        parts = url.path_parts()
        if len(parts) != 2 or not parts[0].isdigit():
            raise url.error("the path must be /ACCOUNT_ID/QUEUE_NAME")
        account, queue = parts
        fifo = queue.endswith(FIFO_SUFFIX)
        default_dlq = queue[: -len(FIFO_SUFFIX)] + "-dlq" + FIFO_SUFFIX if fifo else queue + "-dlq"
        dlq = url.param("dlq") or default_dlq
        if dlq.endswith(FIFO_SUFFIX) != fifo:
            raise url.error("the dead-letter queue of a FIFO queue must be FIFO too, and only then")
        return cls(
            region=host[1],
            account=account,
            queue=queue,
            dlq=dlq,
            max_attempts=max_attempts_param(url.param("max_attempts"), 1, 1000, url),
            endpoint=url.param("endpoint"),
            group=url.param("group") or "default",
        )

    # Every call goes through here: SDK errors never escape as themselves.
    def _call(self, operation: str, body: Callable[[], T], queue: str | None = None) -> T:
        try:
            return body()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise QueueNotFound(self.name, queue or self.queue) from None
            raise SendFailed(self.name, code, str(exc)) from None
        except BotoCoreError as exc:
            raise BackendUnavailable(self.name, operation, exc) from None

    # -- sending -------------------------------------------------------------------------
    def _entry(self, message: OutgoingRaw) -> dict[str, Any]:
        entry: dict[str, Any] = {"MessageBody": message.data}
        if self.fifo:
            entry["MessageGroupId"] = self.group
            # Without an id of the caller's, a fresh one: never content-based dedup.
            entry["MessageDeduplicationId"] = message.dedup_id or uuid.uuid4().hex
        elif message.delay:
            entry["DelaySeconds"] = message.delay
        return entry

    def send(self, message: OutgoingRaw) -> str:
        entry = self._entry(message)
        response = self._call(
            "send", lambda: self._client.send_message(QueueUrl=self.queue_url, **entry)
        )
        return str(response["MessageId"])

    def send_many(self, messages: Sequence[OutgoingRaw]) -> list[str | StatekitError]:
        results: list[str | StatekitError] = [
            SendFailed(self.name, "NotSent", "no answer") for _ in messages
        ]
        for chunk in _chunks(messages):
            entries = [{"Id": str(i), **self._entry(messages[i])} for i in chunk]
            try:
                response = self._call(
                    "send_many",
                    partial(
                        self._client.send_message_batch, QueueUrl=self.queue_url, Entries=entries
                    ),
                )
            except (SendFailed, BackendUnavailable) as exc:  # the whole request failed
                for i in chunk:
                    results[i] = exc
                continue
            for ok in response.get("Successful", []):
                results[int(ok["Id"])] = str(ok["MessageId"])
            for bad in response.get("Failed", []):
                results[int(bad["Id"])] = SendFailed(
                    self.name, str(bad.get("Code")), str(bad.get("Message", ""))
                )
        return results

    # -- receiving -----------------------------------------------------------------------
    def _receive(
        self, queue_url: str, max_messages: int, wait: float, visibility: int
    ) -> list[ReceivedRaw]:
        response = self._call(
            "receive",
            lambda: self._client.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=max_messages,
                WaitTimeSeconds=math.ceil(wait),
                VisibilityTimeout=visibility,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            ),
            queue_url.rsplit("/", 1)[-1],
        )
        return [
            ReceivedRaw(
                id=str(m["MessageId"]),
                data=str(m["Body"]),
                attempts=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
                receipt=(queue_url, m["ReceiptHandle"]),
            )
            for m in response.get("Messages", [])
        ]

    def receive(self, max_messages: int, wait: float, visibility: int) -> list[ReceivedRaw]:
        return self._receive(self.queue_url, max_messages, wait, visibility)

    def dead_letters(self, max_messages: int, visibility: int) -> list[ReceivedRaw]:
        return self._receive(self.dlq_url, max_messages, 0, visibility)

    # -- settling ------------------------------------------------------------------------
    def ack(self, message: ReceivedRaw) -> None:
        queue_url, handle = message.receipt
        try:
            self._call(
                "ack", lambda: self._client.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)
            )
        except SendFailed as exc:
            if exc.code in _STALE:
                raise ReceiptExpired(self.name, message.id, "ack") from None
            raise

    def ack_many(self, messages: Sequence[ReceivedRaw]) -> dict[str, StatekitError]:
        failed: dict[str, StatekitError] = {}
        by_queue: dict[str, list[ReceivedRaw]] = {}
        for message in messages:
            by_queue.setdefault(message.receipt[0], []).append(message)
        for queue_url, group in by_queue.items():
            for start in range(0, len(group), MAX_BATCH):
                chunk = group[start : start + MAX_BATCH]
                entries = [
                    {"Id": str(i), "ReceiptHandle": m.receipt[1]} for i, m in enumerate(chunk)
                ]
                response = self._call(
                    "ack_many",
                    partial(self._client.delete_message_batch, QueueUrl=queue_url, Entries=entries),
                )
                for bad in response.get("Failed", []):
                    message = chunk[int(bad["Id"])]
                    failed[message.id] = (
                        ReceiptExpired(self.name, message.id, "ack")
                        if bad.get("Code") in _STALE
                        else SendFailed(self.name, str(bad.get("Code")), str(bad.get("Message")))
                    )
        return failed

    def change_visibility(self, message: ReceivedRaw, seconds: int) -> None:
        queue_url, handle = message.receipt
        try:
            self._call(
                "change_visibility",
                lambda: self._client.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=seconds
                ),
            )
        except SendFailed as exc:
            if exc.code in _STALE:
                operation = "release" if seconds == 0 else "extend"
                raise ReceiptExpired(self.name, message.id, operation) from None
            raise

    # -- provisioning --------------------------------------------------------------------
    def provision(self) -> None:
        fifo = {"FifoQueue": "true"} if self.fifo else {}
        dlq_url = self._call(
            "provision", lambda: self._client.create_queue(QueueName=self.dlq, Attributes=fifo)
        )["QueueUrl"]
        dlq_arn = self._call(
            "provision",
            lambda: self._client.get_queue_attributes(
                QueueUrl=dlq_url, AttributeNames=["QueueArn"]
            ),
        )["Attributes"]["QueueArn"]
        redrive = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{self.max_attempts}"}}'
        self._call(
            "provision",
            lambda: self._client.create_queue(
                QueueName=self.queue, Attributes={**fifo, "RedrivePolicy": redrive}
            ),
        )

    def close(self) -> None:
        self._client.close()


def _chunks(messages: Sequence[OutgoingRaw]) -> list[list[int]]:
    """Indices in SendMessageBatch-sized groups: at most 10 and 256 KiB each."""
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index, message in enumerate(messages):
        length = len(message.data.encode("utf-8"))
        if current and (len(current) == MAX_BATCH or size + length > MAX_BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(index)
        size += length
    if current:
        chunks.append(current)
    return chunks
