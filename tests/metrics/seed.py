"""Write known sync DAGs, runs, jobs, reports and pools straight into an Airflow metadata database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from airflow.models.dag import DagModel, DagTag
from airflow.models.dagbundle import DagBundleModel
from airflow.models.dagrun import DagRun
from airflow.models.pool import Pool
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

BUNDLE = "metrics-tests"
PREFIX = "datasphere_sync__"


@dataclass
class Job:
    """One task instance row of a seeded run."""

    task_id: str
    state: str | None
    map_index: int = -1
    duration: float | None = None
    pool: str = "datasphere_sync"
    pool_slots: int = 1
    try_number: int = 1
    label: str | None = None
    report: dict[str, Any] | None = None
    report_key: str = "return_value"
    """Jobs push ``report`` before failing and return it on success; finalize returns it."""


@dataclass
class Run:
    """One DAG run row of a seeded rule, with its jobs."""

    run_id: str
    run_after: datetime
    state: str
    end_date: datetime | None = None
    jobs: list[Job] = field(default_factory=list)


def wipe(session: Session) -> None:
    """Remove every row a previous seeding wrote (tests share one database per session)."""
    for model in (XComModel, TaskInstance, DagRun, DagTag, DagModel):
        session.execute(delete(model))
    session.execute(delete(Pool).where(Pool.pool != Pool.DEFAULT_POOL_NAME))
    session.commit()


def add_rule(
    session: Session,
    rule: str,
    *,
    priority: str,
    frequency: str,
    owner: str = "data-platform",
    paused: bool = False,
    dag_id: str | None = None,
) -> str:
    """Insert a sync DAG as the compiler tags it; returns its dag_id."""
    if session.scalar(select(DagBundleModel.name).where(DagBundleModel.name == BUNDLE)) is None:
        session.execute(DagBundleModel.__table__.insert(), [{"name": BUNDLE, "active": True}])
    dag_id = dag_id or f"{PREFIX}{rule}"
    session.execute(
        DagModel.__table__.insert(),
        [
            {
                "dag_id": dag_id,
                "is_stale": False,
                "is_paused": paused,
                "bundle_name": BUNDLE,
                "timetable_type": "",
                "max_active_tasks": 16,
                "max_active_runs": 1,
                "max_consecutive_failed_dag_runs": 0,
                "has_task_concurrency_limits": False,
                "fail_fast": False,
            }
        ],
    )
    tags = ["datasphere-sync", f"priority:{priority}", f"frequency:{frequency}", f"owner:{owner}"]
    session.execute(DagTag.__table__.insert(), [{"dag_id": dag_id, "name": tag} for tag in tags])
    session.flush()
    return dag_id


def add_runs(session: Session, dag_id: str, runs: Iterable[Run]) -> None:
    """Insert runs with their task instances and report XComs."""
    runs = list(runs)
    if not runs:
        return
    session.execute(
        DagRun.__table__.insert(),
        [
            {
                "dag_id": dag_id,
                "run_id": run.run_id,
                "run_type": "scheduled",
                "run_after": run.run_after,
                "logical_date": run.run_after,
                "state": run.state,
                "start_date": run.run_after,
                "end_date": run.end_date,
                "clear_number": 0,
            }
            for run in runs
        ],
    )
    ids = dict(session.execute(select(DagRun.run_id, DagRun.id).where(DagRun.dag_id == dag_id)).all())
    ti_rows, xcom_rows = [], []
    for run in runs:
        for job in run.jobs:
            start = run.run_after + timedelta(seconds=5)
            ended = start + timedelta(seconds=job.duration) if job.duration is not None else None
            ti_rows.append(
                {
                    "id": uuid.uuid4(),
                    "dag_id": dag_id,
                    "run_id": run.run_id,
                    "task_id": job.task_id,
                    "map_index": job.map_index,
                    "state": job.state,
                    "duration": job.duration,
                    "start_date": start if job.state not in (None, "scheduled", "queued") else None,
                    "end_date": ended,
                    "pool": job.pool,
                    "pool_slots": job.pool_slots,
                    "try_number": job.try_number,
                    "max_tries": 3,
                    "priority_weight": 600,
                    "rendered_map_index": job.label,
                    "queue": "default",
                }
            )
            if job.report is not None:
                xcom_rows.append(
                    {
                        "dag_run_id": ids[run.run_id],
                        "dag_id": dag_id,
                        "run_id": run.run_id,
                        "task_id": job.task_id,
                        "map_index": job.map_index,
                        "key": job.report_key,
                        "value": job.report,
                        "timestamp": ended or start,
                    }
                )
    if ti_rows:
        session.execute(TaskInstance.__table__.insert(), ti_rows)
    if xcom_rows:
        session.execute(XComModel.__table__.insert(), xcom_rows)
    session.flush()


def add_pool(session: Session, name: str, slots: int, *, include_deferred: bool = False) -> None:
    session.execute(
        Pool.__table__.insert(),
        [{"pool": name, "slots": slots, "description": "test", "include_deferred": include_deferred}],
    )
    session.flush()


def summary(
    created: int = 0,
    updated: int = 0,
    unchanged: int = 0,
    deleted: int = 0,
    skipped: int = 0,
    failed: int = 0,
    errors: dict[str, str] | None = None,
    duration: float = 60.0,
    dry_run: bool = False,
) -> dict[str, Any]:
    """A report summary made by the sync engine's own ``SyncReport.summary()``."""
    from include.datasphere_glue.sync.report import SyncReport

    report = SyncReport(
        rule="seeded",
        dry_run=dry_run,
        created=created,
        updated=updated,
        unchanged=unchanged,
        deleted=deleted,
        skipped=skipped,
        failed=failed,
        errors=dict(errors or {}),
        duration_seconds=duration,
    )
    return report.summary()
