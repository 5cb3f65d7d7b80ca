"""Known sync rules, runs, jobs and reports, and the figures they must produce, worked out apart."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tests.metrics import seed
from tests.metrics.seed import Job, Run

LEAKY_ERROR = (
    "Glue refused the table: password=hunter2 token=abc123secret via https://bob:pw1secret@glue.example "
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
)
SECRETS = ("hunter2", "abc123secret", "pw1secret", "eyJhbGciOiJIUzI1NiJ9")


@dataclass
class Rule:
    name: str
    priority: str
    frequency: str
    runs: list[Run]

    @property
    def dag_id(self) -> str:
        return f"{seed.PREFIX}{self.name}"


def build(now: datetime) -> list[Rule]:
    """The rules of the world, with runs placed relative to ``now``."""

    def ago(**offset: float) -> datetime:
        return now - timedelta(**offset)

    sales = Rule(
        "sales",
        "CRITICAL",
        "hourly",
        [
            Run(
                "s1",
                ago(hours=3),
                "success",
                ago(hours=2, minutes=50),
                jobs=[
                    Job("discover", "success", duration=3.0),
                    Job(
                        "sync_stage_0",
                        "success",
                        0,
                        12.0,
                        report=seed.summary(created=4, updated=1),
                        report_key="report",
                    ),
                    Job("sync_stage_0", "success", 1, 18.0),
                    Job("sync_stage_1", "success", 0, 30.0),
                    Job(
                        "finalize",
                        "success",
                        duration=2.0,
                        report=seed.summary(created=4, updated=1, unchanged=7, duration=50.0),
                    ),
                ],
            ),
            Run(
                "s2",
                ago(hours=2),
                "failed",
                ago(hours=1, minutes=55),
                jobs=[
                    Job(
                        "sync_stage_0",
                        "failed",
                        0,
                        25.0,
                        try_number=2,
                        label="SALES: V_SECRET",
                        report=seed.summary(failed=1, errors={"SALES/V_SECRET": LEAKY_ERROR}),
                        report_key="report",
                    ),
                    Job("sync_stage_1", "upstream_failed", 0),
                    Job(
                        "finalize",
                        "failed",
                        duration=1.0,
                        report=seed.summary(failed=1, errors={"SALES/V_SECRET": LEAKY_ERROR}, duration=30.0),
                    ),
                ],
            ),
            Run(
                "s_dry",
                ago(hours=1),
                "success",
                ago(minutes=58),
                jobs=[
                    Job("sync_stage_0", "success", 0, 6.0),
                    Job("finalize", "success", duration=1.0, report=seed.summary(created=99, dry_run=True)),
                ],
            ),
            Run(
                "s3",
                ago(minutes=30),
                "success",
                ago(minutes=20),
                jobs=[
                    Job("sync_stage_0", "success", 0, 8.0),
                    Job(
                        "finalize",
                        "success",
                        duration=1.0,
                        report=seed.summary(unchanged=12, deleted=2, duration=20.0),
                    ),
                ],
            ),
            Run(
                "s_old",
                ago(days=30),
                "success",
                ago(days=30) + timedelta(minutes=5),
                jobs=[
                    Job("sync_stage_0", "failed", 0, 500.0),
                    Job("finalize", "success", duration=1.0, report=seed.summary(created=1000)),
                ],
            ),
        ],
    )
    finance = Rule(
        "finance",
        "HIGH",
        "daily",
        [
            Run(
                "f1",
                ago(hours=40),
                "success",
                ago(hours=39, minutes=50),
                jobs=[
                    Job("sync_stage_0", "success", 0, 40.0),
                    Job("finalize", "success", duration=1.0, report=seed.summary(created=3)),
                ],
            ),
            Run(
                "f2",
                ago(hours=5),
                "failed",
                ago(hours=4),
                jobs=[
                    Job("sync_stage_0", "failed", 0, 3600.0),  # killed by its timeout: no report
                    Job("sync_stage_0", "success", 1, 14.0),
                    Job("finalize", "upstream_failed"),
                ],
            ),
            # Running now: one job holds a slot of the 2-slot pool, one is queued, two wait their turn.
            Run(
                "f3",
                ago(minutes=10),
                "running",
                jobs=[
                    Job("discover", "success", duration=2.0),
                    Job("sync_stage_0", "running", 0),
                    Job("sync_stage_0", "queued", 1),
                    Job("sync_stage_0", "scheduled", 2),
                    Job("sync_stage_0", "scheduled", 3),
                ],
            ),
        ],
    )
    hr = Rule("hr", "LOW", "manual", [])
    secret = Rule(
        "secretrule",
        "MEDIUM",
        "every_15min",
        [
            Run(
                "m1",
                ago(minutes=10),
                "success",
                ago(minutes=5),
                jobs=[
                    Job("sync_stage_0", "success", 0, 4.0),
                    Job("finalize", "success", duration=1.0, report=seed.summary(created=2, duration=10.0)),
                ],
            )
        ],
    )
    return [sales, finance, hr, secret]


POOL_SLOTS = 2


def insert(session: Session, rules: list[Rule], now: datetime) -> None:
    """Write the world, plus a DAG that is not a sync DAG and must never show."""
    seed.add_pool(session, "datasphere_sync", POOL_SLOTS)
    for rule in rules:
        dag_id = seed.add_rule(session, rule.name, priority=rule.priority, frequency=rule.frequency)
        seed.add_runs(session, dag_id, rule.runs)
    other = seed.add_rule(session, "x", priority="CRITICAL", frequency="hourly", dag_id="payroll_export")
    seed.add_runs(
        session,
        other,
        [
            Run(
                "p1",
                now - timedelta(hours=1),
                "failed",
                now,
                jobs=[
                    Job(
                        "sync_stage_0",
                        "failed",
                        0,
                        5.0,
                        report=seed.summary(failed=7, errors={"x": "payroll"}),
                    )
                ],
            )
        ],
    )
    session.commit()


def nearest_rank(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(percent / 100 * len(ordered)) - 1]


def expected(rules: list[Rule], since: datetime) -> dict[str, dict[str, Any]]:
    """Work out each rule's figures from the rows written, without the plugin's code."""
    result: dict[str, dict[str, Any]] = {}
    for rule in rules:
        runs = [run for run in rule.runs if run.run_after >= since]
        jobs = [job for run in runs for job in run.jobs if job.task_id.startswith("sync_stage_")]
        finals = [
            job.report
            for run in runs
            for job in run.jobs
            if job.task_id == "finalize" and job.report and not job.report["dry_run"]
        ]
        durations = [
            job.duration for job in jobs if job.state in ("success", "failed") and job.duration is not None
        ]
        assets = {
            o: sum(r[o] for r in finals)
            for o in ("created", "updated", "unchanged", "deleted", "skipped", "failed")
        }
        synced = sum(assets[o] for o in ("created", "updated", "unchanged", "deleted"))
        seconds = sum(r["duration_seconds"] for r in finals)
        states = [run.state for run in runs]
        finished = states.count("success") + states.count("failed")
        result[rule.name] = {
            "runs": {state: states.count(state) for state in set(states)},
            "jobs": {state: [j.state for j in jobs].count(state) for state in {j.state for j in jobs}},
            "success_rate": states.count("success") / finished if finished else None,
            "p50": nearest_rank(durations, 50),
            "p95": nearest_rank(durations, 95),
            "durations": durations,
            "assets": assets,
            "assets_synced": synced,
            "assets_per_minute": synced / (seconds / 60) if seconds else None,
            "report_seconds": seconds,
        }
    return result
