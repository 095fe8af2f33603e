"""Memcached on Debian's memcached (the session's shared server)."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.registry import Case, Restartable
from tests.standins import memcached
from tests.standins.base import StandInPool
from tests.standins.memcached import MemcachedServer


def memcached_url(standins: StandInPool, workdir: Path | None = None) -> str:
    server = standins.get("memcached")
    assert isinstance(server, MemcachedServer)
    return server.url


def _restartable(workdir: Path) -> Restartable:
    server = memcached.create(workdir)  # Memcached keeps nothing across a restart
    server.start()
    return Restartable(standin=server, url=server.url)


CASE = Case(
    name="memcached", url=memcached_url, restartable=_restartable, needs_module="pymemcache"
)
