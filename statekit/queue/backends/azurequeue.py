"""Azure Queue Storage: ``azurequeue://ACCOUNT.queue.core.windows.net/QUEUE[?endpoint=URL&key_env=VAR&max_attempts=N]``.

Dead letters follow the Azure Functions queue trigger's convention: a message
whose dequeue count is above ``max_attempts`` (``maxDequeueCount`` in
host.json, default 5) is copied to ``QUEUE-poison`` and deleted from QUEUE
when it is next received, so a Function and a statekit consumer on the same
queue agree. Bodies go base64-encoded, as the Functions trigger expects by
default; that is why the portable limit is 48 KiB (64 KiB after base64).

Credentials: ``key_env=VAR`` names a variable holding the account key (the
emulator's well-known key, or one the platform fills from Key Vault); without
it, ``DefaultAzureCredential`` (managed identity in Azure).
Queue Storage has no long polling: ``wait`` polls with a growing pause.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.queue import (
    LinearRetry,
    QueueClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)

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

POISON_SUFFIX = "-poison"
MAX_RECEIVE = 32  # Get Messages' numofmessages
POLL_SECONDS = (0.05, 0.5)
PARALLEL_REQUESTS = 8  # send_many and ack_many: no batch API, so concurrent requests
_STALE_CODES = {"MessageNotFound", "PopReceiptMismatch", "404"}


@dataclass
class _Receipt:
    """Azure issues a new pop receipt on every update, so the receipt is mutable."""

    client: QueueClient
    pop_receipt: str


class AzureQueue(QueueBackend):
    name = "azurequeue"
    capabilities = frozenset(
        {QueueCapability.DELAY, QueueCapability.DEAD_LETTER, QueueCapability.ATTEMPTS}
    )
    limits = QueueLimits(
        max_body_bytes=49_152,
        max_receive_batch=MAX_RECEIVE,
        max_send_batch=1,
        max_visibility_seconds=7 * 24 * 3600,
        max_delay_seconds=7 * 24 * 3600,
        min_max_attempts=1,
        max_max_attempts=1000,
        notes="no batch send, no long polling, no dedup; order is not guaranteed",
    )

    def __init__(self, account_url: str, queue: str, credential: Any, max_attempts: int) -> None:
        self.queue = queue
        self.max_attempts = max_attempts
        self._main = self._client(account_url, queue, credential)
        self._poison = self._client(account_url, queue + POISON_SUFFIX, credential)

    @staticmethod
    def _client(account_url: str, queue: str, credential: Any) -> QueueClient:
        return QueueClient(
            account_url,
            queue,
            credential=credential,
            message_encode_policy=TextBase64EncodePolicy(),
            message_decode_policy=TextBase64DecodePolicy(),
            # The SDK's default waits 15 s and more between retries; a dead endpoint
            # must be BackendUnavailable within seconds.
            retry_policy=LinearRetry(backoff=1, random_jitter_range=1, retry_total=2),
            connection_timeout=3,
            read_timeout=15,
        )

    @classmethod
    def from_url(cls, url: ConnectionURL) -> AzureQueue:
        from statekit.queue.facade import max_attempts_param

        url.require_known_params(("endpoint", "key_env", "max_attempts"))
        account, _, suffix = url.host.partition(".")
        if not account or not suffix.startswith("queue."):
            raise url.error("the host must be ACCOUNT.queue.core.windows.net")
        parts = url.path_parts()
        if len(parts) != 1 or not 3 <= len(parts[0]) <= 63 - len(POISON_SUFFIX):
            raise url.error(
                f"the path must be /QUEUE, a name of 3 to {63 - len(POISON_SUFFIX)} characters "
                "(room for the '-poison' queue)"
            )
        credential: Any
        key_env = url.param("key_env")
        if key_env:
            key = os.environ.get(key_env)
            if not key:
                raise url.error(f"key_env names {key_env!r}, which is not set")
            credential = {"account_name": account, "account_key": key}
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        endpoint = url.param("endpoint") or f"https://{url.host}"
        attempts = max_attempts_param(url.param("max_attempts"), 1, 1000, url)
        return cls(endpoint, parts[0], credential, attempts)

    def _call(self, operation: str, body: Callable[[], T], queue: str | None = None) -> T:
        try:
            return body()
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "QueueNotFound":
                raise QueueNotFound(self.name, queue or self.queue) from None
            raise
        except ResourceExistsError:
            raise  # provision() expects it
        except HttpResponseError as exc:
            code = str(getattr(exc, "error_code", None) or exc.status_code)
            raise SendFailed(self.name, code, str(exc.message)) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise BackendUnavailable(self.name, operation, exc) from None
        except AzureError as exc:
            raise BackendUnavailable(self.name, operation, exc) from None

    # -- sending -------------------------------------------------------------------------
    def send(self, message: OutgoingRaw) -> str:
        sent = self._call(
            "send",
            lambda: self._main.send_message(message.data, visibility_timeout=message.delay or None),
        )
        return str(sent.id)

    def send_many(self, messages: Sequence[OutgoingRaw]) -> list[str | StatekitError]:
        """Queue Storage has no batch send: the messages go in parallel requests."""
        return self._parallel(self.send, messages)

    def _parallel(self, call: Callable[[Any], T], items: Sequence[Any]) -> list[T | StatekitError]:
        down: list[BackendUnavailable] = []

        def one(item: Any) -> T | StatekitError:
            if down:  # retries already spent on another request: fail fast, same cause
                return down[0]
            try:
                return call(item)
            except BackendUnavailable as exc:
                down.append(exc)
                return exc
            except StatekitError as exc:
                return exc

        if len(items) <= 1:
            return [one(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(PARALLEL_REQUESTS, len(items))) as pool:
            return list(pool.map(one, items))

    # -- receiving -----------------------------------------------------------------------
    def _get(self, client: QueueClient, count: int, visibility: int) -> list[Any]:
        return self._call(
            "receive",
            lambda: list(
                client.receive_messages(
                    messages_per_page=count, max_messages=count, visibility_timeout=visibility
                )
            ),
            client.queue_name,
        )

    def _to_poison(self, message: Any) -> None:
        """What the Functions host does: copy to QUEUE-poison, then delete from QUEUE."""
        self._call("move to poison", lambda: self._poison.send_message(message.content))
        self._call("move to poison", lambda: self._main.delete_message(message))

    def receive(self, max_messages: int, wait: float, visibility: int) -> list[ReceivedRaw]:
        deadline = time.monotonic() + wait
        pause = POLL_SECONDS[0]
        while True:
            found: list[ReceivedRaw] = []
            for message in self._get(self._main, max_messages, visibility):
                if message.dequeue_count > self.max_attempts:
                    self._to_poison(message)
                else:
                    found.append(self._raw(message, self._main))
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, POLL_SECONDS[1])

    def dead_letters(self, max_messages: int, visibility: int) -> list[ReceivedRaw]:
        return [
            self._raw(message, self._poison)
            for message in self._get(self._poison, max_messages, visibility)
        ]

    @staticmethod
    def _raw(message: Any, client: QueueClient) -> ReceivedRaw:
        return ReceivedRaw(
            id=str(message.id),
            data=str(message.content),
            attempts=int(message.dequeue_count or 0),
            receipt=_Receipt(client, str(message.pop_receipt)),
        )

    # -- settling ------------------------------------------------------------------------
    def ack(self, message: ReceivedRaw) -> None:
        receipt: _Receipt = message.receipt
        try:
            self._call(
                "ack", lambda: receipt.client.delete_message(message.id, receipt.pop_receipt)
            )
        except SendFailed as exc:
            if exc.code in _STALE_CODES:
                raise ReceiptExpired(self.name, message.id, "ack") from None
            raise

    def ack_many(self, messages: Sequence[ReceivedRaw]) -> dict[str, StatekitError]:
        outcomes = self._parallel(self.ack, messages)
        return {
            message.id: outcome
            for message, outcome in zip(messages, outcomes, strict=True)
            if isinstance(outcome, StatekitError)
        }

    def change_visibility(self, message: ReceivedRaw, seconds: int) -> None:
        receipt: _Receipt = message.receipt
        try:
            updated = self._call(
                "change_visibility",
                lambda: receipt.client.update_message(
                    message.id, receipt.pop_receipt, visibility_timeout=seconds
                ),
            )
        except SendFailed as exc:
            if exc.code in _STALE_CODES:
                operation = "release" if seconds == 0 else "extend"
                raise ReceiptExpired(self.name, message.id, operation) from None
            raise
        receipt.pop_receipt = str(updated.pop_receipt)

    # -- provisioning --------------------------------------------------------------------
    def provision(self) -> None:
        for client in (self._main, self._poison):
            with contextlib.suppress(ResourceExistsError):  # already there: fine
                self._call("provision", client.create_queue)

    def close(self) -> None:
        self._main.close()
        self._poison.close()
