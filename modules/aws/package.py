"""The Lambda code package: ``handlers/`` and ``statekit/`` copied into one folder, zipped by cdktn.

Only ``.py`` and ``.json`` files are copied (no caches, no tests), so the asset hash
changes only when the code does. Third-party libraries the handlers import beyond
the Lambda runtime's boto3 (e.g. ``redis``) belong in a layer or in this folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("handlers", "statekit")
STAGING = ROOT / "build" / "lambda-package"


def stage_package(staging: Path = STAGING) -> Path:
    """Copy the sources into ``staging`` (rebuilt from scratch each time)."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for source in SOURCES:
        origin = ROOT / source
        if not origin.is_dir():
            continue
        for path in sorted(origin.rglob("*")):
            if path.suffix in {".py", ".json"} and "__pycache__" not in path.parts:
                target = staging / path.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    return staging


class CodePackage(Construct):
    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        self.asset = TerraformAsset(
            self, "asset", path=str(stage_package()), type=AssetType.ARCHIVE
        )
        self.path = self.asset.path
        self.hash = self.asset.asset_hash
