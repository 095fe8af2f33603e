"""Which stacks to synthesize: environments x the clouds each enables, with overrides.

Pure Python (no cdktn import), so ``main.py`` validates every file before jsii starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .environment import ENVIRONMENTS_DIR, EnvironmentFileError, load_environments
from .settings import CLOUDS, StackSettings


def plan_stacks(
    envs: Sequence[str] | None = None,
    clouds: Sequence[str] | None = None,
    directory: str | Path = ENVIRONMENTS_DIR,
    app_name: str = "",
) -> list[StackSettings]:
    """The settings of every stack to build, all files validated first.

    ``app_name`` names the stacks; the stack construct sets it from its App anyway."""
    if clouds is not None:
        for index, cloud in enumerate(clouds):
            if cloud not in CLOUDS:
                raise EnvironmentFileError(
                    "STATEKIT_CLOUDS", f"[{index}]", f"{cloud!r} is not a cloud", ", ".join(CLOUDS)
                )
    if envs is not None:
        available = sorted(path.stem for path in Path(directory).glob("*.toml"))
        for index, env in enumerate(envs):
            if env not in available:
                raise EnvironmentFileError(
                    "STATEKIT_ENVS",
                    f"[{index}]",
                    f"no environments/{env}.toml",
                    ", ".join(available),
                )
    environments = load_environments(envs, directory)
    return [
        environment.for_cloud(cloud, app_name)
        for environment in environments
        for cloud in environment.clouds
        if clouds is None or cloud in clouds
    ]
