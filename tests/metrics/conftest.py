"""A throwaway Airflow home on SQLite, migrated once per session, and an API server app with the plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point this process's Airflow at a migrated throwaway SQLite database."""
    home = tmp_path_factory.mktemp("airflow-metrics")
    migrate(home)
    saved = {key: os.environ.get(key) for key in airflow_env(home)}
    os.environ.update(airflow_env(home))
    from airflow import settings
    from airflow.configuration import conf

    for key, value in airflow_env(home).items():
        if key.startswith("AIRFLOW__"):
            section, option = key[len("AIRFLOW__") :].lower().split("__", 1)
            conf.set(section, option, value)
    settings.configure_vars()
    settings.configure_orm()
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def api_app(airflow_home: Path) -> Any:
    """The Airflow API server app (core part) with the plugin mounted, as ``airflow api-server`` builds it."""
    from airflow import plugins_manager
    from airflow.api_fastapi.app import create_app, purge_cached_app

    purge_cached_app()
    # Another test in this process may have loaded plugins from another folder already.
    for cached in (plugins_manager._get_plugins, plugins_manager._get_ui_plugins):
        cached.cache_clear()
    return create_app(apps="core")


@pytest.fixture(scope="session")
def client(api_app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(api_app) as test_client:
        yield test_client


@pytest.fixture
def token_for(api_app: Any) -> Any:
    """Make a JWT for a user name and role, signed the way the API server checks it."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    def make(username: str = "admin", role: str = "ADMIN") -> str:
        return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=username, role=role))

    return make


@pytest.fixture
def session(airflow_home: Path) -> Iterator[Any]:
    """A metadata database session on an emptied database."""
    from airflow.utils.session import create_session

    from tests.metrics import seed

    with create_session() as db:
        seed.wipe(db)
    with create_session() as db:
        yield db
