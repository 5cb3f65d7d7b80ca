"""Queue figures: waiting and running sync jobs by priority and pool, and pool occupancy, from real rows."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.metrics import seed
from tests.metrics.seed import Job, Run

QUEUE = "/datasphere-sync/api/v1/queue"


@pytest.fixture
def full_pool(session: Any) -> list[tuple[str, str, Job]]:
    """A two-slot pool filled by a running and a queued job, with more jobs waiting behind them."""
    now = datetime.now(UTC)
    seed.add_pool(session, "sync_tight", 2)
    seed.add_pool(session, "sync_deferring", 3, include_deferred=True)
    placed = {
        ("sales", "CRITICAL"): [
            Job("sync_stage_0", "running", 0, pool="sync_tight"),
            Job("sync_stage_0", "scheduled", 1, pool="sync_tight"),
            Job("sync_stage_0", "scheduled", 2, pool="sync_tight"),
            Job("sync_stage_1", None, 0, pool="sync_tight"),  # not yet scheduled: not waiting
            Job("discover", "success", duration=2.0, pool="sync_tight"),
        ],
        ("hr", "LOW"): [
            Job("sync_stage_0", "queued", 0, pool="sync_tight", pool_slots=1),
            Job("sync_stage_0", "scheduled", 1, pool="sync_tight"),
            Job("sync_stage_0", "deferred", 2, pool="sync_deferring", pool_slots=2),
            Job("sync_stage_0", "up_for_retry", 3, pool="sync_deferring"),
        ],
    }
    rows = []
    for (rule, priority), jobs in placed.items():
        dag_id = seed.add_rule(session, rule, priority=priority, frequency="hourly")
        seed.add_runs(session, dag_id, [Run("now", now - timedelta(minutes=3), "running", jobs=jobs)])
        rows += [(priority, dag_id, job) for job in jobs]
    other = seed.add_rule(session, "x", priority="HIGH", frequency="hourly", dag_id="payroll_export")
    seed.add_runs(
        session, other, [Run("p", now, "running", jobs=[Job("load", "running", pool="sync_tight")])]
    )
    session.commit()
    return rows


def test_queue_counts_match_the_rows(client: Any, token_for: Any, full_pool: Any) -> None:
    headers = {"Authorization": f"Bearer {token_for()}"}
    response = client.get(QUEUE, headers=headers)
    assert response.status_code == 200
    queue = response.json()

    by_priority = Counter((priority, job.state) for priority, _, job in full_pool)
    by_pool = Counter((job.pool, job.state) for _, _, job in full_pool)
    for state in ("scheduled", "queued", "running", "deferred", "up_for_retry"):
        for priority in ("CRITICAL", "LOW"):
            assert queue["by_priority"][priority][state] == by_priority[priority, state], (priority, state)
        for pool in ("sync_tight", "sync_deferring"):
            assert queue["by_pool"][pool][state] == by_pool[pool, state], (pool, state)
    # Jobs count as waiting as soon as they are scheduled, before an executor has them.
    assert queue["by_priority"]["CRITICAL"]["waiting"] == 2
    assert queue["by_priority"]["LOW"]["waiting"] == 2
    assert queue["totals"]["waiting"] == 4
    assert queue["totals"]["running"] == 1  # payroll_export's running task is not a sync job


def test_pool_occupancy_counts_every_dag_in_the_pool(client: Any, token_for: Any, full_pool: Any) -> None:
    pools = client.get(QUEUE, headers={"Authorization": f"Bearer {token_for()}"}).json()["pools"]

    tight = pools["sync_tight"]
    # running sales job + queued hr job + payroll_export's running task hold slots; scheduled ones wait.
    assert tight == {
        "total": 2,
        "used": 3,
        "open": -1,
        "running": 2,
        "queued": 1,
        "scheduled": 3,
        "deferred": 0,
        "include_deferred": False,
    }
    deferring = pools["sync_deferring"]
    assert deferring["used"] == 2  # the deferred job's two slots count: the pool includes deferred
    assert deferring["open"] == 1
    assert pools["default_pool"]["used"] == 0


def test_queue_of_a_restricted_user(client: Any, token_for: Any, full_pool: Any) -> None:
    from tests.metrics.auth import RestrictedAuthManager

    RestrictedAuthManager.ALLOWED["viewer"] = {"datasphere_sync__hr"}
    try:
        headers = {"Authorization": f"Bearer {token_for('viewer', 'VIEWER')}"}
        queue = client.get(QUEUE, headers=headers).json()
    finally:
        RestrictedAuthManager.ALLOWED.pop("viewer")
    assert list(queue["by_priority"]) == ["LOW"]
    assert queue["totals"]["waiting"] == 2
