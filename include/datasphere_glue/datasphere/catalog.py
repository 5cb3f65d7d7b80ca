"""List a tenant's spaces and assets and read each asset's columns, lineage and business context.

Which document ``read_asset`` reads, one call per asset in the normal case:

- analytic models with a catalog metadata URL: the analytical EDMX, because it types every measure
  (the model's CSN may leave measures typeless) and carries the labels consumers see;
- every other asset: the repository CSN, because it alone carries the exact source types
  (``hana.TINYINT`` rather than ``Edm.Byte``), the upstream objects a view reads, its description and its
  semantic usage; EDMX holds the same columns and labels but none of that.

Each falls back to the other when its document is missing: a 404 on ``$metadata`` (the asset is not
exposed) reads the CSN, and a view the repository refuses (403/404) but the catalog exposes reads its EDMX.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from include.datasphere_glue.datasphere.client import XML, DatasphereClient, DatasphereConfig
from include.datasphere_glue.datasphere.csn import parse_csn, parse_flow
from include.datasphere_glue.datasphere.edmx import parse_edmx
from include.datasphere_glue.datasphere.errors import (
    AssetReadError,
    DatasphereAuthError,
    DatasphereConfigError,
    DatasphereError,
    DatasphereHTTPError,
    DocumentError,
)
from include.datasphere_glue.datasphere.transport import Transport, with_query
from include.datasphere_glue.model import AssetRef, FlowLineage, ObjectType, SourceAsset

log = logging.getLogger(__name__)

CATALOG_PATHS = ("/api/v1/datasphere/consumption/catalog", "/api/v1/dwc/catalog")
REPOSITORY_PATH = "/dwaas-core/api/v1/spaces"
CSN_MEDIA_TYPE = "application/vnd.sap.datasphere.object.content+json"
# Objects asked for per repository listing page (SAP's command-line tool asks 25 unless told otherwise).
REPOSITORY_PAGE_SIZE = 100

# Only views and analytic models can be exposed for consumption, so only they appear in the catalog.
_CONSUMABLE_TYPES = frozenset({ObjectType.VIEW, ObjectType.ANALYTIC_MODEL})
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


@dataclass(slots=True)
class SpaceListing:
    """The assets of one space; ``complete`` False means something could not be listed.

    A listing that is not complete must never lead to deleting anything: an asset missing from it may
    just not have been seen.
    """

    space: str
    refs: list[AssetRef] = field(default_factory=list)
    complete: bool = True
    warnings: list[str] = field(default_factory=list)
    # True when the space was left out on purpose (the client is not a member): a warning, not a fault.
    skipped: bool = False

    def fail(self, warning: str) -> None:
        """Mark the listing incomplete and record why."""
        self.complete = False
        self.warnings.append(warning)
        log.warning("%s", warning)

    def skip(self, warning: str) -> None:
        """Leave the whole space out on purpose; incomplete too, so nothing in it is ever deleted."""
        self.skipped = True
        self.fail(warning)


class DatasphereCatalog:
    """What the sync engine reads from a Datasphere tenant; safe to share between worker threads.

    :param config: the tenant and credentials.
    :param transport: what carries the requests; pooled connections to the tenant when omitted.
    """

    def __init__(self, config: DatasphereConfig, *, transport: Transport | None = None) -> None:
        self.config = config
        self.client = DatasphereClient(config, transport=transport)
        self._catalog_path: str | None = None
        self._catalog_path_lock = threading.Lock()

    def __enter__(self) -> DatasphereCatalog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @property
    def calls(self) -> Counter[str]:
        """Return how many requests went to each API (token, catalog, metadata, repository)."""
        return self.client.calls

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()

    def list_spaces(self) -> list[str]:
        """Return the names of the spaces the catalog lists.

        :raises DatasphereError: when the catalog cannot be read at all.
        """
        base = self._catalog_base()
        return [str(item["name"]) for item in self._pages(f"{base}/spaces") if item.get("name")]

    def list_assets(self, space: str, object_types: Collection[ObjectType]) -> SpaceListing:
        """List the assets of ``space`` of the given types, with business names and metadata URLs.

        A space the client may not read (403) is skipped with a warning, and so is any listing that
        keeps failing; the result then says ``complete=False``. Authentication and configuration errors
        concern every space and are raised.

        :param space: the space's technical name.
        :param object_types: the repository object types to list.
        """
        started = time.monotonic()
        listing = SpaceListing(space=space)
        names_by_type = self._repository_names(space, object_types, listing)
        exposed: dict[str, dict[str, Any]] | None = {}
        if _CONSUMABLE_TYPES & names_by_type.keys():
            exposed = self._exposed_assets(space, listing)
        if exposed is not None:
            for object_type, names in names_by_type.items():
                for name, summary in names.items():
                    listing.refs.append(_asset_ref(space, object_type, name, summary, exposed.get(name)))
        log.info(
            "Listed %d assets in space %s in %.2fs%s",
            len(listing.refs),
            space,
            time.monotonic() - started,
            "" if listing.complete else " (incomplete)",
        )
        return listing

    def read_asset(self, ref: AssetRef) -> SourceAsset:
        """Read an asset's columns, description, upstream objects and business context.

        :param ref: the asset as listed.
        :raises AssetReadError: naming the asset and the cause; other assets are unaffected.
        """
        if ref.object_type.is_flow:
            raise AssetReadError(ref.space, ref.technical_name, "a flow has no columns: use read_flow")
        try:
            if ref.object_type is ObjectType.ANALYTIC_MODEL and ref.metadata_url:
                return self._read_edmx_or_csn(ref)
            return self._read_csn_or_edmx(ref)
        except (DatasphereAuthError, DatasphereConfigError):
            raise
        except DatasphereError as error:
            raise AssetReadError(ref.space, ref.technical_name, str(error)) from error

    def read_flow(self, ref: AssetRef) -> FlowLineage:
        """Read what a data, replication or transformation flow reads and writes.

        :param ref: the flow as listed.
        :raises AssetReadError: naming the flow and the cause.
        """
        try:
            flow = parse_flow(self._csn_document(ref), ref.technical_name)
        except (DatasphereAuthError, DatasphereConfigError):
            raise
        except DatasphereError as error:
            raise AssetReadError(ref.space, ref.technical_name, str(error)) from error
        return FlowLineage(
            space=ref.space,
            flow_name=ref.technical_name,
            object_type=ref.object_type,
            sources=flow.sources,
            targets=flow.targets,
        )

    # --- listing -------------------------------------------------------------------------------------

    def _repository_names(
        self, space: str, object_types: Collection[ObjectType], listing: SpaceListing
    ) -> dict[ObjectType, dict[str, dict[str, Any]]]:
        names_by_type: dict[ObjectType, dict[str, dict[str, Any]]] = {}
        for object_type in sorted(set(object_types), key=lambda kind: (kind.sync_stage, kind.value)):
            url = f"{REPOSITORY_PATH}/{_segment(space)}/{object_type.value}"
            try:
                objects = self._repository_objects(url)
            except DatasphereHTTPError as error:
                if error.status_code == 403:
                    listing.skip(f"space {space}: skipped, the OAuth client is not a member (HTTP 403)")
                    return {}
                listing.fail(f"space {space}: cannot list {object_type.value}: {error}")
                continue
            except (DatasphereAuthError, DatasphereConfigError):
                raise
            except DatasphereError as error:
                listing.fail(f"space {space}: cannot list {object_type.value}: {error}")
                continue
            names_by_type[object_type] = _repository_entries(objects, space, object_type, listing)
        return names_by_type

    def _repository_objects(self, url: str) -> list[dict[str, Any]]:
        """Read a whole repository listing, page by page, with ``top`` and ``skip`` as SAP's CLI sends them.

        A tenant may cut a page below the ``top`` asked for, so only an empty page ends the listing. A
        tenant that ignores paging answers the whole list every time: a page larger than ``top``, or
        objects already read. A listing read only in part must fail rather than look complete, because
        what it misses would look deleted.
        """
        objects: list[dict[str, Any]] = []
        names_read: set[Any] = set()
        while True:
            params = {"top": REPOSITORY_PAGE_SIZE, "skip": len(objects)}
            page = _collection(self.client.get_json(url, api="repository", params=params), url)
            if not page:
                return objects
            names = {item.get("technicalName") for item in page}
            if names <= names_read:
                if len(page) >= REPOSITORY_PAGE_SIZE:
                    # Perhaps only the first page of many, and the tenant will not say which.
                    raise DocumentError(f"{url} ignores skip: cannot list past its first {len(page)} objects")
                return objects
            objects.extend(page)
            names_read |= names
            if len(page) > REPOSITORY_PAGE_SIZE:
                return objects

    def _exposed_assets(self, space: str, listing: SpaceListing) -> dict[str, dict[str, Any]] | None:
        """Return the catalog's entries for the space by name; None when the space must be skipped.

        A failed page marks the listing incomplete but keeps the entries read so far.
        """
        exposed: dict[str, dict[str, Any]] = {}
        try:
            url = f"{self._catalog_base()}/spaces('{_odata_key(space)}')/assets"
            for item in self._pages(url):
                if item.get("name"):
                    exposed[str(item["name"])] = item
        except DatasphereHTTPError as error:
            if error.status_code == 403:
                listing.skip(f"space {space}: skipped, the OAuth client is not a member (HTTP 403)")
                return None
            listing.fail(f"space {space}: cannot list exposed assets: {error}")
        except (DatasphereAuthError, DatasphereConfigError):
            raise
        except DatasphereError as error:
            listing.fail(f"space {space}: cannot list exposed assets: {error}")
        return exposed

    def _pages(self, url: str) -> Iterator[dict[str, Any]]:
        """Yield the items of an OData collection, following ``@odata.nextLink`` and ``$skip``."""
        size = self.config.page_size
        params: dict[str, Any] | None = {"$top": size, "$skip": 0}
        seen_links: set[str] = set()
        previous_page: list[dict[str, Any]] = []
        while True:
            request_url = self.client.resolve(url)
            body = self.client.get_json(request_url, api="catalog", params=params)
            items = _collection(body, url)
            yield from items
            next_link = body.get("@odata.nextLink") if isinstance(body, dict) else None
            if next_link:
                # A relative nextLink is relative to the request it came from, query string included.
                current = with_query(request_url, params)
                url, params = urljoin(current, str(next_link)), None
                if url in seen_links:
                    raise DocumentError(f"catalog paging loops: nextLink {urlsplit(url).path} repeats")
                seen_links.add(url)
            elif params is not None and len(items) >= size:
                # No nextLink after a full page of our own $top: the server may hold more.
                if items == previous_page:
                    raise DocumentError(f"catalog paging loops: {urlsplit(url).path} ignores $skip")
                previous_page = items
                params = {"$top": size, "$skip": int(params["$skip"]) + len(items)}
            else:
                return

    def _catalog_base(self) -> str:
        """Return the catalog service path this tenant answers on, probing the older one on a 404."""
        with self._catalog_path_lock:
            if self._catalog_path is not None:
                return self._catalog_path
            for path in CATALOG_PATHS:
                try:
                    self.client.get_json(f"{path}/spaces", api="catalog", params={"$top": 1})
                except DatasphereHTTPError as error:
                    if error.status_code == 404:
                        continue
                    raise
                self._catalog_path = path
                return path
        raise DatasphereConfigError(
            f"the tenant answers 404 on every catalog service ({', '.join(CATALOG_PATHS)}): "
            "check the connection's host"
        )

    # --- reading -------------------------------------------------------------------------------------

    def _read_edmx_or_csn(self, ref: AssetRef) -> SourceAsset:
        try:
            return self._read_edmx(ref)
        except DatasphereHTTPError as error:
            if error.status_code != 404:
                raise
            log.debug("%s is not exposed ($metadata 404); reading its repository CSN", ref.key)
            return self._read_csn(ref)

    def _read_csn_or_edmx(self, ref: AssetRef) -> SourceAsset:
        try:
            return self._read_csn(ref)
        except DatasphereHTTPError as error:
            if error.status_code not in (403, 404) or not ref.metadata_url:
                raise
            log.debug("%s: repository answered %d; reading its EDMX", ref.key, error.status_code)
            return self._read_edmx(ref)

    def _read_edmx(self, ref: AssetRef) -> SourceAsset:
        if not ref.metadata_url:
            raise DocumentError("the catalog lists no metadata URL for it")
        response = self.client.get(ref.metadata_url, api="metadata", accept=XML)
        entity = parse_edmx(response.content, asset_name=_NOT_IDENTIFIER.sub("_", ref.technical_name))
        return SourceAsset(
            ref=dataclasses.replace(ref, business_name=ref.business_name or entity.label),
            columns=entity.columns,
            description=entity.description,
        )

    def _read_csn(self, ref: AssetRef) -> SourceAsset:
        definition = parse_csn(self._csn_document(ref), ref.technical_name)
        return SourceAsset(
            ref=dataclasses.replace(
                ref,
                business_name=ref.business_name or definition.label,
                semantic_usage=ref.semantic_usage or definition.semantic_usage,
            ),
            columns=definition.columns,
            description=definition.description,
            upstream=tuple(name for name in definition.upstream if name != ref.technical_name),
        )

    def _csn_document(self, ref: AssetRef) -> Any:
        space, name = _segment(ref.space), _segment(ref.technical_name)
        url = f"{REPOSITORY_PATH}/{space}/{ref.object_type.value}/{name}"
        return self.client.get_json(url, api="repository", accept=CSN_MEDIA_TYPE)


def _asset_ref(
    space: str,
    object_type: ObjectType,
    name: str,
    summary: dict[str, Any],
    exposed: dict[str, Any] | None,
) -> AssetRef:
    """Join a repository entry with its catalog entry, when the asset is exposed for consumption."""
    metadata_url = None
    label = _text(summary.get("businessName")) or _text(summary.get("label"))
    if exposed is not None:
        label = _text(exposed.get("label")) or label
        analytical = exposed.get("supportsAnalyticalQueries") and exposed.get("assetAnalyticalMetadataUrl")
        metadata_url = _text(analytical) or _text(exposed.get("assetRelationalMetadataUrl"))
    return AssetRef(
        space=space,
        technical_name=name,
        object_type=object_type,
        business_name=label,
        semantic_usage=_text(summary.get("semanticUsage")) or _modeling_pattern(summary),
        metadata_url=metadata_url,
    )


def _repository_entries(
    objects: list[dict[str, Any]], space: str, object_type: ObjectType, listing: SpaceListing
) -> dict[str, dict[str, Any]]:
    """Key a listing's objects by technical name; an object seen on two pages is kept once."""
    entries: dict[str, dict[str, Any]] = {}
    for item in objects:
        name = item.get("technicalName")
        if not isinstance(name, str) or not name:
            listing.fail(f"space {space}: a {object_type.value} entry has no technicalName: {item!r:.200}")
            continue
        entries[name] = item
    return entries


def _collection(body: Any, url: str) -> list[dict[str, Any]]:
    """Accept both an OData ``{"value": [...]}`` answer and the bare array some tenants send."""
    items = body.get("value") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise DocumentError(f"{urlsplit(url).path} answered neither an OData collection nor a JSON array")
    return [item for item in items if isinstance(item, dict)]


def _modeling_pattern(summary: dict[str, Any]) -> str | None:
    pattern = summary.get("@ObjectModel.modelingPattern")
    return _text(pattern.get("#")) if isinstance(pattern, dict) else None


def _segment(name: str) -> str:
    """Encode one path segment; dots stay (``SAP.TIME.VIEW_DIMENSION_DAY``), slashes and spaces do not."""
    return quote(name, safe="")


def _odata_key(name: str) -> str:
    """Encode a string key literal of an OData URL: quotes doubled, then percent-encoded."""
    return quote(name.replace("'", "''"), safe="")


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
