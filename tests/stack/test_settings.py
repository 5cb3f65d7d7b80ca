"""airflow_settings.yaml is checked entry by entry and applied idempotently, as the Astro CLI does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scripts.apply_settings import SettingsError, load_settings, parse_settings, point_at_local_services

PROJECT_ROOT = Path(__file__).resolve().parents[2]

GOOD_SETTINGS = """\
airflow:
  connections:
    - conn_id: aws_default
      conn_type: aws
      conn_extra:
        region_name: eu-central-1
    - conn_id: datasphere_default
      conn_type: datasphere
      conn_host: http://localhost:8090
      conn_login: emulator-client
      conn_password: emulator-secret
      conn_extra:
        token_url: http://localhost:8090/oauth/token
        page_size: 200
  pools:
    - pool_name: datasphere_sync
      pool_slot: 6
      pool_description: sync jobs
    - pool_name:
      pool_slot:
      pool_description:
  variables:
    - variable_name: sync_env
      variable_value: dev
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "airflow_settings.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


class TestChecking:
    def test_a_pool_with_text_slots_is_named_with_its_index_and_name(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            """\
            airflow:
              pools:
                - pool_name: critical
                  pool_slot: 2
                - pool_name: datasphere_sync
                  pool_slot: many
            """,
        )
        with pytest.raises(SettingsError) as caught:
            load_settings(path)
        assert caught.value.problems == [
            "airflow_settings.yaml: pools[1] (datasphere_sync): pool_slot must be an integer, got 'many'"
        ]

    def test_every_bad_entry_is_reported_not_only_the_first(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            """\
            airflow:
              connections:
                - conn_id: aws_default
                  conn_typ: aws
                - conn_type: http
              variables:
                - variable_name: only_a_name
            """,
        )
        with pytest.raises(SettingsError) as caught:
            load_settings(path)
        problems = caught.value.problems
        assert (
            "airflow_settings.yaml: connections[0] (aws_default): unknown field 'conn_typ'; "
            "did you mean 'conn_type'?" in problems
        )
        assert (
            "airflow_settings.yaml: connections[0] (aws_default): conn_type is required (or give conn_uri)"
            in problems
        )
        assert (
            "airflow_settings.yaml: connections[1]: conn_id is required and must be a non-empty string"
            in problems
        )
        assert "airflow_settings.yaml: variables[0] (only_a_name): variable_value is required" in problems

    def test_yaml_syntax_errors_name_the_line(self, tmp_path: Path) -> None:
        path = write(tmp_path, "airflow:\n  pools:\n    - pool_name: [unclosed\n")
        with pytest.raises(SettingsError, match=r"^airflow_settings.yaml:\d+: not valid YAML"):
            load_settings(path)

    def test_a_name_declared_twice_is_an_error(self) -> None:
        document = {"airflow": {"variables": [{"variable_name": "a", "variable_value": 1}] * 2}}
        with pytest.raises(SettingsError, match="variables: 'a' is declared more than once"):
            parse_settings(document)

    def test_the_astro_templates_blank_entries_are_skipped(self, tmp_path: Path) -> None:
        settings = load_settings(write(tmp_path, GOOD_SETTINGS))
        assert [pool.name for pool in settings.pools] == ["datasphere_sync"]

    def test_the_projects_own_settings_file_is_valid(self) -> None:
        settings_file = PROJECT_ROOT / "airflow_settings.yaml"
        if not settings_file.exists():
            pytest.skip("airflow_settings.yaml not written yet")
        settings = load_settings(settings_file)
        assert {c.conn_id for c in settings.connections} >= {"aws_default", "datasphere_default"}


class TestPointingAtLocalServices:
    def test_connections_follow_the_chosen_ports(self, tmp_path: Path) -> None:
        settings = load_settings(write(tmp_path, GOOD_SETTINGS))
        local = point_at_local_services(
            settings, {"aws": "http://127.0.0.1:6001", "datasphere": "http://127.0.0.1:6002"}
        )
        aws, datasphere = local.connections
        assert aws.extra == {"region_name": "eu-central-1", "endpoint_url": "http://127.0.0.1:6001"}
        assert (aws.login, aws.password) == ("testing", "testing")
        assert datasphere.host == "http://127.0.0.1:6002"
        assert datasphere.extra["token_url"] == "http://127.0.0.1:6002/oauth/token"
        assert datasphere.extra["page_size"] == 200
        assert datasphere.login == "emulator-client"


MigratedHome = tuple[Path, dict[str, str]]


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> MigratedHome:
    home = tmp_path_factory.mktemp("airflow_home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    migrate = [sys.executable, "-m", "airflow", "db", "migrate"]
    subprocess.run(migrate, env=env, check=True, capture_output=True)
    return home, env


def apply(path: Path, env: dict[str, str], endpoints: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scripts.apply_settings", str(path)]
    command += ["--endpoints", json.dumps(endpoints)]
    return subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)


READ_BACK = """
import json
from airflow.models import Connection, Pool, Variable
from airflow.utils.session import create_session
with create_session() as session:
    print(json.dumps({
        "pools": sorted((p.pool, p.slots) for p in session.query(Pool)),
        "connections": sorted(
            (c.conn_id, c.host, c.extra_dejson.get("endpoint_url")) for c in session.query(Connection)
        ),
        "variables": sorted((v.key, v.val) for v in session.query(Variable)),
    }))
"""


def test_applying_twice_updates_in_place(tmp_path: Path, airflow_home: MigratedHome) -> None:
    _, env = airflow_home
    path = write(tmp_path, GOOD_SETTINGS)
    first = apply(path, env, {"aws": "http://127.0.0.1:6001", "datasphere": "http://127.0.0.1:6002"})
    assert first.returncode == 0, first.stderr
    assert "pools: 1 created, 0 updated" in first.stdout

    path.write_text(GOOD_SETTINGS.replace("pool_slot: 6", "pool_slot: 9"), encoding="utf-8")
    second = apply(path, env, {"aws": "http://127.0.0.1:7001", "datasphere": "http://127.0.0.1:7002"})
    assert second.returncode == 0, second.stderr
    assert "connections: 0 created, 2 updated" in second.stdout

    read = subprocess.run(
        [sys.executable, "-c", READ_BACK], env=env, capture_output=True, text=True, check=True
    )
    stored = json.loads(read.stdout.strip().splitlines()[-1])
    assert [tuple(p) for p in stored["pools"] if p[0] == "datasphere_sync"] == [("datasphere_sync", 9)]
    assert [tuple(c) for c in stored["connections"]] == [
        ("aws_default", None, "http://127.0.0.1:7001"),
        ("datasphere_default", "http://127.0.0.1:7002", None),
    ]
    assert [tuple(v) for v in stored["variables"]] == [("sync_env", "dev")]


def test_a_malformed_file_names_the_entry(tmp_path: Path, airflow_home: MigratedHome) -> None:
    _, env = airflow_home
    path = write(tmp_path, "airflow:\n  pools:\n    - pool_name: broken_pool\n      pool_slot: '4'\n")
    result = apply(path, env, {})
    assert result.returncode == 2
    assert "pools[0] (broken_pool): pool_slot must be an integer, got '4'" in result.stderr
    assert "Traceback" not in result.stderr
