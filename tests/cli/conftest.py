"""Run the command line as a user does: a subprocess from the project root, with its own AIRFLOW_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(tmp_path: Path) -> RunCli:
    """Run ``python -m include.datasphere_glue.cli ARGS`` and return the finished process."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW_CONN_", "DATASPHERE_GLUE_"))
        }
        environment.update(
            {
                "PYTHONPATH": str(ROOT),
                "AIRFLOW_HOME": str(tmp_path / "airflow-home"),
                "AWS_EC2_METADATA_DISABLED": "true",
                **(env or {}),
            }
        )
        return subprocess.run(
            [sys.executable, "-m", "include.datasphere_glue.cli", *args],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    return run
