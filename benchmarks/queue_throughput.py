"""Send and receive throughput of each queue backend, one at a time and batched.

Per backend, on its local stand-in (started here, on 127.0.0.1):

* send, one at a time: ``send`` N times.
* send, batched: ``send_many`` of N (the backend chunks natively: SQS 10 per
  request, Pub/Sub one request, Azure parallel requests, SQLite one transaction).
* receive + ack, one at a time: ``receive(1)`` then ``ack``, until N arrived.
* receive + ack, batched: ``receive(10)`` then ``ack_many``, until N arrived.

Stand-ins are not the services: the numbers compare statekit's overhead and
the round trips each mode saves, not what AWS, Azure or Google would do.

    .venv/bin/python benchmarks/queue_throughput.py [sqlite sqs ...] [--messages 300]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(ROOT))

from statekit.queue import Queue, open_queue  # noqa: E402
from tests.standins.base import StandInPool  # noqa: E402

BODY = {"order": "o-42", "items": [{"sku": "book", "qty": 1}], "total": 12.5}
MODES = ("send", "send_many", "receive+ack", "receive(10)+ack_many")


def sqlite_url(pool: StandInPool, workdir: Path) -> str:
    return f"sqlite://{workdir / 'bench-queue.db'}?queue={{queue}}"


def sqs_url(pool: StandInPool, workdir: Path, suffix: str = "") -> str:
    moto = pool.get("moto")
    os.environ.update({k: v for k, v in moto.client_env().items() if k != "AWS_ENDPOINT_URL"})
    return (
        f"sqs://sqs.us-east-1.amazonaws.com/123456789012/{{queue}}{suffix}?endpoint={moto.endpoint}"
    )


def azure_url(pool: StandInPool, workdir: Path) -> str:
    from tests.standins.azurite import AzuriteQueue

    azurite = pool.get("azurite")
    assert isinstance(azurite, AzuriteQueue)
    os.environ.update(azurite.client_env())
    return azurite.queue_url("{queue}")


def pubsub_url(pool: StandInPool, workdir: Path) -> str:
    from tests.standins.pstest import PstestServer

    os.environ.update(pool.get("pstest").client_env())
    return PstestServer.queue_url("{queue}")


def postgresql_url(pool: StandInPool, workdir: Path) -> str:
    from tests.conformance.queue.cases.postgresql import postgresql_queue_url

    return postgresql_queue_url(pool, workdir)


TARGETS: dict[str, Callable[[StandInPool, Path], str]] = {
    "sqlite": sqlite_url,
    "sqs": sqs_url,
    "sqs-fifo": lambda pool, workdir: sqs_url(pool, workdir, ".fifo"),
    "azurequeue": azure_url,
    "pubsub": pubsub_url,
    "postgresql": postgresql_url,
}


class RequestCounter:
    """Requests a queue sends to its service, counted at the SDK's transport edge."""

    def __init__(self, queue: Queue) -> None:
        self.count = 0
        backend: Any = queue.backend
        if queue.name == "sqs":
            backend._client.meta.events.register("before-send.sqs.*", self._hit)
        elif queue.name == "azurequeue":
            for client in (backend._main, backend._poison):
                transport = client._pipeline._transport
                transport.send = self._wrap(transport.send)
        elif queue.name == "pubsub":
            subscriber = backend._subscriber
            for method in ("pull", "acknowledge", "modify_ack_deadline"):
                setattr(subscriber, method, self._wrap(getattr(subscriber, method)))
            backend._gapic_publish = self._wrap(backend._gapic_publish)
        else:
            self.count = -1  # embedded: statements, not requests

    def _hit(self, **_: Any) -> None:
        self.count += 1

    def _wrap(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return call(*args, **kwargs)

        return counted

    def take(self) -> int:
        taken, self.count = self.count, (0 if self.count >= 0 else -1)
        return taken


def fresh(template: str) -> Queue:
    return open_queue(template.format(queue=f"b{uuid.uuid4().hex[:12]}")).provision()


def timed(fn: Callable[[], int]) -> float:
    started = time.perf_counter()
    count = fn()
    return count / (time.perf_counter() - started)


def consume(queue: Queue, count: int, batch: int) -> int:
    got = 0
    deadline = time.monotonic() + 120
    while got < count and time.monotonic() < deadline:
        messages = queue.receive(batch, wait=1, visibility=60)
        if batch == 1:
            for message in messages:
                queue.ack(message)
        elif messages:
            failed = queue.ack_many(messages)
            assert not failed, failed
        got += len(messages)
    if got < count:
        raise RuntimeError(f"received {got} of {count} within 120 s")
    return got


def measure(template: str, count: int) -> tuple[dict[str, float], dict[str, float]]:
    """Messages per second and requests per message, per mode."""
    single, batched = fresh(template), fresh(template)
    counters = [RequestCounter(single), RequestCounter(batched)]
    rates: dict[str, float] = {}
    requests: dict[str, float] = {}

    def run(mode: str, fn: Callable[[], int]) -> None:
        for counter in counters:
            counter.take()
        rates[mode] = timed(fn)
        taken = sum(counter.take() for counter in counters)
        requests[mode] = taken / count if taken >= 0 else float("nan")

    def send_each() -> int:
        for _ in range(count):
            single.send(BODY)
        return count

    def send_all() -> int:
        result = batched.send_many([BODY] * count)
        result.raise_for_failures()
        return count

    run("send", send_each)
    run("send_many", send_all)
    run("receive+ack", lambda: consume(single, count, 1))
    run("receive(10)+ack_many", lambda: consume(batched, count, 10))
    single.close()
    batched.close()
    return rates, requests


def _cell(rate: float, requests: float) -> str:
    return f"{rate:,.0f}" if math.isnan(requests) else f"{rate:,.0f} ({requests:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help=f"some of {', '.join(TARGETS)} (default all)")
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}; known: {', '.join(TARGETS)}")
    args.targets = args.targets or list(TARGETS)
    print(f"# queue throughput, {args.messages} messages per mode")
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores")
    print()
    print("messages/s (requests per message)")
    print()
    print("| backend | " + " | ".join(MODES) + " |")
    print("|---|" + "---:|" * len(MODES))
    with tempfile.TemporaryDirectory() as tmp:
        pool = StandInPool(Path(tmp))
        try:
            for name in args.targets:
                try:
                    rates, requests = measure(TARGETS[name](pool, Path(tmp)), args.messages)
                except Exception as exc:
                    print(f"| {name} | failed: {type(exc).__name__}: {exc} |")
                    continue
                cells = " | ".join(_cell(rates[mode], requests[mode]) for mode in MODES)
                print(f"| {name} | {cells} |", flush=True)
        finally:
            pool.stop_all()


if __name__ == "__main__":
    main()
