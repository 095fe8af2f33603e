"""The Firestore client's gRPC channel reconnects within seconds after an outage."""

from __future__ import annotations

import os
from typing import Any
from unittest import mock

import pytest

pytest.importorskip("google.cloud.firestore")

from google.auth.credentials import AnonymousCredentials
from google.cloud.firestore_v1.services.firestore.transports.grpc import FirestoreGrpcTransport

from statekit.store.backends.firestore import client as backend


def test_the_service_channel_carries_the_reconnect_options() -> None:
    seen: dict[str, Any] = {}
    original = FirestoreGrpcTransport.create_channel.__func__  # type: ignore[attr-defined]

    def spy(cls: Any, *args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return original(cls, *args, **kwargs)

    with (
        mock.patch.dict(os.environ, {}, clear=False),
        mock.patch.object(FirestoreGrpcTransport, "create_channel", classmethod(spy)),
    ):
        os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
        credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
        client = backend.QuickReconnectClient(project="p", credentials=credentials)
        api = client._firestore_api
    assert isinstance(api._transport, backend.QuickReconnectTransport)
    for option in backend.RECONNECT_OPTIONS:
        assert option in seen["options"]
    assert ("grpc.keepalive_time_ms", 30000) in seen["options"]  # the SDK's own stay
