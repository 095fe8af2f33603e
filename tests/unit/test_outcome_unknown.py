"""After a timeout the outcome of a write is unknown: the error says so, and update settles it.

The backend here is the real memory backend with one fault injected in front of it
(the write is applied, then its answer is lost), which is what a read timeout on
any service looks like from the client.
"""

from __future__ import annotations

from typing import Any

import pytest

from statekit import BackendUnavailable, Store
from statekit.store.backend import PreparedPut
from statekit.store.backends.memory import MemoryStore


def test_a_refused_connection_applied_nothing() -> None:
    error = BackendUnavailable("x", "put of key 'a/b'", ConnectionRefusedError(111, "refused"))
    assert error.outcome_unknown is False
    assert "nothing was applied" in str(error)


@pytest.mark.parametrize(
    "cause",
    [TimeoutError("timed out"), OSError("read timed out"), ConnectionResetError(104, "reset")],
    ids=repr,
)
def test_a_timeout_or_lost_connection_leaves_the_outcome_unknown(cause: BaseException) -> None:
    error = BackendUnavailable("x", "put of key 'a/b'", cause)
    assert error.outcome_unknown is True
    assert "outcome is unknown" in str(error)
    assert "'a/b'" in str(error)


def test_sdk_timeouts_are_classified() -> None:
    botocore = pytest.importorskip("botocore.exceptions", reason="the aws extra is absent")
    read = botocore.ReadTimeoutError(endpoint_url="http://127.0.0.1:1")
    connect = botocore.ConnectTimeoutError(endpoint_url="http://127.0.0.1:1")
    refused = botocore.EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert BackendUnavailable("dynamodb", "put", read).outcome_unknown is True
    assert BackendUnavailable("dynamodb", "put", connect).outcome_unknown is False
    assert BackendUnavailable("dynamodb", "put", refused).outcome_unknown is False
    redis = pytest.importorskip("redis.exceptions", reason="the redis extra is absent")
    assert BackendUnavailable("redis", "put", redis.TimeoutError("Timeout reading")).outcome_unknown
    refused_redis = redis.ConnectionError(
        "Error 111 connecting to 127.0.0.1:1. Connection refused."
    )
    assert BackendUnavailable("redis", "put", refused_redis).outcome_unknown is False


class LosesAnswers(MemoryStore):
    """Applies the next ``lose`` puts (or none of them) and then times out."""

    def __init__(self, *, lose: int, apply: bool) -> None:
        super().__init__()
        self.lose = lose
        self.apply = apply

    def put(self, op: PreparedPut, now: float) -> str:
        if self.lose:
            self.lose -= 1
            if self.apply:
                super().put(op, now)
            raise BackendUnavailable(self.name, f"put of key {op.item.key!r}", TimeoutError())
        return super().put(op, now)


def test_update_finds_its_applied_write_instead_of_applying_it_twice() -> None:
    store = Store(LosesAnswers(lose=1, apply=True))
    calls: list[Any] = []

    def add_one(value: Any) -> int:
        calls.append(value)
        return (value or 0) + 1

    item = store.update("u/n", add_one)
    assert item.value == 1
    assert store.get("u/n").value == 1  # type: ignore[union-attr]
    assert calls == [None]  # the change ran once: its write was found applied


def test_update_retries_a_write_that_was_not_applied() -> None:
    backend = LosesAnswers(lose=0, apply=False)
    store = Store(backend)
    store.put("u/n", 5)
    backend.lose = 2
    assert store.update("u/n", lambda v: v + 1).value == 6
    assert store.get("u/n").value == 6  # type: ignore[union-attr]


def test_update_raises_what_it_cannot_settle() -> None:
    class SomeoneElseWrote(MemoryStore):
        def put(self, op: PreparedPut, now: float) -> str:
            super().put(op._replace(item=op.item._replace(etag="theirs")), now)
            raise BackendUnavailable(self.name, "put", TimeoutError())

    store = Store(SomeoneElseWrote())
    with pytest.raises(BackendUnavailable) as caught:
        store.update("u/n", lambda v: 1)
    assert caught.value.outcome_unknown


def test_update_does_not_retry_when_the_service_was_not_reached() -> None:
    class Refuses(MemoryStore):
        def put(self, op: PreparedPut, now: float) -> str:
            raise BackendUnavailable(self.name, "put", ConnectionRefusedError(111, "refused"))

    with pytest.raises(BackendUnavailable, match="nothing was applied"):
        Store(Refuses()).update("u/n", lambda v: 1)
