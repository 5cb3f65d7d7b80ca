"""One Airflow DAG per enabled sync rule in the rules folder; see docs/scheduling.md.

Parse time stays light: rules are read from local YAML and DAGs are built, nothing more (no network, no
Variable or connection look-up, no boto3). Invalid rules are left out here and reported, each with its
file, line, rule and field, as the import error of datasphere_sync_rule_errors.py beside this file.
With DATASPHERE_GLUE_STRICT_RULES=1 (CI) any invalid rule fails this file instead.
"""

from __future__ import annotations

from airflow.sdk import get_parsing_context

from include.datasphere_glue.compiler import compile_rules, load_rule_set, raise_for_rule_errors, strict_rules

_rule_set = load_rule_set()
if strict_rules():
    raise_for_rule_errors(_rule_set)

# A worker about to run one task asks for one DAG: building the others would only cost time.
globals().update(compile_rules(_rule_set, only_dag_id=get_parsing_context().dag_id))
