"""CDK for Terraform (cdktn) constructs of an App's stacks, one package per cloud.

In the repository this is ``modules``; installed from the wheel it is ``statekit_iac``
(the files import each other relatively). A separate cdktf project uses it as::

    from statekit_iac import AppSource, build_stack, load_environment

    source = AppSource.load("booking.app:APP")
    environment = load_environment("environments/dev.toml")
    app = cdktn.App()
    for cloud in environment.clouds:
        build_stack(app, environment.for_cloud(cloud), source)
    app.synth()

Names resolve lazily, so importing the package does not start jsii (set
``JSII_*`` variables first, as main.py does).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AppSource": "common.app",
    "build_stack": "common.stack",
    "load_environment": "common.environment",
    "load_environments": "common.environment",
    "plan_stacks": "common.plan",
}
__all__ = ["AppSource", "build_stack", "load_environment", "load_environments", "plan_stacks"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
