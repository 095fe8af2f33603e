"""Which cloud a backend (a URL scheme) belongs to, for grouping measured results.

Derived from the registry (``statekit.registry``): a backend's cloud is written once,
on its registry line.
"""

from __future__ import annotations

from statekit.registry import cloud_of_scheme

BACKEND_CLOUD: dict[str, str] = dict(cloud_of_scheme())


def cloud_of_backend(backend: str) -> str:
    """``dynamodb`` -> ``aws``; a name like ``cosmos-https`` uses its first word."""
    head = backend.lower().replace("_", "-").split("-")[0]
    return BACKEND_CLOUD.get(head, "other")
