"""Catalog paging and URL guards against scripted answers a tenant may send but the emulator does not."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import pytest

from include.datasphere_glue.datasphere.catalog import DatasphereCatalog
from include.datasphere_glue.datasphere.client import DatasphereConfig, RetryPolicy
from include.datasphere_glue.datasphere.errors import DatasphereConfigError, DocumentError
from include.datasphere_glue.model import ObjectType
from tests.datasphere.scripted import ScriptedTransport

TENANT = "https://acme.eu10.hcs.cloud.sap"
SPACES = "/api/v1/datasphere/consumption/catalog/spaces"
ASSETS = "/api/v1/datasphere/consumption/catalog/spaces('SALES')/assets"
VIEWS = "/dwaas-core/api/v1/spaces/SALES/views"


def _catalog(
    answer: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request]
) -> DatasphereCatalog:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "bearer", "expires_in": 3600})
        return answer(request)

    config = DatasphereConfig(
        tenant_url=TENANT,
        client_id="client",
        client_secret="secret",
        page_size=2,
        retry=RetryPolicy(max_attempts=2, backoff_seconds=0.001),
    )
    return DatasphereCatalog(config, transport=ScriptedTransport(handler))


def _asset(name: str) -> dict[str, object]:
    return {
        "name": name,
        "label": name.title(),
        "spaceName": "SALES",
        "supportsAnalyticalQueries": False,
        "assetRelationalMetadataUrl": f"/api/v1/dwc/consumption/relational/SALES/{name}/$metadata",
    }


def _views(*names: str) -> httpx.Response:
    return httpx.Response(200, json=[{"technicalName": name} for name in names])


class TestNextLink:
    def test_relative_and_absolute_next_links_are_followed_to_the_end(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == VIEWS:
                return _views("A", "B", "C", "D", "E")
            skip = request.url.params.get("$skip")
            if request.url.path == SPACES:
                return httpx.Response(200, json={"value": [{"name": "SALES"}]})
            if skip == "0":  # a relative link, resolved against this request
                return httpx.Response(
                    200,
                    json={"value": [_asset("A"), _asset("B")], "@odata.nextLink": "assets?$skip=2&$top=2"},
                )
            if skip == "2":  # an absolute link on the tenant
                return httpx.Response(
                    200,
                    json={
                        "value": [_asset("C"), _asset("D")],
                        "@odata.nextLink": f"{TENANT}{ASSETS}?$skip=4&$top=2",
                    },
                )
            return httpx.Response(200, json={"value": [_asset("E")]})

        seen: list[httpx.Request] = []
        listing = _catalog(answer, seen).list_assets("SALES", [ObjectType.VIEW])

        assert listing.complete, listing.warnings
        assert [ref.business_name for ref in listing.refs] == ["A", "B", "C", "D", "E"]
        assets_requests = [r.url for r in seen if r.url.path == ASSETS]
        assert [url.params.get("$skip") for url in assets_requests] == ["0", "2", "4"]
        assert all(url.host == "acme.eu10.hcs.cloud.sap" for url in assets_requests)

    def test_full_pages_without_next_link_continue_with_skip(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == VIEWS:
                return _views("A", "B", "C")
            if request.url.path == SPACES:
                return httpx.Response(200, json={"value": [{"name": "SALES"}]})
            rows = [_asset("A"), _asset("B"), _asset("C")]
            skip, top = int(request.url.params["$skip"]), int(request.url.params["$top"])
            return httpx.Response(200, json={"value": rows[skip : skip + top]})

        seen: list[httpx.Request] = []
        listing = _catalog(answer, seen).list_assets("SALES", [ObjectType.VIEW])

        assert all(ref.metadata_url for ref in listing.refs)
        assert [r.url.params.get("$skip") for r in seen if r.url.path == ASSETS] == ["0", "2"]

    def test_next_link_to_another_host_is_refused_as_a_configuration_error(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == VIEWS:
                return _views("A", "B", "C")
            if request.url.path == SPACES:
                return httpx.Response(200, json={"value": [{"name": "SALES"}]})
            return httpx.Response(
                200,
                json={
                    "value": [_asset("A"), _asset("B")],
                    "@odata.nextLink": "https://evil.example/steal?$skip=2",
                },
            )

        seen: list[httpx.Request] = []
        with pytest.raises(
            DatasphereConfigError, match=r"refusing to call evil\.example: it is not the tenant host"
        ):
            _catalog(answer, seen).list_assets("SALES", [ObjectType.VIEW])

        assert all(request.url.host != "evil.example" for request in seen)

    def test_a_repeating_next_link_stops_instead_of_looping(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == VIEWS:
                return _views("A")
            if request.url.path == SPACES:
                return httpx.Response(200, json={"value": [{"name": "SALES"}]})
            return httpx.Response(200, json={"value": [_asset("A")], "@odata.nextLink": "assets?$skip=1"})

        seen: list[httpx.Request] = []
        listing = _catalog(answer, seen).list_assets("SALES", [ObjectType.VIEW])

        assert not listing.complete and "repeats" in listing.warnings[0]
        assert len([r for r in seen if r.url.path == ASSETS]) == 2


class TestCatalogService:
    def test_older_tenants_answer_on_the_dwc_catalog_path(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/api/v1/datasphere/"):
                return httpx.Response(404, json={"error": {"code": "404", "message": "not found"}})
            spaces = [{"name": "SALES", "label": "Sales"}, {"name": "HR"}, {"name": "FINANCE"}]
            skip = int(request.url.params.get("$skip", 0))
            return httpx.Response(200, json=spaces[skip : skip + int(request.url.params.get("$top", 500))])

        seen: list[httpx.Request] = []

        assert _catalog(answer, seen).list_spaces() == ["SALES", "HR", "FINANCE"]
        assert seen[-1].url.path == "/api/v1/dwc/catalog/spaces"

    def test_a_catalog_that_ignores_skip_is_not_read_forever(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"value": [{"name": "SALES"}, {"name": "HR"}]})

        with pytest.raises(DocumentError, match="ignores \\$skip"):
            _catalog(answer, []).list_spaces()

    def test_metadata_urls_on_another_host_are_not_followed(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/dwaas-core/api/v1/spaces/SALES/analyticmodels":
                return httpx.Response(200, json=[{"technicalName": "AM"}])
            if request.url.path == SPACES:
                return httpx.Response(200, json={"value": [{"name": "SALES"}]})
            if request.url.path == ASSETS:
                return httpx.Response(
                    200,
                    json={
                        "value": [
                            {
                                "name": "AM",
                                "supportsAnalyticalQueries": True,
                                "assetAnalyticalMetadataUrl": (
                                    "https://other.example/api/v1/dwc/consumption/analytical/AM/$metadata"
                                ),
                            }
                        ]
                    },
                )
            raise AssertionError(f"unexpected request {request.url}")

        seen: list[httpx.Request] = []
        catalog = _catalog(answer, seen)
        ref = catalog.list_assets("SALES", [ObjectType.ANALYTIC_MODEL]).refs[0]

        with pytest.raises(DatasphereConfigError, match=r"refusing to call other\.example"):
            catalog.read_asset(ref)
        assert all(request.url.host != "other.example" for request in seen)


class TestRepositoryPaging:
    def test_pages_are_asked_for_with_top_and_skip(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            skip = int(request.url.params["skip"])
            return _views(*[f"V{index}" for index in range(skip, min(skip + 100, 150))])

        seen: list[httpx.Request] = []
        listing = _catalog(answer, seen).list_assets("SALES", [ObjectType.LOCAL_TABLE])

        assert listing.complete and len(listing.refs) == 150
        pages = [dict(request.url.params) for request in seen if request.url.path != "/oauth/token"]
        assert pages == [
            {"top": "100", "skip": "0"},
            {"top": "100", "skip": "100"},
            {"top": "100", "skip": "150"},
        ]

    def test_a_full_page_answered_again_is_incomplete_not_the_whole_list(self) -> None:
        # The tenant ignores skip: objects past the first 100 may exist, and would look deleted.
        def answer(request: httpx.Request) -> httpx.Response:
            return _views(*[f"V{index}" for index in range(100)])

        listing = _catalog(answer, []).list_assets("SALES", [ObjectType.LOCAL_TABLE])

        assert not listing.complete and listing.refs == []
        assert "cannot list localtables" in listing.warnings[0]
        assert "ignores skip: cannot list past its first 100 objects" in listing.warnings[0]

    def test_a_tenant_answering_its_objects_in_a_new_order_each_time_is_read_once(self) -> None:
        # Ignoring skip while reordering must still end the listing, not loop over the same objects.
        calls = itertools.count()

        def answer(request: httpx.Request) -> httpx.Response:
            names = [f"V{index}" for index in range(40)]
            return _views(*(names if next(calls) % 2 == 0 else reversed(names)))

        seen: list[httpx.Request] = []
        listing = _catalog(answer, seen).list_assets("SALES", [ObjectType.LOCAL_TABLE])

        assert listing.complete and len(listing.refs) == 40
        assert len([request for request in seen if request.url.path != "/oauth/token"]) == 2

    def test_an_answer_that_is_no_list_makes_the_listing_incomplete(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"objects": "none"})

        listing = _catalog(answer, []).list_assets("SALES", [ObjectType.LOCAL_TABLE])

        assert not listing.complete
        assert "answered neither an OData collection nor a JSON array" in listing.warnings[0]
