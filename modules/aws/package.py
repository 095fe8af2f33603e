"""The Lambda code package: the App's code packages, ``statekit`` and ``redis``, zipped by cdktn.

The packages are found with importlib and staged with their bytecode for the runtime
by modules/common/package.py. ``redis`` (pure Python) is copied from the installed
environment, since the Lambda Python runtime carries only boto3; any other library a
handler needs goes into ``VENDORED`` (pure Python) or a layer.

With ``observability.tracing`` on, the OpenTelemetry API and SDK go in too (pure
Python, the versions installed here, with the dist-info their entry points need):
statekit's EMF and X-Ray exporters run in the function (docs/observability.md).
"""

from __future__ import annotations

from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

from ..common.package import distribution_files, package_folder, staged_code

# Libraries statekit needs that the Lambda Python runtime lacks (it has boto3): pure
# Python, copied from this environment so the package matches the tested versions.
VENDORED = ("redis",)
# The telemetry export's distributions and their requirements (closed: tests/iac checks
# it against their metadata). The semantic conventions come with the SDK, which imports them.
TELEMETRY_DISTRIBUTIONS = (
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-semantic-conventions",
    "typing-extensions",
)


def stage_package(runtime: str, packages: list[str], telemetry: bool = False) -> Path:
    """The package folder: ``packages``, the vendored libraries (and, for ``telemetry``,
    the OpenTelemetry SDK), their bytecode for ``runtime``."""
    folders = [package_folder(package) for package in [*packages, *VENDORED]]
    extra = distribution_files(TELEMETRY_DISTRIBUTIONS) if telemetry else []
    return staged_code(folders, runtime, "lambda-package", extra)


class CodePackage(Construct):
    def __init__(
        self, scope: Construct, id_: str, runtime: str, packages: list[str], telemetry: bool
    ) -> None:
        super().__init__(scope, id_)
        self.asset = TerraformAsset(
            self,
            "asset",
            path=str(stage_package(runtime, packages, telemetry)),
            type=AssetType.ARCHIVE,
        )
        self.path = self.asset.path
        self.hash = self.asset.asset_hash
