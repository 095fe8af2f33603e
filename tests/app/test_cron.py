"""The portable cron: what each cloud receives, and what none of them may."""

from __future__ import annotations

import pytest

from statekit.app import AppError, Schedule, parse_cron


@pytest.mark.parametrize(
    ("cron", "eventbridge", "ncrontab", "unix"),
    [
        ("0 3 * * *", "cron(0 3 * * ? *)", "0 0 3 * * *", "0 3 * * *"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)", "0 */15 * * * *", "*/15 * * * *"),
        ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)", "0 0 9 * * 1-5", "0 9 * * 1-5"),
        ("0 0 1 * *", "cron(0 0 1 * ? *)", "0 0 0 1 * *", "0 0 1 * *"),
        ("30 2 * JAN,jul Mon", "cron(30 2 ? 1,7 2 *)", "0 30 2 * 1,7 1", "30 2 * 1,7 1"),
        ("0 0 * * 7", "cron(0 0 ? * 1 *)", "0 0 0 * * 0", "0 0 * * 0"),
        (
            "5,10-12 */2 * * sun-tue",
            "cron(5,10-12 0/2 ? * 1-3 *)",
            "0 5,10-12 */2 * * 0-2",
            "5,10-12 */2 * * 0-2",
        ),
        ("0-59/20 1 * * *", "cron(0/20 1 * * ? *)", "0 */20 1 * * *", "*/20 1 * * *"),
    ],
)
def test_each_cloud_gets_the_same_schedule(
    cron: str, eventbridge: str, ncrontab: str, unix: str
) -> None:
    parsed = parse_cron(cron)
    assert parsed.eventbridge() == eventbridge
    assert parsed.ncrontab() == ncrontab
    assert parsed.unix() == unix
    schedule = Schedule("nightly", "x.y:z", cron=cron)
    assert (schedule.eventbridge_cron, schedule.ncrontab, schedule.unix_cron) == (
        eventbridge,
        ncrontab,
        unix,
    )


@pytest.mark.parametrize(
    ("cron", "says"),
    [
        ("0 3 * *", "has 4 fields; expected 5"),
        ("0 0 3 * * *", "no seconds field: the kit adds it for Azure"),
        ("0 0 L * *", "day-of-month field 'L': 'L' (last) and 'W' (weekday) are not portable"),
        ("0 0 * * 5L", "day-of-week field '5L'"),
        ("0 0 15W * *", "'W' (weekday) are not portable"),
        ("0 0 * * 1#2", "'#' (nth weekday) is not portable"),
        ("0 0 ? * 1", "'?' is not portable"),
        ("@daily", "macros such as @daily are not portable"),
        ("0 0 1 * 1", "sets both day-of-month and day-of-week"),
        ("60 * * * *", "minute value '60': expected 0 to 59"),
        ("0 24 * * *", "hour value '24': expected 0 to 23"),
        ("0 5-3 * * *", "range '5-3' runs backwards"),
        ("0 0 * foo *", "month value 'foo'"),
        ("*/0 * * * *", "a step must be 1 or more"),
        ("", "expected a 5-field cron string"),
    ],
)
def test_a_cron_one_cloud_cannot_run_is_refused_with_the_reason(cron: str, says: str) -> None:
    with pytest.raises(AppError) as caught:
        parse_cron(cron)
    assert says in str(caught.value)
