"""Checkov on every Azure stack: 0 failed checks, and every skip has a reason and still applies.

(The no-secret scan over every synthesized stack, Azure included, is
test_all_stacks.py::test_no_secret_value_in_any_synthesized_stack; the Azure-specific
secret paths, Key Vault references, are asserted in test_azure_stack.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.iac.azure_gcp_support import ENVS, StackView, checkov_binary, judge_checkov, run_checkov
from tests.iac.checkov_skips_azure_gcp import skips_for
from tests.iac.conftest import Synthesized


@pytest.mark.slow
@pytest.mark.parametrize("env", ENVS)
def test_checkov_passes_azure_stack(env: str, synthesized: Synthesized, tmp_path: Path) -> None:
    if checkov_binary() is None:
        pytest.skip("checkov is not installed in .tools/checkov-venv (make tools installs it)")
    stack = StackView(synthesized, "azure", env)
    skips = skips_for(stack.settings)
    verdict = judge_checkov(run_checkov(stack, tmp_path), skips)
    print(
        f"{stack.name}: checkov passed {verdict.passed}, skipped {len(verdict.skipped)}, failed {len(verdict.failed)}"
    )
    assert verdict.failed == []
    assert verdict.stale_skips == [], "skip-list entries that no longer match any failing resource"
    assert verdict.passed > 0
