"""Keep the README's generated blocks current: ``python -m statekit.readme_sync``.

The capabilities table is rendered from the backends' own declarations, so the
README cannot drift from the code; a test compares the two.
"""

from __future__ import annotations

from pathlib import Path

from statekit.capabilities_table import render

START = "<!-- capabilities:start -->"
END = "<!-- capabilities:end -->"
README = Path(__file__).resolve().parents[1] / "README.md"


def rendered_readme(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{render().strip()}\n{END}{tail}"


def main() -> None:
    text = README.read_text()
    README.write_text(rendered_readme(text))


if __name__ == "__main__":
    main()
