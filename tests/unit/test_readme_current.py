"""The README's capabilities block is what the backends declare today."""

from __future__ import annotations

from statekit.readme_sync import README, rendered_readme


def test_readme_capability_table_is_current() -> None:
    text = README.read_text()
    assert rendered_readme(text) == text, "run: .venv/bin/python -m statekit.readme_sync"
