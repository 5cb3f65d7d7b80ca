"""Each kind of rule mistake shows as a clear import error in Airflow, and every other rule keeps its DAG."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.fixtures.airflow import PROJECT_ROOT

DAGS_FOLDER = PROJECT_ROOT / "dags"
ERRORS_FILE = "datasphere_sync_rule_errors.py"
MAIN_FILE = "datasphere_sync.py"

GOOD_RULES = """\
rules:
  - name: good_rule
    description: A rule that is fine.
    owner: team-a
    priority: HIGH
    frequency: hourly
"""


def _rule(name: str, **fields: str) -> str:
    extra = "".join(f"    {key}: {value}\n" for key, value in fields.items())
    return (
        f"  - name: {name}\n    description: Test rule {name}.\n    owner: team-b\n"
        f"    priority: LOW\n    frequency: daily\n{extra}"
    )


# kind → (bad.yaml content, line of the mistake, rule named, field named, words the message must hold)
MISTAKES: dict[str, tuple[str, int, str | None, str | None, tuple[str, ...]]] = {
    "yaml_syntax": (
        "rules:\n  - name: broken\n    description: [not closed\n    owner: x\n",
        4,
        None,
        None,
        (),
    ),
    "unknown_key": (
        "rules:\n" + _rule("typo_rule") + "    job:\n      retires: 3\n",
        8,
        "typo_rule",
        "job.retires",
        ("retries",),
    ),
    "bad_enum": (
        "rules:\n" + _rule("urgent_rule").replace("priority: LOW", "priority: URGENT"),
        5,
        "urgent_rule",
        "priority",
        ("URGENT",),
    ),
    "bad_cron": (
        "rules:\n" + _rule("cron_rule").replace("frequency: daily", "frequency: '61 * * * *'"),
        6,
        "cron_rule",
        "frequency",
        ("61",),
    ),
    "unknown_pool": (
        "rules:\n" + _rule("pool_rule") + "    job:\n      pool: no_such_pool\n",
        8,
        "pool_rule",
        "job.pool",
        ("no_such_pool",),
    ),
    "unknown_dependency": (
        "rules:\n" + _rule("orphan_rule", depends_on="[ghost_rule]"),
        7,
        "orphan_rule",
        "depends_on",
        ("ghost_rule",),
    ),
    "cycle": (
        "rules:\n" + _rule("egg_rule", depends_on="[hen_rule]") + _rule("hen_rule", depends_on="[egg_rule]"),
        7,
        "egg_rule",
        "depends_on",
        ("hen_rule", "cycle"),
    ),
    "duplicate_name": (
        "rules:\n" + _rule("twin_rule") + _rule("twin_rule"),
        7,
        "twin_rule",
        "name",
        ("twin_rule",),
    ),
}


@pytest.fixture
def rules_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A rules folder with the shipped defaults and pools, one good rule, and the DAG files reading it."""
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "rules" / "_defaults.yaml", folder)
    (folder / "good.yaml").write_text(GOOD_RULES, encoding="utf-8")
    monkeypatch.setenv("DATASPHERE_GLUE_RULES_DIR", str(folder))
    monkeypatch.delenv("DATASPHERE_GLUE_STRICT_RULES", raising=False)
    return folder


@pytest.mark.parametrize("kind", sorted(MISTAKES))
def test_each_mistake_is_an_import_error_and_the_good_rule_still_loads(rules_folder: Path, kind: str) -> None:
    content, line, rule, field, words = MISTAKES[kind]
    (rules_folder / "bad.yaml").write_text(content, encoding="utf-8")

    bag = _dag_bag()

    assert "datasphere_sync__good_rule" in bag.dags, bag.import_errors
    main_errors = [path for path in bag.import_errors if path.endswith(MAIN_FILE)]
    assert not main_errors, bag.import_errors
    message = _error_of(bag, ERRORS_FILE)
    reported = _line_naming(message, f"bad.yaml:{line}:")
    if rule:
        assert f"rule '{rule}'" in reported, reported
    if field:
        # A list field may carry the index of the bad item, e.g. depends_on[0].
        assert f"field '{field}" in reported, reported
    for word in words:
        assert word in message, message
    # The bad rule has no DAG; every other rule in the bad file still does only if it was valid.
    if rule:
        assert f"datasphere_sync__{rule}" not in bag.dags


def test_cycle_names_every_rule_in_it(rules_folder: Path) -> None:
    (rules_folder / "bad.yaml").write_text(MISTAKES["cycle"][0], encoding="utf-8")

    message = _error_of(_dag_bag(), ERRORS_FILE)

    assert "egg_rule" in message and "hen_rule" in message


def test_a_valid_rule_beside_a_bad_one_in_the_same_file_keeps_its_dag(rules_folder: Path) -> None:
    broken = _rule("broken_rule").replace("priority: LOW", "priority: NOPE")
    content = "rules:\n" + _rule("fine_rule") + broken
    (rules_folder / "mixed.yaml").write_text(content, encoding="utf-8")

    bag = _dag_bag()

    assert {"datasphere_sync__fine_rule", "datasphere_sync__good_rule"} <= set(bag.dags)
    assert "datasphere_sync__broken_rule" not in bag.dags
    assert "broken_rule" in _error_of(bag, ERRORS_FILE)


def test_no_rule_error_means_no_import_error(rules_folder: Path) -> None:
    bag = _dag_bag()

    assert bag.import_errors == {}
    assert "datasphere_sync__good_rule" in bag.dags


def test_strict_switch_fails_the_dag_file(rules_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (rules_folder / "bad.yaml").write_text(MISTAKES["bad_enum"][0], encoding="utf-8")
    monkeypatch.setenv("DATASPHERE_GLUE_STRICT_RULES", "1")

    bag = _dag_bag()

    assert "urgent_rule" in _error_of(bag, MAIN_FILE)
    assert not [dag_id for dag_id in bag.dags if dag_id.startswith("datasphere_sync__")]


def _dag_bag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER), safe_mode=True)


def _error_of(bag, file_name: str) -> str:  # type: ignore[no-untyped-def]
    matches = [message for path, message in bag.import_errors.items() if path.endswith(file_name)]
    assert matches, f"no import error for {file_name}: {bag.import_errors}"
    return str(matches[0])


def _line_naming(message: str, location: str) -> str:
    lines = [line for line in message.splitlines() if location in line]
    assert lines, f"no error at {location}: {textwrap.shorten(message, 2000)}"
    return lines[0]
