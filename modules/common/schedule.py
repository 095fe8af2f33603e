"""A Schedule's 5-field UTC cron, written the way each cloud's scheduler reads it.

- EventBridge Scheduler: ``cron(min hour day-of-month month day-of-week year)``;
  one of the two day fields must be ``?`` and day-of-week counts 1-7 from Sunday,
  so numeric days become names (``1-5`` -> ``MON-FRI``).
- Azure Functions timer: 6-field NCRONTAB, a seconds field first.
- Cloud Scheduler: the unix cron as written, with ``time_zone = "Etc/UTC"``.

``statekit.app`` rejects a cron the three cannot all express before any construct is
made; ``ScheduleError`` here is the last guard.
"""

from __future__ import annotations

import re

DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
UTC = "Etc/UTC"


class ScheduleError(ValueError):
    """A cron expression one of the clouds cannot express."""


def _fields(cron: str) -> list[str]:
    fields = cron.split()
    if len(fields) != 5:
        raise ScheduleError(f"cron {cron!r}: expected 5 fields (minute hour day month weekday)")
    return fields


def _day_names(field: str) -> str:
    """Numeric days of the week (0 or 7 = Sunday) as names; names and ``*`` stay."""
    return re.sub(r"(?<![/\w])([0-7])(?![\w])", lambda m: DAY_NAMES[int(m.group(1))], field)


def eventbridge_expression(cron: str) -> str:
    minute, hour, day, month, weekday = _fields(cron)
    if weekday == "*":
        weekday = "?"
    elif day == "*":
        day = "?"
    else:
        raise ScheduleError(
            f"cron {cron!r}: EventBridge cannot restrict both day of month and day of week"
        )
    if weekday != "?":
        weekday = _day_names(weekday)
    return f"cron({minute} {hour} {day} {month} {weekday} *)"


def ncrontab_expression(cron: str) -> str:
    """Azure's timer trigger: seconds first (always 0)."""
    return "0 " + " ".join(_fields(cron))


def cloud_scheduler_expression(cron: str) -> str:
    return " ".join(_fields(cron))
