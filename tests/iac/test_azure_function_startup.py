"""The Azure function app starts: its package imports on a clean Python of the runtime's
version with nothing on the path but what the package ships.

The package is the one ``python -m modules.azure.code_deploy`` publishes (the staged
code plus its dependencies installed for Linux x86-64 into
``.python_packages/lib/site-packages``, where the Python worker looks). The
interpreter runs isolated (``-I``: no PYTHONPATH, no user site) and without ``site``
(``-S``: not even its own site-packages), so a dependency missing from the package
fails the import here instead of at the function's first cold start.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from modules.azure.code_deploy import SITE_PACKAGES, build_package, settings_for, zip_package
from modules.common.bytecode import interpreter_for, runtime_version
from statekit.workflows.engines.durable.orchestrator import BODY_ORCHESTRATOR

# What the host loads (function_app.py) and what the code imports on first use on Azure.
STARTUP_PROBE = """
import importlib, json, sys
package, first_use = sys.argv[1], json.loads(sys.argv[2])
sys.path[:0] = [package, package + "/.python_packages/lib/site-packages"]
import function_app
for module in first_use:
    importlib.import_module(module)
outside = sorted(
    name for name, module in sys.modules.items()
    if getattr(module, "__file__", None)
    and "site-packages" in module.__file__
    and not module.__file__.startswith(package)
)
print(json.dumps({
    "functions": sorted(f.get_function_name() for f in function_app.app.get_functions()),
    "outside": outside,
}))
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings, app = settings_for("dev")
    return build_package(settings, app, tmp_path_factory.mktemp("azure") / "package")


def test_package_imports_on_a_clean_runtime_python(package: Path, tmp_path: Path) -> None:
    settings, app = settings_for("dev")
    version = runtime_version(settings.functions.runtime)
    python = interpreter_for(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine (PATH or pyenv): startup not checked")
    assert (package / SITE_PACKAGES / "azure" / "functions").is_dir()
    # What the code imports on first use there, for what this stack turns on.
    first_use = [
        "statekit.store.backends.cosmos.store",
        "statekit.workflows.engines.durable.client",
    ]
    if settings.components.queue:
        first_use.append("statekit.queue.backends.azurequeue")
    if settings.components.cache:  # its Entra sign-in imports azure.identity at first connect
        first_use += ["statekit.cache.backends.redis", "azure.identity"]
    if settings.observability.tracing:  # configure_for_platform's Azure path
        first_use += ["azure.monitor.opentelemetry", "opentelemetry.sdk.trace"]
    result = subprocess.run(
        [python, "-I", "-S", "-c", STARTUP_PROBE, str(package), json.dumps(first_use)],
        cwd=tmp_path,  # not the repository: nothing importable from the working directory
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # The runtime registers every declared function, an orchestrator per workflow, the
    # body orchestrator (Parallel branches, Map items) and the activity function, for the
    # App the package's STATEKIT_APP default names.
    expected = [f.name for f in app.app.functions] + [str(w.name) for w in app.app.workflows]
    workflow_functions = [BODY_ORCHESTRATOR, app.app.activities] if app.app.workflows else []
    assert report["functions"] == sorted([*expected, *workflow_functions])
    assert report["outside"] == [], "modules loaded from outside the package"


def test_published_zip_is_reproducible(package: Path, tmp_path: Path) -> None:
    first = zip_package(package, tmp_path / "a.zip").read_bytes()
    second = zip_package(package, tmp_path / "b.zip").read_bytes()
    assert first == second
