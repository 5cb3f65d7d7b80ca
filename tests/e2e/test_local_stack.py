"""The whole product on real processes: emulator → Airflow (scheduler, triggerer, REST API) → local Glue.

One stack serves the module (tests/fixtures/stack.py). Each test states the Glue and catalog it starts
from, so a test run alone (``-k``) means the same as in the full sequence.
"""

from __future__ import annotations

import copy
import itertools
import signal
import time
import urllib.request
from datetime import datetime
from typing import Any

import pytest

from scripts.stack.processes import wait_until
from tests.fixtures.stack import (
    CORE_RULE,
    EXCLUDED,
    MODELS_RULE,
    RECONCILE_RULE,
    SPACES,
    RunningStack,
    dag_id,
)

pytestmark = [pytest.mark.slow, pytest.mark.scheduler]

CORE_TYPES = {"localtables", "remotetables", "views"}
MODEL_TYPES = {"analyticmodels"}
MANAGED = "datasphere_glue_sync.managed"
REAL_TIME_PROMISE_SECONDS = 120


def expected_tables(stack: RunningStack, object_types: set[str]) -> dict[str, str]:
    """Glue table → asset key for what the emulator serves right now, by the naming rule of the spec."""
    catalog = stack.emulator.call("GET", "catalog")
    expected = {}
    for space in catalog["spaces"]:
        if space["name"] not in SPACES:
            continue
        for asset in space["assets"]:
            if asset["type"] in object_types and asset["name"] not in EXCLUDED:
                table = asset["name"].lower().replace(".", "_")
                expected[f"dev_{space['name'].lower()}.{table}"] = f"{space['name']}/{asset['name']}"
    return expected


def glue_tables_of(stack: RunningStack, object_types: set[str]) -> dict[str, dict[str, Any]]:
    """The local Glue's tables for assets of the given types (the real_time rule may sync its own)."""
    return {
        name: table
        for name, table in stack.glue_tables().items()
        if table.get("Parameters", {}).get("datasphere.object_type") in object_types
    }


def columns(table: dict[str, Any]) -> dict[str, str]:
    return {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}


def reset_glue(stack: RunningStack) -> None:
    request = urllib.request.Request(f"{stack.stack.config.glue_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def ensure_synced(stack: RunningStack) -> None:
    """Bring Glue in step with the catalog unless it already holds exactly the expected tables.

    Tests that change table content put it back themselves, so comparing table names is enough here.
    """
    stack.wait_for_idle(MODELS_RULE)
    expected = set(expected_tables(stack, CORE_TYPES)) | set(expected_tables(stack, MODEL_TYPES))
    if set(stack.glue_tables()) != expected:
        stack.run_to_end(CORE_RULE)
        stack.run_to_end(MODELS_RULE)


def test_a_cold_start_lands_the_demo_catalog_in_glue(running_stack: RunningStack) -> None:
    stack = running_stack
    stack.emulator.reset()
    stack.wait_for_idle(MODELS_RULE)
    reset_glue(stack)

    core_run = stack.run_to_end(CORE_RULE)
    stack.run_to_end(MODELS_RULE)

    core = expected_tables(stack, CORE_TYPES)
    models = expected_tables(stack, MODEL_TYPES)
    tables = stack.glue_tables()
    assert set(tables) == set(core) | set(models)
    assert {name.split(".")[0] for name in tables} == {f"dev_{space.lower()}" for space in SPACES}
    assert stack.report(CORE_RULE, core_run)["created"] == len(core)

    customers = tables["dev_sales.customers"]
    assert columns(customers) == {
        "customer_id": "varchar(10)",
        "name": "varchar(80)",
        "country": "char(3)",
        "city": "varchar(40)",
        "location": "string",  # geometry has no Athena type
        "credit_limit": "double",  # a decimal without precision follows the default policy
        "created_on": "timestamp",
    }
    parameters = customers["Parameters"]
    assert parameters[MANAGED]
    assert parameters["datasphere.space"] == "SALES"
    assert parameters["datasphere.technical_name"] == "CUSTOMERS"
    assert parameters["datasphere.object_type"] == "localtables"
    assert parameters["datasphere.business_name"] == "Customers"
    credit_limit = next(c for c in customers["StorageDescriptor"]["Columns"] if c["Name"] == "credit_limit")
    assert credit_limit["Parameters"]["datasphere.source_type"] == "cds.Decimal"

    model = columns(tables["dev_sales.am_sales"])
    assert model["item_no"] == "smallint"
    assert model["discount_rate"] == "float"
    for key, table in tables.items():
        expected_key = {**core, **models}[key]
        space, name = expected_key.split("/", 1)
        assert (
            table["Parameters"]["datasphere.space"],
            table["Parameters"]["datasphere.technical_name"],
        ) == (
            space,
            name,
        )


def test_a_second_run_writes_nothing(running_stack: RunningStack) -> None:
    stack = running_stack
    ensure_synced(stack)
    before = stack.glue_tables()

    run_id = stack.run_to_end(CORE_RULE)

    report = stack.report(CORE_RULE, run_id)
    assert (report["created"], report["updated"], report["deleted"], report["failed"]) == (0, 0, 0, 0)
    assert report["unchanged"] == len(expected_tables(stack, CORE_TYPES))
    assert stack.glue_tables() == before, "an unchanged catalog must leave every table untouched"


def test_a_dry_run_from_the_trigger_form_writes_nothing_and_says_what_it_would_do(
    running_stack: RunningStack,
) -> None:
    stack = running_stack
    ensure_synced(stack)
    new_view = _view("E2E_DRY_RUN_VIEW", {"ID": {"type": "cds.Integer", "key": True}})
    stack.emulator.put_asset("SALES", "E2E_DRY_RUN_VIEW", new_view)
    try:
        before = stack.glue_tables()
        # The trigger form sends every param of the DAG, changed or not.
        run_id = stack.run_to_end(CORE_RULE, {"dry_run": True, "full_refresh": False, "assets": []})

        assert stack.glue_tables() == before
        report = stack.report(CORE_RULE, run_id)
        assert report["dry_run"] is True
        assert report["created"] == 1
        assert any(a.startswith("create dev_sales.e2e_dry_run_view") for a in report["actions"]), report
    finally:
        stack.emulator.delete_asset("SALES", "E2E_DRY_RUN_VIEW")


def test_catalog_changes_reach_glue_on_the_next_run_of_the_owning_rule(running_stack: RunningStack) -> None:
    stack = running_stack
    ensure_synced(stack)
    gl_accounts = stack.emulator.asset("FINANCE", "GL_ACCOUNTS")
    changed = copy.deepcopy(gl_accounts)
    changed["definition"]["elements"]["E2E_NOTE"] = {"type": "cds.String", "length": 20}
    vanishing = next(
        name for name in expected_tables(stack, {"views"}).values() if name.startswith("HR/")
    ).split("/", 1)[1]
    vanishing_table = f"dev_hr.{vanishing.lower()}"
    try:
        stack.emulator.put_asset("FINANCE", "GL_ACCOUNTS", changed)
        stack.emulator.put_asset("SALES", "E2E_NEW_TABLE", _local_table({"ID": {"type": "cds.Int64"}}))
        stack.emulator.delete_asset("HR", vanishing)

        core_run = stack.run_to_end(CORE_RULE)

        tables = stack.glue_tables()
        assert columns(tables["dev_finance.gl_accounts"])["e2e_note"] == "varchar(20)"
        assert columns(tables["dev_sales.e2e_new_table"]) == {"id": "bigint"}
        assert vanishing_table in tables, "a rule without deletion must never delete"
        report = stack.report(CORE_RULE, core_run)
        assert (report["created"], report["updated"], report["deleted"]) == (1, 1, 0)

        reconcile_run = stack.run_to_end(RECONCILE_RULE)

        tables = stack.glue_tables()
        assert vanishing_table not in tables
        assert stack.report(RECONCILE_RULE, reconcile_run)["deleted"] == 1
        assert set(expected_tables(stack, CORE_TYPES)) <= set(tables)
    finally:
        stack.emulator.reset()
        stack.run_to_end(RECONCILE_RULE)  # puts GL_ACCOUNTS back and removes E2E_NEW_TABLE


def test_a_real_time_rule_picks_up_a_change_within_two_minutes(running_stack: RunningStack) -> None:
    stack = running_stack
    ensure_synced(stack)
    runs_before = {r["dag_run_id"] for r in stack.api.dag_runs(dag_id(MODELS_RULE))}
    model = stack.emulator.asset("SALES", "AM_SALES")
    changed = copy.deepcopy(model)
    changed["definition"]["elements"]["E2E_BONUS"] = {"type": "cds.Decimal", "precision": 10, "scale": 2}
    try:
        stack.emulator.put_asset("SALES", "AM_SALES", changed)
        changed_at = time.monotonic()

        def bonus_in_glue() -> bool:
            table = stack.glue.get_table(DatabaseName="dev_sales", Name="am_sales")["Table"]
            return columns(table).get("e2e_bonus") == "decimal(10,2)"

        wait_until(bonus_in_glue, timeout=REAL_TIME_PROMISE_SECONDS + 30, what="the change to reach Glue")
        took = time.monotonic() - changed_at
        assert took < REAL_TIME_PROMISE_SECONDS, f"the change took {took:.0f}s to reach Glue"
        new_runs = [r for r in stack.api.dag_runs(dag_id(MODELS_RULE)) if r["dag_run_id"] not in runs_before]
        assert "asset_triggered" in [r["run_type"] for r in new_runs], "the watcher, not a person, ran it"
    finally:
        stack.emulator.put_asset("SALES", "AM_SALES", model)
        stack.wait_for_idle(MODELS_RULE)


def test_jobs_retry_with_backoff_while_datasphere_answers_5xx_and_the_run_converges(
    running_stack: RunningStack,
) -> None:
    stack = running_stack
    stack.emulator.reset()
    stack.wait_for_idle(MODELS_RULE)
    reset_glue(stack)
    # Every object read of a SALES local table fails now. A read gives up after two calls (the stack's
    # settings), and the one job holding SALES tables reads five of them: each attempt of that job takes
    # exactly ten faults, so twenty fail its first two attempts and the third succeeds. Listings are
    # spared, so the real_time rule's watcher cannot take faults away.
    faults = {"count": 20, "status": 503, "path_prefix": "/dwaas-core/api/v1/spaces/SALES/localtables/"}
    stack.emulator.set_faults({"server_errors": faults})

    run_id = stack.run_to_end(CORE_RULE)

    assert stack.emulator.call("GET", "faults")["server_errors"]["count"] == 0, "every fault was served"
    retried = [ti for ti in stack.api.task_instances(dag_id(CORE_RULE), run_id) if ti["try_number"] > 1]
    assert retried, "a job must have failed and been retried by Airflow"
    first = retried[0]
    tries = stack.api.task_tries(dag_id(CORE_RULE), run_id, first["task_id"], first["map_index"])
    waits = [
        _seconds_between(earlier["end_date"], later["start_date"])
        for earlier, later in itertools.pairwise(tries)
    ]
    assert first["try_number"] == 3, f"two failed attempts, then success: {retried}"
    assert waits[0] >= 2, f"the first retry started {waits[0]:.1f}s after the failure; the rule says 2s"
    assert waits[1] >= 4, f"the second retry must wait twice as long (backoff multiplier 2): {waits}"
    assert set(glue_tables_of(stack, CORE_TYPES)) == set(expected_tables(stack, CORE_TYPES))


def test_a_killed_scheduler_comes_back_and_the_run_ends_exactly_as_the_catalog_says(
    running_stack: RunningStack,
) -> None:
    stack = running_stack
    stack.emulator.reset()
    stack.wait_for_idle(MODELS_RULE)
    reset_glue(stack)
    run_id = stack.trigger(CORE_RULE)

    def sync_jobs_running() -> bool:
        states = {
            ti["state"]
            for ti in stack.api.task_instances(dag_id(CORE_RULE), run_id)
            if ti["task_id"].startswith("sync_stage")
        }
        return "running" in states

    wait_until(sync_jobs_running, timeout=180, what="a sync job to run")
    stack.stack.kill_service("scheduler", signal.SIGKILL)
    tables_at_crash = len(glue_tables_of(stack, CORE_TYPES))
    time.sleep(2)
    restarted = stack.stack.start_service("scheduler")
    wait_until(restarted.is_ready, timeout=120, what="the scheduler to be healthy again", watch=[restarted])

    stack.wait_for_success(CORE_RULE, run_id, timeout=300)

    expected = expected_tables(stack, CORE_TYPES)
    tables = glue_tables_of(stack, CORE_TYPES)
    assert tables_at_crash < len(expected), "the crash must have happened before the sync was done"
    assert set(tables) == set(expected)
    keys = [
        f"{t['Parameters']['datasphere.space']}/{t['Parameters']['datasphere.technical_name']}"
        for t in tables.values()
    ]
    assert sorted(keys) == sorted(expected.values()), "every asset exactly once"
    check = stack.run_to_end(CORE_RULE)
    report = stack.report(CORE_RULE, check)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, len(expected))


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _local_table(elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "localtables", "exposed": False, "definition": {"kind": "entity", "elements": elements}}


def _view(name: str, elements: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "views",
        "exposed": False,
        "definition": {"kind": "entity", "@EndUserText.label": name, "elements": elements},
    }
