"""The code every function package carries, staged once per content and runtime.

A function package holds the App's ``code`` packages and ``statekit`` (the runtime
that calls the App's handlers), found with importlib wherever they are installed or
checked out, never by fixed folder names. ``staged_code`` copies the ``.py`` and
``.json`` files of those packages (no caches, no tests) into
``<build>/<name>/<hash>/`` and compiles them for the function's runtime
(bytecode.py). The folder is named by the hash of the files and the runtime, so a
synth that finds it reuses it (compiling is the slow part), the asset hash changes
only when the code or the runtime does, and concurrent synths never see a
half-written folder: it is built aside and renamed into place. Old folders can be
deleted at any time.

Paths come from the caller's working directory (the cdktf project), never from where
this file is installed: ``build/`` there, or ``$STATEKIT_BUILD_DIR``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path

from .bytecode import compile_package
from .settings import StackSettings

CODE_SUFFIXES = {".py", ".json"}
RUNTIME_PACKAGE = "statekit"  # the runtime adapters that call the App's handlers
DISTRIBUTION = "statekit"
# Part of every staged folder's name: bump it when the way bytecode is compiled changes, so
# folders staged the old way are not reused (2: reproducible across checkouts).
STAGING_FORMAT = b"2"


class PackageNotFound(RuntimeError):
    """A code package the App names cannot be found by importlib."""


def build_root() -> Path:
    """Where packages are staged: ``$STATEKIT_BUILD_DIR`` or ``./build`` of the cdktf project."""
    return Path(os.environ.get("STATEKIT_BUILD_DIR") or Path.cwd() / "build").absolute()


def package_folder(name: str) -> Path:
    """The folder of the importable top-level package ``name`` (found, not imported)."""
    if "." in name or not name.isidentifier():
        raise PackageNotFound(f"code package {name!r}: not a top-level package name")
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as error:
        raise PackageNotFound(f"code package {name!r}: {error}") from None
    if spec is None or not spec.submodule_search_locations:
        raise PackageNotFound(
            f"code package {name!r} is not an importable package (a folder with __init__.py) "
            "on this Python path; install it or run from its project folder"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def code_packages(app_code: Iterable[str]) -> list[str]:
    """The packages a function package holds: the App's ``code`` and statekit, in order, once."""
    return list(dict.fromkeys([*app_code, RUNTIME_PACKAGE]))


def code_files(folders: list[Path]) -> list[tuple[Path, Path]]:
    """``(file, path inside the package)`` for the code under each folder, kept by its name."""
    return [
        (path, path.relative_to(folder.parent))
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts
    ]


def fingerprint(folders: list[Path], *extra: bytes) -> str:
    """A hash of the code under ``folders`` (names and contents) and ``extra`` bytes."""
    digest = hashlib.sha256()
    for path, inside in code_files(folders):
        digest.update(str(inside).encode() + b"\0" + path.read_bytes() + b"\0")
    for blob in extra:
        digest.update(blob + b"\0")
    return digest.hexdigest()


def staged_code(folders: list[Path], runtime: str, name: str) -> Path:
    """A folder under ``<build>/<name>/`` holding ``folders``' code and its bytecode for ``runtime``."""
    files = code_files(folders)
    digest = hashlib.sha256(STAGING_FORMAT + b"\0" + runtime.encode() + b"\0")
    for path, inside in files:
        digest.update(str(inside).encode() + b"\0" + path.read_bytes() + b"\0")
    staging = build_root() / name
    target = staging / digest.hexdigest()[:20]
    if target.is_dir():
        return target
    staging.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=staging))
    for path, inside in files:
        copy = scratch / inside
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    compile_package(scratch, runtime)
    return publish(scratch, target)


def publish(scratch: Path, target: Path) -> Path:
    """Move a folder built aside into place: readers never see it half-written."""
    try:
        scratch.rename(target)
    except OSError:  # another process built the same content first
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def copy_app_code(target: Path, runtime: str, packages: list[str]) -> None:
    """Copy ``packages`` (see ``code_packages``) with their bytecode for ``runtime`` into ``target``."""
    folders = [package_folder(package) for package in packages]
    code = staged_code(folders, runtime, "function-code")
    for folder in folders:
        shutil.copytree(code / folder.name, target / folder.name)


def _pins_from_pyproject(path: Path) -> dict[str, list[str]] | None:
    """The optional dependencies of the statekit checkout at ``path`` (None if it is not one)."""
    if not path.is_file():
        return None
    project = tomllib.loads(path.read_text()).get("project", {})
    if project.get("name") != DISTRIBUTION:
        return None
    return dict(project.get("optional-dependencies", {}))


def _pins_from_metadata() -> dict[str, list[str]]:
    """The optional dependencies of the installed statekit distribution."""
    try:
        requirements = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        raise PackageNotFound(
            "statekit is neither installed nor checked out here: no pinned dependencies"
        ) from None
    pins: dict[str, list[str]] = {}
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        marker = marker.replace(" ", "").replace("'", '"')
        if marker.startswith('extra=="'):
            pins.setdefault(marker[len('extra=="') : -1], []).append(spec.strip())
    return pins


def pinned_requirements(extras: tuple[str, ...]) -> list[str]:
    """The pins of statekit's ``extras``: the versions the suite tested together.

    From the checkout's pyproject.toml when synthesizing inside the statekit
    repository, else from the installed distribution's metadata (the library path).
    An extra that names another (``statekit[otel]``) brings that one's pins.
    """
    optional = _pins_from_pyproject(Path.cwd() / "pyproject.toml") or _pins_from_metadata()
    return sorted(_expanded(optional, extras))


def _expanded(optional: dict[str, list[str]], extras: Iterable[str]) -> set[str]:
    pins: set[str] = set()
    for extra in extras:
        if extra not in optional:
            raise PackageNotFound(f"statekit declares no extra {extra!r} (its pins)")
        for pin in optional[extra]:
            name, bracket, rest = pin.partition("[")
            if bracket and name.strip() == DISTRIBUTION:
                pins |= _expanded(optional, [e.strip() for e in rest.split("]")[0].split(",")])
            else:
                pins.add(pin)
    return pins


# The extra whose pins carry each cloud's telemetry exporter (statekit.observability.platform).
TELEMETRY_EXTRAS = {"aws": "otel", "azure": "otel-azure", "gcp": "otel-gcp"}


def function_extras(settings: StackSettings) -> tuple[str, ...]:
    """The statekit extras a stack's functions import: the cloud's SDKs, the client of the
    stack's cache and database, and the telemetry exporter when tracing is on."""
    extras: list[str] = [settings.cloud]
    if settings.components.cache:
        extras.append("memcached" if settings.cache.engine == "memcached" else "redis")
    if settings.database.engine == "postgres":
        extras.append("postgresql")
    if settings.observability.tracing:
        extras.append(TELEMETRY_EXTRAS[settings.cloud])
    return tuple(extras)
