"""Deprecated alias: the registry moved to ``statekit.registry`` and each backend into its
block's ``backends/`` package (README, "Changelog"). Remove in 0.3."""

from statekit.registry import REGISTRY, backend_class, open_backend

__all__ = ["REGISTRY", "backend_class", "open_backend"]
