"""Azure has no managed Memcached: ``cache.engine = "memcached"`` is refused at synthesis."""

from __future__ import annotations

from ..common.settings import StackSettings


class MemcachedNotOnAzure(ValueError):
    pass


def refuse_memcached(settings: StackSettings) -> None:
    """Fail synthesis with the fix, instead of deploying something else silently."""
    if settings.components.cache and settings.cache.engine == "memcached":
        raise MemcachedNotOnAzure(
            f'{settings.stack_name}: cache.engine = "memcached" cannot be deployed on Azure: '
            "Azure offers no managed Memcached service. Use Azure Cache for Redis: set "
            'cache.engine = "redis" (or "valkey") for this environment, or leave azure out '
            "of its clouds; statekit's cache API is the same over Redis (rediss://)."
        )
