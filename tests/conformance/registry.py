"""Which backends the conformance suites run over, discovered from files.

A backend joins a suite by adding one file: ``store_cases/<name>.py``
(or ``queue_cases/``, ``cache_cases/``) defining ``CASE = Case(...)``: how to get
a URL to a live instance (starting its stand-in through the pool), and which
tests are expected to fail because of a documented deviation of the stand-in
(``xfail``: test name -> the deviation, applied as ``xfail(strict=True)``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.standins.base import StandInPool

UrlFactory = Callable[[StandInPool, Path], str]


@dataclass(frozen=True)
class Case:
    name: str
    url: UrlFactory
    xfail: Mapping[str, str] = field(default_factory=dict)
    # Extra the backend needs (``pip install statekit[<extra>]``); absent -> skipped with reason.
    needs_module: str | None = None


def discover(folder: str) -> list[Case]:
    package = f"tests.conformance.{folder}"
    path = Path(__file__).with_name(folder)
    cases = []
    for info in sorted(pkgutil.iter_modules([str(path)]), key=lambda i: i.name):
        module = importlib.import_module(f"{package}.{info.name}")
        cases.append(module.CASE)
    return cases
