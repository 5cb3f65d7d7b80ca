"""What the tasks of a sync DAG run; hooks, boto3 and the engine are imported only when a task runs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from include.datasphere_glue.rules.model import ResolvedRule
    from include.datasphere_glue.sync.engine import Batch, SyncEngine

log = logging.getLogger(__name__)

STAGE_KEYS = ("stage_0", "stage_1", "stage_2")
REPORT_KEY = "report"


class RuleNotRunnable(Exception):
    """The rule a task belongs to is missing or invalid in the rules folder the worker sees."""


class DiscoveryMissing(Exception):
    """Finalize found no result of discover: the listing failed, so nothing is finalized or deleted."""


class JobsFailed(Exception):
    """Some sync jobs of the run failed; finalize still reported and did its safe part."""


def discover(rule_name: str, *, datasphere_conn_id: str, aws_conn_id: str) -> dict[str, Any]:
    """List the rule's assets in Datasphere and cut them into sync jobs, by stage.

    :param rule_name: the rule whose DAG runs.
    :param datasphere_conn_id: Airflow connection to Datasphere.
    :param aws_conn_id: Airflow connection to AWS.
    :return: ``stage_0``..``stage_2`` (lists of batches), ``complete``, ``warnings``, ``filtered``.
    """
    params = _params()
    wanted = params["assets"]
    with _engine(rule_name, datasphere_conn_id=datasphere_conn_id, aws_conn_id=aws_conn_id) as engine:
        discovery = engine.discover(only=wanted or None)
    batches = [dict(batch) for batch in discovery.batches]
    if wanted and not batches:
        raise ValueError(f"rule '{rule_name}' selects none of the requested assets: {', '.join(wanted)}")
    by_stage = {key: [b for b in batches if b["stage"] == stage] for stage, key in enumerate(STAGE_KEYS)}
    log.info(
        "Rule %s: %d job(s) (%s), listing %s, %d warning(s)",
        rule_name,
        sum(len(jobs) for jobs in by_stage.values()),
        ", ".join(f"{key}: {len(jobs)}" for key, jobs in by_stage.items()),
        "complete" if discovery.complete else "INCOMPLETE",
        len(discovery.warnings),
    )
    for warning in discovery.warnings:
        log.warning("Rule %s: %s", rule_name, warning)
    return {
        **by_stage,
        "complete": bool(discovery.complete),
        "warnings": list(discovery.warnings)[:50],
        "failed_spaces": list(discovery.failed_spaces),
        "filtered": bool(wanted),
    }


def select_batches(discovery: Mapping[str, Any], *, stage: int) -> list[dict[str, Any]]:
    """The batches of one stage, for the stage's mapped sync jobs.

    :param discovery: what :func:`discover` returned.
    :param stage: 0 (tables), 1 (views) or 2 (analytic models).
    """
    return list(discovery[STAGE_KEYS[stage]])


def sync_batch(
    rule_name: str, batch: dict[str, Any], *, datasphere_conn_id: str, aws_conn_id: str
) -> dict[str, Any]:
    """Sync one batch of assets into Glue; fail at the end when any asset failed, so Airflow retries.

    :param rule_name: the rule whose DAG runs.
    :param batch: one batch from :func:`discover`.
    :param datasphere_conn_id: Airflow connection to Datasphere.
    :param aws_conn_id: Airflow connection to AWS.
    :return: the job's report summary.
    """
    from airflow.sdk import get_current_context

    context = get_current_context()
    # Read by the task's map_index_template, so the UI names the job by space and first assets.
    label = batch.get("label") or f"{batch['space']}: {batch['names'][0]}"
    context["batch_label"] = label  # type: ignore[typeddict-unknown-key]
    params = _params()
    with _engine(rule_name, datasphere_conn_id=datasphere_conn_id, aws_conn_id=aws_conn_id) as engine:
        report = engine.sync_batch(
            cast("Batch", batch), dry_run=params["dry_run"], full_refresh=params["full_refresh"]
        )
    summary = report.summary()
    # Pushed before failing, so finalize can tell a job that failed on some assets from one that
    # never reported (killed, timed out): both count as failed, only the first has counts.
    context["ti"].xcom_push(key=REPORT_KEY, value=summary)
    log.info(
        "Job %s: %d created, %d updated, %d unchanged, %d skipped, %d failed",
        context["batch_label"],  # type: ignore[typeddict-item]
        report.created,
        report.updated,
        report.unchanged,
        report.skipped,
        report.failed,
    )
    if report.has_failures and _only_collisions(report.errors, batch):
        from airflow.sdk.exceptions import AirflowFailException

        # A name collision fails the same way on every try: retries would only hold back later stages.
        raise AirflowFailException(
            f"rule '{rule_name}': not retried, every failure is a Glue name collision: "
            + "; ".join(f"{key}: {message}" for key, message in list(report.errors.items())[:5])
        )
    report.raise_for_failures()
    return summary


def _only_collisions(errors: Mapping[str, str], batch: Mapping[str, Any]) -> bool:
    """Whether every failed asset of a job is one the discovery already found colliding."""
    collided = {f"{batch['space']}/{name}" for name in batch.get("collisions", {})}
    return bool(collided) and set(errors) <= collided


def finalize(rule_name: str, *, datasphere_conn_id: str, aws_conn_id: str) -> dict[str, Any]:
    """Add flow lineage, delete vanished owned tables when that is safe, and report the whole run.

    Runs even when jobs failed. Deletion happens only after a complete, unfiltered listing, and the
    engine guards it with the rule's fail-safe. The run fails here when any job failed.

    :param rule_name: the rule whose DAG runs.
    :param datasphere_conn_id: Airflow connection to Datasphere.
    :param aws_conn_id: Airflow connection to AWS.
    :return: the run's report summary (also when jobs failed: then pushed before failing).
    """
    from airflow.sdk import get_current_context

    from include.datasphere_glue.stats import emit_sync_report
    from include.datasphere_glue.sync.engine import record_failed_listings
    from include.datasphere_glue.sync.report import SyncReport

    context = get_current_context()
    ti = context["ti"]
    discovery = ti.xcom_pull(task_ids="discover")
    if not discovery:
        raise DiscoveryMissing(
            f"rule '{rule_name}': discover did not finish, so nothing was finalized and nothing deleted"
        )
    expected = sum(len(discovery[key]) for key in STAGE_KEYS)
    pulled = ti.xcom_pull(task_ids=[f"sync_{key}" for key in STAGE_KEYS], key=REPORT_KEY)
    job_reports = [SyncReport.from_summary(s) for s in _present(pulled)]
    failed_jobs = expected - sum(1 for r in job_reports if not r.has_failures)

    params = _params()
    # The engine deletes only after a complete listing of its own, and never on a filtered run.
    with _engine(rule_name, datasphere_conn_id=datasphere_conn_id, aws_conn_id=aws_conn_id) as engine:
        final = engine.finalize(dry_run=params["dry_run"], only=params["assets"] or None)
    report = SyncReport.merge([*job_reports, final])
    report.rule = rule_name
    report.warnings.extend(w for w in discovery["warnings"] if w not in report.warnings)
    if failed_jobs:
        report.warnings.append(f"{failed_jobs} of {expected} sync job(s) failed")
    # Judged from this run's own listing, so a retry of finalize alone cannot turn the run green.
    run_errors = {**final.errors, **record_failed_listings(report, discovery.get("failed_spaces", []))}
    summary = report.summary()
    summary["jobs"] = {"total": expected, "failed": failed_jobs}
    log.info(
        "Rule %s: %d job(s), %d failed; %d created, %d updated, %d unchanged, %d deleted, %d failed asset(s)",
        rule_name,
        expected,
        failed_jobs,
        report.created,
        report.updated,
        report.unchanged,
        report.deleted,
        report.failed,
    )
    # Once per run, failed runs included, so dashboards count every asset exactly once.
    emit_sync_report(rule_name, load_rule(rule_name).rule.priority.value, summary)
    if failed_jobs or report.has_failures:
        ti.xcom_push(key="return_value", value=summary)
        problems = [f"{failed_jobs} of {expected} sync job(s) failed"] if failed_jobs else []
        problems += list(run_errors.values())
        raise JobsFailed(f"rule '{rule_name}': " + "; ".join(problems[:4]))
    return summary


def load_rule(rule_name: str) -> ResolvedRule:
    """The rule as the rules folder defines it now, on the worker.

    :param rule_name: name of the rule.
    :raises RuleNotRunnable: when the rule is gone, disabled or invalid.
    """
    from include.datasphere_glue.compiler import load_rule_set, rules_dir

    rule_set = load_rule_set()
    for rule in rule_set.rules:
        if rule.name == rule_name:
            return rule
    problems = [str(error) for error in rule_set.errors if error.rule == rule_name]
    raise RuleNotRunnable(
        f"rule '{rule_name}' is not defined in {rules_dir()}"
        + (f": {'; '.join(problems)}" if problems else "")
    )


def _engine(
    rule_name: str, *, datasphere_conn_id: str, aws_conn_id: str
) -> AbstractContextManager[SyncEngine]:
    from include.datasphere_glue.runtime import open_engine

    return open_engine(load_rule(rule_name), datasphere_conn_id=datasphere_conn_id, aws_conn_id=aws_conn_id)


def _params() -> dict[str, Any]:
    from airflow.sdk import get_current_context

    params = get_current_context()["params"]
    return {
        "dry_run": bool(params.get("dry_run", False)),
        "full_refresh": bool(params.get("full_refresh", False)),
        "assets": [str(name).strip() for name in params.get("assets") or [] if str(name).strip()],
    }


def _present(pulled: Any) -> list[Mapping[str, Any]]:
    if pulled is None:
        return []
    values = pulled if isinstance(pulled, list) else [pulled]
    return [value for value in values if isinstance(value, Mapping)]
