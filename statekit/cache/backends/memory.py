"""In-process cache: a bounded LRU with TTL, thread-safe (the embedded default).

``memory://`` (optionally ``?max_entries=N``, default 10,000). Values are kept as
their JSON text, so a caller mutating a value it passed or got back never
changes what is cached. Expiry uses the monotonic clock: a wall-clock jump
neither revives nor kills entries early.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from statekit.cache.backend import CacheBackend, Data
from statekit.urls import ConnectionURL

DEFAULT_MAX_ENTRIES = 10_000

Entry = tuple[str, float | None]  # JSON text, monotonic deadline


class MemoryCache(CacheBackend):
    name = "memory"

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if type(max_entries) is not int or max_entries < 1:
            raise ValueError(f"max_entries must be a positive int, got {max_entries!r}")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: ConnectionURL) -> MemoryCache:
        url.require_known_params(("max_entries",))
        if url.host or url.path.strip("/"):
            raise url.error("an in-process cache takes no name: use 'memory://'")
        raw = url.param("max_entries", str(DEFAULT_MAX_ENTRIES)) or ""
        if not raw.isdigit() or int(raw) < 1:
            raise url.error(f"max_entries must be a positive integer, got {raw!r}")
        return cls(int(raw))

    def get(self, key: str) -> Data | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            data, deadline = entry
            if deadline is not None and deadline <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return data

    def get_many(self, keys: Sequence[str]) -> list[Data | None]:
        return [self.get(key) for key in keys]

    def set(self, key: str, data: str, ttl_ms: int | None) -> None:
        deadline = None if ttl_ms is None else time.monotonic() + ttl_ms / 1000
        with self._lock:
            self._entries[key] = (data, deadline)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)  # least recently used

    def set_many(self, items: Sequence[tuple[str, str]], ttl_ms: int | None) -> None:
        for key, data in items:
            self.set(key, data, ttl_ms)

    def delete(self, key: str) -> bool:
        with self._lock:
            entry = self._entries.pop(key, None)
        return entry is not None and (entry[1] is None or entry[1] > time.monotonic())

    def __len__(self) -> int:
        return len(self._entries)
