"""A throwaway Airflow home on SQLite, migrated once per session, and an API server app with the plugin."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.metrics.home import airflow_env, migrate, point_process_at


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point this process's Airflow at a migrated throwaway SQLite database."""
    home = tmp_path_factory.mktemp("airflow-metrics")
    migrate(home)
    saved = {key: os.environ.get(key) for key in airflow_env(home)}
    point_process_at(home)
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
