"""A fingerprint of an App's code and of an environment file, recorded at synthesis.

The IaC side writes ``{"app": name, "spec": ..., "code": code_fingerprint(app),
"environment": file_fingerprint(env_file)}`` beside each synthesized stack;
``statekit compare`` computes the same now and says when they differ, so a
stale or foreign ``cdktf.out/`` is never compared silently.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statekit.app.declaration import App

_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def code_files(app: App) -> Iterator[tuple[str, Path]]:
    """``(package-relative name, path)`` of every file of the App's code packages, sorted."""
    for package in sorted(app.code):
        spec = importlib.util.find_spec(package)
        if spec is None:
            continue
        roots = list(spec.submodule_search_locations or [])
        if not roots and spec.origin:  # a single-module "package"
            yield package + ".py", Path(spec.origin)
            continue
        for root in roots:
            base = Path(root)
            for path in sorted(base.rglob("*")):
                if (
                    path.is_file()
                    and path.suffix not in _SKIPPED_SUFFIXES
                    and not _SKIPPED_DIRS.intersection(path.relative_to(base).parts)
                ):
                    yield f"{package}/{path.relative_to(base).as_posix()}", path


def code_fingerprint(app: App) -> str:
    """sha256 over the App's code files (names and bytes): changes when any of them does."""
    digest = hashlib.sha256()
    for name, path in code_files(app):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def newest_code_mtime(app: App) -> float:
    """The modification time of the App's newest code file (0 when it has none)."""
    return max((path.stat().st_mtime for _, path in code_files(app)), default=0.0)
