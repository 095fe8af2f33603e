"""The Lambda code package: the App's code packages, ``statekit`` and ``redis``, zipped by cdktn.

The packages are found with importlib and staged with their bytecode for the runtime
by modules/common/package.py. ``redis`` (pure Python) is copied from the installed
environment, since the Lambda Python runtime carries only boto3; any other library a
handler needs goes into ``VENDORED`` (pure Python) or a layer.
"""

from __future__ import annotations

from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

from ..common.package import package_folder, staged_code

# Libraries statekit needs that the Lambda Python runtime lacks (it has boto3): pure
# Python, copied from this environment so the package matches the tested versions.
VENDORED = ("redis",)


def stage_package(runtime: str, packages: list[str]) -> Path:
    """The package folder: ``packages``, the vendored libraries, their bytecode for ``runtime``."""
    folders = [package_folder(package) for package in [*packages, *VENDORED]]
    return staged_code(folders, runtime, "lambda-package")


class CodePackage(Construct):
    def __init__(self, scope: Construct, id_: str, runtime: str, packages: list[str]) -> None:
        super().__init__(scope, id_)
        self.asset = TerraformAsset(
            self, "asset", path=str(stage_package(runtime, packages)), type=AssetType.ARCHIVE
        )
        self.path = self.asset.path
        self.hash = self.asset.asset_hash
