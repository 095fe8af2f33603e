"""Names a package exports but imports on first use, so a cold start pays only for what it uses."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def lazy_attribute(package: str, where: Mapping[str, str], name: str) -> Any:
    """``name`` from the module ``where`` names for it: a package's ``__getattr__``."""
    module = where.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
