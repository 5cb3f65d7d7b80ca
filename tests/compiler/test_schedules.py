"""Frequencies, dependencies and real_time watchers become the right Airflow schedules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from include.datasphere_glue.compiler import compile_rules
from include.datasphere_glue.rules.loader import load_rules
from tests.fixtures.airflow import PROJECT_ROOT

RULES = """\
rules:
  - {name: quarter_rule, description: d, owner: o, priority: HIGH, frequency: every_15min}
  - {name: hourly_rule, description: d, owner: o, priority: HIGH, frequency: hourly}
  - {name: daily_rule, description: d, owner: o, priority: MEDIUM, frequency: daily}
  - {name: weekly_rule, description: d, owner: o, priority: LOW, frequency: weekly}
  - {name: cron_rule, description: d, owner: o, priority: LOW, frequency: "5 4 * * 1-5"}
  - {name: manual_rule, description: d, owner: o, priority: MAINTENANCE, frequency: manual}
  - {name: live_rule, description: d, owner: o, priority: CRITICAL, frequency: real_time}
  - {name: off_rule, description: d, owner: o, priority: LOW, frequency: daily, enabled: false}
  - name: downstream_rule
    description: d
    owner: o
    priority: HIGH
    frequency: hourly
    depends_on: [hourly_rule, daily_rule]
"""


@pytest.fixture(scope="module")
def dags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder: Path = tmp_path_factory.mktemp("rules")
    shutil.copy(PROJECT_ROOT / "rules" / "_defaults.yaml", folder)
    (folder / "schedules.yaml").write_text(RULES, encoding="utf-8")
    return dict(compile_rules(load_rules(folder, strict=True)))


def _cron(dags: dict[str, object], rule: str) -> str:
    timetable = dags[f"datasphere_sync__{rule}"].timetable  # type: ignore[attr-defined]
    return str(timetable.expression)


def test_named_frequencies_map_to_cron(dags: dict[str, object]) -> None:
    assert _cron(dags, "quarter_rule") == "*/15 * * * *"
    hourly = _cron(dags, "hourly_rule").split()
    assert hourly[1:] == ["*", "*", "*", "*"] and 0 <= int(hourly[0]) < 60
    assert _cron(dags, "daily_rule").split()[1:] == ["2", "*", "*", "*"]
    assert _cron(dags, "weekly_rule").split()[1:] == ["3", "*", "*", "0"]
    assert _cron(dags, "cron_rule") == "5 4 * * 1-5"


def test_manual_rules_have_no_schedule_and_disabled_rules_no_dag(dags: dict[str, object]) -> None:
    assert not dags["datasphere_sync__manual_rule"].timetable.can_be_scheduled  # type: ignore[attr-defined]
    assert "datasphere_sync__off_rule" not in dags


def test_a_dependent_rule_runs_after_all_its_upstream_rules(dags: dict[str, object]) -> None:
    from airflow.sdk import AssetAll

    timetable = dags["datasphere_sync__downstream_rule"].timetable  # type: ignore[attr-defined]

    condition = timetable.asset_condition
    assert isinstance(condition, AssetAll)
    assert sorted(str(getattr(asset, "name", "")) for asset in condition.objects) == [
        "datasphere-glue://rules/daily_rule",
        "datasphere-glue://rules/hourly_rule",
    ]


def test_real_time_watches_changes_with_a_daily_safety_net(dags: dict[str, object]) -> None:
    from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable

    from include.datasphere_glue.triggers import DatasphereChangeTrigger

    timetable = dags["datasphere_sync__live_rule"].timetable  # type: ignore[attr-defined]

    assert isinstance(timetable, AssetOrTimeSchedule)
    assert isinstance(timetable.timetable, CronTriggerTimetable)
    assert timetable.timetable.expression.split()[1:] == ["1", "*", "*", "*"]
    watched = timetable.asset_condition
    assert isinstance(watched, Asset)
    watcher = watched.watchers[0]
    assert isinstance(watcher.trigger, DatasphereChangeTrigger)
    assert watcher.trigger.poll_interval <= 60  # a change is seen well inside two minutes
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath == "include.datasphere_glue.triggers.DatasphereChangeTrigger"
    assert DatasphereChangeTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_minutes_are_spread_but_stable(tmp_path: Path) -> None:
    shutil.copy(PROJECT_ROOT / "rules" / "_defaults.yaml", tmp_path)
    (tmp_path / "schedules.yaml").write_text(RULES, encoding="utf-8")

    again = compile_rules(load_rules(tmp_path, strict=True))
    first = compile_rules(load_rules(tmp_path, strict=True))

    assert _cron(dict(again), "hourly_rule") == _cron(dict(first), "hourly_rule")
