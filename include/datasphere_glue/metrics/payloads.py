"""Shape the sync figures into the JSON documents the API returns and the page and Prometheus reuse."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.orm import Session

from include.datasphere_glue.metrics import queries
from include.datasphere_glue.metrics.freshness import judge
from include.datasphere_glue.metrics.queries import Figures, RuleInfo, Window
from include.datasphere_glue.metrics.scrub import report_errors, scrub

API_VERSION = "v1"


class Snapshot:
    """The windowed figures of one request, each computed at most once however many documents use them.

    :param session: metadata database session.
    :param rules: the rules the user may read (already narrowed by any filter).
    :param window: time range of the runs counted.
    :param levels: percentile levels the request shows (``rule``, ``priority``, ``all``); ranked in
        one statement.
    """

    def __init__(
        self,
        session: Session,
        rules: list[RuleInfo],
        window: Window,
        *,
        levels: Collection[str] = queries.PERCENTILE_LEVELS,
    ) -> None:
        self.session = session
        self.rules = rules
        self.window = window
        self.levels = levels

    @cached_property
    def percentiles(self) -> dict[str, dict[str, tuple[float | None, float | None]]]:
        """Job duration percentiles of the requested levels."""
        return queries.duration_percentiles(self.session, self.rules, self.window, levels=self.levels)

    @cached_property
    def _windowed(self) -> tuple[dict[str, Figures], dict[str, Any]]:
        figures, series = queries.window_figures(self.session, self.rules, self.window)
        queries.with_percentiles(figures, self.percentiles["rule"])
        return figures, series

    @property
    def per_rule(self) -> dict[str, Figures]:
        """Figures of each rule, keyed by dag_id."""
        return self._windowed[0]

    @property
    def series(self) -> dict[str, Any]:
        """Runs, jobs and synced assets per time bucket and priority."""
        return self._windowed[1]


def summary(snapshot: Snapshot) -> dict[str, Any]:
    """Totals, per-priority figures and time series over the window."""
    rules, per_rule = snapshot.rules, snapshot.per_rule
    by_priority = queries.group_figures(rules, per_rule, snapshot.percentiles["priority"], "priority")
    overall = queries.group_figures(rules, per_rule, snapshot.percentiles["all"], "all").get("all", Figures())
    return {
        "api_version": API_VERSION,
        "window": window_json(snapshot.window),
        "rules": len(rules),
        "totals": figures_json(overall),
        "priorities": {
            priority: figures_json(by_priority[priority])
            for priority in (*queries.PRIORITIES, queries.UNKNOWN)
            if priority in by_priority
        },
        "series": snapshot.series,
    }


def rules_report(snapshot: Snapshot, *, now: datetime) -> dict[str, Any]:
    """Per-rule figures over the window, with each rule's freshness right now."""
    history = queries.run_history(snapshot.session, snapshot.rules)
    entries = []
    for info in snapshot.rules:
        past = history[info.dag_id]
        freshness = judge(
            info.frequency,
            last_success=past["last_success"],
            first_seen=past["first_run"],
            paused=info.paused,
            now=now,
        )
        entries.append(
            {
                "rule": info.rule,
                "dag_id": info.dag_id,
                "priority": info.priority,
                "frequency": info.frequency,
                "owner": info.owner,
                "paused": info.paused,
                **figures_json(snapshot.per_rule[info.dag_id]),
                "freshness": {
                    "status": freshness.status,
                    "late": freshness.late,
                    "last_success": _iso(past["last_success"]),
                    "age_seconds": freshness.age_seconds,
                    "promise_seconds": freshness.promise_seconds,
                    "last_run_state": past["last_state"],
                },
            }
        )
    return {
        "api_version": API_VERSION,
        "window": window_json(snapshot.window),
        "late": sum(1 for entry in entries if entry["freshness"]["late"]),
        "rules": entries,
    }


def queue_report(session: Session, rules: list[RuleInfo], *, include_pools: bool) -> dict[str, Any]:
    """Waiting and running jobs now, by priority and by pool, and each pool's occupancy."""
    queue = queries.queue_now(session, rules, include_pools=include_pools)
    totals = dict.fromkeys((*queries.QUEUE_STATES, "waiting"), 0)
    for lane in queue.by_priority.values():
        for state, count in lane.items():
            totals[state] += count
    ordered = [p for p in (*queries.PRIORITIES, queries.UNKNOWN) if p in queue.by_priority]
    return {
        "api_version": API_VERSION,
        "totals": totals,
        "by_priority": {priority: queue.by_priority[priority] for priority in ordered},
        "by_pool": dict(sorted(queue.by_pool.items())),
        "pools": dict(sorted(queue.pools.items())) if include_pools else None,
    }


def failures_report(
    session: Session, rules: list[RuleInfo], window: Window, *, limit: int, ui_base: str
) -> dict[str, Any]:
    """The latest failed jobs with their scrubbed error messages and a link to each task's log.

    :param ui_base: path of the Airflow UI root (without a trailing slash), for log links.
    """
    failures = queries.recent_failures(session, rules, window, limit=limit)
    return {
        "api_version": API_VERSION,
        "window": window_json(window),
        "failures": [
            {
                "rule": failure.rule,
                "dag_id": failure.dag_id,
                "run_id": failure.run_id,
                "task_id": failure.task_id,
                "map_index": failure.map_index,
                "label": scrub(failure.label) if failure.label else None,
                "try_number": failure.try_number,
                "state": failure.state,
                "ended": _iso(failure.ended),
                "errors": report_errors(failure.report) or ["no report; the error is in the task's log"],
                "log_url": log_url(ui_base, failure),
            }
            for failure in failures
        ],
    }


def log_url(ui_base: str, failure: queries.FailedJob) -> str:
    """Link to a task attempt's log in the Airflow 3 UI (``/dags/{dag}/runs/{run}/tasks/{task}``)."""
    path = (
        f"{ui_base}/dags/{quote(failure.dag_id, safe='')}/runs/{quote(failure.run_id, safe='')}"
        f"/tasks/{quote(failure.task_id, safe='')}"
    )
    if failure.map_index >= 0:
        path += f"/mapped/{failure.map_index}"
    return f"{path}?{urlencode({'try_number': failure.try_number})}"


def figures_json(figures: Figures) -> dict[str, Any]:
    """Render one group's figures."""
    return {
        "runs": dict(sorted(figures.runs.items())),
        "jobs": dict(sorted(figures.jobs.items())),
        "success_rate": figures.success_rate,
        "job_duration_seconds": {"p50": figures.job_p50_seconds, "p95": figures.job_p95_seconds},
        "assets": dict(figures.assets),
        "assets_synced": figures.assets_synced,
        "assets_per_minute": figures.assets_per_minute,
        "reports": figures.reports,
        "report_seconds": figures.report_seconds,
    }


def window_json(window: Window) -> dict[str, Any]:
    """Render the window the figures cover."""
    return {"since": window.since.isoformat(), "until": window.until.isoformat(), "seconds": window.seconds}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
