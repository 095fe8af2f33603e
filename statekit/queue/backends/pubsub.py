"""Google Cloud Pub/Sub: ``pubsub://PROJECT/TOPIC?subscription=SUB[&dead_letter_subscription=SUB&dead_letter_topic=TOPIC&max_attempts=N]``.

Sending publishes to TOPIC; receiving is a synchronous pull on SUB, followed by
one ``modifyAckDeadline`` that sets the requested visibility (a subscription's
ack deadline is fixed; per-message deadlines are how Pub/Sub does visibility).
Dead letters are Pub/Sub's own dead-letter policy on SUB (``max_delivery_attempts``
= ``max_attempts``, which Pub/Sub allows from 5 to 100) forwarding to
``dead_letter_topic`` (default TOPIC-dead-letter), read through
``dead_letter_subscription`` (default SUB-dead-letter). Pub/Sub reports
``delivery_attempt`` only on a subscription with that policy.

The emulator endpoint comes from ``PUBSUB_EMULATOR_HOST``, the SDK's own variable.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, if_exception_type

# mypy resolves the google.cloud namespace package differently when it checks this
# file alone and with the whole tree: the ignore is needed in one case only.
from google.cloud import pubsub_v1  # type: ignore[attr-defined, unused-ignore]
from google.pubsub_v1 import PubsubMessage
from google.pubsub_v1.services.publisher import PublisherClient as GapicPublisher

from statekit.errors import BackendUnavailable, StatekitError
from statekit.queue.backend import (
    OutgoingRaw,
    QueueBackend,
    QueueCapability,
    QueueLimits,
    QueueNotFound,
    ReceivedRaw,
    SendFailed,
)
from statekit.urls import ConnectionURL

T = TypeVar("T")

MAX_PUBLISH_MESSAGES = 1000
MAX_PUBLISH_BYTES = 9_000_000  # under the 10 MB request limit, with room for framing
ACK_DEADLINE_SECONDS = 30  # the subscription's; every receive sets its own with modack
CALL_TIMEOUT = 10.0

# Bounded: a dead endpoint is BackendUnavailable after about 5 s, never a 60 s hang.
_RETRY = Retry(
    predicate=if_exception_type(gexc.ServiceUnavailable, gexc.InternalServerError),
    initial=0.2,
    maximum=2.0,
    multiplier=2.0,
    timeout=5.0,
)
_UNAVAILABLE = (gexc.ServiceUnavailable, gexc.RetryError, gexc.DeadlineExceeded)

# receive(wait=0) must not wait, and return_immediately is the only way to say so;
# Pub/Sub still honours it. Only this one warning is silenced.
warnings.filterwarnings(
    "ignore", message="The return_immediately flag is deprecated", category=DeprecationWarning
)


class PubSubQueue(QueueBackend):
    name = "pubsub"
    capabilities = frozenset({QueueCapability.DEAD_LETTER, QueueCapability.ATTEMPTS})
    limits = QueueLimits(
        max_body_bytes=10_000_000,
        max_receive_batch=1000,
        max_send_batch=MAX_PUBLISH_MESSAGES,
        max_visibility_seconds=600,
        max_delay_seconds=0,
        min_max_attempts=5,
        max_max_attempts=100,
        notes="no delay; dedup is subscriber-side exactly-once, not a send option; "
        "ordering needs ordering keys (not offered)",
    )

    def __init__(
        self,
        *,
        project: str,
        topic: str,
        subscription: str,
        dead_letter_topic: str,
        dead_letter_subscription: str,
        max_attempts: int,
    ) -> None:
        self.max_attempts = max_attempts
        self._publisher: Any = pubsub_v1.PublisherClient()
        self._subscriber: Any = pubsub_v1.SubscriberClient()
        # The generated one-request publish, not the client's background batcher: send
        # returns the id once Pub/Sub has the message, and send_many is one request.
        self._gapic_publish = partial(GapicPublisher.publish, self._publisher)
        self.topic = self._publisher.topic_path(project, topic)
        self.subscription = self._subscriber.subscription_path(project, subscription)
        self.dead_letter_topic = self._publisher.topic_path(project, dead_letter_topic)
        self.dead_letter_subscription = self._subscriber.subscription_path(
            project, dead_letter_subscription
        )

    @classmethod
    def from_url(cls, url: ConnectionURL) -> PubSubQueue:
        from statekit.queue.facade import max_attempts_param

        url.require_known_params(
            ("subscription", "dead_letter_subscription", "dead_letter_topic", "max_attempts")
        )
        parts = url.path_parts()
        if not url.host or len(parts) != 1:
            raise url.error("the form is pubsub://PROJECT/TOPIC?subscription=SUB")
        subscription = url.param("subscription")
        if not subscription:
            raise url.error("subscription= is required (the pull subscription to receive from)")
        topic = parts[0]
        return cls(
            project=url.host,
            topic=topic,
            subscription=subscription,
            dead_letter_topic=url.param("dead_letter_topic") or f"{topic}-dead-letter",
            dead_letter_subscription=url.param("dead_letter_subscription")
            or f"{subscription}-dead-letter",
            max_attempts=max_attempts_param(url.param("max_attempts"), 5, 100, url),
        )

    def _call(self, operation: str, body: Callable[[], T], name: str = "") -> T:
        try:
            return body()
        except gexc.NotFound:
            raise QueueNotFound(self.name, name or self.subscription) from None
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(self.name, operation, exc) from None
        except gexc.AlreadyExists:
            raise
        except gexc.GoogleAPICallError as exc:
            raise SendFailed(self.name, str(exc.code), str(exc.message)) from None

    # -- sending -------------------------------------------------------------------------
    def _publish(self, datas: Sequence[str]) -> list[str]:
        messages = [PubsubMessage(data=data.encode("utf-8")) for data in datas]
        response = self._call(
            "send",
            lambda: self._gapic_publish(
                topic=self.topic, messages=messages, retry=_RETRY, timeout=CALL_TIMEOUT
            ),
            self.topic,
        )
        return [str(message_id) for message_id in response.message_ids]

    def send(self, message: OutgoingRaw) -> str:
        return self._publish([message.data])[0]

    def send_many(self, messages: Sequence[OutgoingRaw]) -> list[str | StatekitError]:
        results: list[str | StatekitError] = []
        chunk: list[str] = []
        size = 0

        def flush() -> None:
            try:
                results.extend(self._publish(chunk))
            except (SendFailed, BackendUnavailable, QueueNotFound) as exc:
                results.extend([exc] * len(chunk))  # one request: all of it or none

        for message in messages:
            length = len(message.data.encode("utf-8"))
            if chunk and (len(chunk) == MAX_PUBLISH_MESSAGES or size + length > MAX_PUBLISH_BYTES):
                flush()
                chunk, size = [], 0
            chunk.append(message.data)
            size += length
        if chunk:
            flush()
        return results

    # -- receiving -----------------------------------------------------------------------
    def _pull(
        self, subscription: str, max_messages: int, wait: float, visibility: int
    ) -> list[ReceivedRaw]:
        try:
            response = self._call(
                "receive",
                lambda: self._subscriber.pull(
                    subscription=subscription,
                    max_messages=max_messages,
                    # Deprecated but honoured: the only way to not wait at all.
                    return_immediately=wait == 0,
                    retry=_RETRY,
                    timeout=max(wait, 1.0) + 1.0,
                ),
                subscription,
            )
        except BackendUnavailable as exc:
            # A long poll that found nothing ends in DEADLINE_EXCEEDED: that is empty.
            if wait > 0 and isinstance(exc.__context__, gexc.DeadlineExceeded):
                return []
            raise
        received = list(response.received_messages)
        if not received:
            return []
        ack_ids = [m.ack_id for m in received]
        self._call(
            "receive",
            lambda: self._subscriber.modify_ack_deadline(
                subscription=subscription,
                ack_ids=ack_ids,
                ack_deadline_seconds=visibility,
                retry=_RETRY,
                timeout=CALL_TIMEOUT,
            ),
            subscription,
        )
        return [
            ReceivedRaw(
                id=str(m.message.message_id),
                data=m.message.data.decode("utf-8"),
                attempts=int(m.delivery_attempt or 0),
                receipt=(subscription, m.ack_id),
            )
            for m in received
        ]

    def receive(self, max_messages: int, wait: float, visibility: int) -> list[ReceivedRaw]:
        # A pull may come back empty before its deadline; keep pulling until ``wait`` is over.
        deadline = time.monotonic() + wait
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            found = self._pull(self.subscription, max_messages, remaining, visibility)
            if found or deadline - time.monotonic() <= 0:
                return found

    def dead_letters(self, max_messages: int, visibility: int) -> list[ReceivedRaw]:
        return self._pull(self.dead_letter_subscription, max_messages, 0, visibility)

    # -- settling ------------------------------------------------------------------------
    def ack(self, message: ReceivedRaw) -> None:
        failed = self.ack_many([message])
        if failed:
            raise failed[message.id]

    def ack_many(self, messages: Sequence[ReceivedRaw]) -> dict[str, StatekitError]:
        by_subscription: dict[str, list[ReceivedRaw]] = {}
        for message in messages:
            by_subscription.setdefault(message.receipt[0], []).append(message)
        failed: dict[str, StatekitError] = {}
        for subscription, group in by_subscription.items():
            ack_ids = [m.receipt[1] for m in group]
            try:
                self._call(
                    "ack",
                    partial(
                        self._subscriber.acknowledge,
                        subscription=subscription,
                        ack_ids=ack_ids,
                        retry=_RETRY,
                        timeout=CALL_TIMEOUT,
                    ),
                    subscription,
                )
            except (SendFailed, BackendUnavailable, QueueNotFound) as exc:
                failed.update({m.id: exc for m in group})
        return failed

    def change_visibility(self, message: ReceivedRaw, seconds: int) -> None:
        subscription, ack_id = message.receipt
        self._call(
            "change_visibility",
            lambda: self._subscriber.modify_ack_deadline(
                subscription=subscription,
                ack_ids=[ack_id],
                ack_deadline_seconds=seconds,
                retry=_RETRY,
                timeout=CALL_TIMEOUT,
            ),
            subscription,
        )

    # -- provisioning --------------------------------------------------------------------
    def _create(self, body: Callable[[], object]) -> None:
        with contextlib.suppress(gexc.AlreadyExists):  # already there: fine
            self._call("provision", body)

    def provision(self) -> None:
        for topic in (self.topic, self.dead_letter_topic):
            self._create(
                partial(
                    self._publisher.create_topic, name=topic, retry=_RETRY, timeout=CALL_TIMEOUT
                )
            )
        self._create(
            lambda: self._subscriber.create_subscription(
                request={
                    "name": self.dead_letter_subscription,
                    "topic": self.dead_letter_topic,
                    "ack_deadline_seconds": ACK_DEADLINE_SECONDS,
                },
                retry=_RETRY,
                timeout=CALL_TIMEOUT,
            )
        )
        self._create(
            lambda: self._subscriber.create_subscription(
                request={
                    "name": self.subscription,
                    "topic": self.topic,
                    "ack_deadline_seconds": ACK_DEADLINE_SECONDS,
                    "dead_letter_policy": {
                        "dead_letter_topic": self.dead_letter_topic,
                        "max_delivery_attempts": self.max_attempts,
                    },
                },
                retry=_RETRY,
                timeout=CALL_TIMEOUT,
            )
        )

    def close(self) -> None:
        self._subscriber.close()
        transport = getattr(self._publisher, "_transport", None)
        if transport is not None:
            transport.close()
