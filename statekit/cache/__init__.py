"""The cache: get/set/delete with TTL on Redis or in-process, and cache-aside over a store.

``facade`` holds the ``Cache`` every caller uses, ``backend`` the ``CacheBackend`` contract,
``aside`` the cache-aside reader, ``backends/`` one module per service.
"""

from statekit.cache.aside import CacheAside
from statekit.cache.backend import CacheBackend, Data
from statekit.cache.facade import (
    CACHE_URL_VARIABLE,
    DEFAULT_CACHE_URL,
    Cache,
    decode,
    open_cache,
    ttl_ms,
)

__all__ = [
    "CACHE_URL_VARIABLE",
    "DEFAULT_CACHE_URL",
    "Cache",
    "CacheAside",
    "CacheBackend",
    "Data",
    "decode",
    "open_cache",
    "ttl_ms",
]
