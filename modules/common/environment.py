"""Read and validate ``environments/<name>.toml`` before any construct is made.

A bad file is rejected with one ``EnvironmentFileError`` naming the file, the
field (dotted path, e.g. ``queue.max_receive_count``) and what is allowed.
Validation is driven by the dataclasses in ``settings.py``: unknown keys,
wrong types, values outside a ``Literal`` and numbers outside their bounds are
all errors, never silently ignored.

File layout (see ``environments/prod.toml``)::

    name = "prod"            # must match the file name
    app = "pkg.module:APP"   # the App to deploy (default: STATEKIT_APP, else handlers.app:APP)
    owner = "platform-team"
    production = true        # default: name == "prod"; turns on the policy aspect
    clouds = ["aws", "azure", "gcp"]
    [tags]                   # extra tags; environment/stack/owner are always added
    [aws] region = "..."     # one table per enabled cloud
    [aws.state_backend]      # optional; default local
    [gcp] region = "..."  project = "..."
    [components] [database] [cache] [queue] [orchestrator] [functions]
    [observability] [budget]
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from .settings import (
    CLOUDS,
    BudgetSettings,
    CacheSettings,
    Cloud,
    CloudTarget,
    Components,
    DatabaseSettings,
    EnvironmentSettings,
    FunctionsSettings,
    ObservabilitySettings,
    OrchestratorSettings,
    QueueSettings,
    StateBackendSettings,
)

# Relative to the caller's working directory (the project that holds cdktf.json), never to
# where this file is installed.
ENVIRONMENTS_DIR = Path("environments")
ENV_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")
TAG_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
# GCP labels are the strictest of the three clouds: lowercase, digits, '-' and '_', <= 63.
TAG_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
APP_REFERENCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")

SECTIONS: dict[str, type] = {
    "components": Components,
    "database": DatabaseSettings,
    "cache": CacheSettings,
    "queue": QueueSettings,
    "orchestrator": OrchestratorSettings,
    "functions": FunctionsSettings,
    "observability": ObservabilitySettings,
    "budget": BudgetSettings,
}
TOP_LEVEL = ("name", "app", "owner", "production", "clouds", "tags", *CLOUDS, *SECTIONS)
BACKEND_FOR_CLOUD: dict[str, tuple[str, ...]] = {
    "aws": ("local", "s3"),
    "azure": ("local", "azurerm"),
    "gcp": ("local", "gcs"),
}
BACKEND_REQUIRED: dict[str, tuple[str, ...]] = {
    "local": (),
    "s3": ("bucket",),
    "gcs": ("bucket",),
    "azurerm": ("resource_group_name", "storage_account_name", "container_name"),
}


class EnvironmentFileError(ValueError):
    """An environment file is invalid: which file, which field, what is allowed."""

    def __init__(self, file: str | Path, field: str, problem: str, allowed: str = "") -> None:
        self.file = str(file)
        self.field = field
        self.problem = problem
        self.allowed = allowed
        message = f"{self.file}: field '{field}': {problem}"
        if allowed:
            message += f" (allowed: {allowed})"
        super().__init__(message)


def _describe(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return ", ".join(repr(value) for value in get_args(annotation))
    if get_origin(annotation) is tuple:
        return f"a list of {_describe(get_args(annotation)[0])}"
    return {bool: "true or false", int: "an integer", str: "a string"}.get(
        annotation, str(annotation)
    )


def _check_value(file: str, path: str, value: Any, annotation: Any, meta: Mapping[str, Any]) -> Any:
    """Return ``value`` converted to the dataclass field's type, or raise with the allowed values."""
    origin = get_origin(annotation)
    if origin is Literal:
        allowed = get_args(annotation)
        # bool is an int in Python: `true` must not pass for a Literal[1, 3, ...].
        if isinstance(value, bool) or value not in allowed:
            raise EnvironmentFileError(
                file, path, f"{value!r} is not allowed", _describe(annotation)
            )
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise EnvironmentFileError(
                file, path, f"expected a list, got {value!r}", _describe(annotation)
            )
        item_type = get_args(annotation)[0]
        return tuple(
            _check_value(file, f"{path}[{index}]", item, item_type, {})
            for index, item in enumerate(value)
        )
    if annotation is bool:
        if not isinstance(value, bool):
            raise EnvironmentFileError(
                file, path, f"expected true or false, got {value!r}", "true, false"
            )
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EnvironmentFileError(
                file, path, f"expected an integer, got {value!r}", "an integer"
            )
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise EnvironmentFileError(file, path, f"{value} is out of range", f"{low} to {high}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise EnvironmentFileError(file, path, f"expected a string, got {value!r}", "a string")
        return value
    raise TypeError(
        f"settings field {path} has an unsupported type {annotation!r}"
    )  # pragma: no cover


def _unknown_keys(file: str, path: str, table: Mapping[str, Any], known: Iterable[str]) -> None:
    known = list(known)
    for key in table:
        if key not in known:
            where = f"{path}.{key}" if path else key
            raise EnvironmentFileError(file, where, "unknown field", ", ".join(known))


def _section(file: str, path: str, table: Any, cls: type, skip: tuple[str, ...] = ()) -> Any:
    """Build dataclass ``cls`` from a TOML table, checking every key against the dataclass."""
    if not isinstance(table, dict):
        raise EnvironmentFileError(file, path, f"expected a table, got {table!r}", f"[{path}]")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    _unknown_keys(file, path, table, fields)
    hints = typing.get_type_hints(cls)
    values = {
        name: _check_value(file, f"{path}.{name}", value, hints[name], fields[name].metadata)
        for name, value in table.items()
    }
    return cls(**values)


def _target(file: str, cloud: str, table: Any) -> CloudTarget:
    if not isinstance(table, dict):
        raise EnvironmentFileError(file, cloud, f"expected a table, got {table!r}", f"[{cloud}]")
    plain = {key: value for key, value in table.items() if key != "state_backend"}
    if not plain.get("region"):
        raise EnvironmentFileError(file, f"{cloud}.region", "missing", f"a {cloud} region name")
    target: CloudTarget = _section(file, cloud, plain, CloudTarget, skip=("state_backend",))
    if cloud == "gcp" and not target.project:
        raise EnvironmentFileError(file, "gcp.project", "missing", "a GCP project id")
    backend_table = table.get("state_backend", {})
    backend: StateBackendSettings = _section(
        file, f"{cloud}.state_backend", backend_table, StateBackendSettings
    )
    if backend.kind not in BACKEND_FOR_CLOUD[cloud]:
        raise EnvironmentFileError(
            file,
            f"{cloud}.state_backend.kind",
            f"{backend.kind!r} is not a {cloud} backend",
            ", ".join(repr(kind) for kind in BACKEND_FOR_CLOUD[cloud]),
        )
    for required in BACKEND_REQUIRED[backend.kind]:
        if not getattr(backend, required):
            raise EnvironmentFileError(
                file,
                f"{cloud}.state_backend.{required}",
                f"required for kind {backend.kind!r}",
                "a non-empty string",
            )
    return dataclasses.replace(target, state_backend=backend)


def parse_environment(data: Mapping[str, Any], file: str | Path) -> EnvironmentSettings:
    """Validate an already-parsed TOML document; ``file`` is used in errors only."""
    file = str(file)
    _unknown_keys(file, "", data, TOP_LEVEL)
    name = data.get("name")
    if not isinstance(name, str) or not ENV_NAME.match(name):
        raise EnvironmentFileError(
            file,
            "name",
            f"{name!r} is not a valid environment name",
            "lowercase letters and digits, starting with a letter, at most 10 characters",
        )
    stem = Path(file).stem
    if Path(file).suffix == ".toml" and stem != name:
        raise EnvironmentFileError(file, "name", f"{name!r} does not match the file name", stem)
    app = data.get("app", "")
    if not isinstance(app, str) or (app and not APP_REFERENCE.match(app)):
        raise EnvironmentFileError(
            file, "app", f"{app!r} is not an App reference", '"pkg.module:APP", e.g. "booking.app:APP"'
        )
    owner = data.get("owner")
    if not isinstance(owner, str) or not TAG_VALUE.match(owner) or not owner:
        raise EnvironmentFileError(
            file,
            "owner",
            f"{owner!r} is not a valid owner",
            "lowercase letters, digits, '-' and '_', at most 63 characters",
        )
    production = data.get("production", name == "prod")
    if not isinstance(production, bool):
        raise EnvironmentFileError(
            file, "production", f"expected true or false, got {production!r}", "true, false"
        )
    clouds_value = data.get("clouds")
    allowed_clouds = ", ".join(repr(c) for c in CLOUDS)
    if not isinstance(clouds_value, list) or not clouds_value:
        raise EnvironmentFileError(
            file, "clouds", f"expected a non-empty list, got {clouds_value!r}", allowed_clouds
        )
    clouds: list[Cloud] = []
    for index, cloud in enumerate(clouds_value):
        if cloud not in CLOUDS:
            raise EnvironmentFileError(
                file, f"clouds[{index}]", f"{cloud!r} is not a cloud", allowed_clouds
            )
        if cloud in clouds:
            raise EnvironmentFileError(
                file, f"clouds[{index}]", f"{cloud!r} is listed twice", allowed_clouds
            )
        clouds.append(cloud)
    targets: dict[Cloud, CloudTarget] = {}
    for cloud in CLOUDS:
        if cloud in data:
            targets[cloud] = _target(file, cloud, data[cloud])
        elif cloud in clouds:
            raise EnvironmentFileError(
                file,
                cloud,
                f"missing table [{cloud}] for an enabled cloud",
                f"[{cloud}] with region",
            )
    tags = data.get("tags", {})
    if not isinstance(tags, dict):
        raise EnvironmentFileError(
            file, "tags", f"expected a table, got {tags!r}", '[tags] key = "value"'
        )
    for key, value in tags.items():
        if not TAG_KEY.match(key):
            raise EnvironmentFileError(
                file, f"tags.{key}", "invalid tag key", "lowercase letters, digits, '-' and '_'"
            )
        if not isinstance(value, str) or not TAG_VALUE.match(value):
            raise EnvironmentFileError(
                file,
                f"tags.{key}",
                f"invalid tag value {value!r}",
                "lowercase letters, digits, '-' and '_', at most 63 characters (GCP label rules)",
            )
    sections = {key: _section(file, key, data.get(key, {}), cls) for key, cls in SECTIONS.items()}
    database: DatabaseSettings = sections["database"]
    if database.min_capacity > database.max_capacity:
        raise EnvironmentFileError(
            file,
            "database.min_capacity",
            f"{database.min_capacity} is above max_capacity {database.max_capacity}",
            f"1 to {database.max_capacity}",
        )
    return EnvironmentSettings(
        name=name,
        owner=owner,
        production=production,
        clouds=tuple(clouds),
        targets=targets,
        tags=dict(tags),
        source=file,
        app=app,
        **sections,
    )


def load_environment(path: str | Path) -> EnvironmentSettings:
    """Read and validate one environment file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise EnvironmentFileError(
            path, "(file)", "file not found", "an existing environments/<name>.toml"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise EnvironmentFileError(
            path, "(syntax)", f"not valid TOML: {exc}", "TOML syntax"
        ) from None
    return parse_environment(data, path)


def load_environments(
    names: Iterable[str] | None = None, directory: str | Path = ENVIRONMENTS_DIR
) -> list[EnvironmentSettings]:
    """Every environment in ``directory`` (or only ``names``), all validated before returning."""
    directory = Path(directory)
    if names is None:
        paths = sorted(directory.glob("*.toml"), key=_env_order)
    else:
        paths = [directory / f"{name}.toml" for name in names]
    return [load_environment(path) for path in paths]


def _env_order(path: Path) -> tuple[int, str]:
    order = {"dev": 0, "staging": 1, "prod": 2}
    return (order.get(path.stem, 3), path.stem)


__all__ = [
    "EnvironmentFileError",
    "load_environment",
    "load_environments",
    "parse_environment",
]
