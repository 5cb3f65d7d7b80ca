"""What each rule frequency promises about the age of its last successful sync, and who is late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from include.datasphere_glue.rules.model import Frequency, is_cron_expression

NAMED_INTERVALS: dict[str, timedelta] = {
    Frequency.EVERY_15MIN.value: timedelta(minutes=15),
    Frequency.HOURLY.value: timedelta(hours=1),
    Frequency.DAILY.value: timedelta(days=1),
    Frequency.WEEKLY.value: timedelta(weeks=1),
}
"""Schedule interval of each periodic named frequency."""

MIN_GRACE = timedelta(minutes=5)
"""A run needs time to finish after its schedule fires; a rule is late only past this slack."""

GRACE_SHARE = 0.25
"""Share of the interval added as slack for long intervals (a daily rule may take a while)."""

MAX_CRON_FIRES = 700
"""Fire times examined per cron rule; a gap pattern repeats well within this (hourly: a week)."""


@dataclass(frozen=True)
class Freshness:
    """How old a rule's last successful sync is, against what its frequency promises.

    :param status: ``ok``, ``late``, ``never`` (no successful run and late by now), ``paused`` or
        ``unscheduled`` (manual and real_time rules promise no interval).
    :param age_seconds: seconds since the last successful run ended, or None when it never succeeded.
    :param promise_seconds: the frequency's interval plus slack, or None when it promises none.
    """

    status: str
    age_seconds: float | None
    promise_seconds: float | None

    @property
    def late(self) -> bool:
        """Whether the rule broke its frequency's promise."""
        return self.status in ("late", "never")


def promised_interval(frequency: str, *, now: datetime) -> timedelta | None:
    """Return the schedule interval a frequency promises, or None for manual and real_time rules.

    Real-time rules react to changes and start no run when nothing changed, so the age of their last
    run says nothing about them being late.

    :param frequency: a named frequency or a five-field cron expression.
    :param now: the moment to measure cron gaps around (cron gaps can vary through the week).
    """
    if frequency in NAMED_INTERVALS:
        return NAMED_INTERVALS[frequency]
    if is_cron_expression(frequency):
        return _widest_cron_gap(frequency, now.replace(minute=0, second=0, microsecond=0))
    return None


def judge(
    frequency: str,
    *,
    last_success: datetime | None,
    first_seen: datetime | None,
    paused: bool,
    now: datetime,
) -> Freshness:
    """Judge one rule's freshness.

    :param frequency: the rule's frequency (from its DAG's ``frequency:`` tag).
    :param last_success: end of the last successful run, if any.
    :param first_seen: when the rule's first run was due to start (its oldest run), so that a new rule
        is not called late before it had the chance to run.
    :param paused: whether the rule's DAG is paused; paused rules are never late.
    :param now: the current time (timezone-aware).
    """
    age = (now - last_success).total_seconds() if last_success else None
    interval = promised_interval(frequency, now=now)
    if interval is None:
        return Freshness("unscheduled", age, None)
    promise = interval + max(MIN_GRACE, interval * GRACE_SHARE)
    if paused:
        return Freshness("paused", age, promise.total_seconds())
    if age is None:
        waited = (now - first_seen) if first_seen else timedelta(0)
        status = "never" if waited > promise else "ok"
        return Freshness(status, None, promise.total_seconds())
    return Freshness("late" if age > promise.total_seconds() else "ok", age, promise.total_seconds())


@lru_cache(maxsize=1024)
def _widest_cron_gap(expression: str, hour: datetime) -> timedelta:
    """Widest gap between consecutive fire times over the coming week (cron gaps need not be even).

    Cached per expression and hour: the page asks for every cron rule on every refresh.
    """
    from croniter import croniter  # light; only rules with cron expressions need it

    fires = croniter(expression, hour)
    previous: datetime = fires.get_prev(datetime)
    fires = croniter(expression, previous)
    widest = timedelta(0)
    horizon = hour + timedelta(weeks=1)
    for _ in range(MAX_CRON_FIRES):
        following: datetime = fires.get_next(datetime)
        widest = max(widest, following - previous)
        if following > horizon:
            break
        previous = following
    return widest
