"""Emit a sync run's counters and duration through Airflow's metrics (StatsD or OpenTelemetry)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

log = logging.getLogger(__name__)

STAT_PREFIX = "datasphere_sync"
OUTCOMES = ("created", "updated", "unchanged", "deleted", "skipped", "failed")


def emit_sync_report(rule: str, priority: str, summary: Mapping[str, Any]) -> None:
    """Count a finished run's assets by outcome and time it, tagged by rule and priority.

    Call it once per run, from ``finalize``, with the run's ``SyncReport.summary()``; calling it per
    job as well would count assets twice. Dry runs change nothing and emit nothing.

    Backends that carry tags (OpenTelemetry, DogStatsD, StatsD with InfluxDB tags) get
    ``datasphere_sync.assets.<outcome>`` and ``datasphere_sync.duration`` with ``rule`` and ``priority``
    tags. Plain StatsD drops tags, so there the rule and priority go into the name instead:
    ``datasphere_sync.<priority>.<rule>.assets.<outcome>`` and ``datasphere_sync.<priority>.<rule>.duration``.

    :param rule: the rule's name.
    :param priority: the rule's priority (CRITICAL, HIGH, MEDIUM, LOW, MAINTENANCE).
    :param summary: the run's report summary; counts missing from it count as zero.
    """
    if summary.get("dry_run"):
        log.debug("Rule %s: dry run, no sync metrics emitted", rule)
        return
    from airflow.sdk.observability import stats

    tags = {"rule": rule, "priority": priority}
    tagged = _backend_carries_tags()
    for outcome in OUTCOMES:
        count = int(summary.get(outcome) or 0)
        if count:
            stats.incr(_name(f"assets.{outcome}", tags, tagged), count, tags=tags if tagged else None)
    duration = timedelta(seconds=float(summary.get("duration_seconds") or 0.0))
    stats.timing(_name("duration", tags, tagged), duration, tags=tags if tagged else None)


def stat_names(rule: str, priority: str, *, tagged: bool) -> list[str]:
    """Every metric name :func:`emit_sync_report` may use for one rule (for docs and dashboards).

    :param tagged: whether the backend carries tags (see :func:`emit_sync_report`).
    """
    tags = {"rule": rule, "priority": priority}
    return [_name(f"assets.{outcome}", tags, tagged) for outcome in OUTCOMES] + [
        _name("duration", tags, tagged)
    ]


def _name(metric: str, tags: Mapping[str, str], tagged: bool) -> str:
    if tagged:
        return f"{STAT_PREFIX}.{metric}"
    return f"{STAT_PREFIX}.{tags['priority']}.{tags['rule']}.{metric}"


def _backend_carries_tags() -> bool:
    """Tell whether the configured metrics backend keeps tags; plain StatsD drops them silently."""
    from airflow.sdk.configuration import conf

    if not conf.getboolean("metrics", "statsd_on", fallback=False):
        return True  # OpenTelemetry, DogStatsD or no backend at all
    return conf.getboolean("metrics", "statsd_datadog_enabled", fallback=False) or conf.getboolean(
        "metrics", "statsd_influxdb_enabled", fallback=False
    )
