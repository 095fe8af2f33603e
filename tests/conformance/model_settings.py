"""The hypothesis settings of a stateful model suite: bounded in ``make test``, long in ``make fuzz``.

``HYPOTHESIS_PROFILE=fuzz`` (what ``make fuzz`` sets) picks the long counts and keeps
failing examples in ``.hypothesis/``; otherwise the counts are the bounded ones and
nothing is written there.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def model_settings(ci: tuple[int, int], fuzz: tuple[int, int]) -> settings:
    """``(max_examples, stateful_step_count)`` for CI and for the fuzz run."""
    fuzzing = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
    examples, steps = fuzz if fuzzing else ci
    bounded = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    return bounded if fuzzing else settings(bounded, database=None)
