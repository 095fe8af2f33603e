"""The code every function package carries, staged once per content and runtime.

``staged_code`` copies the ``.py`` and ``.json`` files of some folders (no caches,
no tests) into ``build/<name>/<hash>/`` and compiles them for the function's
runtime (modules/common/bytecode.py). The folder is named by the hash of the
files and the runtime, so a synth that finds it reuses it (compiling is the
slow part), the asset hash changes only when the code or the runtime does, and
concurrent synths (tests, benchmarks, a developer's ``main.py``) never see a
half-written folder: it is built aside and renamed into place. Old folders can
be deleted at any time.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import tomllib
from pathlib import Path

from modules.common.bytecode import compile_package

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD = REPO_ROOT / "build"
CODE_SUFFIXES = {".py", ".json"}
APP_PACKAGES = ("handlers", "statekit")  # the app and the adapter, in every function package
# Part of every staged folder's name: bump it when the way bytecode is compiled changes, so
# folders staged the old way are not reused (2: reproducible across checkouts).
STAGING_FORMAT = b"2"


def code_files(folders: list[Path]) -> list[tuple[Path, Path]]:
    """``(file, path inside the package)`` for the code under each folder, kept by its name."""
    return [
        (path, path.relative_to(folder.parent))
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts
    ]


def staged_code(folders: list[Path], runtime: str, name: str) -> Path:
    """A folder under ``build/<name>/`` holding ``folders``' code and its bytecode for ``runtime``."""
    files = code_files(folders)
    digest = hashlib.sha256(STAGING_FORMAT + b"\0" + runtime.encode() + b"\0")
    for path, inside in files:
        digest.update(str(inside).encode() + b"\0" + path.read_bytes() + b"\0")
    staging = BUILD / name
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
    try:
        scratch.rename(target)
    except OSError:  # another process staged the same content first
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def copy_app_code(target: Path, runtime: str) -> None:
    """Copy ``APP_PACKAGES`` with their bytecode for ``runtime`` into ``target``."""
    code = staged_code([REPO_ROOT / package for package in APP_PACKAGES], runtime, "function-code")
    for package in APP_PACKAGES:
        shutil.copytree(code / package, target / package)


def pinned_requirements(extras: tuple[str, ...]) -> list[str]:
    """The pins of pyproject.toml's ``extras``: the versions the suite tested together."""
    optional = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    return sorted({pin for extra in extras for pin in optional[extra]})
