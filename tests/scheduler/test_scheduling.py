"""A real scheduler, dag-processor and api-server run compiled sync DAGs against the local emulators.

One Airflow (LocalExecutor on SQLite) serves the whole module; the rules below compile into its DAGs and
their jobs sync real assets from the Datasphere emulator (with latency, so a job takes a few seconds)
into moto. What is checked comes from the metadata database: task instance start and end times, and the
history of earlier tries.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from emulators.datasphere.testing import EmulatorProcess
from include.datasphere_glue.compiler import dag_id_for
from tests.fixtures.airflow import PROJECT_ROOT, AirflowEnv, airflow_environment
from tests.fixtures.aws import MotoServer
from tests.fixtures.net import free_port

pytestmark = [pytest.mark.slow, pytest.mark.scheduler]

SHARED_POOL_SLOTS = 2
FLAKY_TABLE = "PAYROLL"
# Retry settings of the flaky rule: the second delay's uncapped floor (2 s x 8 = 16 s) lies far above
# the cap (8 s), so a capped delay is told apart from an uncapped one despite scheduler latency.
RETRY_DELAY, BACKOFF, MAX_DELAY = 2, 8, 8
# Seconds the scheduler may add to a retry delay: its loop, the executor and the task's start-up.
SCHEDULING_SLACK = 7.0
# The watcher polls this often in the test (60 s in production); a change must start a run in 120 s.
WATCH_INTERVAL = 5
CHANGE_DEADLINE = 120
REPOSITORY = "/dwaas-core/api/v1/spaces"

RULES = f"""\
defaults:
  env: test
  job:
    batch_size: 1
    pool: sched_shared
    pool_slots: 1
    retries: 0
    retry_delay_seconds: 5
    backoff_multiplier: 2
    max_retry_delay_seconds: 60
    execution_timeout_seconds: 300
    max_parallel_requests: 2
pools:
  sched_shared: {{slots: {SHARED_POOL_SLOTS}, description: contended by LOW and CRITICAL jobs}}
  sched_other: {{slots: 4, description: everything else}}
rules:
  - name: bulk_low
    description: Ten supply chain tables, one job each, filling the shared pool.
    owner: team-low
    priority: LOW
    frequency: manual
    match: {{spaces: [SUPPLY_CHAIN], object_types: [localtables, remotetables]}}
  - name: urgent_critical
    description: One HR table that must not wait behind LOW work.
    owner: team-critical
    priority: CRITICAL
    frequency: manual
    match: {{spaces: [HR], object_types: [localtables], include: [EMPLOYEES]}}
  - name: flaky_payroll
    description: A table whose reads fail twice before they succeed.
    owner: team-retry
    priority: HIGH
    frequency: manual
    match: {{spaces: [HR], object_types: [localtables], include: [{FLAKY_TABLE}]}}
    job:
      pool: sched_other
      retries: 2
      retry_delay_seconds: {RETRY_DELAY}
      backoff_multiplier: {BACKOFF}
      max_retry_delay_seconds: {MAX_DELAY}
  - name: upstream_accounts
    description: Upstream of the reporting rule.
    owner: team-deps
    priority: MEDIUM
    frequency: manual
    match: {{spaces: [FINANCE], object_types: [localtables], include: [GL_ACCOUNTS]}}
    job: {{pool: sched_other}}
  - name: upstream_costs
    description: The other upstream of the reporting rule.
    owner: team-deps
    priority: MEDIUM
    frequency: manual
    match: {{spaces: [FINANCE], object_types: [localtables], include: [COST_CENTERS]}}
    job: {{pool: sched_other}}
  - name: live_headcount
    description: The headcount model, synced when it changes in Datasphere.
    owner: team-live
    priority: CRITICAL
    frequency: real_time
    match: {{spaces: [HR], object_types: [analyticmodels], include: [AM_HEADCOUNT]}}
    job: {{pool: sched_other}}
  - name: reporting
    description: Syncs only after both upstream rules synced.
    owner: team-deps
    priority: MEDIUM
    frequency: hourly
    depends_on: [upstream_accounts, upstream_costs]
    match: {{spaces: [FINANCE], object_types: [localtables], include: [JOURNAL_ENTRIES]}}
    job: {{pool: sched_other}}
"""


@dataclass
class Stack:
    airflow: AirflowEnv
    datasphere: EmulatorProcess


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, migrated_airflow_db: Path, moto_server: MotoServer
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("scheduler")
    home, dags, rules = root / "home", root / "dags", root / "rules"
    for folder in (home, dags, rules):
        folder.mkdir()
    shutil.copy(migrated_airflow_db, home / "airflow.db")
    shutil.copy(PROJECT_ROOT / "dags" / "datasphere_sync.py", dags)
    (rules / "scheduler.yaml").write_text(RULES, encoding="utf-8")
    port = free_port()
    airflow = AirflowEnv(home, dags, rules, airflow_environment(home, dags, rules, port), port)
    moto_server.reset()
    with EmulatorProcess("demo", latency_ms=400) as datasphere:
        connection = json.loads(datasphere.connection_json())
        # No client-side retries: a 5xx fails the job at once, so Airflow's retries are what is seen.
        connection["extra"]["retry_max_attempts"] = 1
        airflow.env["AIRFLOW_CONN_DATASPHERE_DEFAULT"] = json.dumps(connection)
        airflow.env["AIRFLOW_CONN_AWS_DEFAULT"] = moto_server.aws_conn_uri()
        airflow.env["DATASPHERE_GLUE_WATCH_INTERVAL_SECONDS"] = str(WATCH_INTERVAL)
        airflow.set_pools({"sched_shared": SHARED_POOL_SLOTS, "sched_other": 4})
        with airflow.start("api-server", "scheduler", "dag-processor", "triggerer"):
            expected = {dag_id_for(name) for name in _rule_names()}
            airflow.wait_for(
                lambda: expected <= {row["dag_id"] for row in airflow.query("SELECT dag_id FROM dag")},
                timeout=180,
                what="the dag-processor to serialize every DAG",
            )
            yield Stack(airflow, datasphere)


def test_critical_job_queued_later_starts_before_waiting_low_jobs_and_pool_is_never_exceeded(
    stack: Stack,
) -> None:
    airflow = stack.airflow
    airflow.cli("dags", "trigger", dag_id_for("bulk_low"))
    airflow.wait_for(
        lambda: (
            _count(airflow, "bulk_low", "running") >= SHARED_POOL_SLOTS
            and _count(airflow, "bulk_low", "waiting") >= 3
        ),
        timeout=180,
        what="LOW jobs to fill the shared pool with more waiting",
    )
    airflow.cli("dags", "trigger", dag_id_for("urgent_critical"))
    _wait_for_run(airflow, "urgent_critical", timeout=300)
    _wait_for_run(airflow, "bulk_low", timeout=300)

    critical = _jobs(airflow, "urgent_critical")[0]
    # Waiting: not yet given a pool slot (queued) when the CRITICAL job became ready to run (scheduled).
    waiting_low = [job for job in _jobs(airflow, "bulk_low") if job.queued > critical.scheduled]
    assert waiting_low, "no LOW job was waiting when the CRITICAL job became ready; the test proves nothing"
    for job in waiting_low:
        # Never behind a waiting LOW job: at worst both took a freed slot in the same scheduler loop.
        assert critical.queued <= job.queued, (critical, job)
        if job.queued > critical.queued:
            assert critical.start <= job.start, (critical, job)

    intervals = [
        (row["start_date"], row["end_date"])
        for row in airflow.query(
            "SELECT start_date, end_date FROM task_instance "
            "WHERE pool = 'sched_shared' AND start_date IS NOT NULL"
        )
    ]
    assert _max_overlap(intervals) == SHARED_POOL_SLOTS


def test_failing_job_is_retried_with_growing_capped_delays(stack: Stack) -> None:
    airflow = stack.airflow
    stack.datasphere.admin.set_faults(
        server_errors={"count": 2, "status": 503, "path_prefix": f"{REPOSITORY}/HR/localtables/{FLAKY_TABLE}"}
    )
    airflow.cli("dags", "trigger", dag_id_for("flaky_payroll"))
    state = _wait_for_run(airflow, "flaky_payroll", timeout=300)

    tries = _tries(airflow, "flaky_payroll", "sync_stage_0")
    assert [t["try_number"] for t in tries] == [1, 2, 3]
    assert [t["state"] == "success" for t in tries] == [False, False, True], tries
    assert state == "success"
    starts = [_time(t["start_date"]) for t in tries]
    ends = [_time(t["end_date"]) for t in tries]
    waits = [(starts[i + 1] - ends[i]).total_seconds() for i in range(2)]
    gaps = [(starts[i + 1] - starts[i]).total_seconds() for i in range(2)]
    # First delay: retry_delay plus Airflow's deterministic jitter of less than one more retry_delay.
    assert RETRY_DELAY <= waits[0] < 2 * RETRY_DELAY + SCHEDULING_SLACK, waits
    # Second delay: capped at max_retry_delay, far below its uncapped floor of retry_delay * backoff.
    assert MAX_DELAY <= waits[1] < MAX_DELAY + SCHEDULING_SLACK < RETRY_DELAY * BACKOFF + MAX_DELAY, waits
    assert gaps[1] > gaps[0], gaps


def test_dependent_rule_runs_only_after_all_its_upstream_rules(stack: Stack) -> None:
    airflow = stack.airflow
    airflow.cli("dags", "trigger", dag_id_for("upstream_accounts"))
    _wait_for_run(airflow, "upstream_accounts", timeout=240)
    # One of two upstream rules synced: give the scheduler (1 s loop) ample time to wrongly start it.
    time.sleep(20)
    assert _runs(airflow, "reporting") == []

    airflow.cli("dags", "trigger", dag_id_for("upstream_costs"))
    _wait_for_run(airflow, "upstream_costs", timeout=240)
    airflow.wait_for(lambda: _runs(airflow, "reporting"), timeout=120, what="the dependent rule's run")
    assert _wait_for_run(airflow, "reporting", timeout=240) == "success"

    reporting_start = min(_time(row["start_date"]) for row in _tis(airflow, "reporting"))
    for upstream in ("upstream_accounts", "upstream_costs"):
        assert reporting_start >= _end(airflow, upstream, "finalize")
    run = _runs(airflow, "reporting")[0]
    assert run["run_type"] == "asset_triggered"


def test_real_time_rule_runs_on_a_change_and_never_when_nothing_changed(stack: Stack) -> None:
    airflow = stack.airflow
    # The watcher's first poll stores the baseline fingerprint on its asset.
    airflow.wait_for(
        lambda: airflow.query(
            "SELECT s.value FROM asset_state_store s JOIN asset a ON a.id = s.asset_id "
            "WHERE a.name = 'datasphere-glue://changes/live_headcount' AND s.key = 'fingerprint'"
        ),
        timeout=180,
        what="the change watcher's first fingerprint",
    )
    # With catchup off, Airflow runs the safety-net cron once for its latest past time when the DAG
    # appears (the initial sync); that run is "scheduled". Change-driven runs are "asset_triggered".
    time.sleep(4 * WATCH_INTERVAL)
    assert _triggered(airflow, "live_headcount") == [], "a run started although nothing changed"

    model = stack.datasphere.admin.get_asset("HR", "AM_HEADCOUNT")
    definition = model["definition"]
    definition["elements"]["CHANGED_AT"] = {"type": "cds.Timestamp", "@EndUserText.label": "Changed at"}
    changed = time.monotonic()
    stack.datasphere.admin.upsert_asset(
        "HR", "AM_HEADCOUNT", object_type="analyticmodels", definition=definition, exposed=True
    )

    airflow.wait_for(
        lambda: _triggered(airflow, "live_headcount"), timeout=CHANGE_DEADLINE, what="a run after the change"
    )
    assert time.monotonic() - changed < CHANGE_DEADLINE
    airflow.wait_for(
        lambda: all(run["state"] in {"success", "failed"} for run in _triggered(airflow, "live_headcount")),
        timeout=240,
        what="the change-driven run to finish",
    )
    assert [run["state"] for run in _triggered(airflow, "live_headcount")] == ["success"]
    time.sleep(3 * WATCH_INTERVAL)
    assert len(_triggered(airflow, "live_headcount")) == 1, "the watcher fired again without a change"


def _triggered(airflow: AirflowEnv, rule: str) -> list[dict[str, object]]:
    return [run for run in _runs(airflow, rule) if run["run_type"] == "asset_triggered"]


# --- reading the metadata database -------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A sync job's life: ready to run (scheduled), given a slot (queued), started, ended."""

    map_index: int
    scheduled: datetime
    queued: datetime
    start: datetime
    end: datetime


_LIFE = ("scheduled_dttm", "queued_dttm", "start_date", "end_date")


def _rule_names() -> list[str]:
    return [line.split(":", 1)[1].strip() for line in RULES.splitlines() if line.startswith("  - name:")]


def _count(airflow: AirflowEnv, rule: str, what: str) -> int:
    states = {"running": "('running')", "waiting": "('scheduled', 'queued')"}[what]
    rows = airflow.query(
        f"SELECT COUNT(*) AS n FROM task_instance WHERE dag_id = ? AND task_id LIKE 'sync_stage_%' "
        f"AND map_index >= 0 AND (state IN {states}" + (" OR state IS NULL)" if what == "waiting" else ")"),
        dag_id_for(rule),
    )
    return int(rows[0]["n"])


def _runs(airflow: AirflowEnv, rule: str) -> list[dict[str, object]]:
    rows = airflow.query("SELECT state, run_type FROM dag_run WHERE dag_id = ?", dag_id_for(rule))
    return [dict(row) for row in rows]


def _wait_for_run(airflow: AirflowEnv, rule: str, *, timeout: float) -> str:
    def finished() -> str | None:
        states = [str(run["state"]) for run in _runs(airflow, rule)]
        return states[0] if states and states[0] in {"success", "failed"} else None

    state: str = airflow.wait_for(finished, timeout=timeout, what=f"the run of {rule} to finish")
    return state


def _tis(airflow: AirflowEnv, rule: str) -> list[dict[str, object]]:
    rows = airflow.query(
        "SELECT task_id, map_index, state, scheduled_dttm, queued_dttm, start_date, end_date "
        "FROM task_instance "
        "WHERE dag_id = ? AND start_date IS NOT NULL",
        dag_id_for(rule),
    )
    return [dict(row) for row in rows]


def _jobs(airflow: AirflowEnv, rule: str) -> list[Job]:
    return sorted(
        (
            Job(
                int(str(row["map_index"])),
                *(_time(row[column]) for column in _LIFE),
            )
            for row in _tis(airflow, rule)
            if str(row["task_id"]).startswith("sync_stage_") and int(str(row["map_index"])) >= 0
        ),
        key=lambda job: job.start,
    )


def _end(airflow: AirflowEnv, rule: str, task_id: str) -> datetime:
    ends = [_time(row["end_date"]) for row in _tis(airflow, rule) if row["task_id"] == task_id]
    assert ends, f"{task_id} of {rule} never ran"
    return ends[0]


def _tries(airflow: AirflowEnv, rule: str, task_id: str) -> list[dict[str, object]]:
    query = (
        "SELECT try_number, state, start_date, end_date FROM {table} "
        "WHERE dag_id = ? AND task_id = ? AND map_index = 0"
    )
    earlier = airflow.query(query.format(table="task_instance_history"), dag_id_for(rule), task_id)
    current = airflow.query(query.format(table="task_instance"), dag_id_for(rule), task_id)
    return sorted((dict(row) for row in [*earlier, *current]), key=lambda row: int(str(row["try_number"])))


def _time(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


def _max_overlap(intervals: list[tuple[object, object]]) -> int:
    """Most intervals open at one moment; an end at the same instant as a start does not overlap it."""
    events = sorted(
        [(_time(start), 1) for start, _ in intervals] + [(_time(end), -1) for _, end in intervals if end],
        key=lambda event: (event[0], event[1]),
    )
    open_now = peak = 0
    for _, step in events:
        open_now += step
        peak = max(peak, open_now)
    return peak
