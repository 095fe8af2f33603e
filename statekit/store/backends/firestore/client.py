"""The Firestore client statekit uses, and how it calls the service.

The client's gRPC channel reconnects within seconds of an outage; every call has a
timeout and bounded retries; these tuples say which SDK errors mean what.
"""

from __future__ import annotations

from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, if_exception_type
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore import client as gapic_module
from google.cloud.firestore_v1.services.firestore.transports.grpc import FirestoreGrpcTransport

RACE_ATTEMPTS = 8  # a write that lost a race is retried on a fresh read this many times
RPC_TIMEOUT = 5.0
# Bounded retries of what the service reports as transient, so a stopped server
# is BackendUnavailable within seconds; a lost commit response is not retried.
RETRY = Retry(
    predicate=if_exception_type(gexc.ServiceUnavailable, gexc.ResourceExhausted),
    initial=0.1,
    maximum=1.0,
    multiplier=2.0,
    timeout=6.0,
)
UNAVAILABLE = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.RetryError,
    gexc.InternalServerError,
    gexc.ResourceExhausted,
    gexc.Unknown,
)
CONDITION_FAILED = (gexc.FailedPrecondition, gexc.NotFound, gexc.Aborted)

# gRPC backs a channel that failed to connect off for up to two minutes (and channels
# to one address share that state), so after an outage a function would keep failing
# long after the service is back. These bound the wait for a reconnect to ~2 s.
RECONNECT_OPTIONS: list[tuple[str, int]] = [
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


class QuickReconnectTransport(FirestoreGrpcTransport):
    @classmethod
    def create_channel(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["options"] = [*kwargs.get("options", ()), *RECONNECT_OPTIONS]
        return super().create_channel(*args, **kwargs)


class QuickReconnectClient(firestore.Client):
    """``firestore.Client`` whose gRPC channel reconnects within seconds of an outage.

    The SDK takes no channel options, so this overrides the two hooks where
    google-cloud-firestore (2.34) makes its channel: the transport for the service,
    and ``_emulator_channel`` for ``FIRESTORE_EMULATOR_HOST``. Should a later SDK
    rename them, the overrides go unused and only the reconnect time reverts.
    """

    @property
    def _firestore_api(self) -> Any:
        helper = getattr(self, "_firestore_api_helper", None)
        if helper is None:  # a later SDK: its own channel, gRPC's default backoff
            return super()._firestore_api
        return helper(QuickReconnectTransport, gapic_module.FirestoreClient, gapic_module)

    def _emulator_channel(self, transport: Any) -> Any:
        import grpc

        # What the SDK's own _emulator_channel builds (sync transport), plus ours.
        return grpc.insecure_channel(
            self._emulator_host,
            options=[
                ("Authorization", "Bearer owner"),
                ("grpc.max_send_message_length", -1),
                ("grpc.max_receive_message_length", -1),
                *RECONNECT_OPTIONS,
            ],
        )
