"""The Lambda code package: ``handlers/``, ``statekit/`` and ``redis`` in one folder, zipped by cdktn.

The code and its bytecode for the runtime are staged by modules/common/package.py.
``redis`` (pure Python) is copied from the installed environment, since the Lambda
Python runtime carries only boto3; any other library a handler needs goes into
``VENDORED`` (pure Python) or a layer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

from modules.common.package import APP_PACKAGES, REPO_ROOT, staged_code

# Libraries statekit needs that the Lambda Python runtime lacks (it has boto3): pure
# Python, copied from this environment so the package matches the tested versions.
VENDORED = ("redis",)


def _vendored_roots() -> list[Path]:
    """Folders of the pure-Python libraries copied in, found without importing them."""
    roots = []
    for name in VENDORED:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"{name} is not installed in this environment: run make install")
        roots.append(Path(next(iter(spec.submodule_search_locations))))
    return roots


def stage_package(runtime: str) -> Path:
    """The package folder: the sources, the vendored libraries, their bytecode for ``runtime``."""
    folders = [REPO_ROOT / package for package in APP_PACKAGES] + _vendored_roots()
    return staged_code(folders, runtime, "lambda-package")


class CodePackage(Construct):
    def __init__(self, scope: Construct, id_: str, runtime: str) -> None:
        super().__init__(scope, id_)
        self.asset = TerraformAsset(
            self, "asset", path=str(stage_package(runtime)), type=AssetType.ARCHIVE
        )
        self.path = self.asset.path
        self.hash = self.asset.asset_hash
