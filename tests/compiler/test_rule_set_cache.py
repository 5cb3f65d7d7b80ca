"""The rules folder is read once per process, and read again as soon as a rules file changes."""

from __future__ import annotations

import shutil
from pathlib import Path

from include.datasphere_glue.compiler import load_rule_set
from tests.fixtures.airflow import PROJECT_ROOT

RULE = "rules:\n  - {{name: {name}, description: d, owner: o, priority: LOW, frequency: daily}}\n"


def test_unchanged_folder_is_not_read_twice_and_an_edit_is_seen(tmp_path: Path) -> None:
    shutil.copy(PROJECT_ROOT / "rules" / "_defaults.yaml", tmp_path)
    rules_file = tmp_path / "one.yaml"
    rules_file.write_text(RULE.format(name="first_rule"), encoding="utf-8")

    first = load_rule_set(tmp_path)
    assert load_rule_set(tmp_path) is first

    rules_file.write_text(RULE.format(name="renamed_rule_x"), encoding="utf-8")
    edited = load_rule_set(tmp_path)

    assert [rule.name for rule in edited.rules] == ["renamed_rule_x"]


def test_a_new_rules_file_is_seen(tmp_path: Path) -> None:
    shutil.copy(PROJECT_ROOT / "rules" / "_defaults.yaml", tmp_path)
    (tmp_path / "one.yaml").write_text(RULE.format(name="first_rule"), encoding="utf-8")
    assert len(load_rule_set(tmp_path).rules) == 1

    (tmp_path / "two.yaml").write_text(RULE.format(name="second_rule"), encoding="utf-8")

    assert sorted(rule.name for rule in load_rule_set(tmp_path).rules) == ["first_rule", "second_rule"]
