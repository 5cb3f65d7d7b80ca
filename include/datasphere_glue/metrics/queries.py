"""Bounded, aggregated reads of the metadata database about sync DAGs: runs, jobs, reports, queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from airflow.models.dag import DagModel, DagTag
from airflow.models.dagrun import DagRun
from airflow.models.pool import Pool
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

SYNC_DAG_PREFIX = "datasphere_sync__"
JOB_TASK_IDS = ("sync_stage_0", "sync_stage_1", "sync_stage_2")
"""The sync jobs: mapped stage tasks. Equality on task_id (not LIKE) lets the ``ti_state_lkp`` index
(dag_id, task_id, run_id, state) answer job counts without reading the table."""
FINALIZE_TASK = "finalize"
REPORT_KEYS = ("report", "return_value")
"""XCom keys that may carry a job's report; ``report`` is pushed by a job before it fails."""

OUTCOMES = ("created", "updated", "unchanged", "deleted", "skipped", "failed")
SYNCED_OUTCOMES = ("created", "updated", "unchanged", "deleted")
PRIORITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "MAINTENANCE")
UNKNOWN = "UNKNOWN"
WAITING_STATES = ("scheduled", "queued")
QUEUE_STATES = ("scheduled", "queued", "running", "deferred", "up_for_retry")
FAILED_JOB_STATES = ("failed", "up_for_retry")

DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=14)
SERIES_BUCKETS = 24
PERCENTILES = (50, 95)
PERCENTILE_LEVELS = ("rule", "priority", "all")


@dataclass(frozen=True)
class RuleInfo:
    """A sync rule as its DAG shows it in the metadata database."""

    rule: str
    dag_id: str
    priority: str
    frequency: str
    owner: str
    paused: bool


@dataclass(frozen=True)
class Window:
    """The time range the figures cover: runs whose ``run_after`` falls in ``[since, until)``."""

    since: datetime
    until: datetime
    buckets: int = SERIES_BUCKETS

    @property
    def seconds(self) -> float:
        """Length of the window in seconds."""
        return (self.until - self.since).total_seconds()

    @property
    def bucket_starts(self) -> list[datetime]:
        """Start of each of the equal time buckets the series split the window into."""
        step = (self.until - self.since) / self.buckets
        return [self.since + step * index for index in range(self.buckets)]


@dataclass
class Figures:
    """Counts of one rule, one priority or everything over the window."""

    runs: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    assets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    reports: int = 0
    report_seconds: float = 0.0
    job_p50_seconds: float | None = None
    job_p95_seconds: float | None = None

    @property
    def success_rate(self) -> float | None:
        """Share of finished runs that succeeded; None before any run finished."""
        finished = self.runs.get("success", 0) + self.runs.get("failed", 0)
        return self.runs.get("success", 0) / finished if finished else None

    @property
    def assets_synced(self) -> int:
        """Assets a run put in step with Datasphere: created, updated, unchanged or deleted."""
        return sum(self.assets[outcome] for outcome in SYNCED_OUTCOMES)

    @property
    def assets_per_minute(self) -> float | None:
        """Assets synced per minute of sync time reported by the runs' final reports."""
        return self.assets_synced / (self.report_seconds / 60) if self.report_seconds > 0 else None

    def add(self, other: Figures) -> None:
        """Add another group's counts (percentiles do not add up and are left alone)."""
        for state, count in other.runs.items():
            self.runs[state] = self.runs.get(state, 0) + count
        for state, count in other.jobs.items():
            self.jobs[state] = self.jobs.get(state, 0) + count
        for outcome in OUTCOMES:
            self.assets[outcome] += other.assets[outcome]
        self.reports += other.reports
        self.report_seconds += other.report_seconds


def make_window(now: datetime, hours: float | None) -> Window:
    """Clamp a requested window to ``(0, MAX_WINDOW]``, defaulting to ``DEFAULT_WINDOW``.

    :param now: end of the window (timezone-aware).
    :param hours: requested length in hours, or None for the default.
    """
    length = DEFAULT_WINDOW if hours is None else timedelta(hours=hours)
    length = min(max(length, timedelta(minutes=1)), MAX_WINDOW)
    return Window(since=now - length, until=now)


def visible_rules(
    session: Session,
    readable_dag_ids: Collection[str],
    *,
    rules: Collection[str] = (),
    priorities: Collection[str] = (),
) -> list[RuleInfo]:
    """List the sync rules the user may read, narrowed by rule names and priorities when given.

    :param session: metadata database session.
    :param readable_dag_ids: DAG ids the auth manager lets the user read.
    :param rules: rule names to keep; empty keeps all.
    :param priorities: priorities to keep; empty keeps all.
    """
    candidates = sorted(
        dag_id
        for dag_id in readable_dag_ids
        if dag_id.startswith(SYNC_DAG_PREFIX) and (not rules or dag_id[len(SYNC_DAG_PREFIX) :] in rules)
    )
    if not candidates:
        return []
    paused = dict(
        session.execute(
            select(DagModel.dag_id, DagModel.is_paused).where(
                DagModel.dag_id.in_(candidates), DagModel.is_stale.is_(False)
            )
        ).all()
    )
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    tag_rows = session.execute(
        select(DagTag.dag_id, DagTag.name).where(
            DagTag.dag_id.in_(list(paused)),
            or_(DagTag.name.like("priority:%"), DagTag.name.like("frequency:%"), DagTag.name.like("owner:%")),
        )
    )
    for dag_id, tag in tag_rows:
        kind, _, value = tag.partition(":")
        tags[dag_id][kind] = value
    found = [
        RuleInfo(
            rule=dag_id[len(SYNC_DAG_PREFIX) :],
            dag_id=dag_id,
            priority=tags[dag_id].get("priority", UNKNOWN),
            frequency=tags[dag_id].get("frequency", "manual"),
            owner=tags[dag_id].get("owner", ""),
            paused=bool(is_paused),
        )
        for dag_id, is_paused in sorted(paused.items())
    ]
    return [info for info in found if not priorities or info.priority in priorities]


def window_figures(
    session: Session, rules: list[RuleInfo], window: Window
) -> tuple[dict[str, Figures], dict[str, Any]]:
    """Runs, jobs and reported assets of each rule over the window, and the same per time bucket.

    Three grouped statements (runs, jobs, final reports), each grouped by rule, time bucket and state,
    give both the per-rule figures and the time series; percentiles come from
    :func:`duration_percentiles`.

    :returns: figures keyed by dag_id (every rule present, zeros when it did nothing), and the series
        ``{"bucket_starts": [...], "bucket_seconds": s, "runs": {priority: {state: [n per bucket]}},
        "jobs": {...}, "assets_synced": {priority: [n per bucket]}}``.
    """
    figures = {info.dag_id: Figures() for info in rules}
    starts = window.bucket_starts
    series: dict[str, Any] = {
        "bucket_starts": [start.isoformat() for start in starts],
        "bucket_seconds": window.seconds / window.buckets,
        "runs": {},
        "jobs": {},
        "assets_synced": {},
    }
    if not rules:
        return figures, series
    dag_ids = list(figures)
    priority_of = {info.dag_id: info.priority for info in rules}
    bucket = _bucket_of(DagRun.run_after, starts)

    def lane(kind: str, dag_id: str, state: str) -> list[int]:
        by_state = series[kind].setdefault(priority_of[dag_id], {})
        return by_state.setdefault(state, [0] * window.buckets)

    for dag_id, index, state, count in session.execute(
        select(DagRun.dag_id, bucket, DagRun.state, func.count())
        .where(_runs_in(dag_ids, window))
        .group_by(DagRun.dag_id, bucket, DagRun.state)
    ):
        state = str(state)
        figures[dag_id].runs[state] = figures[dag_id].runs.get(state, 0) + int(count)
        lane("runs", dag_id, state)[index] += int(count)
    for dag_id, index, state, count in session.execute(
        select(DagRun.dag_id, bucket, TaskInstance.state, func.count())
        .join(TaskInstance, _ti_of_run())
        .where(_runs_in(dag_ids, window), TaskInstance.task_id.in_(JOB_TASK_IDS))
        .group_by(DagRun.dag_id, bucket, TaskInstance.state)
    ):
        state = str(state or "none")
        figures[dag_id].jobs[state] = figures[dag_id].jobs.get(state, 0) + int(count)
        lane("jobs", dag_id, state)[index] += int(count)
    _add_report_totals(session, dag_ids, window, bucket, figures, series, priority_of)
    return figures, series


def group_figures(
    rules: list[RuleInfo],
    per_rule: Mapping[str, Figures],
    percentiles: Mapping[str, tuple[float | None, float | None]],
    key: str,
) -> dict[str, Figures]:
    """Add per-rule counts up by priority (``key="priority"``) or into one total (``key="all"``).

    :param percentiles: the level of :func:`duration_percentiles` that matches ``key``.
    """
    grouped: dict[str, Figures] = {}
    for info in rules:
        group = info.priority if key == "priority" else "all"
        grouped.setdefault(group, Figures()).add(per_rule[info.dag_id])
    with_percentiles(grouped, percentiles)
    return grouped


def with_percentiles(
    figures: Mapping[str, Figures], percentiles: Mapping[str, tuple[float | None, float | None]]
) -> None:
    """Put p50/p95 job durations onto the figures of the groups they belong to."""
    for group, (p50, p95) in percentiles.items():
        if group in figures:
            figures[group].job_p50_seconds, figures[group].job_p95_seconds = p50, p95


def priority_key(rules: list[RuleInfo], dag_id_column: Any) -> ColumnElement[str]:
    """SQL expression mapping a DAG id column to its rule's priority."""
    return case({info.dag_id: info.priority for info in rules}, value=dag_id_column, else_=UNKNOWN)


def duration_percentiles(
    session: Session, rules: list[RuleInfo], window: Window, *, levels: Collection[str] = PERCENTILE_LEVELS
) -> dict[str, dict[str, tuple[float | None, float | None]]]:
    """Nearest-rank p50 and p95 of finished job durations per rule, per priority and overall.

    One statement: the jobs are read once into a common table expression, then ranked three ways with
    window functions; only the rows sitting at a percentile's rank come back.

    :param levels: which of ``rule``, ``priority`` and ``all`` to rank (each costs a sort).
    :returns: ``{"rule": {dag_id: (p50, p95)}, "priority": {...}, "all": {"all": (p50, p95)}}``.
    """
    result: dict[str, dict[str, tuple[float | None, float | None]]] = {"rule": {}, "priority": {}, "all": {}}
    if not rules:
        return result
    jobs = (
        select(
            TaskInstance.dag_id.label("dag_id"),
            priority_key(rules, TaskInstance.dag_id).label("priority"),
            TaskInstance.duration.label("duration"),
        )
        .join(DagRun, _ti_of_run())
        .where(
            _runs_in([info.dag_id for info in rules], window),
            TaskInstance.task_id.in_(JOB_TASK_IDS),
            # Wrapped so no planner reads every finished task through the ``ti_state`` index.
            func.coalesce(TaskInstance.state, "").in_(("success", "failed")),
            TaskInstance.duration.is_not(None),
        )
        .cte("jobs")
        # Read the jobs once, not once per ranking (MySQL lacks the keyword and decides alone).
        .prefix_with("MATERIALIZED", dialect="sqlite")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    keys = {"rule": jobs.c.dag_id, "priority": jobs.c.priority, "all": None}
    ranked_levels = []
    for level, key in keys.items():
        if level not in levels:
            continue
        ranked = select(
            literal(level).label("level"),
            (key if key is not None else literal("all")).label("group_key"),
            jobs.c.duration,
            func.row_number().over(partition_by=key, order_by=jobs.c.duration).label("rank"),
            func.count().over(partition_by=key).label("total"),
        ).subquery()
        at_rank = [
            and_(
                ranked.c.rank * 100 >= ranked.c.total * share,
                (ranked.c.rank - 1) * 100 < ranked.c.total * share,
            )
            for share in PERCENTILES
        ]
        ranked_levels.append(select(ranked).where(or_(*at_rank)))
    found: dict[tuple[str, str], list[float | None]] = defaultdict(lambda: [None, None])
    for level, group_key, duration, rank, total in session.execute(union_all(*ranked_levels)):
        for slot, share in enumerate(PERCENTILES):
            if rank * 100 >= total * share and (rank - 1) * 100 < total * share:
                found[level, group_key][slot] = float(duration)
    for (level, group_key), (p50, p95) in found.items():
        result[level][group_key] = (p50, p95)
    return result


def _add_report_totals(
    session: Session,
    dag_ids: list[str],
    window: Window,
    bucket: ColumnElement[int],
    figures: dict[str, Figures],
    series: dict[str, Any],
    priority_of: Mapping[str, str],
) -> None:
    """Sum the asset counts and durations of the runs' final reports (finalize's return value)."""
    report = XComModel.value
    columns = [func.sum(func.coalesce(report[outcome].as_integer(), 0)) for outcome in OUTCOMES]
    rows = session.execute(
        select(
            DagRun.dag_id,
            bucket,
            func.count(),
            func.sum(func.coalesce(report["duration_seconds"].as_float(), 0.0)),
            *columns,
        )
        .join(XComModel, XComModel.dag_run_id == DagRun.id)
        .where(_runs_in(dag_ids, window), *_final_report())
        .group_by(DagRun.dag_id, bucket)
    )
    for dag_id, index, reports, seconds, *counts in rows:
        target = figures[dag_id]
        target.reports += int(reports)
        target.report_seconds += float(seconds or 0.0)
        by_outcome = {outcome: int(count or 0) for outcome, count in zip(OUTCOMES, counts, strict=True)}
        for outcome, count in by_outcome.items():
            target.assets[outcome] += count
        lane = series["assets_synced"].setdefault(priority_of[dag_id], [0] * len(series["bucket_starts"]))
        lane[index] += sum(by_outcome[outcome] for outcome in SYNCED_OUTCOMES)


def run_history(session: Session, rules: list[RuleInfo]) -> dict[str, dict[str, Any]]:
    """Last successful run end, first run and the latest run's state of each rule (not windowed).

    Uses the ``dag_id_state`` and ``idx_dag_run_dag_id`` indexes; one row per rule comes back.
    """
    history: dict[str, dict[str, Any]] = {
        info.dag_id: {"last_success": None, "first_run": None, "last_state": None} for info in rules
    }
    if not rules:
        return history
    dag_ids = list(history)
    for dag_id, ended in session.execute(
        select(DagRun.dag_id, func.max(DagRun.end_date))
        .where(DagRun.dag_id.in_(dag_ids), DagRun.state == "success")
        .group_by(DagRun.dag_id)
    ):
        history[dag_id]["last_success"] = ended
    latest = (
        select(
            DagRun.dag_id, func.min(DagRun.run_after).label("first"), func.max(DagRun.run_after).label("last")
        )
        .where(DagRun.dag_id.in_(dag_ids))
        .group_by(DagRun.dag_id)
        .subquery()
    )
    for dag_id, first, state in session.execute(
        select(latest.c.dag_id, latest.c.first, DagRun.state).join(
            DagRun, and_(DagRun.dag_id == latest.c.dag_id, DagRun.run_after == latest.c.last)
        )
    ):
        history[dag_id]["first_run"] = first
        history[dag_id]["last_state"] = str(state) if state else None
    return history


@dataclass
class QueueFigures:
    """Sync jobs waiting or running right now, and the pools they use."""

    by_priority: dict[str, dict[str, int]]
    by_pool: dict[str, dict[str, int]]
    pools: dict[str, dict[str, Any]]


def queue_now(session: Session, rules: list[RuleInfo], *, include_pools: bool) -> QueueFigures:
    """Count the rules' jobs by state per priority and per pool, and each pool's occupancy.

    A job counts as waiting from the moment it is scheduled, before any executor picks it up.

    :param include_pools: whether the user may read pools; if not, occupancy is left out.
    """
    by_priority: dict[str, dict[str, int]] = {}
    by_pool: dict[str, dict[str, int]] = {}
    if rules:
        priority = priority_key(rules, TaskInstance.dag_id)
        rows = session.execute(
            select(priority, TaskInstance.pool, TaskInstance.state, func.count())
            .where(
                TaskInstance.dag_id.in_([info.dag_id for info in rules]),
                TaskInstance.state.in_(QUEUE_STATES),
            )
            .group_by(priority, TaskInstance.pool, TaskInstance.state)
        )
        for group, pool, state, count in rows:
            for table, name in ((by_priority, group), (by_pool, pool)):
                lane = table.setdefault(name, dict.fromkeys(QUEUE_STATES, 0))
                lane[str(state)] += int(count)
    for lane in (*by_priority.values(), *by_pool.values()):
        lane["waiting"] = sum(lane[state] for state in WAITING_STATES)
    pools = _pool_occupancy(session) if include_pools else {}
    return QueueFigures(by_priority=by_priority, by_pool=by_pool, pools=pools)


def _pool_occupancy(session: Session) -> dict[str, dict[str, Any]]:
    """Slots of every pool as the scheduler counts them (Airflow's own ``Pool.slots_stats``)."""
    include_deferred = dict(session.execute(select(Pool.pool, Pool.include_deferred)).all())
    occupancy: dict[str, dict[str, Any]] = {}
    for name, stats in Pool.slots_stats(session=session).items():
        total = stats["total"]
        used = stats["running"] + stats["queued"] + (stats["deferred"] if include_deferred.get(name) else 0)
        occupancy[name] = {
            "total": None if total == float("inf") else int(total),
            "used": int(used),
            "open": None if stats["open"] == float("inf") else int(stats["open"]),
            "running": int(stats["running"]),
            "queued": int(stats["queued"]),
            "scheduled": int(stats["scheduled"]),
            "deferred": int(stats["deferred"]),
            "include_deferred": bool(include_deferred.get(name)),
        }
    return occupancy


@dataclass(frozen=True)
class FailedJob:
    """One failed attempt of a task of a sync DAG, with what its report said."""

    rule: str
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    label: str | None
    try_number: int
    state: str
    ended: datetime | None
    report: Any


def recent_failures(
    session: Session, rules: list[RuleInfo], window: Window, *, limit: int
) -> list[FailedJob]:
    """The latest failed (or failed-and-retrying) tasks of the rules' runs in the window, newest first.

    :param limit: most failures returned.
    """
    if not rules:
        return []
    dag_ids = [info.dag_id for info in rules]
    failed = session.execute(
        select(
            DagRun.id,
            TaskInstance.dag_id,
            TaskInstance.run_id,
            TaskInstance.task_id,
            TaskInstance.map_index,
            TaskInstance._rendered_map_index,  # the stored label; the hybrid falls back to the index
            TaskInstance.try_number,
            TaskInstance.state,
            TaskInstance.end_date,
        )
        .join(DagRun, _ti_of_run())
        # Failed jobs are few: here the ``ti_state`` index is the right start, so the runs are not
        # named by id (probing an id list per failed task would cost more).
        .where(_run_is_due(dag_ids, window), TaskInstance.state.in_(FAILED_JOB_STATES))
        .order_by(TaskInstance.end_date.desc(), TaskInstance.task_id, TaskInstance.map_index)
        .limit(limit)
    ).all()
    reports = _reports_of(session, {(row[0], row[3], row[4]) for row in failed})
    return [
        FailedJob(
            rule=dag_id[len(SYNC_DAG_PREFIX) :],
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            map_index=map_index,
            label=label,
            try_number=try_number,
            state=str(state),
            ended=ended,
            report=reports.get((run_key, task_id, map_index)),
        )
        for run_key, dag_id, run_id, task_id, map_index, label, try_number, state, ended in failed
    ]


def _reports_of(session: Session, keys: set[tuple[int, str, int]]) -> dict[tuple[int, str, int], Any]:
    """Fetch the report XComs of a few task instances by the XCom primary key (run id, task, index).

    ``report`` wins over ``return_value``: jobs push it before failing.
    """
    if not keys:
        return {}
    found: dict[tuple[int, str, int], Any] = {}
    # The key is checked here rather than in SQL: a planner without statistics would otherwise pick
    # the ``idx_xcom_key`` index and read every report ever written instead of the primary key.
    rows = session.execute(
        select(XComModel.dag_run_id, XComModel.task_id, XComModel.map_index, XComModel.key, XComModel.value)
        .where(
            XComModel.dag_run_id.in_({run for run, _, _ in keys}),
            XComModel.task_id.in_({task for _, task, _ in keys}),
        )
        .order_by(XComModel.key.desc())  # "report" comes last and overwrites "return_value"
    )
    for run, task_id, map_index, key, value in rows:
        if key in REPORT_KEYS and (run, task_id, map_index) in keys:
            found[run, task_id, map_index] = value
    return found


def _runs_in(dag_ids: list[str], window: Window) -> ColumnElement[bool]:
    """Runs of the given DAGs due in the window, picked by primary key from a subquery.

    Naming the runs by id makes every planner start from ``dag_run`` (``idx_dag_run_run_after``) and
    reach jobs through ``ti_state_lkp``, even a SQLite file without statistics, which would otherwise
    walk every task instance of the DAGs first.
    """
    due = aliased(DagRun, name="due_run")
    return DagRun.id.in_(
        select(due.id).where(
            due.dag_id.in_(dag_ids), due.run_after >= window.since, due.run_after < window.until
        )
    )


def _run_is_due(dag_ids: list[str], window: Window) -> ColumnElement[bool]:
    """Plain predicate: the run belongs to one of the DAGs and is due in the window."""
    return and_(DagRun.dag_id.in_(dag_ids), DagRun.run_after >= window.since, DagRun.run_after < window.until)


def _ti_of_run() -> ColumnElement[bool]:
    """Join condition of a task instance to its run (the ``ti_dag_run`` index)."""
    return and_(TaskInstance.dag_id == DagRun.dag_id, TaskInstance.run_id == DagRun.run_id)


def _final_report() -> tuple[ColumnElement[bool], ...]:
    """Select the run's final report (finalize's return value), leaving dry runs out: nothing was synced."""
    dry_run = XComModel.value["dry_run"].as_boolean()
    return (
        XComModel.task_id == FINALIZE_TASK,
        XComModel.key == "return_value",
        XComModel.map_index == -1,
        or_(dry_run.is_(None), dry_run.is_not(True)),
    )


def _bucket_of(column: Any, starts: list[datetime]) -> ColumnElement[int]:
    """SQL expression giving the index of the bucket a timestamp falls in (portable across databases)."""
    whens = [(column >= start, index) for index, start in reversed(list(enumerate(starts)))]
    return case(*whens, else_=0)
