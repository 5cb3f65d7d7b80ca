"""Time the sync metrics page and API on a metadata database holding 100,000 task instances of sync DAGs.

Run: PYTHONPATH=. .venv/bin/python benchmarks/metrics_benchmark.py [--task-instances N] [--repeats N]

Fills a throwaway SQLite metadata database (Airflow's own migrations) with sync DAGs as the compiler
tags them: runs over the last days, each with discover, mapped sync jobs and finalize, job and run
reports as XComs, and jobs waiting in pools. Then it calls every endpoint through the API server app
with a logged-in user and prints median and p95 response times, before and after the database has
planner statistics. Target: under 300 ms each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.metrics.home import migrate, point_process_at

PRIORITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "MAINTENANCE")
FREQUENCIES = ("every_15min", "hourly", "daily", "0 6 * * 1-5")
JOBS_PER_RUN = 10
TARGET_MS = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-instances", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=60)
    parser.add_argument("--days", type=float, default=7.0, help="history the runs spread over")
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="metrics-benchmark-") as folder:
        home = Path(folder)
        started = time.perf_counter()
        migrate(home)
        point_process_at(home)
        print(f"migrated metadata database in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        counts = fill(args.task_instances, args.rules, args.days)
        print(
            f"inserted {counts['task_instances']:,} task instances, {counts['runs']:,} runs, "
            f"{counts['xcoms']:,} report XComs for {args.rules} rules in {time.perf_counter() - started:.1f}s"
        )
        print("\nwithout planner statistics (a fresh SQLite file):")
        report(measure(args.repeats))
        analyze()
        print("\nwith planner statistics (ANALYZE; PostgreSQL's autovacuum keeps them current):")
        report(measure(args.repeats))


def analyze() -> None:
    """Gather the planner statistics a production database keeps, so joins start from the window."""
    from airflow.utils.session import create_session
    from sqlalchemy import text

    with create_session() as session:
        session.execute(text("ANALYZE"))


def fill(task_instances: int, rule_count: int, days: float) -> dict[str, int]:
    """Bulk-insert rules, runs, task instances and reports straight into the tables."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from tests.metrics import seed

    random.seed(7)
    now = datetime.now(UTC)
    per_run = JOBS_PER_RUN + 2  # discover and finalize around the jobs
    runs_per_rule = max(1, task_instances // per_run // rule_count)
    step = timedelta(days=days) / runs_per_rule
    totals = {"task_instances": 0, "runs": 0, "xcoms": 0}
    with create_session() as session:
        seed.add_pool(session, "datasphere_sync", 16)
        for index in range(rule_count):
            rule = f"rule_{index:03d}"
            dag_id = seed.add_rule(
                session,
                rule,
                priority=PRIORITIES[index % len(PRIORITIES)],
                frequency=FREQUENCIES[index % len(FREQUENCIES)],
            )
            runs = [
                {
                    "dag_id": dag_id,
                    "run_id": f"scheduled__{number}",
                    "run_type": "scheduled",
                    "run_after": now - step * (runs_per_rule - number),
                    "logical_date": now - step * (runs_per_rule - number),
                    "start_date": now - step * (runs_per_rule - number),
                    "end_date": now - step * (runs_per_rule - number) + timedelta(minutes=4),
                    "state": "failed" if random.random() < 0.05 else "success",
                    "clear_number": 0,
                }
                for number in range(runs_per_rule)
            ]
            session.execute(DagRun.__table__.insert(), runs)
            ids = dict(session.execute(select(DagRun.run_id, DagRun.id).where(DagRun.dag_id == dag_id)).all())
            tis, xcoms = _rows_of(dag_id, runs, ids, last=index < 5)
            session.execute(TaskInstance.__table__.insert(), tis)
            session.execute(XComModel.__table__.insert(), xcoms)
            totals["task_instances"] += len(tis)
            totals["runs"] += len(runs)
            totals["xcoms"] += len(xcoms)
        session.commit()
    return totals


def _rows_of(
    dag_id: str, runs: list[dict[str, Any]], ids: dict[str, int], *, last: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from tests.metrics import seed

    tis: list[dict[str, Any]] = []
    xcoms: list[dict[str, Any]] = []
    for position, run in enumerate(runs):
        waiting = last and position == len(runs) - 1  # the newest run of a few rules is still queued
        tasks = (
            [("discover", -1)]
            + [(f"sync_stage_{n % 3}", n) for n in range(JOBS_PER_RUN)]
            + [("finalize", -1)]
        )
        for task_id, map_index in tasks:
            failed = run["state"] == "failed" and map_index == 0
            state = (
                random.choice(("scheduled", "queued", "running"))
                if waiting
                else ("failed" if failed else "success")
            )
            duration = None if waiting else random.uniform(2, 120)
            tis.append(
                {
                    "id": uuid.uuid4(),
                    "dag_id": dag_id,
                    "run_id": run["run_id"],
                    "task_id": task_id,
                    "map_index": map_index,
                    "state": state,
                    "duration": duration,
                    "start_date": run["start_date"],
                    "end_date": run["end_date"],
                    "pool": "datasphere_sync",
                    "pool_slots": 1,
                    "try_number": 1,
                    "max_tries": 3,
                    "priority_weight": 600,
                    "queue": "default",
                }
            )
            if waiting or task_id == "discover":
                continue
            report = seed.summary(
                created=random.randint(0, 3),
                updated=random.randint(0, 5),
                unchanged=random.randint(10, 50),
                failed=1 if failed else 0,
                errors={"SPACE/VIEW": "Glue said no"} if failed else None,
                duration=duration or 0.0,
            )
            xcoms.append(
                {
                    "dag_run_id": ids[run["run_id"]],
                    "dag_id": dag_id,
                    "run_id": run["run_id"],
                    "task_id": task_id,
                    "map_index": map_index,
                    "key": "return_value" if task_id == "finalize" else "report",
                    "value": report,
                    "timestamp": run["end_date"],
                }
            )
    return tis, xcoms


def measure(repeats: int) -> dict[str, list[float]]:
    """Call every endpoint as a logged-in admin through the API server app; milliseconds per call."""
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    app = create_app(apps="core")
    paths = {
        "page": "/datasphere-sync/",
        "api summary": "/datasphere-sync/api/v1/summary",
        "api rules": "/datasphere-sync/api/v1/rules",
        "api queue": "/datasphere-sync/api/v1/queue",
        "api failures": "/datasphere-sync/api/v1/failures",
        "prometheus": "/datasphere-sync/metrics",
        "page, 7-day window": "/datasphere-sync/?window_hours=168",
    }
    timings: dict[str, list[float]] = {name: [] for name in paths}
    with TestClient(app) as client:
        token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="ADMIN"))
        headers = {"Authorization": f"Bearer {token}"}
        for name, path in paths.items():
            response = client.get(path, headers=headers)  # warm-up, and a check that it works
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
            for _ in range(repeats):
                started = time.perf_counter()
                client.get(path, headers=headers)
                timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def report(timings: dict[str, list[float]]) -> None:
    print(f"\n{'endpoint':<22}{'median ms':>11}{'p95 ms':>9}  target {TARGET_MS:.0f} ms")
    for name, samples in timings.items():
        ordered = sorted(samples)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
        verdict = "ok" if p95 < TARGET_MS else "SLOW"
        print(f"{name:<22}{statistics.median(ordered):>11.1f}{p95:>9.1f}  {verdict}")


if __name__ == "__main__":
    main()
