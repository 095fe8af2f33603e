"""Benchmark targets for ``benchmarks/store_backends.py``: one module per store backend.

A module ``benchmarks/store_targets/<name>.py`` exposes ``make(workdir: Path) -> Target``.
``make`` starts the backend's stand-in (through ``tests/standins``), opens the statekit
store on it, and a raw SDK client on the same stand-in that does the same work per
operation (encode the JSON, make an etag, the same condition), so the ratio measured
is statekit's own cost. Both clients report every request they send to the same
``RoundTrips`` counter (boto3 event hooks, an azure-core pipeline policy, a grpc
interceptor, a counting redis connection), so calls per operation are measured.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import statekit


class RoundTrips:
    """Requests sent to the service since the last ``reset()``."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, n: int = 1) -> None:
        self.count += n

    def reset(self) -> None:
        self.count = 0

    def read(self) -> int:
        return self.count


class Target(Protocol):
    """What the runner uses. Optional attributes it reads when present:

    * ``where: str``: the stand-in and SDK versions, recorded with every figure;
    * ``unsupported: Mapping[str, str]``: operation -> the stand-in's documented
      deviation that keeps it from running there (reported, not measured).
    """

    name: str
    store: statekit.Store
    round_trips: RoundTrips

    def raw_get(self, key: str) -> Any:
        """Read ``key`` with the SDK: the value (decoded) or None."""

    def raw_put(self, key: str, value: Any) -> str:
        """Write ``key`` unconditionally with a fresh etag; return the etag."""

    def raw_conditional_put(self, key: str, value: Any, etag: str) -> str:
        """Write ``key`` only if its etag is ``etag``; return the new etag (raise on conflict)."""

    def raw_increment(self, key: str) -> int:
        """Add 1 atomically; return the new value."""

    def raw_put_many(self, items: Mapping[str, Any]) -> None:
        """Write every item with the SDK's native batch."""

    def close(self) -> None:
        """Close both clients and stop the stand-in that ``make`` started."""


def available() -> list[str]:
    """Names of the target modules in this folder."""
    folder = Path(__file__).parent
    return sorted(info.name for info in pkgutil.iter_modules([str(folder)]))


def make(name: str, workdir: Path) -> Target:
    module = importlib.import_module(f"benchmarks.store_targets.{name}")
    target: Target = module.make(workdir)
    return target


def count_boto3_requests(client: Any, counter: RoundTrips) -> None:
    """Count every HTTP request a boto3 client sends (SDK retries included)."""
    service = client.meta.service_model.endpoint_prefix

    def on_send(**_: Any) -> None:
        counter.add()

    client.meta.events.register(f"before-send.{service}.*", on_send)


def count_redis_round_trips(client: Any, counter: RoundTrips) -> None:
    """Count every write of packed commands to the socket: one per command or pipeline."""
    pool = client.connection_pool
    base = pool.connection_class

    class CountingConnection(base):  # type: ignore[misc, valid-type]
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            counter.add()
            super().send_packed_command(command, check_health)

    pool.connection_class = CountingConnection
    pool.disconnect()  # connections made from now on count
