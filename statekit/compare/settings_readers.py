"""The building blocks of the settings rules: readers that turn resource attributes into text.

A reader takes (resource, stack) and returns the value to show, or None when the
attribute is unset and there is nothing to say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statekit.compare.tfjson import Resource, Stack

ASPECTS = (
    "encryption",
    "tls",
    "backup",
    "dead-letter",
    "consistency",
    "network",
    "capacity",
    "retention",
    "wiring",
)
Reader = Callable[[Resource, Stack], Any]


@dataclass(frozen=True)
class Setting:
    aspect: str
    label: str
    value: str
    resource: str  # "<type> <name>", so a reader can find it in cdk.tf.json


def attr(dotted: str, default: str | None = None) -> Reader:
    """The attribute's value; ``default`` (e.g. "provider default: AWS-owned key") if unset."""

    def read(resource: Resource, stack: Stack) -> Any:
        value = resource.get(dotted)
        if value in (None, "", [], {}):
            return default
        return stack.describe(value)

    return read


def flag(dotted: str, on: str, off: str, unset: str | None = None) -> Reader:
    def read(resource: Resource, stack: Stack) -> Any:
        value = resource.get(dotted)
        if value is None:
            return unset
        return on if value in (True, "true", "Enabled", "ENABLED") else off

    return read


def first(*readers: Reader) -> Reader:
    def read(resource: Resource, stack: Stack) -> Any:
        for reader in readers:
            value = reader(resource, stack)
            if value is not None:
                return value
        return None

    return read


def function_urls(resource: Resource, stack: Stack) -> Any:
    """Which STATEKIT_*_URL variables the function receives (names only, never values)."""
    for path in ("environment.variables", "app_settings", "service_config.environment_variables"):
        variables = resource.get(path)
        if isinstance(variables, dict):
            names = sorted(
                k.removeprefix("STATEKIT_").removesuffix("_URL").lower()
                for k in variables
                if k.startswith("STATEKIT_") and k.endswith("_URL")
            )
            return ", ".join(names) if names else "none set"
    return None
