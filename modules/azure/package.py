"""The function app package: handlers/ and statekit/ plus the Azure Functions v2 entry.

Staged under ``build/azure-function/`` at synthesis time and handed to cdktn as an
archive asset, which it copies into the stack folder and zips. The entry file is
``function_app.py`` (what the Python v2 programming model loads); it only imports
``handlers.azure.app``, where the handlers define every function.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

from ..common.package import REPO_ROOT, copy_app_code, pinned_requirements
from ..common.settings import StackSettings

FUNCTION_APP_PY = '''"""Azure Functions entry (Python v2 model): every function is defined in handlers.azure."""

from handlers.azure import app  # noqa: F401  (the host discovers functions on `app`)
'''
# The runtime dependencies are the extras pyproject.toml pins (the set tested together).
REQUIREMENT_EXTRAS = ("azure", "redis")


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def host_json(settings: StackSettings) -> dict[str, object]:
    """host.json: queue retries end in ``<queue>-poison`` after ``max_receive_count`` tries."""
    queue = settings.queue
    return {
        "version": "2.0",
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": "[4.*, 5.0.0)",
        },
        "functionTimeout": _hms(settings.functions.timeout_seconds),
        "extensions": {
            "queues": {
                "maxDequeueCount": queue.max_receive_count,
                # The wait before a failed message is retried.
                "visibilityTimeout": _hms(queue.visibility_timeout_seconds),
                "batchSize": queue.batch_size,
            }
        },
        "logging": {"applicationInsights": {"samplingSettings": {"isEnabled": True}}},
    }


def stage(settings: StackSettings, target: Path) -> Path:
    """Write the package tree to ``target`` (replaced), return it."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    copy_app_code(target, settings.functions.runtime)
    (target / "function_app.py").write_text(FUNCTION_APP_PY)
    (target / "host.json").write_text(
        json.dumps(host_json(settings), indent=2, sort_keys=True) + "\n"
    )
    (target / "requirements.txt").write_text(
        "\n".join(pinned_requirements(REQUIREMENT_EXTRAS)) + "\n"
    )
    return target


def function_package(
    scope: Construct, construct_id: str, settings: StackSettings
) -> TerraformAsset:
    staged = stage(settings, REPO_ROOT / "build" / "azure-function" / settings.stack_name)
    return TerraformAsset(scope, construct_id, path=str(staged), type=AssetType.ARCHIVE)
