"""The catalog OData service: spaces, exposed assets, paging, query options, both prefixes, 403."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulators.datasphere.testing import EmulatorProcess
from tests.emulators.support import CATALOG, OLD_CATALOG

ASSET_FIELDS = {
    "name",
    "label",
    "spaceName",
    "assetRelationalMetadataUrl",
    "assetRelationalDataUrl",
    "assetAnalyticalMetadataUrl",
    "assetAnalyticalDataUrl",
    "supportsAnalyticalQueries",
    "hasParameters",
}
BIG_SPACE_SIZE = 1234


def _view(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "views",
        "exposed": True,
        "definition": {"kind": "entity", "elements": {"ID": {"type": "cds.Integer", "key": True}}},
    }


@pytest.fixture
def big_space(datasphere: EmulatorProcess) -> str:
    """A catalog with one space holding more exposed assets than two pages."""
    document = datasphere.admin.catalog()
    document["spaces"].append(
        {"name": "BIG", "label": "Big", "assets": [_view(f"V_{n:05d}") for n in range(BIG_SPACE_SIZE)]}
    )
    datasphere.admin.load_catalog(document)
    return "BIG"


class TestSpaces:
    @pytest.mark.parametrize("prefix", [CATALOG, OLD_CATALOG])
    def test_both_prefixes_list_every_space_including_restricted_ones(
        self, api: httpx.Client, prefix: str
    ) -> None:
        body = api.get(f"{prefix}/spaces").json()

        names = [space["name"] for space in body["value"]]
        assert names == ["SALES", "FINANCE", "HR", "SUPPLY_CHAIN", "EXECUTIVE_RESTRICTED"]
        assert body["value"][0] == {"name": "SALES", "label": "Sales"}

    def test_tenant_option_answers_spaces_as_a_bare_array(
        self, api: httpx.Client, datasphere: EmulatorProcess
    ) -> None:
        datasphere.admin.set_options(spaces_as_array=True)

        body = api.get(f"{CATALOG}/spaces").json()

        assert isinstance(body, list)
        assert {"name": "HR", "label": "Human Resources"} in body

    def test_single_space_entity(self, api: httpx.Client) -> None:
        body = api.get(f"{CATALOG}/spaces('HR')").json()

        assert (body["name"], body["label"]) == ("HR", "Human Resources")


class TestAssets:
    @pytest.mark.parametrize("prefix", [CATALOG, OLD_CATALOG])
    def test_lists_only_exposed_views_and_analytic_models(self, api: httpx.Client, prefix: str) -> None:
        rows = api.get(f"{prefix}/spaces('SALES')/assets").json()["value"]

        names = {row["name"] for row in rows}
        assert {"V_SALES_ORDERS", "V_ORDERS_ENRICHED", "AM_SALES"} <= names
        assert "SALES_ORDERS" not in names  # a local table
        assert "V_SALES_DRAFT" not in names  # a view not exposed for consumption
        assert all(set(row) == ASSET_FIELDS for row in rows)
        assert all(row["spaceName"] == "SALES" for row in rows)

    def test_view_and_analytic_model_urls(self, api: httpx.Client) -> None:
        rows = {row["name"]: row for row in api.get(f"{CATALOG}/spaces('SALES')/assets").json()["value"]}

        view, model = rows["V_SALES_ORDERS"], rows["AM_SALES"]
        assert view["assetRelationalMetadataUrl"].endswith(
            "/api/v1/datasphere/consumption/relational/SALES/V_SALES_ORDERS/$metadata"
        )
        assert view["assetRelationalMetadataUrl"].startswith(str(api.base_url).rstrip("/"))
        assert view["supportsAnalyticalQueries"] is False
        assert view["assetAnalyticalMetadataUrl"] == ""
        assert model["supportsAnalyticalQueries"] is True
        assert model["assetAnalyticalMetadataUrl"].endswith("/analytical/SALES/AM_SALES/$metadata")
        assert model["assetRelationalMetadataUrl"] == ""
        assert rows["V_SALES_BY_DATE"]["hasParameters"] is True

    def test_mixed_tenant_uses_both_prefixes_in_metadata_urls(self, api: httpx.Client) -> None:
        rows = api.get(f"{CATALOG}/spaces('FINANCE')/assets").json()["value"]

        urls = [row["assetRelationalMetadataUrl"] or row["assetAnalyticalMetadataUrl"] for row in rows]
        assert any("/api/v1/dwc/consumption/" in url for url in urls)
        assert any("/api/v1/datasphere/consumption/" in url for url in urls)
        assert all(api.get(url).status_code == 200 for url in urls)

    def test_space_option_can_use_only_the_old_prefix(self, api: httpx.Client) -> None:
        rows = api.get(f"{CATALOG}/spaces('HR')/assets").json()["value"]

        assert all(
            "/api/v1/dwc/consumption/" in row["assetRelationalMetadataUrl"]
            for row in rows
            if row["assetRelationalMetadataUrl"]
        )

    def test_space_the_client_is_not_a_member_of_is_forbidden(self, api: httpx.Client) -> None:
        response = api.get(f"{CATALOG}/spaces('EXECUTIVE_RESTRICTED')/assets")

        assert response.status_code == 403
        assert "not a member" in response.json()["error"]["message"]

    def test_unknown_space_is_not_found(self, api: httpx.Client) -> None:
        assert api.get(f"{CATALOG}/spaces('NOPE')/assets").status_code == 404

    def test_dotted_names_and_percent_encoded_keys(self, api: httpx.Client) -> None:
        response = api.get(f"{CATALOG}/spaces%28%27FINANCE%27%29/assets('SAP.TIME.VIEW_DIMENSION_DAY')")

        assert response.status_code == 200
        assert response.json()["label"] == "Time Dimension - Day"

    def test_quote_in_a_key_is_doubled(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        datasphere.admin.upsert_asset(
            "SALES",
            "V_O'BRIEN",
            object_type="views",
            exposed=True,
            definition={"kind": "entity", "elements": {"ID": {"type": "cds.Integer", "key": True}}},
        )

        response = api.get(f"{CATALOG}/spaces('SALES')/assets('V_O''BRIEN')")

        assert response.status_code == 200
        assert response.json()["name"] == "V_O'BRIEN"


class TestPaging:
    def test_server_cuts_at_500_and_links_the_next_page(self, api: httpx.Client, big_space: str) -> None:
        names: list[str] = []
        url: str | None = f"{CATALOG}/spaces('{big_space}')/assets"
        pages = 0
        while url:
            body = api.get(url).json()
            assert len(body["value"]) <= 500
            names += [row["name"] for row in body["value"]]
            url = body.get("@odata.nextLink")
            pages += 1

        assert pages == 3
        assert names == [f"V_{n:05d}" for n in range(BIG_SPACE_SIZE)]

    def test_larger_top_is_capped_and_the_rest_linked(self, api: httpx.Client, big_space: str) -> None:
        body = api.get(f"{CATALOG}/spaces('{big_space}')/assets", params={"$top": 800}).json()

        assert len(body["value"]) == 500
        follow = api.get(body["@odata.nextLink"]).json()
        assert len(follow["value"]) == 300
        assert "@odata.nextLink" not in follow

    def test_top_skip_and_count(self, api: httpx.Client, big_space: str) -> None:
        params: dict[str, str | int] = {"$top": 10, "$skip": 1230, "$count": "true"}
        body = api.get(f"{CATALOG}/spaces('{big_space}')/assets", params=params).json()

        assert body["@odata.count"] == BIG_SPACE_SIZE
        assert [row["name"] for row in body["value"]] == ["V_01230", "V_01231", "V_01232", "V_01233"]
        assert "@odata.nextLink" not in body

    def test_client_sized_pages_end_without_a_link(self, api: httpx.Client, big_space: str) -> None:
        body = api.get(f"{CATALOG}/spaces('{big_space}')/assets", params={"$top": 100}).json()

        assert len(body["value"]) == 100
        assert "@odata.nextLink" not in body


class TestQueryOptions:
    def test_filter_by_name(self, api: httpx.Client) -> None:
        params = {"$filter": "name eq 'SAP.TIME.VIEW_DIMENSION_DAY'"}
        rows = api.get(f"{OLD_CATALOG}/spaces('FINANCE')/assets", params=params).json()["value"]

        assert [row["name"] for row in rows] == ["SAP.TIME.VIEW_DIMENSION_DAY"]

    def test_filter_by_space_name_across_spaces(self, api: httpx.Client) -> None:
        params = {"$filter": "spaceName eq 'HR' and supportsAnalyticalQueries eq true"}
        rows = api.get(f"{CATALOG}/assets", params=params).json()["value"]

        assert rows
        assert {row["spaceName"] for row in rows} == {"HR"}
        assert all(row["supportsAnalyticalQueries"] for row in rows)

    def test_filter_functions(self, api: httpx.Client) -> None:
        params = {"$filter": "startswith(name,'AM_') or contains(name,'TIME')"}
        rows = api.get(f"{CATALOG}/assets", params=params).json()["value"]

        assert {row["name"] for row in rows} >= {"AM_SALES", "AM_HR", "SAP.TIME.VIEW_DIMENSION_DAY"}
        assert all(row["name"].startswith("AM_") or "TIME" in row["name"] for row in rows)

    def test_unreadable_filter_is_a_bad_request(self, api: httpx.Client) -> None:
        response = api.get(f"{CATALOG}/assets", params={"$filter": "name like 'X'"})

        assert response.status_code == 400
        assert "like" in response.json()["error"]["message"]

    def test_select_projects_fields(self, api: httpx.Client) -> None:
        rows = api.get(f"{CATALOG}/spaces('HR')/assets", params={"$select": "name,label"}).json()["value"]

        assert rows
        assert all(set(row) == {"name", "label"} for row in rows)

    def test_assets_across_spaces_skip_restricted_ones(self, api: httpx.Client) -> None:
        rows = api.get(f"{CATALOG}/assets").json()["value"]

        assert "EXECUTIVE_RESTRICTED" not in {row["spaceName"] for row in rows}
        assert {"SALES", "FINANCE", "HR", "SUPPLY_CHAIN"} == {row["spaceName"] for row in rows}
