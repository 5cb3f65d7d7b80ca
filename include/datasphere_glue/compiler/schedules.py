"""When a rule's DAG runs: its frequency, its upstream rules and, for real_time rules, a change watcher."""

from __future__ import annotations

import os
import zlib
from typing import TYPE_CHECKING, Any

from include.datasphere_glue.rules.model import Frequency

if TYPE_CHECKING:
    from airflow.sdk import Asset

    from include.datasphere_glue.rules.model import ResolvedRule

# Asset names follow the architecture contract; the URIs use the "x-" scheme prefix Airflow reserves for
# custom schemes, because any other scheme makes Airflow load every provider's URI normaliser (and with
# the amazon provider, boto3) while the DAG file is parsed.
RULE_ASSET_NAME = "datasphere-glue://rules/{rule}"
RULE_ASSET_URI = "x-datasphere-glue://rules/{rule}"
CHANGE_ASSET_NAME = "datasphere-glue://changes/{rule}"
CHANGE_ASSET_URI = "x-datasphere-glue://changes/{rule}"

# Seconds between two fingerprint polls of a real_time rule: a change is seen within one interval plus
# the time the scheduler takes to create the run, well inside the promised two minutes. The environment
# variable exists for tests; every Airflow component of one deployment must see the same value.
REAL_TIME_POLL_SECONDS = 60.0
POLL_SECONDS_ENV = "DATASPHERE_GLUE_WATCH_INTERVAL_SECONDS"

# Fixed cron expressions for the named frequencies; "{minute}" spreads rules over the hour so that a
# hundred hourly rules do not all queue their jobs at minute 0.
_NAMED_CRONS: dict[Frequency, str] = {
    Frequency.EVERY_15MIN: "*/15 * * * *",
    Frequency.HOURLY: "{minute} * * * *",
    Frequency.DAILY: "{minute} 2 * * *",
    Frequency.WEEKLY: "{minute} 3 * * 0",
}
# The safety net of real_time rules: one full sync a day, in case a change slipped past the watcher.
_REAL_TIME_SAFETY_NET = "{minute} 1 * * *"


def rule_asset(rule_name: str) -> Asset:
    """The asset a rule's finalize task updates after a successful sync; dependent rules schedule on it.

    :param rule_name: name of the rule.
    """
    from airflow.sdk import Asset

    return Asset(name=RULE_ASSET_NAME.format(rule=rule_name), uri=RULE_ASSET_URI.format(rule=rule_name))


def cron_for(rule: ResolvedRule) -> str | None:
    """The cron expression a rule's own frequency stands for, or None for manual and real_time rules.

    :param rule: the resolved rule.
    """
    frequency = rule.rule.named_frequency
    if frequency is None:
        return rule.rule.frequency
    template = _NAMED_CRONS.get(frequency)
    return template.format(minute=_spread_minute(rule.name)) if template else None


def schedule_for(rule: ResolvedRule, upstream_rules: list[str], *, datasphere_conn_id: str) -> Any:
    """The Airflow ``schedule`` of a rule's DAG.

    A rule with enabled upstream rules runs each time all of them have synced since its own last run
    (its own frequency is then not used: a timer run would not wait for them). Otherwise a manual rule
    has no schedule, a real_time rule runs on a change its watcher sees or on the daily safety net,
    and every other rule runs on its cron.

    :param rule: the resolved rule.
    :param upstream_rules: names of the enabled rules it depends on.
    :param datasphere_conn_id: connection the real_time change watcher reads Datasphere through.
    """
    from airflow.sdk import AssetAll, AssetOrTimeSchedule, CronTriggerTimetable

    frequency = rule.rule.named_frequency
    if frequency is Frequency.MANUAL:
        return None
    if upstream_rules:
        return AssetAll(*(rule_asset(name) for name in sorted(upstream_rules)))
    if frequency is Frequency.REAL_TIME:
        safety_net = _REAL_TIME_SAFETY_NET.format(minute=_spread_minute(rule.name))
        return AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(safety_net, timezone="UTC"),
            assets=change_asset(rule, datasphere_conn_id=datasphere_conn_id),
        )
    cron = cron_for(rule)
    return CronTriggerTimetable(cron, timezone="UTC") if cron else None


def change_asset(rule: ResolvedRule, *, datasphere_conn_id: str) -> Asset:
    """The asset a real_time rule's watcher updates when the fingerprint of the rule's assets changes.

    :param rule: a real_time rule.
    :param datasphere_conn_id: connection the watcher reads Datasphere through.
    """
    from airflow.sdk import Asset, AssetWatcher

    from include.datasphere_glue.triggers import DatasphereChangeTrigger

    trigger = DatasphereChangeTrigger(
        rule_name=rule.name,
        datasphere_conn_id=datasphere_conn_id,
        poll_interval=float(os.environ.get(POLL_SECONDS_ENV, REAL_TIME_POLL_SECONDS)),
    )
    return Asset(
        name=CHANGE_ASSET_NAME.format(rule=rule.name),
        uri=CHANGE_ASSET_URI.format(rule=rule.name),
        watchers=[AssetWatcher(name=f"datasphere_changes__{rule.name}", trigger=trigger)],
    )


def _spread_minute(rule_name: str) -> int:
    """A minute of the hour derived from the rule name: stable across parses, spread across rules."""
    return zlib.crc32(rule_name.encode()) % 60
