"""The admin API: changes to assets and spaces show in the next API call; reset and call counts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulators.datasphere.testing import EmulatorProcess
from tests.emulators.support import CATALOG, CSN_ACCEPT, REPOSITORY

NEW_VIEW: dict[str, Any] = {
    "kind": "entity",
    "@EndUserText.label": "Returns",
    "@ObjectModel.modelingPattern": {"#": "ANALYTICAL_FACT"},
    "elements": {
        "RETURN_ID": {"type": "cds.String", "length": 12, "key": True},
        "AMOUNT": {"type": "cds.Decimal", "precision": 15, "scale": 2},
    },
}


def _exposed_names(api: httpx.Client, space: str) -> set[str]:
    return {row["name"] for row in api.get(f"{CATALOG}/spaces('{space}')/assets").json()["value"]}


class TestAssets:
    def test_added_asset_is_listed_and_readable(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        datasphere.admin.upsert_asset(
            "SALES", "V_RETURNS", object_type="views", definition=NEW_VIEW, exposed=True
        )

        assert "V_RETURNS" in _exposed_names(api, "SALES")
        csn = api.get(f"{REPOSITORY}/SALES/views/V_RETURNS", headers=CSN_ACCEPT).json()
        assert csn["definitions"]["V_RETURNS"]["elements"]["AMOUNT"]["precision"] == 15
        edmx = api.get("/api/v1/datasphere/consumption/relational/SALES/V_RETURNS/$metadata")
        assert 'Name="RETURN_ID" Type="Edm.String" MaxLength="12"' in edmx.text

    def test_replaced_asset_changes_its_columns(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        changed = {**NEW_VIEW, "elements": {"ORDER_ID": {"type": "cds.Integer64", "key": True}}}

        datasphere.admin.upsert_asset(
            "SALES", "V_SALES_ORDERS", object_type="views", definition=changed, exposed=True
        )

        edmx = api.get("/api/v1/datasphere/consumption/relational/SALES/V_SALES_ORDERS/$metadata").text
        assert 'Type="Edm.Int64"' in edmx
        assert "NET_AMOUNT" not in edmx

    def test_unexposing_removes_from_catalog_but_not_repository(
        self, api: httpx.Client, datasphere: EmulatorProcess
    ) -> None:
        current = datasphere.admin.get_asset("SALES", "V_PRODUCTS")

        datasphere.admin.upsert_asset(
            "SALES", "V_PRODUCTS", object_type="views", definition=current["definition"], exposed=False
        )

        assert "V_PRODUCTS" not in _exposed_names(api, "SALES")
        assert api.get(f"{REPOSITORY}/SALES/views/V_PRODUCTS", headers=CSN_ACCEPT).status_code == 200

    def test_deleted_asset_is_gone_everywhere(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        datasphere.admin.delete_asset("FINANCE", "SAP.TIME.VIEW_DIMENSION_DAY")

        assert "SAP.TIME.VIEW_DIMENSION_DAY" not in _exposed_names(api, "FINANCE")
        url = f"{REPOSITORY}/FINANCE/views/SAP.TIME.VIEW_DIMENSION_DAY"
        assert api.get(url, headers=CSN_ACCEPT).status_code == 404

    def test_deleting_a_missing_asset_is_not_found(self, datasphere: EmulatorProcess) -> None:
        with pytest.raises(RuntimeError, match="404"):
            datasphere.admin.delete_asset("SALES", "NOPE")

    def test_invalid_asset_is_a_bad_request_naming_the_problem(self, datasphere: EmulatorProcess) -> None:
        with pytest.raises(RuntimeError, match=r"400.*'type' must be one of"):
            datasphere.admin.upsert_asset("SALES", "X", object_type="cubes", definition=NEW_VIEW)

    def test_reset_restores_the_loaded_catalog(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        datasphere.admin.delete_asset("SALES", "V_SALES_ORDERS")
        datasphere.admin.upsert_asset(
            "SALES", "V_RETURNS", object_type="views", definition=NEW_VIEW, exposed=True
        )

        datasphere.admin.reset()

        names = _exposed_names(api, "SALES")
        assert "V_SALES_ORDERS" in names
        assert "V_RETURNS" not in names


class TestSpaces:
    def test_membership_can_be_revoked(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        datasphere.admin.upsert_space("HR", member=False)

        assert api.get(f"{CATALOG}/spaces('HR')/assets").status_code == 403
        assert api.get(f"{REPOSITORY}/HR/views").status_code == 403
        assert "HR" in {space["name"] for space in api.get(f"{CATALOG}/spaces").json()["value"]}

    def test_new_space_appears(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        datasphere.admin.upsert_space("MARKETING", label="Marketing")

        assert {"name": "MARKETING", "label": "Marketing"} in api.get(f"{CATALOG}/spaces").json()["value"]
        assert api.get(f"{REPOSITORY}/MARKETING/views").json() == []


class TestCallCounts:
    def test_calls_are_counted_per_api(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        datasphere.admin.clear_calls()

        api.get(f"{CATALOG}/spaces")
        api.get(f"{CATALOG}/spaces('SALES')/assets")
        api.get("/api/v1/datasphere/consumption/relational/SALES/V_SALES_ORDERS/$metadata")
        api.get(f"{REPOSITORY}/SALES/localtables")
        api.get(f"{REPOSITORY}/SALES/localtables/SALES_ORDERS", headers=CSN_ACCEPT)

        calls = datasphere.admin.calls()
        assert (calls["token"], calls["catalog"], calls["metadata"], calls["repository"]) == (0, 2, 1, 2)
        assert calls["total"] == 5

    def test_reset_zeroes_the_counts(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        api.get(f"{CATALOG}/spaces")

        datasphere.admin.reset()

        assert datasphere.admin.calls()["total"] == 0

    def test_admin_calls_need_no_token_and_are_not_counted(self, datasphere: EmulatorProcess) -> None:
        response = httpx.get(f"{datasphere.url}/_emulator/health")

        assert response.json() == {"status": "ok"}
        assert datasphere.admin.calls()["total"] == 0
