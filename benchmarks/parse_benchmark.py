"""Print how long Airflow takes to parse dags/ for 10, 100 and 1,000 rules, beside two baselines.

For each size the script writes, into a temporary folder, the same DAGs three ways and parses each
folder with Airflow's DagBag in a fresh interpreter (several repeats, median reported):

- ours: dags/datasphere_sync.py and dags/datasphere_sync_rule_errors.py reading a generated rules folder;
- floor: one hand-written Python file that builds the same DAGs directly with Airflow's API from a
  literal table of settings (no YAML, no validation);
- dag-factory: dag-factory 1.1 building equivalent DAGs (same tasks, settings, mapping) from YAML.

Targets: ours at most 1.3x the floor and faster than dag-factory at every size; 1,000 rules well inside
Airflow's 30 s import timeout. Run: ``PYTHONPATH=. .venv/bin/python benchmarks/parse_benchmark.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PRIORITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "MAINTENANCE")
FREQUENCIES = ("hourly", "daily", "every_15min", "weekly", "30 4 * * 1-5", "manual", "real_time")

# Time only the DagBag fill, in a fresh interpreter with Airflow already imported.
_PROBE = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "dags": len(bag.dags), "errors": len(bag.import_errors)}))
"""


def main() -> None:
    """Generate the three folders per size, parse each, and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(
        f"{'rules':>6} {'ours s':>8} {'floor s':>8} {'ours/floor':>10} {'dag-factory s':>14} {'ours/df':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="parse-benchmark-") as scratch:
        for size in args.sizes:
            folders = _write_folders(Path(scratch) / str(size), size)
            medians = {
                name: _median_parse(folder, env, size, args.repeats)
                for name, (folder, env) in folders.items()
            }
            ours, floor, factory = medians["ours"], medians["floor"], medians["dag-factory"]
            print(
                f"{size:>6} {ours:>8.2f} {floor:>8.2f} {ours / floor:>10.2f} "
                f"{factory:>14.2f} {ours / factory:>8.2f}",
                flush=True,
            )


def _median_parse(folder: Path, env: dict[str, str], size: int, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        result = subprocess.run(
            [sys.executable, "-c", _PROBE, str(folder)], env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"parsing {folder} failed:\n{result.stderr[-3000:]}")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        if figures["dags"] != size or figures["errors"]:
            raise RuntimeError(
                f"{folder}: {figures['dags']} DAGs and {figures['errors']} errors, expected {size}"
            )
        timings.append(figures["seconds"])
    return statistics.median(timings)


def _write_folders(root: Path, size: int) -> dict[str, tuple[Path, dict[str, str]]]:
    rules = [_rule(index) for index in range(size)]
    home = root / "airflow-home"
    home.mkdir(parents=True)
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DATASPHERE_GLUE"))},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "PYTHONPATH": str(PROJECT_ROOT),
    }

    rules_dir = root / "rules"
    rules_dir.mkdir()
    shutil.copy(PROJECT_ROOT / "rules" / "_defaults.yaml", rules_dir)
    for start in range(0, size, 100):
        chunk = {"rules": rules[start : start + 100]}
        (rules_dir / f"rules_{start:05d}.yaml").write_text(yaml.safe_dump(chunk, sort_keys=False))
    ours = root / "ours"
    ours.mkdir()
    for name in ("datasphere_sync.py", "datasphere_sync_rule_errors.py"):
        shutil.copy(PROJECT_ROOT / "dags" / name, ours)

    from include.datasphere_glue.rules.loader import load_rules

    resolved = load_rules(rules_dir, strict=True).rules
    floor = root / "floor"
    floor.mkdir()
    (floor / "handwritten_dags.py").write_text(_floor_source([_settings(rule) for rule in resolved]))
    factory = root / "dag_factory"
    factory.mkdir()
    (factory / "datasphere_sync.yml").write_text(yaml.safe_dump(_factory_config(resolved), sort_keys=False))
    (factory / "load_dag_factory.py").write_text(
        "from airflow.sdk import DAG  # noqa: F401  (the word DAG lets safe mode parse this file)\n"
        "from pathlib import Path\n\nfrom dagfactory import load_yaml_dags\n\n"
        "load_yaml_dags(globals_dict=globals(), dags_folder=str(Path(__file__).parent))\n"
    )
    return {
        "ours": (ours, {**base_env, "DATASPHERE_GLUE_RULES_DIR": str(rules_dir)}),
        "floor": (floor, base_env),
        "dag-factory": (factory, base_env),
    }


def _rule(index: int) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": f"rule_{index:05d}",
        "description": f"Benchmark rule {index}: assets of space SPACE_{index % 37}.",
        "owner": f"team-{index % 7}",
        "priority": PRIORITIES[index % len(PRIORITIES)],
        "frequency": FREQUENCIES[index % len(FREQUENCIES)],
        "match": {"spaces": [f"SPACE_{index % 37}"], "include": [f"T{index % 11}_*"]},
    }
    if index % 10 == 9:
        rule["depends_on"] = [f"rule_{index - 1:05d}"]
    return rule


def _settings(rule: Any) -> dict[str, Any]:
    """What the floor file needs of a resolved rule, as plain literals."""
    from include.datasphere_glue.compiler.dags import _doc, _first_line, _tags
    from include.datasphere_glue.compiler.schedules import cron_for
    from include.datasphere_glue.rules.model import PRIORITY_WEIGHTS

    job = rule.job
    return {
        "name": rule.name,
        "description": _first_line(rule.rule.description),
        "doc_md": _doc(rule, list(rule.rule.depends_on)),
        "tags": _tags(rule),
        "owner": rule.rule.owner,
        "frequency": rule.rule.frequency,
        "cron": cron_for(rule),
        "safety_net": f"{_spread(rule.name)} 1 * * *",
        "upstream": sorted(rule.rule.depends_on),
        "pool": job.pool,
        "pool_slots": job.pool_slots,
        "weight": PRIORITY_WEIGHTS[rule.rule.priority],
        "retries": job.retries,
        "retry_delay": job.retry_delay_seconds,
        "backoff": job.backoff_multiplier,
        "max_retry_delay": job.max_retry_delay_seconds,
        "timeout": job.execution_timeout_seconds,
    }


def _spread(name: str) -> int:
    import zlib

    return zlib.crc32(name.encode()) % 60


_FLOOR_TEMPLATE = '''"""Hand-written: the same sync DAGs built directly with Airflow's API from a table."""

from datetime import timedelta

import pendulum
from airflow.sdk import (
    DAG, Asset, AssetAll, AssetOrTimeSchedule, AssetWatcher, CronTriggerTimetable, Param, task,
)

from include.datasphere_glue import tasks
from include.datasphere_glue.triggers import DatasphereChangeTrigger

START = pendulum.datetime(2024, 1, 1, tz="UTC")
CONNECTIONS = {{"datasphere_conn_id": "datasphere_default", "aws_conn_id": "aws_default"}}
RULES = {rules!r}


def schedule(rule):
    if rule["frequency"] == "manual":
        return None
    if rule["upstream"]:
        return AssetAll(*(Asset(name=f"datasphere-glue://rules/{{n}}", uri=f"x-datasphere-glue://rules/{{n}}")
                          for n in rule["upstream"]))
    if rule["frequency"] == "real_time":
        trigger = DatasphereChangeTrigger(rule_name=rule["name"], datasphere_conn_id="datasphere_default",
                                          poll_interval=60.0)
        watched = Asset(name=f"datasphere-glue://changes/{{rule['name']}}",
                        uri=f"x-datasphere-glue://changes/{{rule['name']}}",
                        watchers=[AssetWatcher(name=f"datasphere_changes__{{rule['name']}}",
                                               trigger=trigger)])
        return AssetOrTimeSchedule(timetable=CronTriggerTimetable(rule["safety_net"], timezone="UTC"),
                                   assets=watched)
    return CronTriggerTimetable(rule["cron"], timezone="UTC")


for rule in RULES:
    settings = dict(
        pool=rule["pool"], pool_slots=rule["pool_slots"], priority_weight=rule["weight"],
        weight_rule="absolute", retries=rule["retries"], retry_delay=timedelta(seconds=rule["retry_delay"]),
        retry_exponential_backoff=rule["backoff"], max_retry_delay=timedelta(seconds=rule["max_retry_delay"]),
        execution_timeout=timedelta(seconds=rule["timeout"]),
    )
    dag = DAG(
        dag_id=f"datasphere_sync__{{rule['name']}}", description=rule["description"], doc_md=rule["doc_md"],
        schedule=schedule(rule), start_date=START, catchup=False, max_active_runs=1, tags=rule["tags"],
        params={{
            "dry_run": Param(False, type="boolean", title="Dry run", description="Plan and report only."),
            "full_refresh": Param(False, type="boolean", title="Full refresh", description="Rewrite all."),
            "assets": Param([], type="array", items={{"type": "string"}}, title="Only these assets",
                            description="Technical names; empty syncs all."),
        }},
        default_args={{"owner": rule["owner"]}}, auto_register=False,
    )
    discovered = task(task_id="discover", dag=dag, **settings)(tasks.discover)(
        rule_name=rule["name"], **CONNECTIONS)
    previous = discovered
    for stage in range(3):
        batches = task(task_id=f"batches_stage_{{stage}}", dag=dag,
                       **{{**settings, "pool": "default_pool", "pool_slots": 1}})(tasks.select_batches)(
            discovered, stage=stage)
        jobs = task(task_id=f"sync_stage_{{stage}}", map_index_template="{{{{ batch_label }}}}",
                    trigger_rule="all_done", dag=dag, **settings)(tasks.sync_batch).partial(
            rule_name=rule["name"], **CONNECTIONS).expand(batch=batches)
        previous >> jobs
        previous = jobs
    finalized = task(task_id="finalize", trigger_rule="all_done", dag=dag,
                     outlets=[Asset(name=f"datasphere-glue://rules/{{rule['name']}}",
                                    uri=f"x-datasphere-glue://rules/{{rule['name']}}")],
                     **settings)(tasks.finalize)(rule_name=rule["name"], **CONNECTIONS)
    previous >> finalized
    globals()[dag.dag_id] = dag
'''


def _floor_source(rules: list[dict[str, Any]]) -> str:
    return _FLOOR_TEMPLATE.format(rules=rules)


def _factory_config(resolved: list[Any]) -> dict[str, Any]:
    """dag-factory YAML for the same DAGs: PythonOperator tasks, the same settings and mapping."""
    config: dict[str, Any] = {}
    for rule in resolved:
        settings = _settings(rule)
        common = {
            "pool": settings["pool"],
            "pool_slots": settings["pool_slots"],
            "priority_weight": settings["weight"],
            "weight_rule": "absolute",
            "retries": settings["retries"],
            "retry_delay": {"__type__": "datetime.timedelta", "seconds": settings["retry_delay"]},
            "retry_exponential_backoff": settings["backoff"],
            "max_retry_delay": {"__type__": "datetime.timedelta", "seconds": settings["max_retry_delay"]},
            "execution_timeout": {"__type__": "datetime.timedelta", "seconds": settings["timeout"]},
        }
        operator = "airflow.providers.standard.operators.python.PythonOperator"
        kwargs = {
            "rule_name": settings["name"],
            "datasphere_conn_id": "datasphere_default",
            "aws_conn_id": "aws_default",
        }
        tasks: dict[str, Any] = {
            "discover": {
                "operator": operator,
                "python_callable": "include.datasphere_glue.tasks.discover",
                "op_kwargs": kwargs,
                **common,
            },
        }
        previous = "discover"
        for stage in range(3):
            tasks[f"batches_stage_{stage}"] = {
                "operator": operator,
                "python_callable": "include.datasphere_glue.tasks.select_batches",
                "op_kwargs": {"stage": stage},
                **{**common, "pool": "default_pool", "pool_slots": 1},
                "dependencies": ["discover"],
            }
            tasks[f"sync_stage_{stage}"] = {
                "operator": operator,
                "python_callable": "include.datasphere_glue.tasks.sync_batch",
                "map_index_template": "{{ batch_label }}",
                "trigger_rule": "all_done",
                **common,
                "partial": {"op_kwargs": kwargs},
                "expand": {"op_args": f"batches_stage_{stage}.output"},
                "dependencies": [previous, f"batches_stage_{stage}"],
            }
            previous = f"sync_stage_{stage}"
        tasks["finalize"] = {
            "operator": operator,
            "python_callable": "include.datasphere_glue.tasks.finalize",
            "op_kwargs": kwargs,
            "trigger_rule": "all_done",
            **common,
            "dependencies": [previous],
        }
        config[f"datasphere_sync__{settings['name']}"] = {
            "default_args": {"owner": settings["owner"], "start_date": "2024-01-01"},
            "description": settings["description"],
            "doc_md": settings["doc_md"],
            "schedule": settings["cron"] or None,
            "catchup": False,
            "max_active_runs": 1,
            "tags": settings["tags"],
            "params": {"dry_run": False, "full_refresh": False, "assets": []},
            "tasks": tasks,
        }
    return config


if __name__ == "__main__":
    main()
