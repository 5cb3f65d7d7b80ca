"""The Datasphere catalog over HTTP against the local emulator: listing, reading, paging and every fault."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from emulators.datasphere.testing import EmulatorProcess
from include.datasphere_glue.datasphere.catalog import DatasphereCatalog
from include.datasphere_glue.datasphere.client import DatasphereConfig, RetryPolicy
from include.datasphere_glue.datasphere.errors import (
    AssetReadError,
    DatasphereAuthError,
    DatasphereConfigError,
    DatasphereUnavailable,
)
from include.datasphere_glue.model import AssetRef, ObjectType

ALL_TYPES = list(ObjectType)
# Retries in tests wait milliseconds, not seconds; Retry-After from the server is still honoured as sent.
FAST_RETRY = RetryPolicy(max_attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05, max_total_seconds=20)


def _config(emulator: EmulatorProcess, **overrides: Any) -> DatasphereConfig:
    settings: dict[str, Any] = {
        "tenant_url": emulator.url,
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
        "token_url": emulator.token_url,
        "retry": FAST_RETRY,
        **overrides,
    }
    return DatasphereConfig(**settings)


@pytest.fixture
def catalog(datasphere: EmulatorProcess) -> Iterator[DatasphereCatalog]:
    with DatasphereCatalog(_config(datasphere)) as reader:
        yield reader


def _ref(catalog: DatasphereCatalog, space: str, name: str, object_type: ObjectType) -> AssetRef:
    refs = {ref.technical_name: ref for ref in catalog.list_assets(space, [object_type]).refs}
    return refs[name]


def _view_definition(name: str) -> dict[str, Any]:
    return {
        "kind": "entity",
        "@EndUserText.label": f"Label of {name}",
        "elements": {"ID": {"type": "cds.Integer", "key": True}},
    }


def _load_tables(datasphere: EmulatorProcess, count: int) -> list[str]:
    """Serve one space, BIG, holding ``count`` local tables; return their names in order."""
    names = [f"T_{index:03d}" for index in range(count)]
    assets = [{"name": name, "type": "localtables", "definition": _view_definition(name)} for name in names]
    datasphere.admin.load_catalog(
        {"format": "datasphere-emulator-catalog/1", "spaces": [{"name": "BIG", "assets": assets}]}
    )
    return names


class TestListing:
    def test_spaces_as_odata_collection_and_as_bare_array(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        expected = ["SALES", "FINANCE", "HR", "SUPPLY_CHAIN", "EXECUTIVE_RESTRICTED"]
        assert catalog.list_spaces() == expected

        datasphere.admin.set_options(spaces_as_array=True)

        assert catalog.list_spaces() == expected

    def test_a_space_joins_repository_objects_with_the_consumption_catalog(
        self, catalog: DatasphereCatalog
    ) -> None:
        listing = catalog.list_assets("SALES", ALL_TYPES)
        refs = {ref.technical_name: ref for ref in listing.refs}

        assert listing.complete and listing.warnings == []
        assert len(refs) == 34
        model = refs["AM_SALES"]
        assert model.object_type is ObjectType.ANALYTIC_MODEL
        assert model.metadata_url and "/consumption/analytical/SALES/AM_SALES/$metadata" in model.metadata_url
        table = next(ref for ref in listing.refs if ref.object_type is ObjectType.LOCAL_TABLE)
        assert table.metadata_url is None
        exposed_views = [r for r in listing.refs if r.object_type is ObjectType.VIEW and r.metadata_url]
        assert len(exposed_views) == 11
        assert all(ref.business_name for ref in exposed_views)

    def test_only_the_requested_types_are_listed(self, catalog: DatasphereCatalog) -> None:
        listing = catalog.list_assets("SALES", [ObjectType.LOCAL_TABLE])

        assert {ref.object_type for ref in listing.refs} == {ObjectType.LOCAL_TABLE}
        assert catalog.calls["catalog"] == 0  # tables are never exposed: the catalog is not asked

    def test_more_than_one_page_of_exposed_assets(self, datasphere: EmulatorProcess) -> None:
        names = [f"V_{index:04d}" for index in range(1234)]
        assets = [
            {"name": name, "type": "views", "exposed": True, "definition": _view_definition(name)}
            for name in names
        ]
        datasphere.admin.load_catalog(
            {"format": "datasphere-emulator-catalog/1", "spaces": [{"name": "BIG", "assets": assets}]}
        )

        with DatasphereCatalog(_config(datasphere, page_size=500)) as catalog:
            catalog.list_spaces()  # settles which catalog service path the tenant answers on
            before = catalog.calls["catalog"]
            listing = catalog.list_assets("BIG", [ObjectType.VIEW])
            pages = catalog.calls["catalog"] - before

        assert listing.complete
        assert sorted(ref.technical_name for ref in listing.refs) == names
        assert all(
            ref.metadata_url and ref.business_name == f"Label of {ref.technical_name}" for ref in listing.refs
        )
        assert pages == 3

    def test_every_repository_page_is_read(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        names = _load_tables(datasphere, 250)

        listing = catalog.list_assets("BIG", [ObjectType.LOCAL_TABLE])

        assert listing.complete
        assert sorted(ref.technical_name for ref in listing.refs) == names
        assert catalog.calls["repository"] == 4  # 100 + 100 + 50, then an empty page ends it

    def test_a_tenant_cutting_pages_short_is_still_read_to_the_end(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        names = _load_tables(datasphere, 250)
        datasphere.admin.set_options(repository_page_limit=30)

        listing = catalog.list_assets("BIG", [ObjectType.LOCAL_TABLE])

        assert listing.complete
        assert sorted(ref.technical_name for ref in listing.refs) == names

    @pytest.mark.parametrize(("count", "calls"), [(250, 1), (40, 2)])
    def test_a_tenant_that_ignores_repository_paging_is_read_once(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog, count: int, calls: int
    ) -> None:
        names = _load_tables(datasphere, count)
        datasphere.admin.set_options(repository_ignores_paging=True)

        listing = catalog.list_assets("BIG", [ObjectType.LOCAL_TABLE])

        assert listing.complete
        assert sorted(ref.technical_name for ref in listing.refs) == names
        assert catalog.calls["repository"] == calls


class TestReading:
    def test_a_view_is_read_from_its_csn_with_upstream_objects(self, catalog: DatasphereCatalog) -> None:
        asset = catalog.read_asset(_ref(catalog, "SALES", "V_SALES_FACT", ObjectType.VIEW))

        assert asset.upstream == ("V_ORDER_ITEMS", "V_PRODUCTS")
        assert asset.columns and all(column.source_type for column in asset.columns)
        assert any(column.key for column in asset.columns)
        assert catalog.calls["metadata"] == 0

    def test_an_analytic_model_is_read_from_its_edmx_in_one_call(self, catalog: DatasphereCatalog) -> None:
        ref = _ref(catalog, "SALES", "AM_SALES", ObjectType.ANALYTIC_MODEL)
        before = catalog.calls

        asset = catalog.read_asset(ref)

        spent = catalog.calls - before
        assert spent == {"metadata": 1}
        assert asset.columns and all(column.source_type.startswith("Edm.") for column in asset.columns)

    def test_an_analytic_model_no_longer_exposed_falls_back_to_its_csn(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        ref = _ref(catalog, "SALES", "AM_SALES", ObjectType.ANALYTIC_MODEL)
        stored = datasphere.admin.get_asset("SALES", "AM_SALES")
        datasphere.admin.upsert_asset(
            "SALES", "AM_SALES", object_type="analyticmodels", definition=stored["definition"], exposed=False
        )

        asset = catalog.read_asset(ref)

        assert asset.columns
        assert asset.upstream == ("V_SALES_FACT",)
        assert catalog.calls["metadata"] == 1 and catalog.calls["repository"] >= 2

    def test_a_flow_gives_lineage(self, catalog: DatasphereCatalog) -> None:
        lineage = catalog.read_flow(_ref(catalog, "SALES", "DF_SALES_DAILY", ObjectType.DATA_FLOW))

        assert (lineage.sources, lineage.targets) == (("S4H_ORDER_ITEMS",), ("ORDER_ITEMS",))

    def test_a_vanished_asset_is_an_error_naming_it(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        ref = _ref(catalog, "SALES", "V_SALES_FACT", ObjectType.VIEW)
        datasphere.admin.delete_asset("SALES", "V_SALES_FACT")

        with pytest.raises(AssetReadError, match=r"cannot read asset SALES/V_SALES_FACT: .*HTTP 404"):
            catalog.read_asset(ref)


class TestNames:
    def test_dotted_technical_names_in_csn_and_edmx(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        day = catalog.read_asset(_ref(catalog, "FINANCE", "SAP.TIME.VIEW_DIMENSION_DAY", ObjectType.VIEW))
        model_definition = {
            "kind": "entity",
            "@EndUserText.label": "Days",
            "query": {"SELECT": {"from": {"ref": ["SAP.TIME.VIEW_DIMENSION_DAY"]}}},
            "elements": {"DATE_SQL": {"type": "cds.Date", "key": True}, "DAYS": {"@Analytics.measure": True}},
        }
        datasphere.admin.upsert_asset(
            "FINANCE",
            "SAP.TIME.AM_DAYS",
            object_type="analyticmodels",
            definition=model_definition,
            exposed=True,
        )

        model = catalog.read_asset(_ref(catalog, "FINANCE", "SAP.TIME.AM_DAYS", ObjectType.ANALYTIC_MODEL))

        assert day.columns
        assert [column.name for column in model.columns] == ["DATE_SQL", "DAYS"]
        assert model.ref.business_name == "Days"

    def test_metadata_urls_under_both_api_prefixes_are_followed(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        for index in range(4):
            definition = {"kind": "entity", "elements": {"ID": {"type": "cds.Integer", "key": True}}}
            datasphere.admin.upsert_asset(
                "FINANCE",
                f"AM_EXTRA_{index}",
                object_type="analyticmodels",
                definition=definition,
                exposed=True,
            )

        refs = catalog.list_assets("FINANCE", [ObjectType.ANALYTIC_MODEL]).refs
        assets = [catalog.read_asset(ref) for ref in refs]

        urls = [ref.metadata_url or "" for ref in refs]
        assert any("/api/v1/dwc/" in url for url in urls) and any(
            "/api/v1/datasphere/" in url for url in urls
        )
        assert all(asset.columns for asset in assets)
        assert catalog.calls["metadata"] == len(refs) == 5


class TestToken:
    def test_many_threads_share_one_token(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        refs = [ref for ref in catalog.list_assets("SALES", ALL_TYPES).refs if not ref.object_type.is_flow]

        with ThreadPoolExecutor(max_workers=8) as pool:
            assets = list(pool.map(catalog.read_asset, refs))

        assert len(assets) == len(refs) > 20
        assert catalog.calls["token"] == 1
        assert datasphere.admin.calls()["token"] == 1

    def test_an_expired_token_is_refreshed_once_for_all_threads(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        refs = [ref for ref in catalog.list_assets("SALES", ALL_TYPES).refs if not ref.object_type.is_flow]
        datasphere.admin.expire_tokens()

        with ThreadPoolExecutor(max_workers=8) as pool:
            assets = list(pool.map(catalog.read_asset, refs))

        assert len(assets) == len(refs)
        assert catalog.calls["token"] == 2

    def test_a_token_is_renewed_before_it_expires(self, datasphere: EmulatorProcess) -> None:
        datasphere.admin.set_faults(token_lifetime=1)
        with DatasphereCatalog(_config(datasphere)) as catalog:
            catalog.list_spaces()
            time.sleep(1.1)
            catalog.list_spaces()
            calls = catalog.calls

        # Renewed ahead of expiry: no call was answered 401 and sent again.
        assert calls["token"] == 2
        assert calls["catalog"] == datasphere.admin.calls()["catalog"] == 3

    def test_wrong_client_secret_is_an_auth_error(self, datasphere: EmulatorProcess) -> None:
        with (
            DatasphereCatalog(_config(datasphere, client_secret="not-the-secret")) as catalog,
            pytest.raises(
                DatasphereAuthError, match=r"refused the OAuth client \(HTTP 401, error=invalid_client\)"
            ),
        ):
            catalog.list_spaces()


class TestFaults:
    def test_429_waits_as_long_as_retry_after_says(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        catalog.list_spaces()
        datasphere.admin.set_faults(rate_limit={"count": 1, "retry_after": 1})

        started = time.monotonic()
        spaces = catalog.list_spaces()
        waited = time.monotonic() - started

        assert len(spaces) == 5
        assert waited >= 1.0
        assert datasphere.admin.calls()["faults"] == {"429": 1}

    def test_retry_after_beyond_the_time_budget_gives_up_at_once(self, datasphere: EmulatorProcess) -> None:
        retry = RetryPolicy(max_attempts=5, backoff_seconds=0.01, max_total_seconds=2)
        datasphere.admin.set_faults(rate_limit={"count": 5, "retry_after": 60})

        started = time.monotonic()
        with (
            DatasphereCatalog(_config(datasphere, retry=retry)) as catalog,
            pytest.raises(DatasphereUnavailable, match="HTTP 429"),
        ):
            catalog.list_spaces()
        assert time.monotonic() - started < 2

    def test_5xx_is_retried_until_it_succeeds(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        ref = _ref(catalog, "SALES", "V_SALES_FACT", ObjectType.VIEW)
        datasphere.admin.set_faults(server_errors={"count": 3, "status": 503})
        before = catalog.calls["repository"]

        asset = catalog.read_asset(ref)

        assert asset.columns
        assert catalog.calls["repository"] - before == 4

    def test_5xx_beyond_the_attempt_budget_names_the_path(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        catalog.list_spaces()
        datasphere.admin.set_faults(server_errors={"count": 100, "status": 502})

        with pytest.raises(DatasphereUnavailable) as raised:
            catalog.list_spaces()

        message = str(raised.value)
        assert "/api/v1/datasphere/consumption/catalog/spaces failed after 4 attempt(s)" in message
        assert "HTTP 502" in message and "127.0.0.1" not in message

    def test_5xx_on_one_asset_fails_that_asset_only(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        refs = [ref for ref in catalog.list_assets("SALES", [ObjectType.LOCAL_TABLE]).refs]
        broken = refs[0]
        prefix = f"/dwaas-core/api/v1/spaces/SALES/localtables/{broken.technical_name}"
        datasphere.admin.set_faults(server_errors={"count": 100, "status": 500, "path_prefix": prefix})

        with pytest.raises(AssetReadError, match=f"SALES/{broken.technical_name}: .*HTTP 500"):
            catalog.read_asset(broken)
        assert all(catalog.read_asset(ref).columns for ref in refs[1:])

    def test_a_failing_listing_is_incomplete_not_empty(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        prefix = "/dwaas-core/api/v1/spaces/SALES/views"
        datasphere.admin.set_faults(server_errors={"count": 100, "status": 503, "path_prefix": prefix})

        listing = catalog.list_assets("SALES", [ObjectType.VIEW, ObjectType.LOCAL_TABLE])

        assert not listing.complete
        assert "space SALES: cannot list views" in listing.warnings[0]
        assert {ref.object_type for ref in listing.refs} == {ObjectType.LOCAL_TABLE}

    def test_a_failing_catalog_page_makes_the_listing_incomplete(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        prefix = "/api/v1/datasphere/consumption/catalog/spaces('SALES')/assets"
        datasphere.admin.set_faults(server_errors={"count": 100, "status": 503, "path_prefix": prefix})

        listing = catalog.list_assets("SALES", [ObjectType.VIEW])

        assert not listing.complete
        assert listing.warnings[0].startswith("space SALES: cannot list exposed assets: GET ")
        assert len(listing.refs) == 15  # still listed from the repository, without catalog details
        assert all(ref.metadata_url is None for ref in listing.refs)

    def test_a_space_the_client_may_not_read_is_skipped_with_a_warning(
        self, catalog: DatasphereCatalog
    ) -> None:
        restricted = catalog.list_assets("EXECUTIVE_RESTRICTED", ALL_TYPES)
        sales = catalog.list_assets("SALES", ALL_TYPES)

        assert not restricted.complete and restricted.refs == []
        assert restricted.warnings == [
            "space EXECUTIVE_RESTRICTED: skipped, the OAuth client is not a member (HTTP 403)"
        ]
        assert sales.complete and len(sales.refs) == 34

    def test_an_html_login_page_is_a_configuration_error(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        datasphere.admin.set_faults(html_login={"count": 1})

        with pytest.raises(DatasphereConfigError, match="HTML page instead of the Datasphere API") as raised:
            catalog.list_spaces()
        assert "SSO or login proxy" in str(raised.value) and "tenant URL" in str(raised.value)

    def test_an_html_login_page_from_the_token_endpoint_names_the_token_url(
        self, datasphere: EmulatorProcess, catalog: DatasphereCatalog
    ) -> None:
        datasphere.admin.set_faults(html_login={"count": 1, "path_prefix": "/oauth/token"})

        with pytest.raises(DatasphereConfigError, match="instead of the OAuth token endpoint") as raised:
            catalog.list_spaces()
        assert "token_url" in str(raised.value)


class TestSecrecy:
    def test_no_secret_or_token_in_logs_or_errors(
        self, datasphere: EmulatorProcess, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        errors: list[str] = []
        with DatasphereCatalog(_config(datasphere)) as catalog:
            listing = catalog.list_assets("SALES", ALL_TYPES)
            datasphere.admin.expire_tokens()
            for ref in listing.refs[:5]:
                catalog.read_asset(ref)
            datasphere.admin.set_faults(server_errors={"count": 100, "status": 503})
            try:
                catalog.list_spaces()
            except DatasphereUnavailable as error:
                errors.append(str(error))
            token = catalog.client._token.value if catalog.client._token else ""
        with DatasphereCatalog(_config(datasphere, client_secret="wrong-" + datasphere.client_secret)) as bad:
            try:
                bad.list_spaces()
            except DatasphereAuthError as error:
                errors.append(str(error))

        text = caplog.text + "\n".join(errors)
        assert token and len(errors) == 2
        assert datasphere.client_secret not in text
        assert token not in text
        assert "Authorization" not in text
        assert "GET /dwaas-core/api/v1/spaces/SALES/views -> 200" in caplog.text
        assert "Listed 34 assets in space SALES" in caplog.text
