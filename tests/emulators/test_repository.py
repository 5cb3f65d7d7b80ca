"""The repository API SAP's command-line tool uses: listings per object type and CSN documents."""

from __future__ import annotations

import httpx
import pytest

from emulators.datasphere.testing import EmulatorProcess
from tests.emulators.support import CSN_ACCEPT, REPOSITORY

OBJECT_TYPES = [
    "views",
    "analyticmodels",
    "localtables",
    "remotetables",
    "dataflows",
    "replicationflows",
    "transformationflows",
]


class TestListings:
    @pytest.mark.parametrize("object_type", OBJECT_TYPES)
    def test_every_object_type_is_listed_by_technical_name(self, api: httpx.Client, object_type: str) -> None:
        response = api.get(f"{REPOSITORY}/SALES/{object_type}")

        assert response.status_code == 200
        entries = response.json()
        assert entries
        assert all(set(entry) == {"technicalName"} for entry in entries)

    def test_listing_holds_unexposed_objects_and_colliding_names(self, api: httpx.Client) -> None:
        tables = {entry["technicalName"] for entry in api.get(f"{REPOSITORY}/SALES/localtables").json()}
        views = {entry["technicalName"] for entry in api.get(f"{REPOSITORY}/SALES/views").json()}

        assert {"SALES.ORDERS", "SALES_ORDERS"} <= tables
        assert "V_SALES_DRAFT" in views

    def test_restricted_space_is_forbidden(self, api: httpx.Client) -> None:
        assert api.get(f"{REPOSITORY}/EXECUTIVE_RESTRICTED/localtables").status_code == 403

    def test_unknown_object_type_is_not_found(self, api: httpx.Client) -> None:
        assert api.get(f"{REPOSITORY}/SALES/widgets").status_code == 404

    def test_needs_a_token(self, datasphere: EmulatorProcess) -> None:
        assert httpx.get(f"{datasphere.url}{REPOSITORY}/SALES/views").status_code == 401


def _load_tables(datasphere: EmulatorProcess, count: int) -> list[str]:
    names = [f"T_{index:03d}" for index in range(count)]
    table = {"kind": "entity", "elements": {"ID": {"type": "cds.Integer", "key": True}}}
    assets = [{"name": name, "type": "localtables", "definition": table} for name in names]
    datasphere.admin.load_catalog(
        {"format": "datasphere-emulator-catalog/1", "spaces": [{"name": "BIG", "assets": assets}]}
    )
    return names


def _names(api: httpx.Client, query: str = "") -> list[str]:
    response = api.get(f"{REPOSITORY}/BIG/localtables{query}")
    assert response.status_code == 200, response.text
    return [entry["technicalName"] for entry in response.json()]


class TestListingPages:
    def test_top_and_skip_cut_the_listing(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        names = _load_tables(datasphere, 60)

        assert _names(api, "?top=40&skip=0") == names[:40]
        assert _names(api, "?top=40&skip=40") == names[40:]
        assert _names(api, "?top=40&skip=60") == []

    def test_without_top_a_page_holds_25_as_the_cli_asks(
        self, api: httpx.Client, datasphere: EmulatorProcess
    ) -> None:
        names = _load_tables(datasphere, 60)

        assert _names(api) == names[:25]

    def test_the_page_limit_caps_what_top_asks(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        names = _load_tables(datasphere, 60)
        datasphere.admin.set_options(repository_page_limit=7)

        assert _names(api, "?top=40&skip=7") == names[7:14]

    def test_a_tenant_that_ignores_paging_answers_everything(
        self, api: httpx.Client, datasphere: EmulatorProcess
    ) -> None:
        names = _load_tables(datasphere, 60)
        datasphere.admin.set_options(repository_ignores_paging=True)

        assert _names(api, "?top=10&skip=10") == names

    def test_a_bad_top_is_a_bad_request(self, api: httpx.Client) -> None:
        response = api.get(f"{REPOSITORY}/SALES/views?top=-1")

        assert response.status_code == 400
        assert "top must be a non-negative integer" in response.text

    def test_a_bad_page_limit_is_refused_naming_the_option(self, datasphere: EmulatorProcess) -> None:
        with pytest.raises(RuntimeError, match="repository_page_limit must be a positive integer"):
            datasphere.admin.set_options(repository_page_limit=0)
        with pytest.raises(RuntimeError, match="unknown options page_limit"):
            datasphere.admin.set_options(page_limit=10)


class TestObjectContent:
    def test_table_csn(self, api: httpx.Client) -> None:
        response = api.get(f"{REPOSITORY}/SALES/localtables/SALES_ORDERS", headers=CSN_ACCEPT)

        assert response.status_code == 200
        assert response.headers["Content-Type"] == CSN_ACCEPT["Accept"]
        definition = response.json()["definitions"]["SALES_ORDERS"]
        assert definition["kind"] == "entity"
        assert definition["@EndUserText.label"] == "Sales Orders"
        assert definition["@ObjectModel.modelingPattern"] == {"#": "DATA_STRUCTURE"}
        assert definition["elements"]["ORDER_ID"] == {
            "type": "cds.String",
            "length": 10,
            "key": True,
            "@EndUserText.label": "Sales Order",
        }
        assert definition["elements"]["NET_AMOUNT"]["precision"] == 15

    def test_dotted_name(self, api: httpx.Client) -> None:
        response = api.get(f"{REPOSITORY}/FINANCE/views/SAP.TIME.VIEW_DIMENSION_MONTH", headers=CSN_ACCEPT)

        definition = response.json()["definitions"]["SAP.TIME.VIEW_DIMENSION_MONTH"]
        assert definition["query"] == {"SELECT": {"from": {"ref": ["SAP.TIME.VIEW_DIMENSION_DAY"]}}}

    def test_view_on_views_carries_a_join(self, api: httpx.Client) -> None:
        response = api.get(f"{REPOSITORY}/SALES/views/V_ORDERS_ENRICHED", headers=CSN_ACCEPT)

        source = response.json()["definitions"]["V_ORDERS_ENRICHED"]["query"]["SELECT"]["from"]
        assert [arg["ref"] for arg in source["args"]] == [["V_SALES_ORDERS"], ["V_CUSTOMERS"]]
        assert len(response.json()["definitions"]["V_ORDERS_ENRICHED"]["@EndUserText.quickInfo"]) > 2048

    def test_analytic_model_measures_may_have_no_type(self, api: httpx.Client) -> None:
        response = api.get(f"{REPOSITORY}/HR/analyticmodels/AM_HEADCOUNT", headers=CSN_ACCEPT)

        definition = response.json()["definitions"]["AM_HEADCOUNT"]
        assert definition["kind"] == "entity"
        assert "type" not in definition["elements"]["HEADCOUNT"]
        assert definition["@ObjectModel.modelingPattern"] == {"#": "ANALYTICAL_CUBE"}

    @pytest.mark.parametrize(
        ("object_type", "name", "kind"),
        [
            ("dataflows", "DF_SALES_DAILY", "sap.dis.dataflow"),
            ("replicationflows", "RF_CUSTOMERS", "sap.dis.replicationflow"),
            ("transformationflows", "TF_SALES_CLEANSING", "sap.dis.transformationflow"),
        ],
    )
    def test_flows_name_their_sources_and_targets(
        self, api: httpx.Client, object_type: str, name: str, kind: str
    ) -> None:
        definition = api.get(f"{REPOSITORY}/SALES/{object_type}/{name}", headers=CSN_ACCEPT).json()[
            "definitions"
        ][name]

        assert definition["kind"] == kind
        assert definition["sources"]
        assert definition["targets"]
        assert definition["@EndUserText.label"]

    def test_object_under_the_wrong_type_is_not_found(self, api: httpx.Client) -> None:
        assert api.get(f"{REPOSITORY}/SALES/views/SALES_ORDERS", headers=CSN_ACCEPT).status_code == 404

    def test_restricted_space_object_is_forbidden(self, api: httpx.Client) -> None:
        response = api.get(f"{REPOSITORY}/EXECUTIVE_RESTRICTED/localtables/BOARD_KPIS", headers=CSN_ACCEPT)

        assert response.status_code == 403

    def test_unacceptable_media_type(self, api: httpx.Client) -> None:
        response = api.get(f"{REPOSITORY}/SALES/localtables/SALES_ORDERS", headers={"Accept": "text/csv"})

        assert response.status_code == 406
