"""Schedules as 5-field UTC cron, checked so that all three clouds can run them.

A ``Schedule`` says ``cron="0 3 * * *"`` (minute, hour, day of month, month,
day of week; Sunday is 0 or 7). The kit renders it for each cloud:

- EventBridge Scheduler: ``cron(0 3 * * ? *)`` (6 fields with a year; one of
  day-of-month / day-of-week must be ``?``; days of week 1-7 from Sunday);
- Azure timer trigger: NCRONTAB ``0 0 3 * * *`` (the kit adds the seconds field);
- Cloud Scheduler: unix-cron as written, in the UTC time zone.

What one of them cannot express is refused here with the reason: seconds,
``L``/``W``/``#``/``?``, ``@daily`` macros, and a day of month together with a
day of week (unix cron runs on either, EventBridge cannot say "either").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from statekit.app.errors import AppError

FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_ITEM = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")
_LAST_OR_WEEKDAY = re.compile(r"\d[lw]|(?<![a-z])[lw]{1,2}(?![a-z])")  # not "jul", "wed"
EVENTBRIDGE_MAX_CHARS = 256  # aws_scheduler_schedule.schedule_expression


@dataclass(frozen=True)
class Cron:
    """A parsed 5-field cron: each field's set of values (day of week 0-6, Sunday 0)."""

    text: str
    fields: tuple[frozenset[int], ...]
    starred: tuple[bool, ...]  # the field was "*" (every value)

    def unix(self) -> str:
        """Unix cron, canonical (numbers, Sunday 0): Cloud Scheduler's form."""
        return " ".join(
            _render(i, values, starred, "*/")
            for i, (values, starred) in enumerate(zip(self.fields, self.starred, strict=True))
        )

    def ncrontab(self) -> str:
        """Azure Functions' 6-field NCRONTAB: second 0, then the five fields."""
        return "0 " + self.unix()

    def eventbridge(self) -> str:
        """EventBridge Scheduler's ``cron(min hour dom month dow year)``."""
        parts = [
            _render(i, v, s, "start/")
            for i, (v, s) in enumerate(zip(self.fields[:4], self.starred[:4], strict=True))
        ]
        dow = self.fields[4]
        if self.starred[4]:
            day_of_week = "?"
        else:
            parts[2] = "?"
            day_of_week = _compress(sorted(day + 1 for day in dow))  # 1 = Sunday
        expression = f"cron({' '.join(parts)} {day_of_week} *)"
        if len(expression) > EVENTBRIDGE_MAX_CHARS:
            raise AppError(
                f"cron {self.text!r}: EventBridge takes at most {EVENTBRIDGE_MAX_CHARS} "
                f"characters and this schedule needs {len(expression)}; use steps or ranges"
            )
        return expression


def parse_cron(text: object, where: str = "cron") -> Cron:
    """The parsed schedule, or ``AppError`` saying which field breaks which cloud's rule."""
    if not isinstance(text, str) or not text.strip():
        raise AppError(f"{where}: expected a 5-field cron string such as '0 3 * * *', got {text!r}")
    if text.strip().startswith("@"):
        raise AppError(
            f"{where}: {text!r}: macros such as @daily are not portable; write the 5 fields "
            "(for @daily: '0 0 * * *')"
        )
    parts = text.split()
    if len(parts) != 5:
        hint = (
            " (no seconds field: the kit adds it for Azure; no year field: it adds it for AWS)"
            if len(parts) in (6, 7)
            else ""
        )
        raise AppError(
            f"{where}: {text!r} has {len(parts)} fields; expected 5 "
            f"(minute hour day-of-month month day-of-week, UTC){hint}"
        )
    fields: list[frozenset[int]] = []
    for index, part in enumerate(parts):
        fields.append(_parse_field(index, part, f"{where}: {text!r}"))
    starred = tuple(part == "*" for part in parts)
    if not starred[2] and not starred[4]:
        raise AppError(
            f"{where}: {text!r} sets both day-of-month and day-of-week; EventBridge cannot run "
            "on either one (unix cron's meaning), so set one of them to '*'"
        )
    cron = Cron(text, tuple(fields), starred)
    cron.eventbridge()  # the length rule
    return cron


def _parse_field(index: int, raw: str, where: str) -> frozenset[int]:
    name = FIELD_NAMES[index]
    part = raw.lower()  # names (jan, mon) in any case
    for char, meaning in (("?", "'?'"), ("#", "'#' (nth weekday)")):
        if char in part:
            raise AppError(
                f"{where}: {name} field {raw!r}: {meaning} is not portable (Azure's NCRONTAB "
                "and Cloud Scheduler's unix-cron lack it)"
            )
    if _LAST_OR_WEEKDAY.search(part):
        raise AppError(
            f"{where}: {name} field {raw!r}: 'L' (last) and 'W' (weekday) are not portable "
            "(Azure's NCRONTAB and Cloud Scheduler's unix-cron lack them)"
        )
    low, high = _BOUNDS[index]
    values: set[int] = set()
    for item in part.split(","):
        match = _ITEM.match(item)
        if match is None:
            raise AppError(f"{where}: {name} field {raw!r}: cannot read {item!r}")
        span, step_text = match.groups()
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first_text, last_text = span.split("-")
            first, last = _value(index, first_text, where), _value(index, last_text, where)
            if first > last:
                raise AppError(
                    f"{where}: {name} field {raw!r}: range {span!r} runs backwards "
                    "(ranges do not wrap around)"
                )
        else:
            first = _value(index, span, where)
            last = high if step_text else first
        step = int(step_text) if step_text else 1
        if step < 1:
            raise AppError(f"{where}: {name} field {raw!r}: a step must be 1 or more")
        values.update(range(first, last + 1, step))
    if index == 4:  # Sunday is 0 or 7; keep 0
        values = {0 if value == 7 else value for value in values}
    return frozenset(values)


def _value(index: int, text: str, where: str) -> int:
    name = FIELD_NAMES[index]
    names = _MONTHS if index == 3 else _DAYS if index == 4 else {}
    if text in names:
        return names[text]
    low, high = _BOUNDS[index]
    if not text.isdigit() or not low <= int(text) <= high:
        raise AppError(f"{where}: {name} value {text!r}: expected {low} to {high}")
    return int(text)


def _render(index: int, values: frozenset[int], starred: bool, step_style: str) -> str:
    low, high = _BOUNDS[index]
    if index == 4:
        high = 6
    if starred or values == frozenset(range(low, high + 1)):
        return "*"
    ordered = sorted(values)
    if len(ordered) > 2:
        step = ordered[1] - ordered[0]
        if (
            step > 1
            and ordered == list(range(ordered[0], high + 1, step))
            and (step_style == "start/" or ordered[0] == low)
        ):
            return f"{ordered[0]}/{step}" if step_style == "start/" else f"*/{step}"
    return _compress(ordered)


def _compress(ordered: list[int]) -> str:
    """``1,2,3,5`` -> ``1-3,5``: every cloud reads lists of values and ranges."""
    runs: list[str] = []
    start = prev = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if value is not None:
            start = prev = value
    return ",".join(runs)
