"""Reading synthesized Terraform JSON (``cdk.tf.json``): resources, their construct paths, references."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statekit.compare.components import component_of

CLOUD_ORDER = ("aws", "azure", "gcp")
CLOUD_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}
_REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_.\[\]]+)\}")


def get_path(config: Any, dotted: str) -> Any:
    """``get_path(c, "a.b")``; a nested block synthesizes as a dict or a one-item list."""
    value: Any = config
    for part in dotted.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class Resource:
    cloud: str
    type: str
    logical_id: str
    path: str  # construct path, e.g. state-aws-dev/database/table
    component: str
    config: Mapping[str, Any]

    @property
    def name(self) -> str:
        """The cloud-side name if the resource sets one, else its construct path tail."""
        for key in (
            "name",
            "table_name",
            "function_name",
            "replication_group_id",
            "workflow_id",
            "database",
        ):
            value = self.config.get(key)
            if isinstance(value, str) and value and "${" not in value:
                return value
        return self.path.split("/", 1)[-1] if "/" in self.path else self.logical_id

    def get(self, dotted: str) -> Any:
        return get_path(self.config, dotted)


@dataclass
class Stack:
    cloud: str
    env: str
    name: str
    file: Path
    region: str
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_reference(self, type_: str, logical_id: str) -> Resource | None:
        for resource in self.resources:
            if resource.type == type_ and resource.logical_id == logical_id:
                return resource
        return None

    def describe(self, value: Any) -> str:
        """A setting's value for people: ``${aws_kms_key.x.arn}`` becomes ``aws_kms_key database/key``."""
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, list | tuple):
            return ", ".join(self.describe(item) for item in value) or "-"
        if not isinstance(value, str):
            return str(value)

        def readable(match: re.Match[str]) -> str:
            target = self.by_reference(match.group(1), match.group(2))
            where = target.path.split("/", 1)[-1] if target else match.group(2)
            return f"{match.group(1)} {where}"

        return _REFERENCE.sub(readable, value)

    def of_component(self, component: str) -> list[Resource]:
        return [r for r in self.resources if r.component == component]


# ``<app>-<cloud>-<env>`` (the App's name first; stacks before Apps were ``state-...``).
_STACK_NAME = re.compile(r"(?P<app>[a-z][a-z0-9-]*?)-(?P<cloud>aws|azure|gcp)-(?P<env>[a-z0-9-]+)")


def parse_stack_name(stack_name: str) -> tuple[str, str, str] | None:
    """``(app, cloud, env)`` of a stack folder name, or None."""
    match = _STACK_NAME.fullmatch(stack_name)
    return (match["app"], match["cloud"], match["env"]) if match else None


def stack_cloud_env(stack_name: str) -> tuple[str, str] | None:
    parsed = parse_stack_name(stack_name)
    return (parsed[1], parsed[2]) if parsed else None


def _region(document: Mapping[str, Any], cloud: str) -> str:
    providers = document.get("provider", {})
    key = {"aws": "aws", "azure": "azurerm", "gcp": "google"}[cloud]
    for provider in (
        providers.get(key, []) if isinstance(providers.get(key), list) else [providers.get(key)]
    ):
        if isinstance(provider, Mapping):
            region = provider.get("region")
            if isinstance(region, str):
                return region
    # azurerm has no provider region: take the resource group's (or any resource's) location.
    for resources in document.get("resource", {}).values():
        for config in resources.values():
            for attribute in ("location", "region"):
                value = config.get(attribute)
                if isinstance(value, str) and value and "${" not in value:
                    return value.lower().replace(" ", "")
    return "unknown"


def load_stack(file: Path) -> Stack:
    """Parse one ``cdk.tf.json``; a broken file raises ValueError naming the file."""
    try:
        document = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{file}: not readable synthesized Terraform JSON ({exc})") from exc
    name = file.parent.name
    parsed = stack_cloud_env(name)
    if parsed is None:
        raise ValueError(f"{file}: folder name {name!r} is not <app>-<aws|azure|gcp>-<env>")
    cloud, env = parsed
    stack = Stack(cloud=cloud, env=env, name=name, file=file, region=_region(document, cloud))
    for type_, resources in sorted(document.get("resource", {}).items()):
        for logical_id, config in sorted(resources.items()):
            path = get_path(config, "//.metadata.path") or logical_id
            stack.resources.append(
                Resource(
                    cloud=cloud,
                    type=type_,
                    logical_id=logical_id,
                    path=str(path),
                    component=component_of(type_, str(path)),
                    config=config,
                )
            )
    stack.outputs = dict(document.get("output", {}))
    return stack
