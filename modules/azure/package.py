"""The function app package: handlers/ and statekit/ plus the Azure Functions v2 entry.

Staged under ``build/azure-function/<stack>/`` at synthesis time. Terraform does not
deploy it: ``code_deploy.py`` adds the installed dependencies and publishes it with
One Deploy after ``terraform apply`` (Flex Consumption has no zip deploy). The entry file is
``function_app.py`` (what the Python v2 programming model loads); it only imports
``handlers.azure.app``, where the handlers define every function.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from modules.common.package import REPO_ROOT, copy_app_code, pinned_requirements
from modules.common.settings import StackSettings

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


def function_package(settings: StackSettings) -> Path:
    """Stage the package's code for the stack (no dependencies: code_deploy.py adds them)."""
    return stage(settings, REPO_ROOT / "build" / "azure-function" / settings.stack_name)
