"""Command line for the data-platform team: lint the rules, plan or run one rule's sync outside Airflow.

Run it from the project root::

    python -m include.datasphere_glue.cli lint [--rules DIR] [--strict]
    python -m include.datasphere_glue.cli plan RULE [--only NAME ...]
    python -m include.datasphere_glue.cli sync RULE [--dry-run] [--full-refresh] [--only NAME ...]

``plan`` and ``sync`` read the same Airflow connections as the DAGs (``datasphere_default`` and
``aws_default`` unless told otherwise), so ``AIRFLOW_CONN_...`` environment variables work.
Exit codes: 0 when all is well, 1 when a rule has errors or a sync failed, 2 for a usage mistake.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml

from include.datasphere_glue.rules.loader import ENV_VARIABLE, RuleSet, load_rules
from include.datasphere_glue.rules.model import Frequency, nearest, retry_delays
from include.datasphere_glue.runtime import DEFAULT_AWS_CONN_ID, DEFAULT_DATASPHERE_CONN_ID

if TYPE_CHECKING:
    from include.datasphere_glue.rules.model import ResolvedRule
    from include.datasphere_glue.sync.report import SyncReport

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
RULES_DIR_ENV = "DATASPHERE_GLUE_RULES_DIR"
# The CLI lives in include/datasphere_glue/; the project root holds rules/ and airflow_settings.yaml.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPORT_LIST_CAP = 50


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line and return its exit code.

    :param argv: arguments without the program name; ``sys.argv[1:]`` when None.
    :param out: where to print; standard output when None.
    """
    args = _parser().parse_args(argv)
    if not args.verbose:
        # Airflow reads its log level when first imported (by the hooks); a terminal wants the report only.
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stream = out or sys.stdout
    command: Any = args.command
    return int(command(args, stream))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m include.datasphere_glue.cli",
        description="Lint the sync rules, or plan or run one rule's sync outside Airflow.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    lint = commands.add_parser("lint", help="validate the rules and show what each would schedule")
    _add_rules_option(lint)
    lint.add_argument(
        "--strict", action="store_true", help="fail on warnings too (e.g. pools missing in airflow_settings)"
    )
    lint.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="airflow_settings.yaml to compare the pools with (default: beside the rules folder)",
    )
    lint.set_defaults(command=_lint)

    plan = commands.add_parser("plan", help="print the actions one rule's sync would take; writes nothing")
    _add_sync_options(plan)
    plan.set_defaults(command=_plan)

    sync = commands.add_parser("sync", help="run one rule's sync now and print its report")
    _add_sync_options(sync)
    sync.add_argument("--dry-run", action="store_true", help="report what would change without writing")
    sync.add_argument(
        "--full-refresh", action="store_true", help="rewrite tables even when their fingerprint is unchanged"
    )
    sync.set_defaults(command=_sync)
    return parser


def _add_rules_option(parser: argparse.ArgumentParser) -> None:
    default = Path(os.environ.get(RULES_DIR_ENV) or PROJECT_ROOT / "rules")
    parser.add_argument(
        "--rules", type=Path, default=default, help=f"rules folder (default: ${RULES_DIR_ENV} or {default})"
    )


def _add_sync_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule", metavar="RULE", help="name of the rule")
    _add_rules_option(parser)
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME",
        help="technical names of the assets to limit the run to",
    )
    parser.add_argument("--datasphere-conn-id", default=DEFAULT_DATASPHERE_CONN_ID)
    parser.add_argument("--aws-conn-id", default=DEFAULT_AWS_CONN_ID)
    parser.add_argument("--json", action="store_true", help="print the report summary as JSON")


# --- lint --------------------------------------------------------------------------------------------


def _lint(args: argparse.Namespace, out: TextIO) -> int:
    rule_set = load_rules(args.rules)
    settings = args.settings or args.rules.resolve().parent / "airflow_settings.yaml"
    warnings = _pool_warnings(rule_set, settings) + _rule_warnings(rule_set)
    environment = os.environ.get(ENV_VARIABLE)
    env = rule_set.rules[0].env if rule_set.rules else rule_set.defaults.env
    print(
        f"Rules folder {args.rules}: {len(rule_set.rules)} valid rule(s), {len(rule_set.enabled)} enabled, "
        f"{len(rule_set.errors)} error(s); env '{env}'" + (f" (from ${ENV_VARIABLE})" if environment else ""),
        file=out,
    )
    for rule in rule_set.rules:
        print(file=out)
        for line in describe_rule(rule, folder=args.rules):
            print(line, file=out)
    if warnings:
        print(f"\n{len(warnings)} warning(s):", file=out)
        for warning in warnings:
            print(f"warning: {warning}", file=out)
    if rule_set.errors:
        print(f"\n{len(rule_set.errors)} error(s):", file=out)
        for error in rule_set.errors:
            print(str(error), file=out)
    failed = bool(rule_set.errors) or (args.strict and bool(warnings))
    return EXIT_FAILED if failed else EXIT_OK


def describe_rule(rule: ResolvedRule, *, folder: Path | None = None) -> list[str]:
    """What a rule's DAG will do, as the lines ``lint`` prints for it.

    Pool, weight, retries and timeout are the operator arguments the compiler gives every task of the
    rule's DAG, so what ``lint`` shows is what Airflow will schedule.

    :param rule: the resolved rule.
    :param folder: the rules folder, to show the rule's file as the user named it.
    """
    from include.datasphere_glue.compiler.dags import dag_id_for, task_settings

    job = rule.job
    task = task_settings(rule)
    state = "" if rule.rule.enabled else "  [disabled: compiles to no DAG]"
    delays = retry_delays(job)
    retries = (
        f"{task['retries']}: {', '.join(_seconds(delay) for delay in delays)} "
        f"(cap {_seconds(task['max_retry_delay'].total_seconds())})"
        if delays
        else "none"
    )
    deletion = rule.rule.deletion
    source = folder / rule.source_file if folder else Path(rule.source_file)
    return [
        f"{rule.name}  ({source}:{rule.source_line}){state}",
        f"  dag id      {dag_id_for(rule.name)}",
        f"  priority    {rule.rule.priority.value} (priority weight {task['priority_weight']})",
        f"  schedule    {describe_schedule(rule)}",
        f"  pool        {task['pool']} ({task['pool_slots']} slot(s) per job)",
        f"  retries     {retries}",
        f"  timeout     {_seconds(task['execution_timeout'].total_seconds())} per attempt",
        f"  batches     {job.batch_size} asset(s) per job, {job.max_parallel_requests} parallel request(s)",
        f"  writes      {rule.target.database_template.format(env=rule.env, space='<space>')} "
        f"in {rule.target.region}",
        f"  deletion    {deletion.mode.value}"
        + (f" (fail-safe {deletion.max_delete_percent:g}%)" if deletion.mode.value != "off" else ""),
        f"  depends on  {', '.join(rule.rule.depends_on) or '-'}",
    ]


def describe_schedule(rule: ResolvedRule) -> str:
    """When the compiled DAG runs, in words, from the compiler's own schedule choices.

    :param rule: the resolved rule.
    """
    from include.datasphere_glue.compiler.schedules import REAL_TIME_POLL_SECONDS, cron_for

    frequency = rule.rule.named_frequency
    if frequency is Frequency.MANUAL:
        return "manual (no schedule; trigger it from the Airflow UI or with this CLI)"
    if rule.rule.depends_on:
        return (
            f"after each sync of {', '.join(rule.rule.depends_on)} "
            f"(its own frequency '{rule.rule.frequency}' is then not used)"
        )
    if frequency is Frequency.REAL_TIME:
        return (
            f"real_time (a watcher polls Datasphere every {REAL_TIME_POLL_SECONDS:g}s and starts a run on "
            "a change; plus one full run a day)"
        )
    return f"{rule.rule.frequency} (cron '{cron_for(rule)}', UTC)"


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _pool_warnings(rule_set: RuleSet, settings: Path) -> list[str]:
    """Pools the rules use that airflow_settings.yaml lacks or sizes differently."""
    if not settings.is_file():
        return [f"{settings} not found; cannot check that Airflow will have the rules' pools"]
    try:
        content = yaml.safe_load(settings.read_text(encoding="utf-8")) or {}
        pools = {
            entry["pool_name"]: entry.get("pool_slot")
            for entry in (content.get("airflow") or {}).get("pools") or []
        }
    except (yaml.YAMLError, AttributeError, KeyError, TypeError) as error:
        return [f"{settings}: cannot read its pools: {error}"]
    warnings = []
    for name in sorted({rule.job.pool for rule in rule_set.rules}):
        spec = rule_set.pools.get(name)
        if name not in pools:
            warnings.append(f"pool '{name}' is used by rules but not created by {settings}")
        elif spec is not None and pools[name] != spec.slots:
            warnings.append(
                f"pool '{name}' has {spec.slots} slot(s) in the rules but {pools[name]} in {settings}"
            )
    return warnings


def _rule_warnings(rule_set: RuleSet) -> list[str]:
    warnings = []
    for rule in rule_set.rules:
        deletion = rule.rule.deletion
        if deletion.mode.value != "off" and deletion.max_delete_percent >= 50:
            warnings.append(
                f"rule '{rule.name}': max_delete_percent {deletion.max_delete_percent:g} lets one run delete "
                "half the rule's tables or more"
            )
    return warnings


# --- plan and sync -----------------------------------------------------------------------------------


def _plan(args: argparse.Namespace, out: TextIO) -> int:
    return _run(args, out, dry_run=True, full_refresh=False)


def _sync(args: argparse.Namespace, out: TextIO) -> int:
    return _run(args, out, dry_run=args.dry_run, full_refresh=args.full_refresh)


def _run(args: argparse.Namespace, out: TextIO, *, dry_run: bool, full_refresh: bool) -> int:
    rule = _find_rule(args.rules, args.rule, out)
    if rule is None:
        return EXIT_FAILED
    from include.datasphere_glue.runtime import open_engine

    only = list(dict.fromkeys(args.only)) or None
    try:
        with open_engine(
            rule, datasphere_conn_id=args.datasphere_conn_id, aws_conn_id=args.aws_conn_id
        ) as engine:
            report = engine.sync_all(dry_run=dry_run, full_refresh=full_refresh, only=only)
    except Exception as error:
        # A user at a terminal needs the cause in one line; -v keeps the traceback for a bug report.
        log.info("Sync of rule %s failed", rule.name, exc_info=True)
        print(f"error: sync of rule '{rule.name}' stopped: {type(error).__name__}: {error}", file=out)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(report.summary(), indent=2, sort_keys=True), file=out)
    else:
        for line in describe_report(report):
            print(line, file=out)
    return EXIT_FAILED if report.has_failures else EXIT_OK


def _find_rule(folder: Path, name: str, out: TextIO) -> ResolvedRule | None:
    """The named rule, or None after printing why it cannot run (its errors, or the nearest name)."""
    rule_set = load_rules(folder)
    rule = rule_set.get(name)
    if rule is not None:
        if not rule.rule.enabled:
            print(f"note: rule '{name}' is disabled; running it anyway", file=out)
        return rule
    own_errors = [error for error in rule_set.errors if error.rule == name]
    if own_errors:
        print(f"error: rule '{name}' has errors and cannot run:", file=out)
        for error in own_errors:
            print(str(error), file=out)
        return None
    suggestion = nearest(name, [rule.name for rule in rule_set.rules])
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    print(f"error: no rule named '{name}' in {folder}{hint}", file=out)
    return None


def describe_report(report: SyncReport) -> list[str]:
    """A sync report as lines for a terminal: actions of a dry run, counts, problems, timings.

    :param report: the merged report of a run.
    """
    lines = []
    if report.dry_run:
        lines.append(f"Plan for rule '{report.rule}' (dry run: nothing was written)")
        lines.extend(f"  {action}" for action in report.actions[:REPORT_LIST_CAP])
        lines.extend(_more(report.actions))
        if not report.actions:
            lines.append("  nothing to do: Glue is in step")
    else:
        lines.append(f"Sync of rule '{report.rule}'")
    counts = ", ".join(
        f"{getattr(report, name)} {name}"
        for name in ("created", "updated", "unchanged", "deleted", "skipped", "failed")
    )
    lines.append(f"{'would be: ' if report.dry_run else ''}{counts} in {report.duration_seconds:.1f}s")
    for title, items in (
        ("errors", report.errors),
        ("conflicts", report.conflicts),
        ("skipped", report.skips),
    ):
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  {key}: {text}" for key, text in list(items.items())[:REPORT_LIST_CAP])
            lines.extend(_more(list(items)))
    for title, values in (("warnings", report.warnings), ("notes", report.notes)):
        if values:
            lines.append(f"{title}:")
            lines.extend(f"  {value}" for value in values[:REPORT_LIST_CAP])
            lines.extend(_more(values))
    if report.calls:
        lines.append("calls: " + ", ".join(f"{name} {count}" for name, count in sorted(report.calls.items())))
    return lines


def _more(values: Sequence[Any]) -> list[str]:
    extra = len(values) - REPORT_LIST_CAP
    return [f"  ... and {extra} more"] if extra > 0 else []


if __name__ == "__main__":
    sys.exit(main())
