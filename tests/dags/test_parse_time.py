"""Parsing the DAG file stays light and deterministic: no AWS SDK, no network, no look-ups, same DAGs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fixtures.airflow import PROJECT_ROOT

DAG_FILE = PROJECT_ROOT / "dags" / "datasphere_sync.py"

# Run in a fresh interpreter: forbid sockets and Variable/connection look-ups, import the DAG file the
# way the dag-processor does, then report what got imported and the DAG ids.
_IMPORT_PROBE = textwrap.dedent(
    """
    import json, socket, sys, runpy

    def _no_network(*args, **kwargs):
        raise AssertionError("network call at parse time")

    socket.socket.connect = _no_network
    socket.create_connection = _no_network

    from airflow.sdk import BaseHook, Variable

    def _no_lookup(*args, **kwargs):
        raise AssertionError("Variable or connection look-up at parse time")

    Variable.get = _no_lookup
    BaseHook.get_connection = _no_lookup

    namespace = runpy.run_path(sys.argv[1])
    dag_ids = sorted(k for k, v in namespace.items() if type(v).__name__ == "DAG")
    # airflow.sdk itself imports httpx and the amazon provider's package metadata; what must stay out
    # is the AWS SDK, the provider's AWS code, and our own connectors and engine.
    ours = ("datasphere", "glue", "sync", "runtime")
    banned = ("boto3", "botocore", "airflow.providers.amazon.aws",
              *(f"include.datasphere_glue.{name}" for name in ours))
    heavy = sorted(m for m in sys.modules if m.startswith(banned))
    print(json.dumps({"dag_ids": dag_ids, "heavy": heavy}))
    """
)

# Serialize every DAG as the dag-processor does and print the hash Airflow versions DAGs by.
_HASH_PROBE = textwrap.dedent(
    """
    import json, sys
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import LazyDeserializedDAG

    bag = DagBag(dag_folder=sys.argv[1], safe_mode=True)
    assert not bag.import_errors, bag.import_errors
    print(json.dumps({dag_id: LazyDeserializedDAG.from_dag(dag).hash for dag_id, dag in bag.dags.items()}))
    """
)


def _run(probe: str, *args: str, extra_env: dict[str, str] | None = None) -> dict[str, object]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DATASPHERE_GLUE")},
        "PYTHONPATH": str(PROJECT_ROOT),
        **(extra_env or {}),
    }
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    parsed: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def test_dag_file_imports_no_aws_sdk_and_makes_no_calls() -> None:
    report = _run(_IMPORT_PROBE, str(DAG_FILE))

    assert report["heavy"] == []
    assert report["dag_ids"], "the DAG file defined no DAG"


def test_a_worker_builds_only_the_dag_it_runs() -> None:
    everything = _run(_IMPORT_PROBE, str(DAG_FILE))["dag_ids"]
    assert isinstance(everything, list) and len(everything) > 1
    wanted = everything[0]

    only = _run(_IMPORT_PROBE, str(DAG_FILE), extra_env={"_AIRFLOW_PARSING_CONTEXT_DAG_ID": wanted})

    assert only["dag_ids"] == [wanted]


def test_same_rules_give_the_same_serialized_dags_in_separate_processes(tmp_path: Path) -> None:
    first = _run(_HASH_PROBE, str(PROJECT_ROOT / "dags"))
    second = _run(_HASH_PROBE, str(PROJECT_ROOT / "dags"))

    assert first and first == second


def test_a_changed_rule_changes_only_its_own_dag(tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(PROJECT_ROOT / "rules", rules)
    env = {"DATASPHERE_GLUE_RULES_DIR": str(rules)}
    before = _run(_HASH_PROBE, str(PROJECT_ROOT / "dags"), extra_env=env)
    core = rules / "core.yaml"
    core.write_text(core.read_text().replace("priority: HIGH", "priority: MEDIUM"), encoding="utf-8")

    after = _run(_HASH_PROBE, str(PROJECT_ROOT / "dags"), extra_env=env)

    changed = {dag_id for dag_id in before if before[dag_id] != after[dag_id]}
    assert changed == {"datasphere_sync__core_tables_and_views"}


@pytest.mark.parametrize("switch", ["1", "true"])
def test_strict_switch_values(switch: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from include.datasphere_glue.compiler import strict_rules

    monkeypatch.setenv("DATASPHERE_GLUE_STRICT_RULES", switch)
    assert strict_rules()
    monkeypatch.setenv("DATASPHERE_GLUE_STRICT_RULES", "0")
    assert not strict_rules()
