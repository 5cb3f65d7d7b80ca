"""Compile sync rules into Airflow DAGs: one DAG per enabled rule, built at parse time without I/O."""

from __future__ import annotations

from include.datasphere_glue.compiler.build import (
    InvalidRules,
    compile_rules,
    load_rule_set,
    raise_for_rule_errors,
    rules_dir,
    strict_rules,
)
from include.datasphere_glue.compiler.dags import DAG_ID_PREFIX, build_dag, dag_id_for, task_settings
from include.datasphere_glue.compiler.schedules import rule_asset, schedule_for

__all__ = [
    "DAG_ID_PREFIX",
    "InvalidRules",
    "build_dag",
    "compile_rules",
    "dag_id_for",
    "load_rule_set",
    "raise_for_rule_errors",
    "rule_asset",
    "rules_dir",
    "schedule_for",
    "strict_rules",
    "task_settings",
]
