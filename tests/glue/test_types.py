"""The type table maps every Datasphere type the issue names to the Glue type a user expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from include.datasphere_glue.glue.types import (
    TYPE_TABLE,
    TypeOverrideError,
    hive_type_problem,
    map_column_type,
    type_table_markdown,
    validate_overrides,
)
from include.datasphere_glue.model import SourceColumn
from include.datasphere_glue.rules.model import DecimalPolicy
from tests.glue.rules import make_rule

DOUBLE = DecimalPolicy.DOUBLE


def col(source_type: str, **fields: object) -> SourceColumn:
    return SourceColumn(name="C", source_type=source_type, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (col("cds.String", length=40), "varchar(40)"),
        (col("Edm.String", length=10), "varchar(10)"),
        (col("cds.String"), "string"),
        (col("cds.String", length=65535), "varchar(65535)"),
        (col("cds.String", length=65536), "string"),
        (col("cds.LargeString"), "string"),
        (col("hana.CLOB"), "string"),
        (col("cds.hana.CLOB"), "string"),
        (col("hana.CHAR", length=3), "char(3)"),
        (col("cds.hana.CHAR", length=255), "char(255)"),
        (col("hana.CHAR", length=300), "varchar(300)"),
        (col("cds.Boolean"), "boolean"),
        (col("Edm.Boolean"), "boolean"),
        (col("hana.TINYINT"), "smallint"),
        (col("Edm.Byte"), "smallint"),
        (col("cds.Int16"), "smallint"),
        (col("Edm.Int16"), "smallint"),
        (col("cds.Integer"), "int"),
        (col("cds.Int32"), "int"),
        (col("Edm.Int32"), "int"),
        (col("cds.Integer64"), "bigint"),
        (col("Edm.Int64"), "bigint"),
        (col("cds.Decimal", precision=15, scale=2), "decimal(15,2)"),
        (col("Edm.Decimal", precision=38, scale=0), "decimal(38,0)"),
        (col("Edm.Decimal", precision=10), "decimal(10,0)"),
        (col("cds.Double"), "double"),
        (col("Edm.Double"), "double"),
        (col("hana.REAL"), "float"),
        (col("Edm.Single"), "float"),
        (col("cds.Date"), "date"),
        (col("Edm.Date"), "date"),
        (col("cds.Time"), "string"),
        (col("Edm.TimeOfDay"), "string"),
        (col("cds.DateTime"), "timestamp"),
        (col("cds.Timestamp"), "timestamp"),
        (col("Edm.DateTimeOffset"), "timestamp"),
        (col("cds.Binary"), "binary"),
        (col("Edm.Binary"), "binary"),
        (col("cds.UUID"), "string"),
        (col("Edm.Guid"), "string"),
        (col("hana.ST_POINT"), "string"),
        (col("cds.hana.ST_GEOMETRY"), "string"),
        (col("Edm.GeographyPoint"), "string"),
        (col("Edm.GeometryPolygon"), "string"),
    ],
)
def test_each_source_type_maps_to_its_hive_type(column: SourceColumn, expected: str) -> None:
    assert map_column_type(column, DOUBLE).glue_type == expected


@pytest.mark.parametrize("policy", list(DecimalPolicy))
@pytest.mark.parametrize(
    "column",
    [col("cds.Decimal"), col("cds.DecimalFloat"), col("hana.SMALLDECIMAL"), col("Edm.Decimal")],
    ids=["bare decimal", "DecimalFloat", "SMALLDECIMAL", "Edm.Decimal without precision"],
)
def test_decimals_without_precision_follow_the_rules_policy(
    column: SourceColumn, policy: DecimalPolicy
) -> None:
    mapped = map_column_type(column, policy)
    assert mapped.glue_type == policy.value
    assert mapped.note is None  # a configured policy is a choice, not a fallback


def test_decimal_beyond_hive_precision_falls_back_to_the_policy_with_a_note() -> None:
    mapped = map_column_type(col("cds.Decimal", precision=40, scale=2), DecimalPolicy.STRING)
    assert mapped.glue_type == "string"
    assert mapped.note and "cds.Decimal(40,2)" in mapped.note


@pytest.mark.parametrize("source_type", ["", "cds.Association", "Edm.Stream", "my.custom.Type"])
def test_unknown_or_missing_types_become_string_and_are_noted(source_type: str) -> None:
    mapped = map_column_type(col(source_type), DOUBLE)
    assert mapped.glue_type == "string"
    assert mapped.note and "C" in mapped.note


def test_overlong_varchar_and_char_are_noted() -> None:
    assert map_column_type(col("cds.String", length=70000), DOUBLE).note
    assert "char maximum" in (map_column_type(col("hana.CHAR", length=256), DOUBLE).note or "")
    assert map_column_type(col("hana.CHAR", length=70000), DOUBLE).glue_type == "string"


def test_overrides_replace_the_default_mapping_case_insensitively() -> None:
    rule = make_rule(type_mapping={"overrides": {"cds.UUID": "varchar(36)", "hana.st_point": "binary"}})
    overrides = validate_overrides(rule)
    assert map_column_type(col("cds.UUID"), DOUBLE, overrides).glue_type == "varchar(36)"
    assert map_column_type(col("cds.hana.ST_POINT"), DOUBLE, overrides).glue_type == "binary"
    assert map_column_type(col("Edm.Guid"), DOUBLE, overrides).glue_type == "string"


def test_a_bad_override_names_the_rule_file_and_each_bad_entry() -> None:
    rule = make_rule(type_mapping={"overrides": {"cds.UUID": "varchr(36)", "cds.String": "char(300)"}})
    with pytest.raises(TypeOverrideError) as caught:
        validate_overrides(rule)
    message = str(caught.value)
    assert "rules/test.yaml:7" in message and "rule 'test_rule'" in message
    assert "overrides['cds.UUID']" in message and "varchr(36)" in message
    assert "overrides['cds.String']" in message and "char length" in message


@pytest.mark.parametrize(
    "glue_type", ["string", "decimal(38,10)", "varchar(1)", "char(255)", "array<string>", "struct<a:int>"]
)
def test_valid_hive_types_pass(glue_type: str) -> None:
    assert hive_type_problem(glue_type) is None


@pytest.mark.parametrize(
    "glue_type", ["text", "decimal(39,2)", "decimal(5,6)", "varchar(0)", "varchar(70000)"]
)
def test_invalid_hive_types_are_refused(glue_type: str) -> None:
    assert hive_type_problem(glue_type)


def test_every_row_of_the_table_produces_a_valid_hive_type() -> None:
    for row in TYPE_TABLE:
        for source_type in row.source_types:
            column = col(source_type.rstrip("*"), length=20, precision=10, scale=2)
            assert hive_type_problem(map_column_type(column, DOUBLE).glue_type) is None, source_type


@pytest.mark.parametrize("document", ["docs/type-mapping.md", "README.md"])
def test_the_documented_table_is_the_table_in_the_code(document: str) -> None:
    doc = (Path(__file__).resolve().parents[2] / document).read_text(encoding="utf-8")
    documented = doc.split("<!-- type-table:start -->\n", 1)[1].split("<!-- type-table:end -->", 1)[0]
    assert documented == type_table_markdown(), f"regenerate the table in {document} from the code"
