"""Turn a loaded rule set into DAGs, and its errors into one import error naming each bad rule."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from include.datasphere_glue.compiler.dags import build_dag, dag_id_for

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from include.datasphere_glue.rules.loader import RuleSet

log = logging.getLogger(__name__)

RULES_DIR_ENV = "DATASPHERE_GLUE_RULES_DIR"
STRICT_ENV = "DATASPHERE_GLUE_STRICT_RULES"
DEFAULT_DATASPHERE_CONN_ID = "datasphere_default"
DEFAULT_AWS_CONN_ID = "aws_default"
# include/datasphere_glue/compiler/build.py → project root, where rules/ sits beside dags/.
_PROJECT_ROOT = Path(__file__).resolve().parents[3]


_LOADED: dict[tuple[object, ...], RuleSet] = {}


class InvalidRules(Exception):
    """Some sync rules are invalid; the message names file, line, rule and field of each."""


def rules_dir() -> Path:
    """The rules folder: ``$DATASPHERE_GLUE_RULES_DIR``, else ``rules/`` in the project root."""
    configured = os.environ.get(RULES_DIR_ENV)
    return Path(configured) if configured else _PROJECT_ROOT / "rules"


def load_rule_set(folder: Path | None = None) -> RuleSet:
    """Load the rules folder, once per process for as long as none of its files changes.

    Both DAG files, and a worker's task after it parsed the DAG file, read the same folder; the cache
    key holds every rules file's size and modification time, so an edit is always seen.

    :param folder: the rules folder; :func:`rules_dir` when omitted.
    """
    from include.datasphere_glue.rules.loader import load_rules

    folder = folder or rules_dir()
    key = _folder_signature(folder)
    rule_set = _LOADED.get(key)
    if rule_set is None:
        rule_set = load_rules(folder)
        _LOADED.clear()  # one folder per process in practice; never grow
        _LOADED[key] = rule_set
    return rule_set


def strict_rules() -> bool:
    """Whether any bad rule must fail the DAG file (``DATASPHERE_GLUE_STRICT_RULES=1``, meant for CI)."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def compile_rules(
    rule_set: RuleSet,
    *,
    only_dag_id: str | None = None,
    datasphere_conn_id: str = DEFAULT_DATASPHERE_CONN_ID,
    aws_conn_id: str = DEFAULT_AWS_CONN_ID,
) -> dict[str, DAG]:
    """Build the DAG of every enabled, valid rule, keyed by dag_id.

    :param rule_set: what :func:`~include.datasphere_glue.rules.loader.load_rules` returned.
    :param only_dag_id: build just this DAG (a worker about to run one of its tasks needs no other).
    :param datasphere_conn_id: Airflow connection the tasks read Datasphere through.
    :param aws_conn_id: Airflow connection the tasks write Glue through.
    """
    enabled = {rule.name for rule in rule_set.rules if rule.rule.enabled}
    dags: dict[str, DAG] = {}
    for rule in rule_set.rules:
        dag_id = dag_id_for(rule.name)
        if not rule.rule.enabled or (only_dag_id is not None and dag_id != only_dag_id):
            continue
        # A disabled upstream never syncs; waiting for it would stop the dependent rule for good.
        upstream = [name for name in rule.rule.depends_on if name in enabled]
        dags[dag_id] = build_dag(
            rule, upstream_rules=upstream, datasphere_conn_id=datasphere_conn_id, aws_conn_id=aws_conn_id
        )
    log.debug("Compiled %d DAG(s) from %d rule(s)", len(dags), len(rule_set.rules))
    return dags


def raise_for_rule_errors(rule_set: RuleSet) -> None:
    """Raise one exception listing every rule error, one per line, when there is any.

    :param rule_set: what the loader returned.
    :raises InvalidRules: naming file, line, rule and field of each error.
    """
    if not rule_set.errors:
        return
    lines = [str(error) for error in rule_set.errors]
    raise InvalidRules(
        f"{len(lines)} invalid sync rule setting(s); the DAGs of these rules are missing, every other "
        "rule's DAG is loaded:\n" + "\n".join(lines)
    )


def _folder_signature(folder: Path) -> tuple[object, ...]:
    files = []
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.suffix in {".yaml", ".yml"} and path.is_file():
                stat = path.stat()
                files.append((str(path), stat.st_mtime_ns, stat.st_size))
    # The loader reads the environment name from DATASPHERE_GLUE_ENV; a different value is another result.
    return (str(folder.resolve()), os.environ.get("DATASPHERE_GLUE_ENV"), tuple(files))
