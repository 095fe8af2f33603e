"""Firestore on @firestore-emulator/server: statekit's FirestoreStore against the SDK by hand.

Both clients send their RPCs through a gRPC channel wrapped by a counting
interceptor (streaming calls count once), so calls per operation are measured.
The raw side makes the least calls that give the same guarantees: a conditional
put is one Commit under an ``update_time`` precondition; an exact increment reads
the document and commits ``Increment`` under its ``update_time`` (a blind
``Increment`` cannot refuse a text value, and its result is not returned by the
stand-in); put_many is one batched Commit.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from importlib.metadata import version as _version
from pathlib import Path
from typing import Any

import grpc
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore import FirestoreClient
from google.cloud.firestore_v1.services.firestore.transports.grpc import FirestoreGrpcTransport

import statekit
from benchmarks.store_targets import RoundTrips
from statekit.store.backends.firestore.store import FirestoreStore
from statekit.store.rules import new_etag
from tests.standins import firestore as firestore_module

_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


# grpc ships no type stubs here: its interceptor bases are Any to mypy.
_INTERCEPTOR_BASES: tuple[Any, ...] = (
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
)


class _Counting(*_INTERCEPTOR_BASES):  # type: ignore[misc]
    def __init__(self, counter: RoundTrips) -> None:
        self.counter = counter

    def _count(self, continuation: Any, details: Any, request: Any) -> Any:
        self.counter.add()
        return continuation(details, request)

    intercept_unary_unary = _count
    intercept_unary_stream = _count
    intercept_stream_unary = _count
    intercept_stream_stream = _count


def counted_client(host: str, project: str, counter: RoundTrips) -> firestore.Client:
    """A Firestore client for the emulator whose every RPC goes through ``_Counting``."""
    client = firestore.Client(project=project)
    channel = grpc.intercept_channel(grpc.insecure_channel(host), _Counting(counter))
    client._firestore_api_internal = FirestoreClient(
        transport=FirestoreGrpcTransport(channel=channel)
    )
    return client


class FirestoreTarget:
    name = "firestore"

    def __init__(self, workdir: Path) -> None:
        self._server = firestore_module.create(workdir / "firestore")
        self._server.start()
        os.environ.update(self._server.client_env())
        self.round_trips = RoundTrips()
        self.where = (
            "@firestore-emulator/server 0.3.15 (gRPC, in memory), "
            f"google-cloud-firestore {_version('google-cloud-firestore')}"
        )
        project = firestore_module.PROJECT
        self.collection_name = f"bench-{uuid.uuid4().hex[:8]}"
        store_client = counted_client(self._server.host, project, self.round_trips)
        self.store = statekit.Store(FirestoreStore(store_client, self.collection_name))
        self.client = counted_client(self._server.host, project, self.round_trips)
        self.collection = self.client.collection(self.collection_name)

    def _ref(self, key: str) -> Any:
        return self.collection.document(key.replace("~", "~t").replace("/", "~s"))

    @staticmethod
    def _fields(key: str, value: Any) -> dict[str, Any]:
        return {
            "pk": key.partition("/")[0],
            "key": key,
            "etag": new_etag(),
            "v": _dumps(value),
            "n": None,
            "exp": None,
            "expires_at_epoch": None,
        }

    def raw_get(self, key: str) -> Any:
        snapshot = self._ref(key).get()
        if not snapshot.exists:
            return None
        fields = snapshot.to_dict() or {}
        return fields["n"] if fields.get("v") is None else json.loads(fields["v"])

    def raw_put(self, key: str, value: Any) -> str:
        result = self._ref(key).set(self._fields(key, value))
        return str(result.update_time.timestamp_pb().SerializeToString().hex())

    def raw_conditional_put(self, key: str, value: Any, etag: str) -> str:
        from google.protobuf.timestamp_pb2 import Timestamp

        stamp = Timestamp()
        stamp.ParseFromString(bytes.fromhex(etag))
        batch = self.client.batch()
        batch.update(
            self._ref(key),
            self._fields(key, value),
            option=self.client.write_option(last_update_time=stamp),
        )
        result = batch.commit()[0]
        return str(result.update_time.timestamp_pb().SerializeToString().hex())

    def raw_increment(self, key: str) -> int:
        ref = self._ref(key)
        snapshot = ref.get()
        if not snapshot.exists:
            fields = {**self._fields(key, None), "v": None, "n": 1}
            ref.create(fields)
            return 1
        current = int((snapshot.to_dict() or {})["n"])
        ref.update(
            {"etag": new_etag(), "n": firestore.Increment(1)},
            option=self.client.write_option(last_update_time=snapshot.update_time),
        )
        return current + 1

    def raw_put_many(self, items: Mapping[str, Any]) -> None:
        batch = self.client.batch()
        for key, value in items.items():
            batch.set(self._ref(key), self._fields(key, value))
        batch.commit()

    def close(self) -> None:
        self.store.close()
        self.client.close()  # type: ignore[no-untyped-call]
        self._server.stop()


def make(workdir: Path) -> FirestoreTarget:
    return FirestoreTarget(workdir)
