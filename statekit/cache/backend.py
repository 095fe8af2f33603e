"""The contract a cache backend implements: keys arrive validated, values as JSON text."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from statekit.urls import ConnectionURL

# What a backend returns for a hit: the stored JSON text, as str or UTF-8 bytes.
Data = str | bytes


class CacheBackend(ABC):
    """One cache service's translation: keys arrive validated, values as JSON text."""

    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_url(cls, url: ConnectionURL) -> CacheBackend: ...

    @abstractmethod
    def get(self, key: str) -> Data | None:
        """The JSON text stored under ``key``, or ``None`` when missing or expired."""

    @abstractmethod
    def get_many(self, keys: Sequence[str]) -> list[Data | None]:
        """One entry per key, in order (``None`` for a miss); one round trip where possible."""

    @abstractmethod
    def set(self, key: str, data: str, ttl_ms: int | None) -> None:
        """Store ``data``; ``ttl_ms`` milliseconds to live, or ``None`` for no expiry."""

    @abstractmethod
    def set_many(self, items: Sequence[tuple[str, str]], ttl_ms: int | None) -> None:
        """Store every pair with the same TTL; one round trip where possible."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key``; ``True`` if it was there."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default has none."""
