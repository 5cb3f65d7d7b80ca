"""The mapping of Datasphere column types (CSN, EDMX, HANA) to Glue (Hive/Athena) types, as one table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from include.datasphere_glue.model import SourceColumn
from include.datasphere_glue.rules.model import DecimalPolicy, ResolvedRule

HIVE_VARCHAR_MAX = 65535
HIVE_CHAR_MAX = 255
HIVE_DECIMAL_MAX_PRECISION = 38


class Conversion(StrEnum):
    """How a row of the type table turns a source column into a Glue type."""

    FIXED = "fixed"  # always the row's Glue type
    VARCHAR = "varchar"  # varchar(length); no length or over the Hive maximum: string
    CHAR = "char"  # char(length) up to 255; longer: varchar, then string
    DECIMAL = "decimal"  # decimal(precision,scale); no or too large a precision: the decimal policy
    DECIMAL_POLICY = "decimal_policy"  # always the rule's decimal policy


@dataclass(frozen=True, slots=True)
class TypeRow:
    """One row of the type table: the source types it covers and the Glue type they become.

    :param source_types: source type names as Datasphere declares them; a trailing ``*`` covers every
        type with that prefix (``Edm.Geography*``).
    :param conversion: how length, precision and scale shape the Glue type.
    :param glue_type: the Glue type for fixed rows; for the others the shape shown in the documentation.
    :param why: the reason for rows that are not a one-to-one match.
    """

    source_types: tuple[str, ...]
    conversion: Conversion
    glue_type: str
    why: str = ""


TYPE_TABLE: tuple[TypeRow, ...] = (
    TypeRow(
        ("cds.String", "Edm.String", "hana.VARCHAR", "hana.NVARCHAR", "hana.ALPHANUM", "hana.SHORTTEXT"),
        Conversion.VARCHAR,
        "varchar(n)",
        "no length, or longer than Hive's 65535: string",
    ),
    TypeRow(("cds.LargeString", "hana.CLOB", "hana.NCLOB", "hana.TEXT"), Conversion.FIXED, "string"),
    TypeRow(
        ("hana.CHAR", "hana.NCHAR"),
        Conversion.CHAR,
        "char(n)",
        "Hive char holds at most 255 characters; longer becomes varchar(n), then string",
    ),
    TypeRow(("cds.Boolean", "Edm.Boolean", "hana.BOOLEAN"), Conversion.FIXED, "boolean"),
    TypeRow(
        ("cds.UInt8", "hana.TINYINT", "Edm.Byte"),
        Conversion.FIXED,
        "smallint",
        "unsigned 0..255 does not fit Hive's signed tinyint",
    ),
    TypeRow(("Edm.SByte",), Conversion.FIXED, "tinyint"),
    TypeRow(("cds.Int16", "hana.SMALLINT", "Edm.Int16"), Conversion.FIXED, "smallint"),
    TypeRow(("cds.Integer", "cds.Int32", "hana.INTEGER", "Edm.Int32"), Conversion.FIXED, "int"),
    TypeRow(("cds.Integer64", "cds.Int64", "hana.BIGINT", "Edm.Int64"), Conversion.FIXED, "bigint"),
    TypeRow(
        ("cds.Decimal", "hana.DECIMAL", "Edm.Decimal"),
        Conversion.DECIMAL,
        "decimal(p,s)",
        "without precision, or precision over 38: the rule's decimal policy",
    ),
    TypeRow(
        ("cds.DecimalFloat", "hana.SMALLDECIMAL"),
        Conversion.DECIMAL_POLICY,
        "double | decimal(38,10) | string",
        "floating decimals have no fixed scale: the rule's decimal policy (default double)",
    ),
    TypeRow(("cds.Double", "hana.DOUBLE", "Edm.Double", "hana.FLOAT"), Conversion.FIXED, "double"),
    TypeRow(("hana.REAL", "Edm.Single"), Conversion.FIXED, "float"),
    TypeRow(("cds.Date", "hana.DATE", "Edm.Date"), Conversion.FIXED, "date"),
    TypeRow(
        ("cds.Time", "hana.TIME", "Edm.TimeOfDay", "Edm.Time"),
        Conversion.FIXED,
        "string",
        "Athena has no TIME type",
    ),
    TypeRow(
        (
            "cds.DateTime",
            "cds.Timestamp",
            "hana.SECONDDATE",
            "hana.TIMESTAMP",
            "Edm.DateTimeOffset",
            "Edm.DateTime",
        ),
        Conversion.FIXED,
        "timestamp",
    ),
    TypeRow(
        ("cds.Binary", "cds.LargeBinary", "hana.BINARY", "hana.VARBINARY", "hana.BLOB", "Edm.Binary"),
        Conversion.FIXED,
        "binary",
    ),
    TypeRow(("cds.UUID", "Edm.Guid"), Conversion.FIXED, "string", "Hive has no UUID type"),
    TypeRow(
        ("hana.ST_POINT", "hana.ST_GEOMETRY", "Edm.Geography*", "Edm.Geometry*"),
        Conversion.FIXED,
        "string",
        "geometries travel as text (WKT)",
    ),
)
"""Every source type the sync knows; anything else becomes ``string`` and is reported."""

FALLBACK_TYPE = "string"


@dataclass(frozen=True, slots=True)
class MappedType:
    """The Glue type chosen for a column, and a note when the choice is a fallback worth reporting."""

    glue_type: str
    note: str | None = None


class TypeOverrideError(ValueError):
    """A rule's type override names a Glue type that Hive does not know."""


def map_column_type(
    column: SourceColumn,
    decimal_policy: DecimalPolicy,
    overrides: dict[str, str] | None = None,
) -> MappedType:
    """Choose the Glue type of one source column.

    :param column: the column as Datasphere declares it.
    :param decimal_policy: the Glue type for decimals without a usable precision.
    :param overrides: source type → Glue type, already validated with :func:`validate_overrides`;
        matched case-insensitively and with or without the ``cds.`` prefix of HANA types.
    """
    source_type = normalise_source_type(column.source_type)
    if not source_type:
        return MappedType(FALLBACK_TYPE, f"column {column.name} declares no type: mapped to string")
    override = _find_override(source_type, overrides or {})
    if override is not None:
        return MappedType(override)
    row = _row_for(source_type)
    if row is None:
        return MappedType(
            FALLBACK_TYPE, f"column {column.name}: unknown source type {column.source_type}: mapped to string"
        )
    return _convert(row, column, decimal_policy)


def describe_source_type(column: SourceColumn) -> str:
    """Render the declared type with its length or precision, e.g. ``cds.Decimal(15,2)``."""
    if not column.source_type:
        return ""
    if column.precision is not None:
        scale = f",{column.scale}" if column.scale is not None else ""
        return f"{column.source_type}({column.precision}{scale})"
    if column.length is not None:
        return f"{column.source_type}({column.length})"
    return column.source_type


def normalise_source_type(source_type: str) -> str:
    """Spell HANA types without the ``cds.`` prefix CSN sometimes puts before them."""
    name = source_type.strip()
    if name.lower().startswith("cds.hana."):
        name = name[len("cds.") :]
    return name


def validate_overrides(rule: ResolvedRule) -> dict[str, str]:
    """Check that every override of a rule targets a valid Hive type; return them normalised.

    :raises TypeOverrideError: naming the rule, its file and line, and every bad override.
    """
    problems = []
    normalised: dict[str, str] = {}
    for source_type, glue_type in rule.type_overrides.items():
        reason = hive_type_problem(glue_type)
        if reason:
            problems.append(f"type_mapping.overrides['{source_type}']: {reason}")
        else:
            normalised[normalise_source_type(source_type).lower()] = glue_type.strip().lower()
    if problems:
        raise TypeOverrideError(
            f"{rule.source_file}:{rule.source_line}: rule '{rule.name}': " + "; ".join(problems)
        )
    return normalised


_PRIMITIVES = frozenset(
    {
        "boolean",
        "tinyint",
        "smallint",
        "int",
        "integer",
        "bigint",
        "float",
        "double",
        "string",
        "binary",
        "date",
        "timestamp",
        "decimal",
    }
)
_PARAMETERISED = re.compile(r"^(varchar|char)\((\d+)\)$|^decimal\((\d+)\s*,\s*(\d+)\)$")
_COMPLEX = re.compile(r"^(array|map|struct)<.+>$")


def hive_type_problem(glue_type: str) -> str | None:
    """Say what is wrong with a Glue column type, or return None when Hive accepts it."""
    text = glue_type.strip().lower()
    if text in _PRIMITIVES or _COMPLEX.match(text):
        return None
    match = _PARAMETERISED.match(text)
    if not match:
        return (
            f"'{glue_type}' is not a Hive type; use one of {sorted(_PRIMITIVES)}, varchar(n), char(n), "
            "decimal(p,s), array<...>, map<...> or struct<...>"
        )
    if match.group(1) == "varchar" and not 1 <= int(match.group(2)) <= HIVE_VARCHAR_MAX:
        return f"'{glue_type}': varchar length must be 1..{HIVE_VARCHAR_MAX}"
    if match.group(1) == "char" and not 1 <= int(match.group(2)) <= HIVE_CHAR_MAX:
        return f"'{glue_type}': char length must be 1..{HIVE_CHAR_MAX}"
    if match.group(3) is not None:
        precision, scale = int(match.group(3)), int(match.group(4))
        if not 1 <= precision <= HIVE_DECIMAL_MAX_PRECISION or scale > precision:
            return f"'{glue_type}': decimal needs 1 <= precision <= 38 and scale <= precision"
    return None


_EXACT_ROWS = {name.lower(): row for row in TYPE_TABLE for name in row.source_types if not name.endswith("*")}
_PREFIX_ROWS = tuple(
    (name[:-1].lower(), row) for row in TYPE_TABLE for name in row.source_types if name.endswith("*")
)


def _row_for(source_type: str) -> TypeRow | None:
    key = source_type.lower()
    if key in _EXACT_ROWS:
        return _EXACT_ROWS[key]
    return next((row for prefix, row in _PREFIX_ROWS if key.startswith(prefix)), None)


def _find_override(source_type: str, overrides: dict[str, str]) -> str | None:
    return overrides.get(source_type.lower())


def _convert(row: TypeRow, column: SourceColumn, decimal_policy: DecimalPolicy) -> MappedType:
    if row.conversion is Conversion.VARCHAR:
        return _varchar(column)
    if row.conversion is Conversion.CHAR:
        return _char(column)
    if row.conversion is Conversion.DECIMAL:
        return _decimal(column, decimal_policy)
    if row.conversion is Conversion.DECIMAL_POLICY:
        return MappedType(decimal_policy.value)
    return MappedType(row.glue_type)


def _varchar(column: SourceColumn) -> MappedType:
    length = column.length
    if length is None or length <= 0:
        return MappedType("string")
    if length > HIVE_VARCHAR_MAX:
        return MappedType(
            "string",
            f"column {column.name}: {column.source_type}({length}) is longer than Hive's varchar "
            f"maximum {HIVE_VARCHAR_MAX}: mapped to string",
        )
    return MappedType(f"varchar({length})")


def _char(column: SourceColumn) -> MappedType:
    length = column.length
    if length is None or length <= 0:
        return MappedType("string")
    if length <= HIVE_CHAR_MAX:
        return MappedType(f"char({length})")
    widened = _varchar(column)
    return MappedType(
        widened.glue_type,
        f"column {column.name}: {column.source_type}({length}) is longer than Hive's char maximum "
        f"{HIVE_CHAR_MAX}: mapped to {widened.glue_type}",
    )


def _decimal(column: SourceColumn, decimal_policy: DecimalPolicy) -> MappedType:
    precision, scale = column.precision, column.scale or 0
    if precision is None or precision <= 0:
        return MappedType(decimal_policy.value)
    if precision > HIVE_DECIMAL_MAX_PRECISION or scale > precision or scale < 0:
        return MappedType(
            decimal_policy.value,
            f"column {column.name}: {describe_source_type(column)} does not fit Hive's decimal "
            f"(precision at most {HIVE_DECIMAL_MAX_PRECISION}): mapped to {decimal_policy.value}",
        )
    return MappedType(f"decimal({precision},{scale})")


def type_table_markdown() -> str:
    """Render the type table as the Markdown table the README and docs/type-mapping.md show."""
    lines = ["| Datasphere type | Glue type | why |", "|---|---|---|"]
    for row in TYPE_TABLE:
        sources = ", ".join(f"`{name}`" for name in row.source_types)
        lines.append(f"| {sources} | `{row.glue_type}` | {row.why} |")
    lines.append(f"| anything else, or no type | `{FALLBACK_TYPE}` | reported as a note in the sync report |")
    return "\n".join(lines) + "\n"
