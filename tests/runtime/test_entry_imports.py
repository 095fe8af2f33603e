"""An entry module imports no other cloud's SDK (a cold start pays only for its own)."""

from __future__ import annotations

import pytest

from benchmarks.cold_start import ENTRY, FOREIGN, foreign_imports, imported_modules


@pytest.mark.parametrize("cloud", sorted(ENTRY))
def test_entry_module_imports_no_other_clouds_sdk(cloud: str) -> None:
    assert foreign_imports(cloud) == [], f"statekit.runtime.{cloud} pulls in {FOREIGN[cloud]}"


def test_importing_statekit_loads_no_cloud_sdk() -> None:
    loaded = imported_modules(["statekit"])
    clouds = ("boto3", "botocore", "azure", "google.cloud", "redis")
    assert (
        sorted(m for m in loaded if m.split(".")[0] in clouds or m.startswith("google.cloud")) == []
    )
