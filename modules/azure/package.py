"""The function app package: the App's code packages and statekit plus the Functions v2 entry.

Staged under ``build/azure-function/<stack>/`` (in the caller's working directory)
at synthesis time. Terraform does not deploy it: ``code_deploy.py`` adds the installed
dependencies and publishes it with One Deploy after ``terraform apply`` (Flex
Consumption has no zip deploy). The entry file is ``function_app.py`` (what the
Python v2 programming model loads); the kit's runtime registers every function of the
App named by ``STATEKIT_APP`` (statekit/runtime/azure.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..common.app import AppSource, DeployedFunction
from ..common.package import build_root, copy_app_code, function_extras, pinned_requirements
from ..common.settings import StackSettings

# Exactly the contract's two lines: the runtime registers the App's functions on `app`.
FUNCTION_APP_PY = "from statekit.runtime.azure import function_app\napp = function_app()\n"


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def host_json(
    settings: StackSettings, functions: list[DeployedFunction] | None = None
) -> dict[str, object]:
    """host.json: queue retries end in ``<queue>-poison`` after ``max_receive_count`` tries.

    One host runs every function, so its timeout is the longest a function declares and
    its queue batch the queue consumer's (the environment's when it declares none)."""
    queue = settings.queue
    functions = functions or []
    timeout = max(
        (function.timeout_s for function in functions), default=settings.functions.timeout_seconds
    )
    batch = max(
        (function.batch_size for function in functions if function.kind == "queue"),
        default=queue.batch_size,
    )
    return {
        "version": "2.0",
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": "[4.*, 5.0.0)",
        },
        "functionTimeout": _hms(timeout),
        "extensions": {
            "queues": {
                "maxDequeueCount": queue.max_receive_count,
                # The wait before a failed message is retried.
                "visibilityTimeout": _hms(queue.visibility_timeout_seconds),
                "batchSize": batch,
            }
        },
        "logging": {"applicationInsights": {"samplingSettings": {"isEnabled": True}}},
    }


def stage(
    settings: StackSettings,
    target: Path,
    app: AppSource,
    functions: list[DeployedFunction] | None = None,
) -> Path:
    """Write the package tree to ``target`` (replaced), return it."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    copy_app_code(target, settings.functions.runtime, app.packages)
    (target / "function_app.py").write_text(FUNCTION_APP_PY)
    (target / "host.json").write_text(
        json.dumps(host_json(settings, functions), indent=2, sort_keys=True) + "\n"
    )
    (target / "requirements.txt").write_text(
        "\n".join(pinned_requirements(function_extras(settings))) + "\n"
    )
    return target


def function_package(
    settings: StackSettings, app: AppSource, functions: list[DeployedFunction]
) -> Path:
    """Stage the package's code for the stack (no dependencies: code_deploy.py adds them)."""
    return stage(settings, build_root() / "azure-function" / settings.stack_name, app, functions)
