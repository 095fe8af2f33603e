"""The Lambda code package: ``handlers/``, ``statekit/`` and ``redis`` in one folder, zipped by cdktn.

Only ``.py`` and ``.json`` files are copied (no caches, no tests), so the asset hash
changes only when the code does. ``redis`` (pure Python) is copied from the installed
environment, since the Lambda Python runtime carries only boto3; any other library a
handler needs goes into ``VENDORED`` (pure Python) or a layer. Old folders under
``build/lambda-package/`` can be deleted at any time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("handlers", "statekit")
# Libraries statekit needs that the Lambda Python runtime lacks (it has boto3): pure
# Python, copied from this environment so the package matches the tested versions.
VENDORED = ("redis",)
STAGING = ROOT / "build" / "lambda-package"


def _vendored_roots() -> list[Path]:
    """Folders of the pure-Python libraries copied in, found without importing them."""
    roots = []
    for name in VENDORED:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"{name} is not installed in this environment: run make install")
        roots.append(Path(next(iter(spec.submodule_search_locations))))
    return roots


def _sources() -> list[tuple[Path, Path]]:
    """``(file, path inside the package)`` for every file the package holds."""
    roots = [(ROOT / source, ROOT) for source in SOURCES if (ROOT / source).is_dir()]
    roots += [(root, root.parent) for root in _vendored_roots()]
    return [
        (path, path.relative_to(base))
        for origin, base in roots
        for path in sorted(origin.rglob("*"))
        if path.suffix in {".py", ".json"} and "__pycache__" not in path.parts
    ]


def stage_package(staging: Path = STAGING) -> Path:
    """A folder holding the sources, named by their content hash.

    Content-addressed and renamed into place atomically, so concurrent synths (tests,
    benchmarks, a developer's ``main.py``) never see a half-copied package.
    """
    files = _sources()
    digest = hashlib.sha256()
    for path, inside in files:
        digest.update(str(inside).encode() + b"\0" + path.read_bytes() + b"\0")
    target = staging / digest.hexdigest()[:20]
    if target.is_dir():
        return target
    staging.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=staging))
    for path, inside in files:
        copy = scratch / inside
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    try:
        scratch.rename(target)
    except OSError:  # another process staged the same content first
        shutil.rmtree(scratch, ignore_errors=True)
    return target


class CodePackage(Construct):
    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        self.asset = TerraformAsset(
            self, "asset", path=str(stage_package()), type=AssetType.ARCHIVE
        )
        self.path = self.asset.path
        self.hash = self.asset.asset_hash
