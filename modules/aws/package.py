"""The Lambda code package: ``handlers/`` and ``statekit/`` copied into one folder, zipped by cdktn.

Only ``.py`` and ``.json`` files are copied (no caches, no tests), so the asset hash
changes only when the code does. Old package folders under ``build/lambda-package/``
can be deleted at any time. Third-party libraries the handlers import beyond
the Lambda runtime's boto3 (e.g. ``redis``) belong in a layer or in this folder.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("handlers", "statekit")
STAGING = ROOT / "build" / "lambda-package"


def _sources() -> list[Path]:
    files: list[Path] = []
    for source in SOURCES:
        origin = ROOT / source
        if origin.is_dir():
            files.extend(
                path
                for path in sorted(origin.rglob("*"))
                if path.suffix in {".py", ".json"} and "__pycache__" not in path.parts
            )
    return files


def stage_package(staging: Path = STAGING) -> Path:
    """A folder holding the sources, named by their content hash.

    Content-addressed and renamed into place atomically, so concurrent synths (tests,
    benchmarks, a developer's ``main.py``) never see a half-copied package.
    """
    files = _sources()
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    target = staging / digest.hexdigest()[:20]
    if target.is_dir():
        return target
    staging.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=staging))
    for path in files:
        copy = scratch / path.relative_to(ROOT)
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
