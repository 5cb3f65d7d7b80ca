"""Report invalid sync rules in the Airflow UI: this file's import error lists each one.

Airflow keeps one import error per DAG file and drops every DAG of a file that raises, so the rule
errors are raised here, apart from datasphere_sync.py, which keeps the DAG of every valid rule. The
message names file, line, rule and field of each mistake. This file defines no DAG of its own (the
word DAG in this docstring lets Airflow's safe-mode discovery parse it).
"""

from __future__ import annotations

from include.datasphere_glue.compiler import load_rule_set, raise_for_rule_errors

raise_for_rule_errors(load_rule_set())
