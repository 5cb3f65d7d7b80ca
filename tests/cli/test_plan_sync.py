"""`plan` and `sync` against the Datasphere emulator and moto, through the connections the DAGs use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulators.datasphere.testing import EmulatorProcess
from tests.cli.conftest import RunCli
from tests.fixtures.aws import MotoServer
from tests.rules.conftest import DEFAULTS_YAML, rule_yaml

# HR's local tables: no name collisions, every column type the demo has, one space to keep runs short.
HR_TABLES = rule_yaml("hr_tables", match="{spaces: [HR], object_types: [localtables]}")
DATABASE = "test_hr"


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "_defaults.yaml").write_text(DEFAULTS_YAML, encoding="utf-8")
    (folder / "hr.yaml").write_text(
        "rules:\n" + HR_TABLES + rule_yaml("broken_rule", priority="HGH") + rule_yaml("every_space"),
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def connections(datasphere: EmulatorProcess, glue: Any, moto_server: MotoServer) -> dict[str, str]:
    """AIRFLOW_CONN_ variables for the CLI, pointing at a fresh emulator and an empty local Glue."""
    return {
        "AIRFLOW_CONN_DATASPHERE_DEFAULT": datasphere.connection_json(),
        "AIRFLOW_CONN_AWS_DEFAULT": moto_server.aws_conn_uri(),
    }


def hr_local_tables(datasphere: EmulatorProcess) -> set[str]:
    """Glue table names the HR local tables of the emulator's current catalog map to."""
    space = next(space for space in datasphere.admin.catalog()["spaces"] if space["name"] == "HR")
    return {asset["name"].lower() for asset in space["assets"] if asset["type"] == "localtables"}


def glue_tables(glue: Any) -> set[str]:
    databases = {database["Name"] for database in glue.get_databases()["DatabaseList"]}
    if DATABASE not in databases:
        return set()
    return {table["Name"] for table in glue.get_tables(DatabaseName=DATABASE)["TableList"]}


class TestPlan:
    def test_lists_the_creates_and_writes_nothing(
        self,
        run_cli: RunCli,
        rules_dir: Path,
        connections: dict[str, str],
        glue: Any,
        datasphere: EmulatorProcess,
    ) -> None:
        expected = hr_local_tables(datasphere)
        result = run_cli("plan", "hr_tables", "--rules", str(rules_dir), env=connections)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Plan for rule 'hr_tables' (dry run: nothing was written)" in result.stdout
        for table in expected:
            assert f"{DATABASE}.{table} " in result.stdout
        assert f"would be: {len(expected)} created, 0 updated" in result.stdout
        assert glue.get_databases()["DatabaseList"] == []

    def test_only_limits_the_plan(
        self, run_cli: RunCli, rules_dir: Path, connections: dict[str, str], glue: Any
    ) -> None:
        result = run_cli("plan", "hr_tables", "--rules", str(rules_dir), "--only", "PAYROLL", env=connections)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{DATABASE}.payroll " in result.stdout
        assert f"{DATABASE}.employees " not in result.stdout
        assert "would be: 1 created" in result.stdout


class TestSync:
    def test_creates_the_tables_then_a_rerun_changes_nothing(
        self,
        run_cli: RunCli,
        rules_dir: Path,
        connections: dict[str, str],
        glue: Any,
        datasphere: EmulatorProcess,
    ) -> None:
        expected = hr_local_tables(datasphere)
        first = run_cli("sync", "hr_tables", "--rules", str(rules_dir), env=connections)
        assert first.returncode == 0, first.stdout + first.stderr
        assert f"{len(expected)} created, 0 updated, 0 unchanged" in first.stdout
        assert glue_tables(glue) == expected
        again = run_cli("sync", "hr_tables", "--rules", str(rules_dir), env=connections)
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"0 created, 0 updated, {len(expected)} unchanged" in again.stdout
        assert "glue.CreateTable" not in again.stdout and "glue.UpdateTable" not in again.stdout

    def test_full_refresh_rewrites_unchanged_tables(
        self, run_cli: RunCli, rules_dir: Path, connections: dict[str, str], glue: Any
    ) -> None:
        first = run_cli("sync", "hr_tables", "--only", "PAYROLL", "--rules", str(rules_dir), env=connections)
        assert first.returncode == 0, first.stdout + first.stderr
        refreshed = run_cli(
            "sync",
            "hr_tables",
            "--full-refresh",
            "--only",
            "PAYROLL",
            "--rules",
            str(rules_dir),
            env=connections,
        )
        assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
        assert "0 created, 1 updated, 0 unchanged" in refreshed.stdout
        assert "glue.UpdateTable 1" in refreshed.stdout
        assert glue_tables(glue) == {"payroll"}

    def test_dry_run_writes_nothing(
        self, run_cli: RunCli, rules_dir: Path, connections: dict[str, str], glue: Any
    ) -> None:
        result = run_cli("sync", "hr_tables", "--dry-run", "--rules", str(rules_dir), env=connections)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "dry run: nothing was written" in result.stdout
        assert glue.get_databases()["DatabaseList"] == []

    def test_only_syncs_the_named_assets(
        self, run_cli: RunCli, rules_dir: Path, connections: dict[str, str], glue: Any
    ) -> None:
        result = run_cli(
            "sync", "hr_tables", "--rules", str(rules_dir), "--only", "PAYROLL", "ABSENCES", env=connections
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert glue_tables(glue) == {"payroll", "absences"}

    def test_json_summary(self, run_cli: RunCli, rules_dir: Path, connections: dict[str, str]) -> None:
        result = run_cli(
            "sync", "hr_tables", "--json", "--only", "PAYROLL", "--rules", str(rules_dir), env=connections
        )
        assert result.returncode == 0, result.stdout + result.stderr
        summary = json.loads(result.stdout)
        assert (summary["rule"], summary["created"], summary["failed"]) == ("hr_tables", 1, 0)


class TestRefusals:
    def test_rule_with_errors_shows_them(self, run_cli: RunCli, rules_dir: Path) -> None:
        result = run_cli("sync", "broken_rule", "--rules", str(rules_dir))
        assert result.returncode == 1
        assert "error: rule 'broken_rule' has errors and cannot run:" in result.stdout
        assert "rule 'broken_rule': field 'priority'" in result.stdout

    def test_unknown_rule_suggests_a_name(self, run_cli: RunCli, rules_dir: Path) -> None:
        result = run_cli("plan", "hr_table", "--rules", str(rules_dir))
        assert result.returncode == 1
        assert "no rule named 'hr_table'" in result.stdout
        assert "did you mean 'hr_tables'?" in result.stdout

    def test_unreachable_datasphere_is_one_clear_line(
        self, run_cli: RunCli, rules_dir: Path, moto_server: MotoServer
    ) -> None:
        from tests.fixtures.net import free_port

        dead = f"http://127.0.0.1:{free_port()}"
        connection = json.dumps(
            {
                "conn_type": "datasphere",
                "host": dead,
                "login": "x",
                "password": "y",
                "extra": {"token_url": f"{dead}/oauth/token", "retry_max_attempts": 1},
            }
        )
        # Without a space list the sync must list spaces first, which cannot work without a token.
        result = run_cli(
            "sync",
            "every_space",
            "--rules",
            str(rules_dir),
            env={
                "AIRFLOW_CONN_DATASPHERE_DEFAULT": connection,
                "AIRFLOW_CONN_AWS_DEFAULT": moto_server.aws_conn_uri(),
            },
        )
        assert result.returncode == 1
        assert "error: sync of rule 'every_space' stopped: DatasphereUnavailable:" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr
