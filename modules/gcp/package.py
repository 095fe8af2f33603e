"""The Cloud Functions source archive: handlers/ and statekit/ plus a root ``main.py``.

Cloud Functions (2nd gen, Python) loads ``main.py`` from the archive root and calls
the entry point by name; ``main.py`` only re-exports the handlers' functions.
Staged under ``build/gcp-function/<stack>/`` at synthesis and zipped by cdktn as an
archive asset, which the stack uploads to the source bucket under a name carrying
the asset's hash (a new object, so a new build, whenever the code changes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

from ..common.package import REPO_ROOT, copy_app_code, pinned_requirements
from ..common.settings import StackSettings

# entry point name -> the module in handlers/ that defines it
ENTRY_POINTS = {
    "http_handler": "handlers.gcp",
    "pubsub_handler": "handlers.gcp",
    "statekit_activity": "handlers.gcp_activity",
}
# The runtime dependencies are the extras pyproject.toml pins (the set tested together).
REQUIREMENT_EXTRAS = ("gcp", "redis")


def main_py() -> str:
    lines = [
        '"""Cloud Functions entry: the functions are defined in handlers/ (see modules/gcp)."""',
        "",
    ]
    modules: dict[str, list[str]] = {}
    for entry, module in ENTRY_POINTS.items():
        modules.setdefault(module, []).append(entry)
    for module, entries in sorted(modules.items()):
        lines.append(f"from {module} import {', '.join(sorted(entries))}")
    lines += ["", f"__all__ = {sorted(ENTRY_POINTS)!r}", ""]
    return "\n".join(lines)


def stage(target: Path, runtime: str) -> Path:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    copy_app_code(target, runtime)
    (target / "main.py").write_text(main_py())
    (target / "requirements.txt").write_text(
        "\n".join(pinned_requirements(REQUIREMENT_EXTRAS)) + "\n"
    )
    return target


def function_source(scope: Construct, construct_id: str, settings: StackSettings) -> TerraformAsset:
    staged = stage(
        REPO_ROOT / "build" / "gcp-function" / settings.stack_name, settings.functions.runtime
    )
    return TerraformAsset(scope, construct_id, path=str(staged), type=AssetType.ARCHIVE)
