"""Build the demo catalog: a few business spaces with a hundred-odd assets of every type and column type.

Run ``python -m emulators.datasphere.demo`` to rewrite ``catalogs/demo.json`` after changing this file.
"""

from __future__ import annotations

import json
from typing import Any

from emulators.datasphere.catalog import CATALOG_FORMAT, DEMO_CATALOG_PATH

Element = dict[str, Any]
Columns = dict[str, Element]

# A column label and an object description longer than Glue accepts (255 and 2048 characters), so that
# the sync's truncation is exercised by the demo.
_LONG_LABEL = (
    "Net revenue in document currency after all price conditions, rebates, freight surcharges and "
    "cash discounts have been applied, but before the month-end accruals that controlling posts, as agreed "
    "with the group finance team for the harmonised reporting of every sales organisation in the region"
)
_LONG_DESCRIPTION = " ".join(
    f"Paragraph {n}: this view combines the order headers replicated from the S/4HANA system with the "
    "customer master and the product hierarchy, applies the currency conversion at the posting date, and "
    "filters out cancelled and blocked documents so that reporting matches the ledger."
    for n in range(1, 13)
)


def col(
    cds_type: str | None,
    label: str | None = None,
    *,
    length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
    key: bool = False,
    not_null: bool = False,
    measure: bool = False,
) -> Element:
    """One CSN element; ``cds_type`` None makes a measure without a declared type."""
    element: Element = {}
    if cds_type is not None:
        element["type"] = cds_type
    for name, value in (("length", length), ("precision", precision), ("scale", scale)):
        if value is not None:
            element[name] = value
    if key:
        element["key"] = True
    if not_null:
        element["notNull"] = True
    if label:
        element["@EndUserText.label"] = label
    if measure:
        element["@AnalyticsDetails.measureType"] = {"#": "BASE"}
    return element


def string(length: int, label: str, **facets: Any) -> Element:
    return col("cds.String", label, length=length, **facets)


def decimal(precision: int, scale: int, label: str, **facets: Any) -> Element:
    return col("cds.Decimal", label, precision=precision, scale=scale, **facets)


def entity(
    label: str,
    columns: Columns,
    *,
    usage: str = "DATA_STRUCTURE",
    description: str | None = None,
    query: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A CSN entity definition as the repository API returns it."""
    definition: dict[str, Any] = {
        "kind": "entity",
        "@EndUserText.label": label,
        "@ObjectModel.modelingPattern": {"#": usage},
        "elements": columns,
    }
    if description:
        definition["@EndUserText.quickInfo"] = description
    if query:
        definition["query"] = query
    definition.update(extra or {})
    return definition


def select_from(name: str) -> dict[str, Any]:
    return {"SELECT": {"from": {"ref": [name]}}}


def join(left: str, right: str, on: str) -> dict[str, Any]:
    return {
        "SELECT": {
            "from": {
                "join": "left",
                "args": [{"ref": [left]}, {"ref": [right]}],
                "on": [{"ref": [left, on]}, "=", {"ref": [right, on]}],
            }
        }
    }


def flow(kind: str, label: str, sources: list[str], targets: list[str]) -> dict[str, Any]:
    return {"kind": kind, "@EndUserText.label": label, "sources": sources, "targets": targets}


def asset(
    name: str, object_type: str, definition: dict[str, Any], *, exposed: bool = False
) -> dict[str, Any]:
    return {"name": name, "type": object_type, "exposed": exposed, "definition": definition}


def build_demo_catalog() -> dict[str, Any]:
    """Return the demo catalog document (the ``catalogs/demo.json`` content)."""
    return {
        "format": CATALOG_FORMAT,
        "options": {"spaces_as_array": False},
        "spaces": [
            {
                "name": "SALES",
                "label": "Sales",
                "member": True,
                "metadata_prefix": "datasphere",
                "assets": _sales(),
            },
            {
                "name": "FINANCE",
                "label": "Finance and Controlling",
                "member": True,
                "metadata_prefix": "mixed",
                "assets": _finance(),
            },
            {
                "name": "HR",
                "label": "Human Resources",
                "member": True,
                "metadata_prefix": "dwc",
                "assets": _hr(),
            },
            {
                "name": "SUPPLY_CHAIN",
                "label": "Supply Chain",
                "member": True,
                "metadata_prefix": "datasphere",
                "assets": _supply_chain(),
            },
            {
                "name": "EXECUTIVE_RESTRICTED",
                "label": "Executive Board (restricted)",
                "member": False,
                "metadata_prefix": "datasphere",
                "assets": _restricted(),
            },
        ],
    }


# --- a business domain: tables → views → analytic model, loaded by flows -------------------------------


def _domain(
    prefix: str, tables: dict[str, tuple[str, Columns]], fact: str, dimensions: list[str], remote_source: str
) -> list[dict[str, Any]]:
    """Assets of one domain: local and remote tables, a view per table, a fact view joining a dimension
    view (a view on views), an analytic model on the fact, and the flows that load the tables."""
    assets: list[dict[str, Any]] = []
    for name, (label, columns) in tables.items():
        assets.append(asset(name, "localtables", entity(label, columns)))
        remote = f"{remote_source}_{name}"
        assets.append(
            asset(
                remote,
                "remotetables",
                entity(
                    f"{label} ({remote_source})",
                    columns,
                    extra={
                        "@DataWarehouse.remote.connection": remote_source,
                        "@DataWarehouse.remote.entity": name.lower(),
                    },
                ),
            )
        )
        assets.append(
            asset(
                f"RF_{name}",
                "replicationflows",
                flow("sap.dis.replicationflow", f"Replicate {label}", [remote], [name]),
            )
        )
        usage = "ANALYTICAL_DIMENSION" if name in dimensions else "DATA_STRUCTURE"
        view_columns = {column: dict(element) for column, element in columns.items()}
        assets.append(
            asset(
                f"V_{name}",
                "views",
                entity(f"{label} View", view_columns, usage=usage, query=select_from(name)),
                exposed=True,
            )
        )
        # A view on a view, kept for reporting; only dimension ones are exposed for consumption.
        assets.append(
            asset(
                f"V_{name}_REPORTING",
                "views",
                entity(
                    f"{label} for Reporting",
                    {column: dict(element) for column, element in columns.items()},
                    usage=usage,
                    query=select_from(f"V_{name}"),
                ),
                exposed=name in dimensions,
            )
        )
    fact_label, fact_columns = tables[fact]
    dimension = dimensions[0]
    dimension_key = next(c for c, e in tables[dimension][1].items() if e.get("key"))
    joined = {
        **fact_columns,
        **{
            f"{dimension}_{c}": dict(e, key=False)
            for c, e in tables[dimension][1].items()
            if not e.get("key")
        },
    }
    joined = {c: {k: v for k, v in e.items() if not (k == "key" and not v)} for c, e in joined.items()}
    fact_view = f"V_{prefix}_FACT"
    assets.append(
        asset(
            fact_view,
            "views",
            entity(
                f"{fact_label} with {tables[dimension][0]}",
                joined,
                usage="ANALYTICAL_FACT",
                query=join(f"V_{fact}", f"V_{dimension}", dimension_key),
            ),
            exposed=True,
        )
    )
    measures = {
        c: col(None, e.get("@EndUserText.label"), measure=True)
        for c, e in fact_columns.items()
        if e.get("type") in ("cds.Decimal", "cds.Integer", "cds.Double")
    }
    attributes = {c: dict(e) for c, e in fact_columns.items() if c not in measures}
    assets.append(
        asset(
            f"AM_{prefix}",
            "analyticmodels",
            entity(
                f"{fact_label} Analysis",
                {**attributes, **measures},
                usage="ANALYTICAL_CUBE",
                query=select_from(fact_view),
            ),
            exposed=True,
        )
    )
    assets.append(
        asset(
            f"DF_{prefix}_DAILY",
            "dataflows",
            flow("sap.dis.dataflow", f"Daily {fact_label} load", [f"{remote_source}_{fact}"], [fact]),
        )
    )
    return assets


def _sales() -> list[dict[str, Any]]:
    tables = {
        "SALES_ORDERS": (
            "Sales Orders",
            {
                "ORDER_ID": string(10, "Sales Order", key=True),
                "ORDER_UUID": col("cds.UUID", "Order UUID", not_null=True),
                "CUSTOMER_ID": string(10, "Sold-to Party"),
                "ORDER_DATE": col("cds.Date", "Order Date"),
                "ORDER_TIME": col("cds.Time", "Order Time"),
                "CHANGED_AT": col("cds.Timestamp", "Last Changed At"),
                "NET_AMOUNT": decimal(15, 2, _LONG_LABEL),
                "CURRENCY": col("hana.CHAR", "Document Currency", length=5),
                "ITEM_COUNT": col("cds.Integer", "Number of Items"),
                "PRIORITY": col("hana.TINYINT", "Delivery Priority"),
                "IS_BLOCKED": col("cds.Boolean", "Billing Block"),
                "NOTES": col("cds.LargeString", "Internal Notes"),
            },
        ),
        "ORDER_ITEMS": (
            "Order Items",
            {
                "ORDER_ID": string(10, "Sales Order", key=True),
                "ITEM_NO": col("cds.Int16", "Item", key=True),
                "PRODUCT_ID": string(18, "Product"),
                "QUANTITY": decimal(13, 3, "Order Quantity"),
                "UNIT": col("hana.CHAR", "Sales Unit", length=3),
                "NET_VALUE": decimal(15, 2, "Net Value"),
                "DISCOUNT_RATE": col("hana.REAL", "Discount Rate"),
                "MARGIN": col("cds.Double", "Margin"),
            },
        ),
        "CUSTOMERS": (
            "Customers",
            {
                "CUSTOMER_ID": string(10, "Customer", key=True),
                "NAME": string(80, "Customer Name"),
                "COUNTRY": col("hana.CHAR", "Country/Region", length=3),
                "CITY": string(40, "City"),
                "LOCATION": col("hana.ST_POINT", "Geo Location"),
                "CREDIT_LIMIT": col("cds.Decimal", "Credit Limit"),
                "CREATED_ON": col("cds.DateTime", "Created On"),
            },
        ),
        "PRODUCTS": (
            "Products",
            {
                "PRODUCT_ID": string(18, "Product", key=True),
                "DESCRIPTION": string(120, "Product Description"),
                "PRODUCT_GROUP": string(9, "Product Group"),
                "WEIGHT_KG": col("cds.DecimalFloat", "Gross Weight (kg)"),
                "LIST_PRICE": col("hana.SMALLDECIMAL", "List Price"),
                "IMAGE": col("cds.LargeBinary", "Product Image"),
                "CHECKSUM": col("cds.Binary", "Master Data Checksum", length=32),
            },
        ),
    }
    tables["SALES_REPS"] = (
        "Sales Representatives",
        {
            "REP_ID": string(8, "Sales Representative", key=True),
            "NAME": string(60, "Name"),
            "REGION": col("hana.CHAR", "Sales Region", length=4),
            "QUOTA": decimal(15, 2, "Annual Quota"),
            "ACTIVE": col("cds.Boolean", "Active"),
        },
    )
    assets = _domain("SALES", tables, "ORDER_ITEMS", ["PRODUCTS", "CUSTOMERS"], "S4H")
    # Two technical names that become one Glue name (sales_orders): the sync must refuse both.
    assets.append(
        asset(
            "SALES.ORDERS",
            "localtables",
            entity(
                "Sales Orders (legacy import)",
                {
                    "ORDER_ID": string(10, "Sales Order", key=True),
                    "LEGACY_KEY": col("cds.Integer64", "Legacy Key"),
                },
            ),
        )
    )
    assets.append(
        asset(
            "V_ORDERS_ENRICHED",
            "views",
            entity(
                "Orders Enriched",
                {
                    "ORDER_ID": string(10, "Sales Order", key=True),
                    "CUSTOMER_NAME": string(80, "Customer Name"),
                    "NET_AMOUNT": decimal(15, 2, "Net Amount"),
                    "COUNTRY": col("hana.CHAR", "Country/Region", length=3),
                },
                usage="ANALYTICAL_DATASET",
                description=_LONG_DESCRIPTION,
                query=join("V_SALES_ORDERS", "V_CUSTOMERS", "CUSTOMER_ID"),
            ),
            exposed=True,
        )
    )
    assets.append(
        asset(
            "V_CUSTOMER_TEXTS",
            "views",
            entity(
                "Customer Texts",
                {
                    "CUSTOMER_ID": string(10, "Customer", key=True),
                    "LANGUAGE": col("hana.CHAR", "Language", length=2, key=True),
                    "TEXT": string(255, "Customer Text"),
                },
                usage="LANGUAGE_DEPENDENT_TEXT",
                query=select_from("CUSTOMERS"),
            ),
            exposed=True,
        )
    )
    assets.append(
        asset(
            "V_SALES_BY_DATE",
            "views",
            entity(
                "Sales by Date Range",
                {
                    "ORDER_DATE": col("cds.Date", "Order Date", key=True),
                    "NET_AMOUNT": decimal(17, 2, "Net Amount"),
                },
                usage="ANALYTICAL_DATASET",
                query=select_from("V_SALES_ORDERS"),
                extra={"params": {"P_FROM": {"type": "cds.Date"}, "P_TO": {"type": "cds.Date"}}},
            ),
            exposed=True,
        )
    )
    assets.append(
        asset(
            "V_SALES_DRAFT",
            "views",
            entity(
                "Sales Draft (not exposed)",
                {
                    "ORDER_ID": string(10, "Sales Order", key=True),
                },
                query=select_from("SALES_ORDERS"),
            ),
        )
    )
    assets.append(
        asset(
            "TF_SALES_CLEANSING",
            "transformationflows",
            flow("sap.dis.transformationflow", "Cleanse legacy orders", ["SALES.ORDERS"], ["SALES_ORDERS"]),
        )
    )
    return assets


def _finance() -> list[dict[str, Any]]:
    tables = {
        "GL_ACCOUNTS": (
            "G/L Accounts",
            {
                "ACCOUNT": string(10, "G/L Account", key=True),
                "CHART": col("hana.CHAR", "Chart of Accounts", length=4, key=True),
                "ACCOUNT_NAME": string(50, "Account Name"),
                "IS_BALANCE_SHEET": col("cds.Boolean", "Balance Sheet Account"),
            },
        ),
        "JOURNAL_ENTRIES": (
            "Journal Entries",
            {
                "DOCUMENT": string(10, "Journal Entry", key=True),
                "LINE": col("cds.Integer", "Line Item", key=True),
                "FISCAL_YEAR": col("cds.Int16", "Fiscal Year"),
                "PERIOD": col("hana.TINYINT", "Posting Period"),
                "ACCOUNT": string(10, "G/L Account"),
                "AMOUNT": decimal(23, 2, "Amount in Company Code Currency"),
                "AMOUNT_GROUP": col("cds.DecimalFloat", "Amount in Group Currency"),
                "EXCHANGE_RATE": col("hana.SMALLDECIMAL", "Exchange Rate"),
                "POSTED_AT": col("cds.Timestamp", "Posted At"),
                "REFERENCE_ID": col("cds.UUID", "Reference"),
            },
        ),
        "COST_CENTERS": (
            "Cost Centers",
            {
                "COST_CENTER": string(10, "Cost Center", key=True),
                "NAME": string(40, "Cost Center Name"),
                "VALID_FROM": col("cds.Date", "Valid From"),
                "VALID_TO": col("cds.Date", "Valid To"),
                "BUDGET": col("cds.Decimal", "Budget"),
            },
        ),
    }
    tables["PROFIT_CENTERS"] = (
        "Profit Centers",
        {
            "PROFIT_CENTER": string(10, "Profit Center", key=True),
            "NAME": string(40, "Profit Center Name"),
            "SEGMENT": string(10, "Segment"),
            "LOCKED": col("cds.Boolean", "Locked for Posting"),
        },
    )
    assets = _domain("FINANCE", tables, "JOURNAL_ENTRIES", ["GL_ACCOUNTS", "COST_CENTERS"], "S4H")
    # SAP's time dimension objects carry dots in their technical names.
    days = {
        "DATE_SQL": col("cds.Date", "Date", key=True),
        "DATESAP": string(8, "Date (SAP format)"),
        "CALMONTH": string(6, "Year Month"),
        "CALQUARTER": string(5, "Year Quarter"),
        "CALYEAR": string(4, "Year"),
        "DAY_OF_WEEK": col("hana.TINYINT", "Day of Week"),
    }
    assets.append(asset("SAP.TIME.M_TIME_DIMENSION", "localtables", entity("Time Table", days)))
    assets.append(
        asset(
            "SAP.TIME.VIEW_DIMENSION_DAY",
            "views",
            entity(
                "Time Dimension - Day",
                days,
                usage="ANALYTICAL_DIMENSION",
                query=select_from("SAP.TIME.M_TIME_DIMENSION"),
            ),
            exposed=True,
        )
    )
    assets.append(
        asset(
            "SAP.TIME.VIEW_DIMENSION_MONTH",
            "views",
            entity(
                "Time Dimension - Month",
                {
                    "CALMONTH": string(6, "Year Month", key=True),
                    "CALYEAR": string(4, "Year"),
                },
                usage="ANALYTICAL_DIMENSION",
                query=select_from("SAP.TIME.VIEW_DIMENSION_DAY"),
            ),
            exposed=True,
        )
    )
    assets.append(
        asset(
            "SAP.TIME.VIEW_DIMENSION_QUARTER",
            "views",
            entity(
                "Time Dimension - Quarter",
                {
                    "CALQUARTER": string(5, "Year Quarter", key=True),
                    "CALYEAR": string(4, "Year"),
                },
                usage="ANALYTICAL_DIMENSION",
                query=select_from("SAP.TIME.VIEW_DIMENSION_DAY"),
            ),
            exposed=True,
        )
    )
    return assets


def _hr() -> list[dict[str, Any]]:
    tables = {
        "EMPLOYEES": (
            "Employees",
            {
                "EMPLOYEE_ID": string(8, "Personnel Number", key=True),
                "GLOBAL_ID": col("cds.UUID", "Global Employee ID"),
                "FULL_NAME": string(80, "Full Name"),
                "BIRTH_DATE": col("cds.Date", "Date of Birth"),
                "HIRE_DATE": col("cds.Date", "Hire Date"),
                "ORG_UNIT": string(8, "Organizational Unit"),
                "PHOTO": col("cds.LargeBinary", "Photo"),
                "IS_MANAGER": col("cds.Boolean", "Manager"),
                "GRADE": col("hana.TINYINT", "Pay Grade"),
            },
        ),
        "ORG_UNITS": (
            "Organizational Units",
            {
                "ORG_UNIT": string(8, "Organizational Unit", key=True),
                "NAME": string(40, "Name"),
                "PARENT": string(8, "Parent Unit"),
                "OFFICE_AREA": col("hana.ST_GEOMETRY", "Office Floor Plan"),
            },
        ),
        "PAYROLL": (
            "Payroll Results",
            {
                "EMPLOYEE_ID": string(8, "Personnel Number", key=True),
                "PAY_PERIOD": string(6, "Pay Period", key=True),
                "GROSS_PAY": decimal(13, 2, "Gross Pay"),
                "NET_PAY": decimal(13, 2, "Net Pay"),
                "HOURS": col("cds.Double", "Hours Worked"),
                "OVERTIME_RATIO": col("hana.REAL", "Overtime Ratio"),
                "RUN_AT": col("cds.Timestamp", "Payroll Run At"),
                "SHIFT_START": col("cds.Time", "Shift Start"),
            },
        ),
    }
    tables["ABSENCES"] = (
        "Absences",
        {
            "EMPLOYEE_ID": string(8, "Personnel Number", key=True),
            "START_DATE": col("cds.Date", "Start Date", key=True),
            "END_DATE": col("cds.Date", "End Date"),
            "ABSENCE_TYPE": col("hana.CHAR", "Absence Type", length=4),
            "DAYS": col("hana.SMALLDECIMAL", "Absence Days"),
        },
    )
    assets = _domain("HR", tables, "PAYROLL", ["EMPLOYEES", "ORG_UNITS"], "SFSF")
    assets.append(
        asset(
            "V_HEADCOUNT",
            "views",
            entity(
                "Headcount by Unit",
                {
                    "ORG_UNIT": string(8, "Organizational Unit", key=True),
                    "HEADCOUNT": col("cds.Integer64", "Headcount"),
                },
                usage="ANALYTICAL_FACT",
                query=join("V_EMPLOYEES", "V_ORG_UNITS", "ORG_UNIT"),
            ),
            exposed=True,
        )
    )
    assets.append(
        asset(
            "AM_HEADCOUNT",
            "analyticmodels",
            entity(
                "Headcount Analysis",
                {
                    "ORG_UNIT": string(8, "Organizational Unit", key=True),
                    "HEADCOUNT": col(None, "Headcount", measure=True),
                    "HEADCOUNT_SHARE": col(None, "Share of Headcount (calculated)", measure=True),
                },
                usage="ANALYTICAL_CUBE",
                query=select_from("V_HEADCOUNT"),
            ),
            exposed=True,
        )
    )
    return assets


def _supply_chain() -> list[dict[str, Any]]:
    tables = {
        "SHIPMENTS": (
            "Shipments",
            {
                "SHIPMENT_ID": string(12, "Shipment", key=True),
                "CARRIER": string(10, "Carrier"),
                "PLANT": col("hana.CHAR", "Plant", length=4),
                "SHIPPED_AT": col("cds.Timestamp", "Shipped At"),
                "ETA": col("cds.DateTime", "Estimated Arrival"),
                "WEIGHT": decimal(13, 3, "Gross Weight"),
                "VOLUME": col("cds.DecimalFloat", "Volume"),
                "CURRENT_POSITION": col("hana.ST_POINT", "Current Position"),
                "ROUTE": col("hana.ST_GEOMETRY", "Planned Route"),
                "TRACKING_ID": col("cds.UUID", "Tracking ID"),
                "IS_DELAYED": col("cds.Boolean", "Delayed"),
                "TEMPERATURE": col("hana.REAL", "Container Temperature"),
                "COST": col("cds.Decimal", "Freight Cost"),
                "LABEL_PDF": col("cds.Binary", "Shipping Label", length=5000),
            },
        ),
        "PLANTS": (
            "Plants",
            {
                "PLANT": col("hana.CHAR", "Plant", length=4, key=True),
                "NAME": string(30, "Plant Name"),
                "LOCATION": col("hana.ST_POINT", "Plant Location"),
                "OPENS_AT": col("cds.Time", "Opens At"),
                "CLOSES_AT": col("cds.Time", "Closes At"),
            },
        ),
        "STOCK": (
            "Stock Levels",
            {
                "PLANT": col("hana.CHAR", "Plant", length=4, key=True),
                "MATERIAL": string(18, "Material", key=True),
                "QUANTITY": decimal(13, 3, "Unrestricted Stock"),
                "SAFETY_STOCK": col("cds.Integer", "Safety Stock"),
                "BINS": col("cds.Int16", "Storage Bins"),
                "TURNOVER": col("cds.Double", "Stock Turnover"),
                "SNAPSHOT_DATE": col("cds.Date", "Snapshot Date"),
                "LAST_COUNT": col("cds.Integer64", "Last Physical Count"),
            },
        ),
        "MATERIALS": (
            "Materials",
            {
                "MATERIAL": string(18, "Material", key=True),
                "DESCRIPTION": col("cds.String", "Material Description"),  # no length
                "LONG_TEXT": col("cds.LargeString", "Long Text"),
                "HAZARD_CLASS": col("hana.TINYINT", "Hazard Class"),
                "UNIT_PRICE": col("hana.SMALLDECIMAL", "Unit Price"),
            },
        ),
    }
    tables["SUPPLIERS"] = (
        "Suppliers",
        {
            "SUPPLIER_ID": string(10, "Supplier", key=True),
            "NAME": string(80, "Supplier Name"),
            "RATING": col("hana.TINYINT", "Supplier Rating"),
            "LOCATION": col("hana.ST_POINT", "Location"),
            "ONBOARDED_AT": col("cds.Timestamp", "Onboarded At"),
        },
    )
    return _domain("SUPPLY_CHAIN", tables, "STOCK", ["PLANTS", "MATERIALS"], "ECC")


def _restricted() -> list[dict[str, Any]]:
    return [
        asset(
            "BOARD_KPIS",
            "localtables",
            entity(
                "Board KPIs",
                {
                    "KPI": string(20, "KPI", key=True),
                    "VALUE": decimal(17, 2, "Value"),
                },
            ),
        ),
        asset(
            "V_BOARD_KPIS",
            "views",
            entity(
                "Board KPIs View",
                {
                    "KPI": string(20, "KPI", key=True),
                    "VALUE": decimal(17, 2, "Value"),
                },
                usage="ANALYTICAL_FACT",
                query=select_from("BOARD_KPIS"),
            ),
            exposed=True,
        ),
        asset(
            "AM_BOARD",
            "analyticmodels",
            entity(
                "Board Analysis",
                {
                    "KPI": string(20, "KPI", key=True),
                    "VALUE": col(None, "Value", measure=True),
                },
                usage="ANALYTICAL_CUBE",
                query=select_from("V_BOARD_KPIS"),
            ),
            exposed=True,
        ),
    ]


def main() -> None:
    """Write the demo catalog file next to this module."""
    document = build_demo_catalog()
    DEMO_CATALOG_PATH.parent.mkdir(parents=True, exist_ok=True)
    DEMO_CATALOG_PATH.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    count = sum(len(space["assets"]) for space in document["spaces"])
    print(f"wrote {DEMO_CATALOG_PATH} ({len(document['spaces'])} spaces, {count} assets)")


if __name__ == "__main__":
    main()
