"""`lint`: what each rule would schedule, one error per line, and the exit code CI relies on."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import ROOT, RunCli
from tests.rules.conftest import DEFAULTS_YAML, rule_yaml

SETTINGS_YAML = """\
airflow:
  pools:
    - {pool_name: shared, pool_slot: 4, pool_description: everyone}
    - {pool_name: critical, pool_slot: 2, pool_description: CRITICAL only}
"""


def write_folder(tmp_path: Path, rules: str, *, settings: str | None = SETTINGS_YAML) -> Path:
    folder = tmp_path / "project" / "rules"
    folder.mkdir(parents=True)
    (folder / "_defaults.yaml").write_text(DEFAULTS_YAML, encoding="utf-8")
    (folder / "rules.yaml").write_text("rules:\n" + rules, encoding="utf-8")
    if settings is not None:
        (folder.parent / "airflow_settings.yaml").write_text(settings, encoding="utf-8")
    return folder


class TestShippedRules:
    def test_lint_passes_and_shows_the_schedule_of_every_rule(self, run_cli: RunCli) -> None:
        result = run_cli("lint", "--strict")
        assert result.returncode == 0, result.stdout + result.stderr
        out = result.stdout
        assert "5 valid rule(s), 5 enabled, 0 error(s)" in out
        assert "warning" not in out
        for dag_id in (
            "datasphere_sync__analytic_models_realtime",
            "datasphere_sync__core_tables_and_views",
            "datasphere_sync__data_flow_lineage",
            "datasphere_sync__metadata_refresh_weekly",
            "datasphere_sync__full_reconciliation",
        ):
            assert f"dag id      {dag_id}\n" in out
        assert "priority    CRITICAL (priority weight 1000)" in out
        assert "priority    MAINTENANCE (priority weight 200)" in out
        assert "pool        datasphere_critical (1 slot(s) per job)" in out
        assert "retries     5: 15s, 30s, 60s, 120s, 240s (cap 300s)" in out
        assert "schedule    manual (no schedule" in out
        assert "deletion    delete_vanished (fail-safe 10%)" in out
        assert f"({ROOT / 'rules' / 'analytic_models.yaml'}:3)" in out

    def test_the_environment_variable_is_shown_and_used(self, run_cli: RunCli) -> None:
        result = run_cli("lint", env={"DATASPHERE_GLUE_ENV": "prod"})
        assert result.returncode == 0
        assert "env 'prod' (from $DATASPHERE_GLUE_ENV)" in result.stdout
        assert "writes      prod_<space> in eu-central-1" in result.stdout


class TestMistakes:
    def test_errors_one_per_line_exit_1_and_valid_rules_still_shown(
        self, run_cli: RunCli, tmp_path: Path
    ) -> None:
        rules = (
            rule_yaml("good_rule", frequency='"15 6 * * 1-5"', depends_on="[base_rule]")
            + rule_yaml("base_rule", priority="CRITICAL")
            + rule_yaml("bad_rule", priority="HGH", job="{retires: 2}")
        )
        folder = write_folder(tmp_path, rules)
        result = run_cli("lint", "--rules", str(folder))
        assert result.returncode == 1
        out = result.stdout
        assert "2 valid rule(s), 2 enabled, 2 error(s)" in out
        assert "dag id      datasphere_sync__good_rule" in out
        assert (
            "schedule    after each sync of base_rule (its own frequency '15 6 * * 1-5' is then not used)"
            in out
        )
        assert "retries     5: 10s, 20s, 40s, 80s, 160s (cap 1800s)" in out
        error_lines = out.split("2 error(s):\n", 1)[1].splitlines()
        assert error_lines == [
            f"{folder / 'rules.yaml'}:16: rule 'bad_rule': field 'priority': 'HGH' is not one of CRITICAL, "
            "HIGH, MEDIUM, LOW, MAINTENANCE; did you mean 'HIGH'?",
            f"{folder / 'rules.yaml'}:18: rule 'bad_rule': field 'job.retires': unknown field; "
            "did you mean 'retries'?",
        ]

    def test_yaml_syntax_error_exit_1(self, run_cli: RunCli, tmp_path: Path) -> None:
        folder = write_folder(tmp_path, rule_yaml("fine"))
        (folder / "broken.yaml").write_text("rules:\n  - name: [oops\n", encoding="utf-8")
        result = run_cli("lint", "--rules", str(folder))
        assert result.returncode == 1
        assert f"{folder / 'broken.yaml'}:3: YAML syntax error" in result.stdout
        assert "dag id      datasphere_sync__fine" in result.stdout

    def test_pool_missing_from_airflow_settings_is_a_warning_and_fails_strict(
        self, run_cli: RunCli, tmp_path: Path
    ) -> None:
        settings = "airflow:\n  pools:\n    - {pool_name: shared, pool_slot: 3}\n"
        folder = write_folder(
            tmp_path, rule_yaml("fine") + rule_yaml("urgent", priority="CRITICAL"), settings=settings
        )
        relaxed = run_cli("lint", "--rules", str(folder))
        assert relaxed.returncode == 0
        assert "pool 'critical' is used by rules but not created by" in relaxed.stdout
        assert "pool 'shared' has 4 slot(s) in the rules but 3 in" in relaxed.stdout
        strict = run_cli("lint", "--rules", str(folder), "--strict")
        assert strict.returncode == 1

    def test_disabled_rules_are_linted_but_marked(self, run_cli: RunCli, tmp_path: Path) -> None:
        folder = write_folder(tmp_path, rule_yaml("resting", enabled="false"))
        result = run_cli("lint", "--rules", str(folder))
        assert result.returncode == 0
        assert "1 valid rule(s), 0 enabled, 0 error(s)" in result.stdout
        assert "resting  (" in result.stdout and "[disabled: compiles to no DAG]" in result.stdout

    def test_weak_deletion_fail_safe_is_a_warning(self, run_cli: RunCli, tmp_path: Path) -> None:
        rule = rule_yaml("sweeper", deletion="{mode: delete_vanished, max_delete_percent: 80}")
        folder = write_folder(tmp_path, rule)
        relaxed = run_cli("lint", "--rules", str(folder))
        assert relaxed.returncode == 0
        assert "warning: rule 'sweeper': max_delete_percent 80 lets one run delete" in relaxed.stdout
        assert "deletion    delete_vanished (fail-safe 80%)" in relaxed.stdout
        assert run_cli("lint", "--rules", str(folder), "--strict").returncode == 1

    def test_usage_mistake_exit_2(self, run_cli: RunCli) -> None:
        result = run_cli("lnt")
        assert result.returncode == 2
        assert "invalid choice: 'lnt'" in result.stderr


def test_the_package_runs_as_a_module(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "include.datasphere_glue", "lint"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dag id      datasphere_sync__core_tables_and_views" in result.stdout
