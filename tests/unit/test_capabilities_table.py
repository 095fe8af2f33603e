"""The README's backend table is rendered from the backends' own declarations."""

from __future__ import annotations

import importlib.util

import pytest

from statekit import capabilities_table
from statekit.registry import REGISTRY


def test_every_registered_store_backend_is_a_row_or_a_note() -> None:
    rendered = capabilities_table.render()
    shown, notes = capabilities_table.declared_backends()
    assert len(shown) + len(notes) == len({entry.target for entry in REGISTRY["store"].values()})
    for backend in shown:
        assert f"| {backend.name} | " in rendered
        assert f"{backend.limits.max_transaction_ops:,}" in rendered
    for note in notes:
        assert note in rendered


@pytest.mark.parametrize("module", ["boto3", "redis"])
def test_dynamodb_and_redis_rows_come_from_their_declarations(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} not installed")
    rendered = capabilities_table.render()
    if module == "boto3":
        from statekit.store.backends.dynamodb.store import DynamoDBStore as cls
    else:
        from statekit.store.backends.redis.store import RedisStore as cls  # type: ignore[assignment]
    row = next(
        line
        for line in rendered.splitlines()
        if line.startswith(f"| {cls.name} | ") and "yes" not in line
    )
    assert f"{cls.limits.batch_read_chunk:,} / {cls.limits.batch_write_chunk:,}" in row
    assert cls.limits.consistency in row


def test_portable_limits_are_the_smallest_declared() -> None:
    shown, _ = capabilities_table.declared_backends()
    smallest = min(b.limits.max_transaction_ops for b in shown)
    assert f"transactions of up to {smallest:,} operations" in capabilities_table.render()
