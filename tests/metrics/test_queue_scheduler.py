"""A real scheduler fills a one-slot pool with sync jobs; the queue figures match what the database says."""

from __future__ import annotations

import json
import textwrap
import urllib.request
from collections import Counter
from typing import Any

import pytest

from tests.fixtures.airflow import PROJECT_ROOT, AirflowEnv

pytestmark = [pytest.mark.slow, pytest.mark.scheduler]

PROBE_DAGS = textwrap.dedent(
    '''
    """Sync-shaped DAGs whose jobs hold a one-slot pool for a while."""
    import time
    from datetime import datetime

    from airflow.sdk import dag, task


    def probe(rule, priority, weight, jobs):
        @dag(
            dag_id=f"datasphere_sync__{rule}",
            schedule=None,
            start_date=datetime(2024, 1, 1),
            catchup=False,
            tags=["datasphere-sync", f"priority:{priority}", "frequency:manual", "owner:tests"],
        )
        def sync():
            @task(pool="tiny", priority_weight=weight, weight_rule="absolute")
            def sync_stage_0(n):
                time.sleep(240)

            sync_stage_0.expand(n=list(range(jobs)))

        return sync()


    probe("probe_high", "HIGH", 800, 3)
    probe("probe_low", "LOW", 400, 2)
    '''
)
PRIORITY = {"datasphere_sync__probe_high": "HIGH", "datasphere_sync__probe_low": "LOW"}


def test_queue_figures_follow_a_real_scheduler(airflow_env: AirflowEnv) -> None:
    airflow_env.env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PROJECT_ROOT / "plugins")
    (airflow_env.dags_folder / "probe_dags.py").write_text(PROBE_DAGS)
    airflow_env.set_pools({"tiny": 1})

    with airflow_env.start("scheduler", "dag-processor", "api-server"):
        airflow_env.wait_for(
            lambda: (
                len(airflow_env.query("SELECT dag_id FROM dag WHERE dag_id LIKE 'datasphere_sync__probe%'"))
                == 2
            ),
            timeout=180,
            what="both probe DAGs parsed",
        )
        for dag_id in PRIORITY:
            airflow_env.cli("dags", "trigger", dag_id)
        # One job runs in the single slot; the other four wait for it.
        airflow_env.wait_for(
            lambda: (
                _db_counts(airflow_env)[1] == {"running": 1, "scheduled": 4}
                or _db_counts(airflow_env)[1] == {"running": 1, "scheduled": 3, "queued": 1}
            ),
            timeout=240,
            what="one running job and four waiting in the full pool",
        )
        base = f"http://127.0.0.1:{airflow_env.api_port}"
        token = _get_json(f"{base}/auth/token")["access_token"]
        queue, db = _settled(airflow_env, f"{base}/datasphere-sync/api/v1/queue", token)

    by_priority, totals = db
    for priority in ("HIGH", "LOW"):
        for state in ("scheduled", "queued", "running"):
            assert queue["by_priority"][priority][state] == by_priority[priority, state], (priority, state)
    assert queue["totals"]["running"] == 1
    assert queue["totals"]["waiting"] == 4  # counted from the moment they were scheduled
    assert queue["by_pool"]["tiny"]["waiting"] == 4
    tiny = queue["pools"]["tiny"]
    assert (tiny["total"], tiny["used"], tiny["open"]) == (1, 1, 0)
    assert (tiny["running"], tiny["queued"], tiny["scheduled"]) == (
        totals.get("running", 0),
        totals.get("queued", 0),
        totals.get("scheduled", 0),
    )


def _db_counts(airflow_env: AirflowEnv) -> tuple[Counter[tuple[str, str]], dict[str, int]]:
    rows = airflow_env.query(
        "SELECT dag_id, state, count(*) AS n FROM task_instance "
        "WHERE dag_id LIKE 'datasphere_sync__probe%' AND state IS NOT NULL GROUP BY dag_id, state"
    )
    by_priority: Counter[tuple[str, str]] = Counter()
    totals: Counter[str] = Counter()
    for row in rows:
        by_priority[PRIORITY[row["dag_id"]], row["state"]] += row["n"]
        totals[row["state"]] += row["n"]
    return by_priority, dict(totals)


def _settled(airflow_env: AirflowEnv, url: str, token: str) -> tuple[dict[str, Any], Any]:
    """Read the database, the API, and the database again until both database reads agree."""
    for _ in range(10):
        before = _db_counts(airflow_env)
        queue = _get_json(url, token)
        if _db_counts(airflow_env) == before:
            return queue, before
    raise AssertionError("the queue kept changing while it was read")


def _get_json(url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
