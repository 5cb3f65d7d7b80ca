"""`airflow dags test` runs a shipped rule's DAG end to end against the local Datasphere and Glue."""

from __future__ import annotations

import json
import shutil
import socket
import threading

import pytest

from emulators.datasphere.testing import EmulatorProcess
from include.datasphere_glue.compiler import dag_id_for
from tests.fixtures.airflow import PROJECT_ROOT, AirflowEnv
from tests.fixtures.aws import MotoServer

RULE = "finance_hr_tables"
# The demo catalog's SALES space holds a deliberate Glue name collision (a failing asset), so the rule
# keeps to two clean spaces; no retries, so that a failure ends the command at once.
RULES = """\
rules:
  - name: finance_hr_tables
    description: Tables and views of the finance and HR spaces.
    owner: data-platform
    priority: HIGH
    frequency: hourly
    match:
      spaces: [FINANCE, HR]
      object_types: [localtables, remotetables, views]
    job:
      retries: 0
      batch_size: 10
"""
SPACES = {"FINANCE", "HR"}


@pytest.mark.slow
def test_dags_test_syncs_the_rule_into_glue(
    airflow_env: AirflowEnv, datasphere: EmulatorProcess, moto_server: MotoServer, glue: object
) -> None:
    _deploy(airflow_env, datasphere, moto_server, RULES)
    statsd = _StatsdListener()
    airflow_env.env.update(
        AIRFLOW__METRICS__STATSD_ON="True",
        AIRFLOW__METRICS__STATSD_HOST="127.0.0.1",
        AIRFLOW__METRICS__STATSD_PORT=str(statsd.port),
    )

    with statsd:
        result = airflow_env.cli("dags", "test", dag_id_for(RULE), timeout=600)

    states = _task_states(airflow_env)
    output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert ("finalize", -1) in states, f"finalize never ran:\n{output}"
    assert set(states.values()) <= {"success", "skipped"}, states
    expected_tables = _expected_tables(datasphere)
    databases = {db["Name"] for db in glue.get_databases()["DatabaseList"]}  # type: ignore[attr-defined]
    written = {
        (db, table["Name"])
        for db in databases
        for table in glue.get_tables(DatabaseName=db)["TableList"]  # type: ignore[attr-defined]
    }
    assert expected_tables <= written, sorted(expected_tables - written)[:10]
    summary = _finalize_summary(airflow_env)
    assert summary["rule"] == RULE
    assert summary["failed"] == 0
    assert summary["created"] == len(expected_tables)
    jobs = [key for key in states if key[0].startswith("sync_stage_") and key[1] >= 0]
    assert summary["jobs"] == {"total": len(jobs), "failed": 0}
    # The empty stage (no analytic models selected) was skipped, not failed.
    assert states["sync_stage_2", -1] == "skipped"
    # finalize counted the run's assets once through Airflow's metrics (plain StatsD: names carry tags).
    # Airflow puts its configured StatsD prefix ("airflow" by default) before every name.
    created = f"airflow.datasphere_sync.HIGH.{RULE}.assets.created:{len(expected_tables)}|c"
    assert created in statsd.lines, sorted(line for line in statsd.lines if "datasphere_sync." in line)


class _StatsdListener:
    """A UDP socket standing in for a StatsD server; collects every metric line it receives."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = int(self._socket.getsockname()[1])
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)

    def __enter__(self) -> _StatsdListener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                packet = self._socket.recv(65535)
            except TimeoutError:
                continue
            self.lines.extend(packet.decode("utf-8", "replace").splitlines())


def _deploy(
    airflow_env: AirflowEnv, datasphere: EmulatorProcess, moto_server: MotoServer, rules: str
) -> None:
    """Put the shipped defaults, the test's rules and the DAG file in place, wired to the test servers."""
    shutil.copy(PROJECT_ROOT / "rules" / "_defaults.yaml", airflow_env.rules_folder)
    (airflow_env.rules_folder / "rules.yaml").write_text(rules, encoding="utf-8")
    shutil.copy(PROJECT_ROOT / "dags" / "datasphere_sync.py", airflow_env.dags_folder)
    airflow_env.env["AIRFLOW_CONN_DATASPHERE_DEFAULT"] = datasphere.connection_json()
    airflow_env.env["AIRFLOW_CONN_AWS_DEFAULT"] = moto_server.aws_conn_uri()


def _task_states(airflow_env: AirflowEnv) -> dict[tuple[str, int], str]:
    rows = airflow_env.query(
        "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ?", dag_id_for(RULE)
    )
    return {(row["task_id"], row["map_index"]): row["state"] for row in rows}


def _finalize_summary(airflow_env: AirflowEnv) -> dict[str, object]:
    rows = airflow_env.query(
        "SELECT value FROM xcom WHERE dag_id = ? AND task_id = 'finalize' AND key = 'return_value'",
        dag_id_for(RULE),
    )
    assert rows, "finalize returned no report"
    value = rows[0]["value"]
    return json.loads(value) if isinstance(value, str | bytes) else value


def _expected_tables(datasphere: EmulatorProcess) -> set[tuple[str, str]]:
    """Glue names of the demo catalog's tables and views, as the rule selects and names them."""
    catalog = datasphere.admin.catalog()
    wanted = {"localtables", "remotetables", "views"}
    tables = set()
    for space in catalog["spaces"]:
        if space["name"] not in SPACES:
            continue
        for asset in space["assets"]:
            if asset["type"] in wanted:
                tables.add((f"dev_{space['name'].lower()}", asset["name"].lower().replace(".", "_")))
    return tables


FAILING_RULES = """\
rules:
  - name: sales_with_collision
    description: Sales tables and views; two tables collide on one Glue name.
    owner: data-platform
    priority: HIGH
    frequency: hourly
    match:
      spaces: [SALES]
      object_types: [localtables, views]
    job:
      retries: 2
      retry_delay_seconds: 1
      max_retry_delay_seconds: 2
      batch_size: 50
"""


@pytest.mark.slow
def test_a_failed_job_fails_the_run_after_finalize_reported_and_later_stages_ran(
    airflow_env: AirflowEnv, datasphere: EmulatorProcess, moto_server: MotoServer, glue: object
) -> None:
    _deploy(airflow_env, datasphere, moto_server, FAILING_RULES)
    dag_id = dag_id_for("sales_with_collision")

    airflow_env.cli("dags", "test", dag_id, timeout=600, check=False)

    rows = airflow_env.query(
        "SELECT task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ?", dag_id
    )
    states = {(row["task_id"], row["map_index"]): row["state"] for row in rows}
    tries = {(row["task_id"], row["map_index"]): row["try_number"] for row in rows}
    assert states["sync_stage_0", 0] == "failed"  # the table batch holding the collision
    # A collision fails the same way on every try, so the job is not retried despite retries: 2.
    assert tries["sync_stage_0", 0] == 1
    assert states["sync_stage_1", 0] == "success"  # views still synced after the failed table job
    assert states["finalize", -1] == "failed"
    run_state = airflow_env.query("SELECT state FROM dag_run WHERE dag_id = ?", dag_id)[0]["state"]
    assert run_state == "failed"
    summary_rows = airflow_env.query(
        "SELECT value FROM xcom WHERE dag_id = ? AND task_id = 'finalize' AND key = 'return_value'", dag_id
    )
    summary = json.loads(summary_rows[0]["value"])
    assert summary["jobs"]["failed"] == 1
    assert summary["failed"] == 2 and any("collision" in message for message in summary["errors"].values())
    sales = glue.get_tables(DatabaseName="dev_sales")["TableList"]  # type: ignore[attr-defined]
    written = {table["Name"] for table in sales}
    assert "customers" in written and "sales_orders" not in written


@pytest.mark.slow
def test_trigger_form_dry_run_of_named_assets_writes_nothing(
    airflow_env: AirflowEnv, datasphere: EmulatorProcess, moto_server: MotoServer, glue: object
) -> None:
    _deploy(airflow_env, datasphere, moto_server, RULES)
    conf = json.dumps({"dry_run": True, "assets": ["GL_ACCOUNTS", "EMPLOYEES"]})

    airflow_env.cli("dags", "test", dag_id_for(RULE), "--conf", conf, timeout=600)

    summary = _finalize_summary(airflow_env)
    assert summary["dry_run"] is True
    assert summary["jobs"] == {"total": 2, "failed": 0}  # one job per space, only the named assets
    assert summary["created"] == 2
    assert glue.get_databases()["DatabaseList"] == []  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_listing_that_keeps_failing_fails_the_run_after_the_other_spaces_synced(
    airflow_env: AirflowEnv, datasphere: EmulatorProcess, moto_server: MotoServer, glue: object
) -> None:
    _deploy(airflow_env, datasphere, moto_server, RULES)
    # HR's views cannot be listed, whatever the client's retries do; FINANCE answers normally.
    datasphere.admin.set_faults(
        server_errors={"count": 10_000, "status": 503, "path_prefix": "/dwaas-core/api/v1/spaces/HR/views"}
    )

    airflow_env.cli("dags", "test", dag_id_for(RULE), timeout=600, check=False)

    states = _task_states(airflow_env)
    assert states["finalize", -1] == "failed"
    run_state = airflow_env.query("SELECT state FROM dag_run WHERE dag_id = ?", dag_id_for(RULE))
    assert run_state[0]["state"] == "failed"
    summary = _finalize_summary(airflow_env)
    assert "could not be listed completely" in summary["errors"]["space HR"]
    assert summary["jobs"]["failed"] == 0  # every job that could run did, and succeeded
    listed = glue.get_tables(DatabaseName="dev_finance")["TableList"]  # type: ignore[attr-defined]
    finance = {table["Name"] for table in listed}
    assert finance, "the space that listed fine was still synced"
