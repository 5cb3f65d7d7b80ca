"""The shipped rules load through Airflow's DagBag into DAGs that carry every rule's settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from include.datasphere_glue.compiler import dag_id_for
from include.datasphere_glue.rules.loader import load_rules
from include.datasphere_glue.rules.model import PRIORITY_WEIGHTS, Frequency, Priority, ResolvedRule
from tests.fixtures.airflow import PROJECT_ROOT

SYNC_TASKS = ("discover", "sync_stage_0", "sync_stage_1", "sync_stage_2", "finalize")
SELECT_TASKS = ("batches_stage_0", "batches_stage_1", "batches_stage_2")


@pytest.fixture(scope="module")
def dag_bag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DATASPHERE_GLUE_RULES_DIR", raising=False)
        patch.delenv("DATASPHERE_GLUE_STRICT_RULES", raising=False)
        return DagBag(dag_folder=str(PROJECT_ROOT / "dags"), safe_mode=True)


@pytest.fixture(scope="module")
def shipped_rules() -> list[ResolvedRule]:
    rule_set = load_rules(PROJECT_ROOT / "rules", strict=True)
    return [rule for rule in rule_set.rules if rule.rule.enabled]


def test_no_import_errors(dag_bag: Any) -> None:
    assert dag_bag.import_errors == {}


def test_every_enabled_rule_has_its_dag_and_nothing_else(
    dag_bag: Any, shipped_rules: list[ResolvedRule]
) -> None:
    expected = {dag_id_for(rule.name) for rule in shipped_rules}

    assert expected
    assert set(dag_bag.dag_ids) == expected


def test_each_dag_has_the_task_chain(dag_bag: Any, shipped_rules: list[ResolvedRule]) -> None:
    for rule in shipped_rules:
        dag = dag_bag.dags[dag_id_for(rule.name)]
        assert set(dag.task_ids) == {*SYNC_TASKS, *SELECT_TASKS}
        for stage in range(3):
            jobs = dag.get_task(f"sync_stage_{stage}")
            assert f"batches_stage_{stage}" in jobs.upstream_task_ids
            assert jobs.map_index_template == "{{ batch_label }}"
            assert jobs.trigger_rule == "all_done"
            assert (f"sync_stage_{stage - 1}" if stage else "batches_stage_0") in jobs.upstream_task_ids
        assert "sync_stage_2" in dag.get_task("finalize").upstream_task_ids
        assert dag.get_task("finalize").trigger_rule == "all_done"


@pytest.mark.parametrize("task_id", SYNC_TASKS)
def test_sync_tasks_carry_the_rules_job_settings(
    dag_bag: Any, shipped_rules: list[ResolvedRule], task_id: str
) -> None:
    for rule in shipped_rules:
        task = dag_bag.dags[dag_id_for(rule.name)].get_task(task_id)
        job = rule.job
        assert task.priority_weight == PRIORITY_WEIGHTS[rule.rule.priority], rule.name
        assert str(task.weight_rule) == "absolute"
        assert task.pool == job.pool
        assert task.pool_slots == job.pool_slots
        assert task.retries == job.retries
        assert task.retry_delay == timedelta(seconds=job.retry_delay_seconds)
        assert task.retry_exponential_backoff == job.backoff_multiplier
        assert task.max_retry_delay == timedelta(seconds=job.max_retry_delay_seconds)
        assert task.execution_timeout == timedelta(seconds=job.execution_timeout_seconds)
        assert task.owner == rule.rule.owner


def test_batch_selection_steps_keep_the_priority_outside_the_rules_pool(
    dag_bag: Any, shipped_rules: list[ResolvedRule]
) -> None:
    for rule in shipped_rules:
        for task_id in SELECT_TASKS:
            task = dag_bag.dags[dag_id_for(rule.name)].get_task(task_id)
            assert task.pool == "default_pool"
            assert task.priority_weight == PRIORITY_WEIGHTS[rule.rule.priority]
            assert str(task.weight_rule) == "absolute"


def test_priority_weights_keep_a_strict_order() -> None:
    order = [Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW, Priority.MAINTENANCE]
    weights = [PRIORITY_WEIGHTS[priority] for priority in order]

    assert weights == sorted(weights, reverse=True)
    assert len(set(weights)) == len(weights)


def test_tags_params_and_run_limits(dag_bag: Any, shipped_rules: list[ResolvedRule]) -> None:
    for rule in shipped_rules:
        dag = dag_bag.dags[dag_id_for(rule.name)]
        own = rule.rule
        assert {
            "datasphere-sync",
            f"priority:{own.priority.value}",
            f"frequency:{own.frequency}",
            f"owner:{own.owner}",
            *own.tags,
        } == set(dag.tags)
        assert dag.params.dump() == {"dry_run": False, "full_refresh": False, "assets": []}
        assert dag.max_active_runs == 1
        assert dag.catchup is False
        assert own.description.strip().splitlines()[0] in (dag.description or "")
        assert rule.source_file in (dag.doc_md or "")


def test_finalize_updates_the_rules_asset(dag_bag: Any, shipped_rules: list[ResolvedRule]) -> None:
    for rule in shipped_rules:
        outlets = dag_bag.dags[dag_id_for(rule.name)].get_task("finalize").outlets
        assert [asset.name for asset in outlets] == [f"datasphere-glue://rules/{rule.name}"]


def test_schedules_follow_the_frequency(dag_bag: Any, shipped_rules: list[ResolvedRule]) -> None:
    from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable

    for rule in shipped_rules:
        timetable = dag_bag.dags[dag_id_for(rule.name)].timetable
        frequency = rule.rule.named_frequency
        if rule.rule.depends_on:
            continue  # covered by the compiler tests
        if frequency is Frequency.MANUAL:
            assert not timetable.can_be_scheduled, rule.name
        elif frequency is Frequency.REAL_TIME:
            assert isinstance(timetable, AssetOrTimeSchedule), rule.name
            watched = timetable.asset_condition
            assert isinstance(watched, Asset), rule.name
            assert watched.watchers
            assert getattr(watched.watchers[0].trigger, "rule_name", None) == rule.name
        else:
            assert isinstance(timetable, CronTriggerTimetable), rule.name
