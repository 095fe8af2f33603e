"""Which backends the conformance suites run over, discovered from files.

A backend joins its block's suite by adding one file, ``<block>/cases/<name>.py``
(``store/``, ``queue/``, ``cache/``), defining ``CASE = Case(...)``:

- ``url``: how to get a URL to a live instance, starting its stand-in through the
  session's pool (shared with the other suites, never stopped mid-run);
- ``capabilities``: what the backend is expected to declare; each capability left
  out is checked to raise ``Unsupported``;
- ``restartable``: a stand-in of the test's own that the fault tests stop mid-run
  and start again on the same port (None: the backend has no server to lose);
- ``xfail``: test name -> the stand-in's documented deviation, applied as
  ``xfail(strict=True)``.

The benchmarks reuse the same cases instead of writing the URL factory again.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from tests.standins.base import StandIn, StandInPool

UrlFactory = Callable[[StandInPool, Path], str]


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Restartable:
    """A started stand-in of one test's own, the URL that reaches it, and what a restart needs."""

    standin: StandIn
    url: str
    # Variables the SDK reads (endpoints, fake credentials); the test sets and restores them.
    env: Mapping[str, str] = field(default_factory=dict)
    # True when what was acknowledged before a stop is there after the restart.
    keeps_data: bool = False
    # Run after every restart: what the IaC would provision again on an emulator that
    # keeps nothing (a container), or rebuilding state from a recording.
    after_restart: Callable[[], None] = _nothing

    def stop(self) -> None:
        self.standin.stop()

    def restart(self) -> None:
        self.standin.start()  # same port: a client made before the stop reaches it
        self.after_restart()


RestartableFactory = Callable[[Path], Restartable]


@dataclass(frozen=True)
class Case:
    name: str
    url: UrlFactory
    # The backend's declared capabilities (a Capability / QueueCapability set); None where
    # the block has no capabilities (the cache).
    capabilities: frozenset[Enum] | None = None
    restartable: RestartableFactory | None = None
    xfail: Mapping[str, str] = field(default_factory=dict)
    # Extra the backend needs (``pip install statekit[<extra>]``); absent -> skipped with reason.
    needs_module: str | None = None


def discover(block: str) -> list[Case]:
    """Every ``CASE`` in ``tests/conformance/<block>/cases/``, by file name."""
    package = f"tests.conformance.{block}.cases"
    path = Path(__file__).with_name(block) / "cases"
    cases = []
    for info in sorted(pkgutil.iter_modules([str(path)]), key=lambda i: i.name):
        module = importlib.import_module(f"{package}.{info.name}")
        cases.append(module.CASE)
    return cases


# Block -> its cases by name: the conformance conftest marks xfails and writes the
# results artifact for every suite registered here.
SUITES: dict[str, dict[str, Case]] = {}


def register_suite(block: str) -> dict[str, Case]:
    """Discover a block's cases and register them; its conftest calls this once."""
    cases = {case.name: case for case in discover(block)}
    SUITES[block] = cases
    return cases
