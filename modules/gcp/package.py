"""The Cloud Functions source archive: the App's code packages and statekit plus ``main.py``.

Cloud Functions (2nd gen, Python) loads ``main.py`` from the archive root and calls
the entry point by name; ``main.py`` only re-exports the kit's runtime entry point
``handle``, which dispatches on ``STATEKIT_FUNCTION`` (statekit/runtime/gcp.py).
Staged under ``build/gcp-function/<stack>/`` (in the caller's working directory) at
synthesis and zipped by cdktn as an archive asset, which the stack uploads to the
source bucket under a name carrying the asset's hash (a new object, so a new build,
whenever the code changes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

from ..common.app import AppSource
from ..common.package import build_root, copy_app_code, function_extras, pinned_requirements
from ..common.settings import StackSettings

# Exactly the contract's line: every function's entry point is the runtime's ``handle``.
MAIN_PY = "from statekit.runtime.gcp import handle  # noqa: F401\n"


def stage(target: Path, settings: StackSettings, app: AppSource) -> Path:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    copy_app_code(target, settings.functions.runtime, app.packages)
    (target / "main.py").write_text(MAIN_PY)
    # The pins of the extras this stack's functions import (the set tested together):
    # Cloud Build installs them.
    (target / "requirements.txt").write_text(
        "\n".join(pinned_requirements(function_extras(settings))) + "\n"
    )
    return target


def function_source(
    scope: Construct, construct_id: str, settings: StackSettings, app: AppSource
) -> TerraformAsset:
    target = build_root() / "gcp-function" / settings.stack_name
    staged = stage(target, settings, app)
    return TerraformAsset(scope, construct_id, path=str(staged), type=AssetType.ARCHIVE)
