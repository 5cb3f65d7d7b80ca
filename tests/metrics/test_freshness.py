"""What each frequency promises, and when a rule counts as late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from include.datasphere_glue.metrics.freshness import judge, promised_interval

NOW = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("frequency", "interval"),
    [
        ("every_15min", timedelta(minutes=15)),
        ("hourly", timedelta(hours=1)),
        ("daily", timedelta(days=1)),
        ("weekly", timedelta(weeks=1)),
        ("*/10 * * * *", timedelta(minutes=10)),
        ("0 6 * * 1-5", timedelta(days=3)),  # weekdays at 06:00: Friday to Monday is the widest gap
        ("manual", None),
        ("real_time", None),
    ],
)
def test_promised_interval(frequency: str, interval: timedelta | None) -> None:
    assert promised_interval(frequency, now=NOW) == interval


def test_hourly_rule_is_late_after_interval_and_slack() -> None:
    promise = timedelta(hours=1) + timedelta(minutes=15)  # a quarter of the interval as slack
    on_time = judge(
        "hourly", last_success=NOW - promise + timedelta(seconds=1), first_seen=None, paused=False, now=NOW
    )
    late = judge(
        "hourly", last_success=NOW - promise - timedelta(seconds=1), first_seen=None, paused=False, now=NOW
    )
    assert (on_time.status, late.status) == ("ok", "late")
    assert late.late and not on_time.late


def test_short_intervals_get_at_least_five_minutes_of_slack() -> None:
    result = judge(
        "*/1 * * * *", last_success=NOW - timedelta(minutes=5), first_seen=None, paused=False, now=NOW
    )
    assert result.promise_seconds == 6 * 60
    assert result.status == "ok"


def test_never_succeeded_is_late_only_once_it_had_the_time() -> None:
    fresh = judge("daily", last_success=None, first_seen=NOW - timedelta(hours=2), paused=False, now=NOW)
    stale = judge("daily", last_success=None, first_seen=NOW - timedelta(days=2), paused=False, now=NOW)
    assert (fresh.status, stale.status) == ("ok", "never")


def test_paused_and_unscheduled_rules_are_never_late() -> None:
    old = NOW - timedelta(days=30)
    assert judge("hourly", last_success=old, first_seen=old, paused=True, now=NOW).status == "paused"
    assert judge("manual", last_success=old, first_seen=old, paused=False, now=NOW).status == "unscheduled"
