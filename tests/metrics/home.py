"""A throwaway Airflow home on SQLite with the metrics plugin: environment, migration, in-process setup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment of an Airflow process working on the throwaway home, with our plugin loaded."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__AUTH_MANAGER": "tests.metrics.auth.RestrictedAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": "metrics-tests-jwt-secret",
        "AIRFLOW__API__SECRET_KEY": "metrics-tests-secret-key",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def migrate(home: Path) -> None:
    """Create the metadata database with Airflow's own migrations."""
    (home / "dags").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **airflow_env(home)}
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)


def point_process_at(home: Path) -> None:
    """Make this process's Airflow use the home, even if Airflow was imported before."""
    os.environ.update(airflow_env(home))
    from airflow import settings
    from airflow.configuration import conf

    for key, value in airflow_env(home).items():
        if key.startswith("AIRFLOW__"):
            section, option = key[len("AIRFLOW__") :].lower().split("__", 1)
            conf.set(section, option, value)
    settings.configure_vars()
    settings.configure_orm()
