"""Build one Airflow DAG from one resolved rule: discover, three mapped sync stages, finalize."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pendulum

from include.datasphere_glue import tasks
from include.datasphere_glue.compiler.schedules import cron_for, rule_asset, schedule_for
from include.datasphere_glue.rules.model import PRIORITY_WEIGHTS, Frequency

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from include.datasphere_glue.rules.model import ResolvedRule

DAG_ID_PREFIX = "datasphere_sync__"
TAG = "datasphere-sync"
# Stages in the order a run syncs them: upstream objects land in Glue before what is built on them.
STAGES: tuple[tuple[int, str], ...] = ((0, "tables"), (1, "views"), (2, "analytic models"))
# A fixed date in the past: a start_date computed at parse time would make every parse a new DAG version.
DEFAULT_POOL = "default_pool"
START_DATE = pendulum.datetime(2024, 1, 1, tz="UTC")


def dag_id_for(rule_name: str) -> str:
    """The dag_id of a rule's DAG.

    :param rule_name: name of the rule.
    """
    return f"{DAG_ID_PREFIX}{rule_name}"


def build_dag(
    rule: ResolvedRule, *, upstream_rules: list[str], datasphere_conn_id: str, aws_conn_id: str
) -> DAG:
    """Build the DAG that syncs one rule.

    :param rule: the resolved rule.
    :param upstream_rules: names of the enabled rules this rule depends on.
    :param datasphere_conn_id: Airflow connection to Datasphere the tasks (and a watcher) use.
    :param aws_conn_id: Airflow connection to AWS the tasks use.
    """
    from airflow.sdk import DAG

    dag = DAG(
        dag_id=dag_id_for(rule.name),
        description=_first_line(rule.rule.description),
        doc_md=_doc(rule, upstream_rules),
        schedule=schedule_for(rule, upstream_rules, datasphere_conn_id=datasphere_conn_id),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=_tags(rule),
        params=_params(),
        default_args={"owner": rule.rule.owner},
        auto_register=False,
    )
    _add_tasks(dag, rule, datasphere_conn_id=datasphere_conn_id, aws_conn_id=aws_conn_id)
    return dag


def task_settings(rule: ResolvedRule) -> dict[str, Any]:
    """The Airflow operator arguments every task of a rule's DAG carries.

    :param rule: the resolved rule.
    """
    job = rule.job
    return {
        "pool": job.pool,
        "pool_slots": job.pool_slots,
        "priority_weight": PRIORITY_WEIGHTS[rule.rule.priority],
        # "absolute" so that a weight means its priority alone, never a sum over downstream tasks.
        "weight_rule": "absolute",
        "retries": job.retries,
        "retry_delay": timedelta(seconds=job.retry_delay_seconds),
        # A float multiplier in Airflow 3.3: 1 keeps the delay constant, 2 doubles it on every retry.
        "retry_exponential_backoff": job.backoff_multiplier,
        "max_retry_delay": timedelta(seconds=job.max_retry_delay_seconds),
        "execution_timeout": timedelta(seconds=job.execution_timeout_seconds),
    }


def _add_tasks(dag: DAG, rule: ResolvedRule, *, datasphere_conn_id: str, aws_conn_id: str) -> None:
    """Wire discover → (batches_stage_N → sync_stage_N) for N = 0, 1, 2 → finalize into ``dag``."""
    from airflow.sdk import task

    settings = task_settings(rule)
    connections = {"datasphere_conn_id": datasphere_conn_id, "aws_conn_id": aws_conn_id}

    discovered = task(task_id="discover", dag=dag, **settings)(tasks.discover)(
        rule_name=rule.name, **connections
    )

    previous: Any = discovered
    for stage, what in STAGES:
        # Airflow sizes a mapped task by the whole return value of the task it maps over, never by one
        # key of it, so each stage gets its batch list from a step of its own. That step makes no API
        # call: it runs in the default pool, with the rule's priority.
        batches = task(
            task_id=f"batches_stage_{stage}", dag=dag, **{**settings, "pool": DEFAULT_POOL, "pool_slots": 1}
        )(tasks.select_batches)(discovered, stage=stage)  # type: ignore[arg-type]  # resolved at run time
        jobs = (
            task(
                task_id=f"sync_stage_{stage}",
                doc_md=f"Sync jobs of stage {stage} ({what}); one job per batch of assets.",
                map_index_template="{{ batch_label }}",
                # Run after the previous stage whatever became of it: a failed table never holds back
                # unrelated views, and an empty stage (skipped) never holds back the next one.
                trigger_rule="all_done",
                dag=dag,
                **settings,
            )(tasks.sync_batch)
            .partial(rule_name=rule.name, **connections)
            .expand(batch=batches)
        )
        previous >> jobs
        previous = jobs

    finalized = task(
        task_id="finalize",
        doc_md="Adds flow lineage, deletes vanished owned tables after a complete listing, reports.",
        trigger_rule="all_done",
        outlets=[rule_asset(rule.name)],
        dag=dag,
        **settings,
    )(tasks.finalize)(rule_name=rule.name, **connections)
    previous >> finalized


def _tags(rule: ResolvedRule) -> list[str]:
    own = rule.rule
    tags = [TAG, f"priority:{own.priority.value}", f"frequency:{own.frequency}", f"owner:{own.owner}"]
    return tags + [tag for tag in own.tags if tag not in tags]


def _params() -> dict[str, Any]:
    """The trigger form of every sync DAG."""
    from airflow.sdk import Param

    return {
        "dry_run": Param(
            False, type="boolean", title="Dry run", description="Plan and report only; write nothing to Glue."
        ),
        "full_refresh": Param(
            False,
            type="boolean",
            title="Full refresh",
            description="Rewrite every table even when its fingerprint shows no change.",
        ),
        "assets": Param(
            [],
            type="array",
            items={"type": "string"},
            title="Only these assets",
            description="Technical names of the assets to sync, one per line; empty syncs all. "
            "Deletion of vanished tables is skipped while this filter is set.",
        ),
    }


def _doc(rule: ResolvedRule, upstream_rules: list[str]) -> str:
    own, job = rule.rule, rule.job
    lines = [
        f"# Sync rule `{own.name}`",
        "",
        own.description,
        "",
        f"- Owner: {own.owner}",
        f"- Defined in: `{rule.source_file}` line {rule.source_line}",
        f"- Priority: {own.priority.value} (priority weight {PRIORITY_WEIGHTS[own.priority]}, absolute)",
        f"- Frequency: `{own.frequency}`; runs {_when(rule, upstream_rules)}",
        f"- Jobs: {job.batch_size} assets each, pool `{job.pool}` ({job.pool_slots} slot(s)), "
        f"{job.retries} retries from {job.retry_delay_seconds:g}s growing by x{job.backoff_multiplier:g} "
        f"up to {job.max_retry_delay_seconds:g}s, timeout {job.execution_timeout_seconds:g}s",
    ]
    return "\n".join(lines)


def _when(rule: ResolvedRule, upstream_rules: list[str]) -> str:
    frequency = rule.rule.named_frequency
    if frequency is Frequency.MANUAL:
        return "only when triggered"
    if upstream_rules:
        names = ", ".join(f"`{dag_id_for(name)}`" for name in sorted(upstream_rules))
        return f"after each sync of all of {names}"
    if frequency is Frequency.REAL_TIME:
        return "within two minutes of a change in Datasphere, and once a day as a safety net"
    return f"on cron `{cron_for(rule)}` (UTC)"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""
