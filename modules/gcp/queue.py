"""Pub/Sub: the work topic, its push subscription with a dead-letter topic, and the DLQ.

- ``<work>`` topic; ``<work>`` subscription pushes each message to the events
  function (an authenticated push: an OIDC token of a dedicated push identity that
  may invoke only that function) and dead-letters it to ``<work>-dlq`` after
  ``max_receive_count`` delivery attempts (Pub/Sub allows 5 to 100; the setting is
  clamped into that range). The events function's code raises to nack.
- ``<work>-dlq`` topic with a pull subscription that keeps dead letters for
  inspection and redrive (the DLQ alert watches its undelivered messages).
- The Pub/Sub service agent gets exactly what dead-lettering needs: publisher on the
  DLQ topic and subscriber on the work subscription.
- Customer-managed encryption and in-region message storage when the settings ask.
"""

from __future__ import annotations

from cdktn_provider_google.pubsub_subscription import (
    PubsubSubscription,
    PubsubSubscriptionDeadLetterPolicy,
    PubsubSubscriptionExpirationPolicy,
    PubsubSubscriptionPushConfig,
    PubsubSubscriptionPushConfigOidcToken,
    PubsubSubscriptionRetryPolicy,
)
from cdktn_provider_google.pubsub_subscription_iam_member import PubsubSubscriptionIamMember
from cdktn_provider_google.pubsub_topic import PubsubTopic, PubsubTopicMessageStoragePolicy
from cdktn_provider_google.pubsub_topic_iam_member import PubsubTopicIamMember
from cdktn_provider_google.service_account import ServiceAccount
from constructs import Construct

from .context import GcpContext
from .kms import DataKey

PUBSUB_AGENT = "gcp-sa-pubsub.iam.gserviceaccount.com"
MIN_DELIVERY_ATTEMPTS, MAX_DELIVERY_ATTEMPTS = 5, 100
MAX_SUBSCRIPTION_RETENTION = 7 * 24 * 3600  # a subscription keeps messages at most 7 days
MIN_SUBSCRIPTION_RETENTION = 600
MAX_TOPIC_RETENTION = 31 * 24 * 3600


def delivery_attempts(max_receive_count: int) -> int:
    return min(max(max_receive_count, MIN_DELIVERY_ATTEMPTS), MAX_DELIVERY_ATTEMPTS)


def ack_deadline(visibility_timeout_seconds: int) -> int:
    return min(max(visibility_timeout_seconds, 10), 600)


def seconds(value: int) -> str:
    return f"{value}s"


class PubsubQueue(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, ctx: GcpContext, key: DataKey | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        settings = ctx.settings.queue
        self.name = ctx.naming.name("work")
        self.dead_letter_name = f"{self.name}-dlq"
        grants = [key.allow("pubsub", ctx.service_agent(PUBSUB_AGENT))] if key else []
        storage = PubsubTopicMessageStoragePolicy(allowed_persistence_regions=[ctx.region])
        self.topic = PubsubTopic(
            self,
            "topic",
            name=self.name,
            project=ctx.project,
            kms_key_name=key.id if key else None,
            message_storage_policy=storage,
            depends_on=[*ctx.apis, *grants],
        )
        self.dead_letter_topic = PubsubTopic(
            self,
            "dead-letter-topic",
            name=self.dead_letter_name,
            project=ctx.project,
            kms_key_name=key.id if key else None,
            message_storage_policy=storage,
            message_retention_duration=seconds(
                min(settings.dead_letter_retention_seconds, MAX_TOPIC_RETENTION)
            ),
            depends_on=[*ctx.apis, *grants],
        )
        self.dead_letter_subscription = PubsubSubscription(
            self,
            "dead-letter-subscription",
            name=self.dead_letter_name,
            project=ctx.project,
            topic=self.dead_letter_topic.id,
            ack_deadline_seconds=60,
            message_retention_duration=seconds(
                min(
                    max(settings.dead_letter_retention_seconds, MIN_SUBSCRIPTION_RETENTION),
                    MAX_SUBSCRIPTION_RETENTION,
                )
            ),
            expiration_policy=PubsubSubscriptionExpirationPolicy(ttl=""),  # never expires
        )
        self.push_identity = ServiceAccount(
            self,
            "push-identity",
            account_id=ctx.naming.name("push", 30),
            display_name="statekit Pub/Sub push (invokes the events function)",
            project=ctx.project,
            depends_on=ctx.apis,
        )
        PubsubTopicIamMember(
            self,
            "agent-publishes-dead-letters",
            project=ctx.project,
            topic=self.dead_letter_topic.name,
            role="roles/pubsub.publisher",
            member=ctx.service_agent(PUBSUB_AGENT),
        )

    @property
    def push_member(self) -> str:
        return f"serviceAccount:{self.push_identity.email}"

    def subscribe(self, push_endpoint: str | None) -> PubsubSubscription:
        """The work subscription, pushing to ``push_endpoint`` (the App's queue consumer);
        a pull subscription (statekit's ``receive``) when the App has no consumer."""
        ctx = self.ctx
        settings = ctx.settings.queue
        self.subscription = PubsubSubscription(
            self,
            "subscription",
            name=self.name,
            project=ctx.project,
            topic=self.topic.id,
            ack_deadline_seconds=ack_deadline(settings.visibility_timeout_seconds),
            message_retention_duration=seconds(
                min(
                    max(settings.message_retention_seconds, MIN_SUBSCRIPTION_RETENTION),
                    MAX_SUBSCRIPTION_RETENTION,
                )
            ),
            expiration_policy=PubsubSubscriptionExpirationPolicy(ttl=""),
            dead_letter_policy=PubsubSubscriptionDeadLetterPolicy(
                dead_letter_topic=self.dead_letter_topic.id,
                max_delivery_attempts=delivery_attempts(settings.max_receive_count),
            ),
            retry_policy=PubsubSubscriptionRetryPolicy(
                minimum_backoff="10s", maximum_backoff="600s"
            ),
            push_config=PubsubSubscriptionPushConfig(
                push_endpoint=push_endpoint,
                oidc_token=PubsubSubscriptionPushConfigOidcToken(
                    service_account_email=self.push_identity.email, audience=push_endpoint
                ),
            )
            if push_endpoint
            else None,
        )
        PubsubSubscriptionIamMember(
            self,
            "agent-acks-dead-lettered",
            project=ctx.project,
            subscription=self.subscription.name,
            role="roles/pubsub.subscriber",
            member=ctx.service_agent(PUBSUB_AGENT),
        )
        return self.subscription

    @property
    def url(self) -> str:
        """``pubsub://PROJECT/TOPIC?subscription=SUB&dead_letter_topic=T&dead_letter_subscription=S
        &max_attempts=N`` (docs/queue.md): ``max_attempts`` is what the subscription enforces."""
        attempts = delivery_attempts(self.ctx.settings.queue.max_receive_count)
        return (
            f"pubsub://{self.ctx.project}/{self.name}"
            f"?subscription={self.name}&dead_letter_topic={self.dead_letter_name}"
            f"&dead_letter_subscription={self.dead_letter_name}&max_attempts={attempts}"
        )

    def grant_access(self, member: str) -> None:
        """Publish to the work topic; read the dead letters (inspect and redrive)."""
        PubsubTopicIamMember(
            self,
            "function-publishes",
            project=self.ctx.project,
            topic=self.topic.name,
            role="roles/pubsub.publisher",
            member=member,
        )
        PubsubSubscriptionIamMember(
            self,
            "function-reads-dead-letters",
            project=self.ctx.project,
            subscription=self.dead_letter_subscription.name,
            role="roles/pubsub.subscriber",
            member=member,
        )
