"""Loading a rules folder: each kind of mistake names file, line, rule and field; other rules still load."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from include.datasphere_glue.rules.errors import RuleError, RulesError
from include.datasphere_glue.rules.loader import ENV_VARIABLE, RuleSet, load_rules
from include.datasphere_glue.rules.model import DecimalPolicy, DeletionMode, Priority
from tests.rules.conftest import RuleFiles, rule_yaml

GOOD = rule_yaml("good_rule")


def only_error(rule_set: RuleSet) -> RuleError:
    assert len(rule_set.errors) == 1, [str(error) for error in rule_set.errors]
    return rule_set.errors[0]


def names(rule_set: RuleSet) -> list[str]:
    return [rule.name for rule in rule_set.rules]


class TestMistakes:
    def test_yaml_syntax_error_drops_that_file_only(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "a_good.yaml": "rules:\n" + GOOD,
                "b_broken.yaml": """\
                rules:
                  - name: broken
                    description: [unclosed
                    owner: x
                """,
            }
        )
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert error.file == str(folder / "b_broken.yaml")
        assert error.line == 4
        assert "YAML syntax error, column" in error.message
        assert "started at line 3" in error.message
        assert names(rule_set) == ["good_rule"]

    def test_unknown_key_suggests_the_field(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "rules.yaml": dedent("""\
                rules:
                  - name: sales_views
                    description: views
                    owner: team-a
                    priority: HIGH
                    frequency: hourly
                    job:
                      retires: 3
                """)
                + GOOD
            }
        )
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.line, error.rule, error.field) == (8, "sales_views", "job.retires")
        assert error.suggestion == "retries"
        assert str(error) == (
            f"{folder / 'rules.yaml'}:8: rule 'sales_views': field 'job.retires': unknown field; "
            "did you mean 'retries'?"
        )
        assert names(rule_set) == ["good_rule"]

    def test_unknown_top_level_rule_key_suggests_the_field(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + rule_yaml("typo", dependson="[good_rule]") + GOOD})
        error = only_error(load_rules(folder))
        assert (error.line, error.field, error.suggestion) == (7, "dependson", "depends_on")

    def test_bad_enum_values_suggest_the_nearest(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "r.yaml": dedent("""\
                rules:
                  - name: bad_enums
                    description: x
                    owner: team-a
                    priority: HGH
                    frequency: hourly
                    match:
                      object_types: [views, veiws]
                """)
                + GOOD
            }
        )
        rule_set = load_rules(folder)
        found = {(error.line, error.field, error.suggestion) for error in rule_set.errors}
        assert found == {(5, "priority", "HIGH"), (8, "match.object_types[1]", "views")}
        assert all(error.rule == "bad_enums" for error in rule_set.errors)
        assert names(rule_set) == ["good_rule"]

    def test_enum_suggestion_ignores_case(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + rule_yaml("lower", priority="critical")})
        error = only_error(load_rules(folder))
        assert (error.field, error.suggestion) == ("priority", "CRITICAL")

    def test_misspelt_frequency_suggests_a_named_one(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + rule_yaml("freq", frequency="hourley") + GOOD})
        error = only_error(load_rules(folder))
        assert (error.line, error.field, error.suggestion) == (6, "frequency", "hourly")

    @pytest.mark.parametrize(
        ("cron", "problem"),
        [
            ("61 * * * *", "minute 61 is out of range 0-59"),
            ("0 25 * * *", "hour 25 is out of range 0-23"),
            ("0 0 * 13 *", "month 13 is out of range 1-12"),
            ("0 0 * *", "has 4 fields; it needs five"),
            ("0 0 * * FOO", "is not a valid cron expression"),
        ],
    )
    def test_bad_cron_names_the_problem(self, rules_folder: RuleFiles, cron: str, problem: str) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + rule_yaml("cron", frequency=f'"{cron}"') + GOOD})
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.line, error.rule, error.field) == (6, "cron", "frequency")
        assert problem in error.message
        assert names(rule_set) == ["good_rule"]

    def test_valid_cron_loads(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + rule_yaml("cron", frequency='"*/20 6-18 * * MON-FRI"')})
        rule_set = load_rules(folder)
        assert rule_set.errors == []
        assert rule_set.rules[0].rule.frequency == "*/20 6-18 * * MON-FRI"

    def test_unknown_pool_in_the_rule(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + rule_yaml("pooled", job="\n      pool: sharde") + GOOD})
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.line, error.rule, error.field, error.suggestion) == (8, "pooled", "job.pool", "shared")
        assert "is not declared under pools: (declared: critical, shared)" in error.message
        assert names(rule_set) == ["good_rule"]

    def test_unknown_pool_inherited_from_priority_defaults(self, rules_folder: RuleFiles) -> None:
        defaults = "defaults:\n  priorities:\n    LOW:\n      job:\n        pool: nowhere\n"
        defaults += "  job:\n    pool: shared\npools:\n  shared:\n    slots: 2\n"
        folder = rules_folder(
            {"r.yaml": "rules:\n" + rule_yaml("low_rule", priority="LOW") + GOOD}, defaults=defaults
        )
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.line, error.rule, error.field) == (2, "low_rule", "job.pool")
        assert "pool 'nowhere' (inherited from the LOW defaults) is not declared" in error.message
        assert names(rule_set) == ["good_rule"]

    def test_job_needing_more_slots_than_the_pool_has(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + rule_yaml("fat", job="{pool_slots: 5}") + GOOD})
        error = only_error(load_rules(folder))
        assert (error.rule, error.field) == ("fat", "job.pool_slots")
        assert "has only 4" in error.message

    def test_unknown_dependency_suggests_a_rule(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + GOOD + rule_yaml("follower", depends_on="[god_rule]")})
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.line, error.rule, error.field) == (12, "follower", "depends_on[0]")
        assert error.message == "depends on unknown rule 'god_rule'"
        assert error.suggestion == "good_rule"
        assert names(rule_set) == ["good_rule"]

    def test_cycle_names_every_rule_on_it(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "cycle.yaml": "rules:\n"
                + rule_yaml("rule_a", depends_on="[rule_b]")
                + rule_yaml("rule_b", depends_on="[good_rule, rule_c]")
                + rule_yaml("rule_c", depends_on="[rule_a]")
                + GOOD
            }
        )
        rule_set = load_rules(folder)
        assert sorted((e.rule, e.field, e.line) for e in rule_set.errors) == [
            ("rule_a", "depends_on[0]", 7),
            ("rule_b", "depends_on[1]", 13),
            ("rule_c", "depends_on[0]", 19),
        ]
        assert {error.message for error in rule_set.errors} == {
            "dependency cycle rule_a -> rule_b -> rule_c -> rule_a"
        }
        assert names(rule_set) == ["good_rule"]

    def test_self_dependency(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {"r.yaml": "rules:\n" + rule_yaml("narcissus", depends_on="[narcissus]") + GOOD}
        )
        error = only_error(load_rules(folder))
        assert (error.rule, error.field, error.message) == (
            "narcissus",
            "depends_on[0]",
            "a rule cannot depend on itself",
        )

    def test_dependency_on_a_disabled_rule(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "r.yaml": "rules:\n"
                + rule_yaml("sleeping", enabled="false")
                + rule_yaml("waiting", depends_on="[sleeping]")
            }
        )
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.rule, error.field) == ("waiting", "depends_on[0]")
        assert "disabled" in error.message
        assert [(rule.name, rule.rule.enabled) for rule in rule_set.rules] == [("sleeping", False)]

    def test_dependency_on_a_broken_rule_is_named(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "r.yaml": "rules:\n"
                + rule_yaml("broken", priority="HUGE")
                + rule_yaml("downstream", depends_on="[broken]")
                + GOOD
            }
        )
        rule_set = load_rules(folder)
        assert [(error.rule, error.field) for error in rule_set.errors] == [
            ("broken", "priority"),
            ("downstream", "depends_on[0]"),
        ]
        assert "which has errors and was not loaded" in rule_set.errors[1].message
        assert names(rule_set) == ["good_rule"]

    def test_duplicate_names_across_files_name_both(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "a.yaml": "rules:\n" + rule_yaml("twin") + GOOD,
                "b.yaml": "# second file\nrules:\n" + rule_yaml("twin"),
            }
        )
        rule_set = load_rules(folder)
        assert [(error.file, error.line, error.rule, error.field) for error in rule_set.errors] == [
            (str(folder / "a.yaml"), 2, "twin", "name"),
            (str(folder / "b.yaml"), 3, "twin", "name"),
        ]
        assert f"also defined at {folder / 'b.yaml'}:3" in rule_set.errors[0].message
        assert f"also defined at {folder / 'a.yaml'}:2" in rule_set.errors[1].message
        assert names(rule_set) == ["good_rule"]

    def test_key_given_twice_in_a_rule(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + rule_yaml("twice") + "    frequency: daily\n" + GOOD})
        error = only_error(load_rules(folder))
        assert (error.line, error.rule, error.field) == (7, "twice", "frequency")
        assert "first at line 6" in error.message

    def test_bad_database_template_placeholder(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "r.yaml": "rules:\n"
                + rule_yaml("tpl", target="\n      database_template: '{evn}_{space}'")
                + GOOD
            }
        )
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.line, error.rule, error.field) == (8, "tpl", "target.database_template")
        assert "unknown placeholder {evn}" in error.message
        assert error.suggestion == "{env}"
        assert names(rule_set) == ["good_rule"]

    def test_database_template_with_broken_braces(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {"r.yaml": "rules:\n" + rule_yaml("flat", target="{database_template: '{env'}")}
        )
        error = only_error(load_rules(folder))
        assert error.field == "target.database_template"
        assert "is not a valid template" in error.message

    def test_database_template_without_space_is_one_database(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {"r.yaml": "rules:\n" + rule_yaml("flat", target="{database_template: 'lake_{env}'}")}
        )
        assert load_rules(folder, strict=True).rules[0].target.database_template == "lake_{env}"

    def test_missing_required_field_and_bad_name(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "r.yaml": "rules:\n  - name: Bad-Name\n    owner: x\n    priority: LOW\n"
                + "    frequency: daily\n"
                + GOOD
            }
        )
        rule_set = load_rules(folder)
        found = {(error.line, error.field) for error in rule_set.errors}
        assert found == {(2, "name"), (2, "description")}
        by_field = {error.field: error.message for error in rule_set.errors}
        assert by_field["description"] == "required field is missing"
        assert "lower-case letters, digits and underscores" in by_field["name"]
        assert names(rule_set) == ["good_rule"]

    def test_retry_cap_below_first_delay_points_at_the_cap(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {"r.yaml": "rules:\n" + rule_yaml("capped", job="\n      max_retry_delay_seconds: 5") + GOOD}
        )
        error = only_error(load_rules(folder))
        assert (error.line, error.rule, error.field) == (8, "capped", "job.max_retry_delay_seconds")
        assert error.message == "max_retry_delay_seconds (5) is below retry_delay_seconds (60)"

    def test_value_out_of_range(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {"r.yaml": "rules:\n" + rule_yaml("ranged", job="\n      retry_delay_seconds: -1") + GOOD}
        )
        error = only_error(load_rules(folder))
        assert (error.line, error.field) == (8, "job.retry_delay_seconds")
        assert "greater than 0" in error.message

    def test_rule_that_is_not_a_mapping(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n  - just a string\n" + GOOD})
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.line, error.rule, error.message) == (2, None, "a rule must be a mapping of fields")
        assert names(rule_set) == ["good_rule"]

    def test_unknown_top_level_key(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {"r.yaml": "rulez:\n" + GOOD, "s.yaml": "rules:\n" + GOOD.replace("good", "ok")}
        )
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.line, error.field, error.suggestion) == (1, "rulez", "rules")
        assert names(rule_set) == ["ok_rule"]

    def test_second_defaults_file_is_an_error_and_ignored(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"z.yaml": "defaults:\n  env: other\nrules:\n" + GOOD})
        rule_set = load_rules(folder)
        error = only_error(rule_set)
        assert (error.file, error.line, error.field) == (str(folder / "z.yaml"), 1, "defaults")
        assert f"already declared in {folder / '_defaults.yaml'}:1" in error.message
        assert [rule.env for rule in rule_set.rules] == ["test"]

    def test_bad_defaults_stop_every_rule(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {"r.yaml": "rules:\n" + GOOD}, defaults="defaults:\n  job:\n    retrys: 2\npools: {}\n"
        )
        rule_set = load_rules(folder)
        assert [(error.line, error.field, error.suggestion, error.message) for error in rule_set.errors] == [
            (1, None, None, "1 rule(s) not loaded: the defaults have errors"),
            (3, "defaults.job.retrys", "retries", "unknown field"),
        ]
        assert rule_set.rules == []

    def test_bad_pool_declaration_leaves_other_pools(self, rules_folder: RuleFiles) -> None:
        defaults = "defaults:\n  job: {pool: shared}\npools:\n  shared: {slots: 2}\n  broken: {slots: 0}\n"
        folder = rules_folder(
            {"r.yaml": "rules:\n" + GOOD + rule_yaml("on_broken", job="{pool: broken}")}, defaults=defaults
        )
        rule_set = load_rules(folder)
        assert [(error.line, error.rule, error.field) for error in rule_set.errors] == [
            (5, None, "pools.broken.slots"),
            (12, "on_broken", "job.pool"),
        ]
        assert "is declared with errors" in rule_set.errors[1].message
        assert list(rule_set.pools) == ["shared"]
        assert names(rule_set) == ["good_rule"]

    def test_many_mistakes_each_reported_once(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "r.yaml": "rules:\n"
                + rule_yaml("one", priority="HGH")
                + rule_yaml("two", frequency="sometimes")
                + GOOD
                + rule_yaml("three", job="{retries: 99}")
            }
        )
        rule_set = load_rules(folder)
        assert [(error.rule, error.field) for error in rule_set.errors] == [
            ("one", "priority"),
            ("two", "frequency"),
            ("three", "job.retries"),
        ]
        assert names(rule_set) == ["good_rule"]

    def test_strict_raises_with_every_error(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {"r.yaml": "rules:\n" + rule_yaml("one", priority="HGH") + rule_yaml("two", frequency="x")}
        )
        with pytest.raises(RulesError) as raised:
            load_rules(folder, strict=True)
        assert [error.rule for error in raised.value.errors] == ["one", "two"]
        assert "2 error(s) in the sync rules" in str(raised.value)
        assert "rule 'one': field 'priority'" in str(raised.value)

    def test_missing_folder(self, tmp_path: Path) -> None:
        rule_set = load_rules(tmp_path / "nowhere")
        assert rule_set.rules == []
        assert only_error(rule_set).message == "rules folder does not exist"


class TestDefaults:
    def test_global_then_priority_then_rule(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "r.yaml": "rules:\n"
                + rule_yaml("plain")
                + rule_yaml("critical", priority="CRITICAL")
                + rule_yaml("own", priority="CRITICAL", job="{retries: 1, batch_size: 7}")
            }
        )
        rule_set = load_rules(folder, strict=True)
        plain, critical, own = rule_set.rules
        assert (plain.job.pool, plain.job.retries, plain.job.retry_delay_seconds) == ("shared", 3, 60)
        assert (critical.job.pool, critical.job.retries, critical.job.retry_delay_seconds) == (
            "critical",
            5,
            10,
        )
        assert (own.job.pool, own.job.retries, own.job.retry_delay_seconds) == ("critical", 1, 10)
        assert own.job.batch_size == 7
        # Fields no layer sets keep the model's own defaults.
        assert plain.job.batch_size == 50
        assert plain.job.max_retry_delay_seconds == 1800

    def test_target_and_type_mapping_layering(self, rules_folder: RuleFiles) -> None:
        defaults = (
            "defaults:\n  target:\n    database_template: 'lake_{env}_{space}'\n"
            "    table_prefix: ds_\n    region: eu-west-1\n"
            "  type_mapping:\n    decimal_without_precision: string\n    overrides: {cds.UUID: string}\n"
            "pools:\n  datasphere_sync: {slots: 1}\n"
        )
        folder = rules_folder(
            {
                "r.yaml": "rules:\n"
                + rule_yaml(
                    "typed",
                    target="{region: us-east-1}",
                    type_mapping="{decimal_without_precision: 'decimal(38,10)', "
                    "overrides: {Edm.Guid: string}}",
                )
            },
            defaults=defaults,
        )
        rule = load_rules(folder, strict=True).rules[0]
        assert rule.target.database_template == "lake_{env}_{space}"
        assert (rule.target.table_prefix, rule.target.region) == ("ds_", "us-east-1")
        assert rule.decimal_without_precision is DecimalPolicy.DECIMAL_38_10
        assert rule.type_overrides == {"cds.UUID": "string", "Edm.Guid": "string"}

    def test_without_a_defaults_file_the_model_defaults_apply(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {"r.yaml": "pools:\n  datasphere_sync: {slots: 3}\nrules:\n" + GOOD}, defaults=None
        )
        rule = load_rules(folder, strict=True).rules[0]
        assert (rule.env, rule.job.pool, rule.job.retries) == ("dev", "datasphere_sync", 3)

    def test_environment_variable_overrides_env(
        self, rules_folder: RuleFiles, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + GOOD})
        assert load_rules(folder).rules[0].env == "test"
        monkeypatch.setenv(ENV_VARIABLE, "prod")
        assert load_rules(folder).rules[0].env == "prod"

    def test_invalid_environment_variable_loads_nothing(
        self, rules_folder: RuleFiles, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(ENV_VARIABLE, "Prod-EU")
        rule_set = load_rules(rules_folder({"r.yaml": "rules:\n" + GOOD}))
        assert rule_set.rules == []
        assert rule_set.errors[0].file == f"${ENV_VARIABLE}"
        assert "'Prod-EU' must start with a lower-case letter" in rule_set.errors[0].message

    def test_unquoted_off_is_the_deletion_mode(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + rule_yaml("quiet", deletion="{mode: off}")})
        assert load_rules(folder, strict=True).rules[0].rule.deletion.mode is DeletionMode.OFF


class TestFolder:
    def test_every_yaml_and_yml_file_in_sorted_order_hidden_skipped(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "b.yml": "rules:\n" + rule_yaml("from_b"),
                "a/nested.yaml": "rules:\n" + rule_yaml("from_nested"),
                "c.yaml": "# nothing yet\n",
                ".hidden.yaml": "rules:\n" + rule_yaml("hidden"),
                "notes.txt": "rules: []",
            }
        )
        rule_set = load_rules(folder, strict=True)
        assert names(rule_set) == ["from_nested", "from_b"]
        assert [rule.source_file for rule in rule_set.rules] == ["a/nested.yaml", "b.yml"]
        assert [rule.source_line for rule in rule_set.rules] == [2, 2]

    def test_same_folder_loads_the_same_every_time(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + GOOD + rule_yaml("bad", priority="X")})
        first, second = load_rules(folder), load_rules(folder)
        assert first.rules == second.rules
        assert first.errors == second.errors

    def test_disabled_rules_are_kept(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder({"r.yaml": "rules:\n" + GOOD + rule_yaml("off_rule", enabled="false")})
        rule_set = load_rules(folder, strict=True)
        assert names(rule_set) == ["good_rule", "off_rule"]
        assert [rule.name for rule in rule_set.enabled] == ["good_rule"]
        assert rule_set.get("off_rule") is not None
        assert rule_set.get("missing") is None


class TestShippedRules:
    FOLDER = Path(__file__).resolve().parents[2] / "rules"

    def test_load_without_errors(self) -> None:
        rule_set = load_rules(self.FOLDER, strict=True)
        assert rule_set.errors == []

    def test_cover_the_common_cases(self) -> None:
        rule_set = load_rules(self.FOLDER, strict=True)
        by_priority = {rule.rule.priority: rule for rule in rule_set.rules}
        assert set(by_priority) == set(Priority)
        assert by_priority[Priority.CRITICAL].rule.frequency == "real_time"
        assert [t.value for t in by_priority[Priority.CRITICAL].rule.match.object_types] == ["analyticmodels"]
        assert by_priority[Priority.HIGH].rule.frequency == "hourly"
        assert {t.value for t in by_priority[Priority.HIGH].rule.match.object_types} == {
            "views",
            "localtables",
            "remotetables",
        }
        flows = by_priority[Priority.MEDIUM]
        assert flows.rule.frequency == "daily"
        assert {"dataflows", "replicationflows", "transformationflows"} <= {
            t.value for t in flows.rule.match.object_types
        }
        assert by_priority[Priority.LOW].rule.frequency == "weekly"
        maintenance = by_priority[Priority.MAINTENANCE]
        assert maintenance.rule.frequency == "manual"
        assert maintenance.rule.deletion.mode is DeletionMode.DELETE_VANISHED
        assert 0 < maintenance.rule.deletion.max_delete_percent <= 20

    def test_critical_work_has_a_pool_no_other_priority_uses(self) -> None:
        rule_set = load_rules(self.FOLDER, strict=True)
        critical_pools = {rule.job.pool for rule in rule_set.rules if rule.rule.priority is Priority.CRITICAL}
        other_pools = {
            rule.job.pool for rule in rule_set.rules if rule.rule.priority is not Priority.CRITICAL
        }
        assert critical_pools and not critical_pools & other_pools
        # Lower priorities fall back to the global default pool, so it must not be the critical one.
        assert rule_set.defaults.job.pool not in critical_pools


class TestYamlFeatures:
    def test_anchors_and_merge_keys_share_settings(self, rules_folder: RuleFiles) -> None:
        folder = rules_folder(
            {
                "r.yaml": dedent("""\
                x-common: &common
                  owner: team-a
                  priority: LOW
                  frequency: daily
                  job: {retries: 1}
                rules:
                  - <<: *common
                    name: first
                    description: uses the shared block
                  - <<: *common
                    name: second
                    description: overrides one field
                    frequency: "0 4 * * *"
                """)
            }
        )
        first, second = load_rules(folder, strict=True).rules
        assert (first.rule.owner, first.job.retries, first.rule.frequency) == ("team-a", 1, "daily")
        assert (second.rule.frequency, second.source_line) == ("0 4 * * *", 10)
