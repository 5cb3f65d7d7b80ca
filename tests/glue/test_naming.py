"""Glue names: folded to lower case and [a-z0-9_], at most 255 characters, from the rule's templates."""

from __future__ import annotations

from include.datasphere_glue.glue.naming import database_name, glue_name, table_name
from tests.glue.rules import make_rule


def test_technical_names_with_dots_and_odd_characters_fold_into_glue_names() -> None:
    assert glue_name("SAP.TIME.VIEW_DIMENSION_DAY") == "sap_time_view_dimension_day"
    assert glue_name("Sales-Orders 2024/€") == "sales_orders_2024__"


def test_names_are_cut_at_255_characters() -> None:
    assert len(glue_name("A" * 300)) == 255


def test_database_and_table_names_follow_the_rules_target() -> None:
    rule = make_rule(
        target={"database_template": "{env}_ds_{space}", "table_prefix": "v_"}, defaults={"env": "prod"}
    )
    assert database_name(rule, "SALES.EU") == "prod_ds_sales_eu"
    assert table_name(rule, "SAP.ORDERS") == "v_sap_orders"
