"""Layers point one way: read from the import statements of statekit/ (AST only, no
module is imported, so no import side effect hides or causes a failure).

- no import cycle among statekit's modules at import time (imports under
  ``if TYPE_CHECKING:`` and inside functions run later, or never, and do not count);
- a backend (``statekit/<block>/backends/``) or an engine (``statekit/workflows/engines/``)
  never imports its block's facade at import time (``statekit.<block>`` itself or
  ``statekit.<block>.facade``): it imports the block's contract, types and rules;
- nothing in statekit/ imports the example app (``handlers``) or the IaC (``modules``),
  at any time.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "statekit"
BLOCKS = ("store", "cache", "queue", "workflows")
FOREIGN = ("handlers", "modules")
# statekit.dev still serves the example app on this branch; the ``app`` branch
# rewrites it to serve any App. Delete this line when that branch is merged.
NOT_YET_FREE_OF_THE_EXAMPLE = {"statekit.dev"}


@dataclass(frozen=True)
class Import:
    target: str  # a dotted module name
    line: int
    at_import_time: bool  # module level, outside ``if TYPE_CHECKING:``


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(body: list[ast.stmt], at_import_time: bool) -> Iterator[tuple[ast.stmt, bool]]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, at_import_time
        elif isinstance(node, ast.If):
            yield from _walk(node.body, at_import_time and not _is_type_checking(node.test))
            yield from _walk(node.orelse, at_import_time)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _walk(block, at_import_time)
            for handler in node.handlers:
                yield from _walk(handler.body, at_import_time)
        elif isinstance(node, ast.With):
            yield from _walk(node.body, at_import_time)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _walk(node.body, False)
        elif isinstance(node, ast.ClassDef):
            yield from _walk(node.body, at_import_time)  # a class body runs at import
        else:
            # Imports nested in other statements (loops, matches) still run when reached.
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from _walk([child], at_import_time)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node, at_import_time in _walk(tree.body, True):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            assert isinstance(node, ast.ImportFrom)
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        found += [Import(target, node.lineno, at_import_time) for target in targets]
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """Module -> the statekit modules it runs at import time (-> the line)."""
    modules = all_modules()
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        for found in imports_of(name, path, modules):
            if not found.at_import_time:
                continue
            # Importing a.b.c runs a and a.b first, unless they are this module's own
            # packages (already being imported when this module runs).
            parts = found.target.split(".")
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                if target in modules and target != name and target not in ancestors:
                    graph[name].setdefault(target, found.line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def block_of_backend(name: str) -> str | None:
    """The block a backend or engine module belongs to, or None for any other module."""
    parts = name.split(".")
    if len(parts) > 3 and parts[1] in BLOCKS and parts[2] in ("backends", "engines"):
        return parts[1]
    return None


def test_the_import_graph_is_read_from_every_module() -> None:
    graph = import_graph()
    assert "statekit.store.backends.sqlite" in graph
    assert "statekit.store.backend" in graph["statekit.store.backends.sqlite"]
    assert "statekit.store.facade" in graph["statekit.store"]


def cycle_through(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """One cycle within a strongly connected component, from its first module back to it."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in graph[node]:
            if target == start:
                return [*paths[node], start]
            if target in members and target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"{component} is not strongly connected")


def test_no_import_cycle_at_import_time() -> None:
    graph = import_graph()
    described = []
    for component in cycles(graph):
        path = cycle_through(graph, component)
        described.append(
            " -> ".join(f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(path))
            + f" -> {path[-1]}"
        )
    assert not described, "import cycles:\n" + "\n".join(described)


def test_backends_and_engines_never_import_their_blocks_facade() -> None:
    modules = all_modules()
    offences = []
    for name, path in modules.items():
        block = block_of_backend(name)
        if block is None:
            continue
        facade = {f"statekit.{block}", f"statekit.{block}.facade"}
        offences += [
            f"{path.relative_to(ROOT)}:{found.line} imports {found.target}"
            for found in imports_of(name, path, modules)
            if found.at_import_time and found.target in facade
        ]
    assert not offences, "a backend imports its facade:\n" + "\n".join(offences)


def test_statekit_never_imports_the_example_app_or_the_iac() -> None:
    modules = all_modules()
    offences, still_needed = [], set()
    for name, path in modules.items():
        for found in imports_of(name, path, modules):
            if found.target.split(".")[0] not in FOREIGN:
                continue
            if name in NOT_YET_FREE_OF_THE_EXAMPLE:
                still_needed.add(name)
            else:
                offences.append(f"{path.relative_to(ROOT)}:{found.line} imports {found.target}")
    assert not offences, "statekit imports the app or the IaC:\n" + "\n".join(offences)
    stale = NOT_YET_FREE_OF_THE_EXAMPLE - still_needed
    assert not stale, f"{sorted(stale)} no longer import the example: delete the exception"
