"""The README's table of store backends, generated from their own declarations.

Every class registered for the store (``statekit.registry.REGISTRY["store"]``)
declares ``capabilities`` and ``limits``; this module imports each one and
renders them as Markdown, so the README cannot drift from the code. A backend
whose SDK is not installed is left out with a note naming the extra to install,
instead of failing the whole table.

    python -m statekit.capabilities_table
"""

from __future__ import annotations

from dataclasses import dataclass

from statekit.registry import REGISTRY, Backend, MissingExtra
from statekit.store.types import Capability, Limits

CAPABILITY_COLUMNS = (
    (Capability.CONDITIONAL_WRITES, "conditional writes"),
    (Capability.TTL, "TTL"),
    (Capability.INCREMENT, "increment"),
    (Capability.TRANSACTIONS, "transactions"),
    (Capability.LIST, "prefix list"),
    (Capability.BATCH, "batch"),
)


@dataclass(frozen=True)
class Declared:
    schemes: tuple[str, ...]
    name: str
    capabilities: frozenset[Capability]
    limits: Limits


def declared_backends() -> tuple[list[Declared], list[str]]:
    """Each registered store class once (in registry order), and notes on those left out."""
    by_class: dict[Backend, list[str]] = {}
    for scheme, entry in REGISTRY["store"].items():
        by_class.setdefault(entry, []).append(scheme)
    found: list[Declared] = []
    notes: list[str] = []
    for entry, schemes in by_class.items():
        label = " / ".join(f"`{s}://`" for s in schemes)
        try:
            cls = entry.load()
        except MissingExtra as exc:
            notes.append(f"{label}: not shown, needs {exc.module!r} (`{exc.hint}`)")
            continue
        found.append(Declared(tuple(schemes), cls.name, cls.capabilities, cls.limits))
    return found, notes


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """Markdown: a capability table, a limits table, the portable limits, and any notes."""
    backends, notes = declared_backends()
    lines = [
        "| backend | " + " | ".join(title for _, title in CAPABILITY_COLUMNS) + " |",
        "|---|" + "---|" * len(CAPABILITY_COLUMNS),
    ]
    for b in backends:
        marks = ["yes" if cap in b.capabilities else "no" for cap, _ in CAPABILITY_COLUMNS]
        lines.append(f"| {b.name} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "| backend | max value (bytes of JSON) | ops per transaction | batch chunk (read / write) "
        "| TTL precision | consistency | notes |",
        "|---|---:|---:|---|---|---|---|",
    ]
    for b in backends:
        limits = b.limits
        lines.append(
            f"| {b.name} | {limits.max_value_bytes:,} | {limits.max_transaction_ops:,} "
            f"| {limits.batch_read_chunk:,} / {limits.batch_write_chunk:,} "
            f"| {_escape(limits.ttl_precision)} | {_escape(limits.consistency)} "
            f"| {_escape(limits.notes)} |"
        )
    if backends:
        value = min(b.limits.max_value_bytes for b in backends)
        ops = min(b.limits.max_transaction_ops for b in backends)
        lines += [
            "",
            f"Portable limits (the smallest above): values up to {value:,} bytes of JSON, "
            f"transactions of up to {ops:,} operations within one partition.",
        ]
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


def main() -> None:
    print(render(), end="")


if __name__ == "__main__":
    main()
