"""Turn ``"package.module:name"`` into the object it names, or say exactly why not."""

from __future__ import annotations

import importlib
from typing import Any

from statekit.app.errors import AppError


def import_object(spec: str, where: str) -> Any:
    """The object ``spec`` names; ``AppError`` starting with ``where`` when it does not resolve."""
    module_name, _, attribute = spec.partition(":")
    module = import_module(module_name, f"{where} {spec!r} does not resolve")
    value: Any = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise AppError(
                f"{where} {spec!r} does not resolve: module {module_name!r} has no {attribute!r}"
            )
        value = getattr(value, part)
    return value


def resolve_callable(spec: str, where: str) -> Any:
    value = import_object(spec, where)
    if not callable(value):
        raise AppError(f"{where} {spec!r} names a {type(value).__name__}, not a function")
    return value


def import_module(name: str, where: str) -> Any:
    """The module; a missing one and one that fails while importing are told apart."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == name or name.startswith(missing + "."):
            raise AppError(f"{where}: no module {name!r}") from None
        raise AppError(
            f"{where}: importing {name!r} failed: it imports {missing!r}, which is not installed"
        ) from exc
    except Exception as exc:  # the module's own code raised: say which module and what
        raise AppError(f"{where}: importing {name!r} failed: {type(exc).__name__}: {exc}") from exc
