"""Memcached on Debian's memcached (the session's shared server)."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.registry import Case
from tests.standins.base import StandInPool
from tests.standins.memcached import MemcachedServer


def memcached_url(standins: StandInPool, workdir: Path | None = None) -> str:
    server = standins.get("memcached")
    assert isinstance(server, MemcachedServer)
    return server.url


CASE = Case(name="memcached", url=memcached_url, needs_module="pymemcache")
