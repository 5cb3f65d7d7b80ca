"""The emulator's HTTP server: routes, OAuth, catalog OData, EDMX, repository API and admin API."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from emulators.datasphere.catalog import (
    FLOW_KINDS,
    OBJECT_TYPES,
    Asset,
    Catalog,
    CatalogError,
    Space,
    parse_asset,
    parse_space,
)
from emulators.datasphere.edmx import render_edmx
from emulators.datasphere.faults import LOGIN_PAGE, TOKEN_PATH, CountedFault, FaultError, Faults
from emulators.datasphere.odata import ODataError, QueryOptions, non_negative_int, page

log = logging.getLogger(__name__)

CATALOG_PREFIXES = ("/api/v1/datasphere/consumption/catalog", "/api/v1/dwc/catalog")
REPOSITORY_PREFIX = "/dwaas-core/api/v1/spaces"
ADMIN_PREFIX = "/_emulator"
CSN_MEDIA_TYPE = "application/vnd.sap.datasphere.object.content+json"
# What a repository listing holds when the request names no ``top``; the CLI's default too.
REPOSITORY_DEFAULT_TOP = 25
API_GROUPS = ("token", "catalog", "metadata", "data", "repository", "other")

_KEY = r"'((?:[^']|'')*)'"
_SPACE_RESOURCE = re.compile(rf"/spaces\({_KEY}\)(/assets(?:\({_KEY}\))?)?")
_CONSUMPTION_ROUTE = re.compile(
    r"^/api/v1/(?:datasphere|dwc)/consumption/(relational|analytical)/([^/]+)/([^/]+)(?:/(.*))?$"
)
_REPOSITORY_ROUTE = re.compile(rf"^{REPOSITORY_PREFIX}/([^/]+)/([a-z]+)(?:/([^/]+))?/?$")


class ApiError(Exception):
    """An error answer: status and message, rendered the way the addressed API renders errors."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class EmulatorState:
    """The tenant's mutable state: live catalog, issued tokens, faults in force and call counts."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        client_id: str,
        client_secret: str,
        latency_ms: int = 0,
        token_lifetime: int = 3600,
    ) -> None:
        self.loaded = catalog
        self.catalog = catalog.copy()
        self.client_id = client_id
        self.client_secret = client_secret
        self.startup_faults = Faults(latency_ms=latency_ms, token_lifetime=token_lifetime)
        self.faults = Faults(latency_ms=latency_ms, token_lifetime=token_lifetime)
        self.tokens: dict[str, float] = {}
        self.calls: Counter[str] = Counter()
        self.fault_counts: Counter[str] = Counter()
        self.lock = threading.RLock()

    def reset(self) -> None:
        """Back to the loaded catalog, the start-up faults and zero counts; issued tokens stay valid."""
        with self.lock:
            self.catalog = self.loaded.copy()
            self.faults = self.startup_faults_copy()
            self.calls.clear()
            self.fault_counts.clear()

    def admit(self, group: str, path: str) -> tuple[int, CountedFault | None]:
        """Count an API call and pick the fault that answers it, if any.

        :param group: the API group the call is counted under.
        :param path: the request path, matched against the faults' path prefixes.
        :return: the latency to add in milliseconds, and the fault (None to serve the call normally).
        """
        with self.lock:
            self.calls[group] += 1
            self.calls["total"] += 1
            for fault in (self.faults.rate_limit, self.faults.server_errors, self.faults.html_login):
                if fault.take(path):
                    self.fault_counts["html" if fault.status == 200 else str(fault.status)] += 1
                    return self.faults.latency_ms, fault
            return self.faults.latency_ms, None

    def startup_faults_copy(self) -> Faults:
        """Faults as configured at start-up: latency and token lifetime only."""
        return Faults(
            latency_ms=self.startup_faults.latency_ms, token_lifetime=self.startup_faults.token_lifetime
        )

    def issue_token(self) -> tuple[str, int]:
        with self.lock:
            lifetime = self.faults.token_lifetime
            token = secrets.token_urlsafe(32)
            now = time.monotonic()
            # Forget long-dead tokens so that a long benchmark does not grow the table without bound.
            if len(self.tokens) > 1000:
                self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now - 3600}
            self.tokens[token] = now + lifetime
            return token, lifetime

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def token_problem(self, token: str) -> str | None:
        """Why ``token`` is not accepted, or None when it is valid."""
        with self.lock:
            expires_at = self.tokens.get(token)
        if expires_at is None:
            return "unknown access token"
        if expires_at <= time.monotonic():
            return "access token expired"
        return None


class EmulatorServer(ThreadingHTTPServer):
    """A threaded HTTP server that carries the tenant state for its handlers."""

    daemon_threads = True
    # Concurrent benchmark clients open many connections at once; the default backlog of 5 drops some.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], state: EmulatorState, *, verbose: bool = False) -> None:
        super().__init__(address, EmulatorHandler)
        self.state = state
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class EmulatorHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests (HTTP/1.1 keep-alive, so clients can pool connections)."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, keep-alive clients stall on delayed ACKs.
    disable_nagle_algorithm = True
    server: EmulatorServer
    server_version = "DatasphereEmulator/1"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            log.info("%s %s", self.address_string(), format % args)

    # --- dispatch ---------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        body = self._read_body()
        try:
            if path.startswith(ADMIN_PREFIX + "/") or path == ADMIN_PREFIX:
                self._admin(method, path, body)
            else:
                self._api(method, path, query, body)
        except ApiError as error:
            self._send_error(error, path)
        except ConnectionError:
            self.close_connection = True  # the client went away mid-answer; nobody is left to tell
        except Exception:  # a bug in the emulator must still answer, or clients hang until timeout
            log.exception("emulator failed on %s %s", method, path)
            self._send_error(ApiError(500, "emulator internal error"), path)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _api(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        group = _api_group(path)
        latency_ms, fault = self.server.state.admit(group, path)
        if latency_ms:
            time.sleep(latency_ms / 1000)
        if fault is not None:
            self._answer_fault(fault)
            return

        if path == TOKEN_PATH:
            if method != "POST":
                raise ApiError(405, "use POST for the token endpoint")
            self._token(body)
            return
        if method != "GET":
            raise ApiError(405, f"{method} is not allowed on {path}")
        self._authenticate()
        if group == "catalog":
            self._catalog(path, query)
        elif group in ("metadata", "data"):
            self._consumption(path)
        elif group == "repository":
            self._repository(path, query)
        else:
            raise ApiError(404, f"no resource at {path}")

    def _answer_fault(self, fault: CountedFault) -> None:
        if fault.status == 200:
            self._send(200, LOGIN_PAGE.encode(), "text/html; charset=utf-8")
        elif fault.status == 429:
            raise ApiError(429, "Too Many Requests", headers={"Retry-After": str(fault.retry_after)})
        else:
            raise ApiError(fault.status, HTTPStatus(fault.status).phrase)

    # --- OAuth ------------------------------------------------------------------------------------

    def _token(self, body: bytes) -> None:
        state = self.server.state
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, "unsupported_grant_type: only client_credentials is supported")
        client_id, client_secret = _basic_credentials(self.headers.get("Authorization"))
        if client_id is None:  # the form post of credentials is allowed by OAuth 2.0 as well
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if not (
            client_id is not None
            and secrets.compare_digest(client_id, state.client_id)
            and secrets.compare_digest(client_secret or "", state.client_secret)
        ):
            raise ApiError(
                401, "invalid_client: bad client credentials", headers={"WWW-Authenticate": "Basic"}
            )
        token, lifetime = state.issue_token()
        self._send_json(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": lifetime,
                "scope": "uaa.resource",
                "jti": secrets.token_hex(16),
            },
        )

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401, "missing bearer token", headers={"WWW-Authenticate": 'Bearer realm="datasphere"'}
            )
        problem = self.server.state.token_problem(token.strip())
        if problem:
            raise ApiError(
                401,
                problem,
                headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{problem}"'},
            )

    # --- catalog OData ----------------------------------------------------------------------------

    def _catalog(self, path: str, query: dict[str, str]) -> None:
        prefix = next(p for p in CATALOG_PREFIXES if path.startswith(p))
        resource = path[len(prefix) :].rstrip("/")
        service = f"{self._base_url()}{prefix}"
        collection_url = f"{self._base_url()}{quote(path, safe='/()$')}"
        state = self.server.state
        if resource == "/spaces":
            options = _query_options(query)
            with state.lock:
                rows = [{"name": s.name, "label": s.label} for s in state.catalog.spaces.values()]
                as_array = state.catalog.spaces_as_array
            body = _page(rows, options, base_url=collection_url, context=f"{service}/$metadata#spaces")
            self._send_json(200, body["value"] if as_array else body)
            return
        if resource == "/assets":
            options = _query_options(query)
            with state.lock:
                rows = [
                    row
                    for space in state.catalog.spaces.values()
                    if space.member
                    for row in self._asset_rows(space)
                ]
            self._send_json(
                200, _page(rows, options, base_url=collection_url, context=f"{service}/$metadata#assets")
            )
            return
        match = _SPACE_RESOURCE.fullmatch(resource)
        if match is None:
            raise ApiError(404, f"no catalog resource at {path}")
        space_name = _odata_key(match.group(1))
        collection, asset_key = match.group(2), match.group(3)
        if collection is None:
            with state.lock:
                space = _space(state.catalog, space_name)
                entity = {
                    "@odata.context": f"{service}/$metadata#spaces/$entity",
                    "name": space.name,
                    "label": space.label,
                }
            self._send_json(200, entity)
            return
        with state.lock:
            rows = self._asset_rows(_readable_space(state.catalog, space_name))
        if asset_key is None:
            options = _query_options(query)
            self._send_json(
                200, _page(rows, options, base_url=collection_url, context=f"{service}/$metadata#assets")
            )
            return
        wanted = _odata_key(asset_key)
        found = [row for row in rows if row["name"] == wanted]
        if not found:
            raise ApiError(404, f"asset {wanted!r} of space {space_name!r} is not exposed for consumption")
        self._send_json(200, {"@odata.context": f"{service}/$metadata#assets/$entity", **found[0]})

    def _asset_rows(self, space: Space) -> list[dict[str, Any]]:
        base = self._base_url()
        rows = []
        consumable = [asset for asset in space.assets.values() if asset.consumable]
        for index, asset in enumerate(consumable):
            api = space.metadata_prefix
            if api == "mixed":
                api = "datasphere" if index % 2 == 0 else "dwc"
            root = f"{base}/api/v1/{api}/consumption"
            asset_path = f"{quote(space.name, safe='')}/{quote(asset.name, safe='')}"
            relational = asset.object_type == "views"
            analytical = asset.supports_analytical_queries
            rows.append(
                {
                    "name": asset.name,
                    "label": asset.label,
                    "spaceName": space.name,
                    "assetRelationalMetadataUrl": f"{root}/relational/{asset_path}/$metadata"
                    if relational
                    else "",
                    "assetRelationalDataUrl": f"{root}/relational/{asset_path}/{quote(asset.name, safe='')}"
                    if relational
                    else "",
                    "assetAnalyticalMetadataUrl": f"{root}/analytical/{asset_path}/$metadata"
                    if analytical
                    else "",
                    "assetAnalyticalDataUrl": f"{root}/analytical/{asset_path}/{quote(asset.name, safe='')}"
                    if analytical
                    else "",
                    "supportsAnalyticalQueries": analytical,
                    "hasParameters": asset.has_parameters,
                }
            )
        return rows

    # --- consumption: $metadata and data ----------------------------------------------------------

    def _consumption(self, path: str) -> None:
        match = _CONSUMPTION_ROUTE.match(path)
        if match is None:
            raise ApiError(404, f"no consumption resource at {path}")
        flavour, space_name, asset_name, rest = match.groups()
        state = self.server.state
        with state.lock:
            space = _readable_space(state.catalog, space_name)
            asset = space.assets.get(asset_name)
            served = (
                asset is not None
                and asset.consumable
                and (
                    asset.object_type == "views"
                    if flavour == "relational"
                    else asset.supports_analytical_queries
                )
            )
            if asset is None or not served:
                raise ApiError(
                    404,
                    f"asset {asset_name!r} of space {space_name!r} is not exposed for {flavour} consumption",
                )
            source_types = _source_types(space, asset)
        if rest == "$metadata":
            self._send(
                200, render_edmx(space_name, asset, resolve_type=source_types).encode(), "application/xml"
            )
        elif rest in (None, ""):
            self._send_json(
                200, {"@odata.context": "$metadata", "value": [{"name": asset_name, "url": asset_name}]}
            )
        else:
            # The emulator holds no rows; an empty result keeps data URLs answerable.
            self._send_json(200, {"@odata.context": f"$metadata#{rest}", "value": []})

    # --- repository API ---------------------------------------------------------------------------

    def _repository(self, path: str, query: dict[str, str]) -> None:
        match = _REPOSITORY_ROUTE.match(path)
        if match is None:
            raise ApiError(404, f"no repository resource at {path}")
        space_name, object_type, name = match.groups()
        if object_type not in OBJECT_TYPES:
            raise ApiError(404, f"unknown object type {object_type!r}; use one of {', '.join(OBJECT_TYPES)}")
        state = self.server.state
        with state.lock:
            space = _readable_space(state.catalog, space_name)
            if name is None:
                names = [a.name for a in space.assets.values() if a.object_type == object_type]
                listing = [{"technicalName": n} for n in _repository_page(names, query, state.catalog)]
                asset = None
            else:
                asset = space.assets.get(name)
                if asset is None or asset.object_type != object_type:
                    raise ApiError(404, f"no {object_type} object {name!r} in space {space_name!r}")
        if asset is None:
            self._send_json(200, listing)
            return
        accept = self.headers.get("Accept") or "*/*"
        if not any(kind in accept for kind in (CSN_MEDIA_TYPE, "application/json", "*/*")):
            raise ApiError(406, f"object content is served as {CSN_MEDIA_TYPE}")
        self._send_json(
            200, {"definitions": {asset.name: _csn_definition(asset)}}, content_type=CSN_MEDIA_TYPE
        )

    # --- admin API --------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, body: bytes) -> None:
        route = path[len(ADMIN_PREFIX) :].strip("/")
        segments = route.split("/") if route else []
        handler = _admin_route(method, segments)
        if handler is None:
            raise ApiError(404, f"no admin resource {method} {path}")
        payload = _json_body(body) if body else {}
        try:
            status, answer = handler(self.server.state, segments, payload)
        except (CatalogError, FaultError) as error:
            raise ApiError(400, str(error)) from error
        if answer is None:
            self._send(status, b"", "application/json")
        else:
            self._send_json(status, answer)

    # --- responses --------------------------------------------------------------------------------

    def _base_url(self) -> str:
        host = self.headers.get("Host") or self.server.url.removeprefix("http://")
        return f"http://{host}"

    def _send_error(self, error: ApiError, path: str) -> None:
        if error.status in (502, 503, 504):
            # Gateways in front of the tenant answer these, in HTML, not the service.
            text = f"<html><body><h1>{error.status} {error.message}</h1></body></html>"
            self._send(error.status, text.encode(), "text/html; charset=utf-8", error.headers)
        elif path == TOKEN_PATH:
            code, _, description = error.message.partition(": ")
            self._send_json(
                error.status, {"error": code, "error_description": description or code}, headers=error.headers
            )
        else:
            self._send_json(
                error.status,
                {"error": {"code": str(error.status), "message": error.message}},
                headers=error.headers,
            )

    def _send_json(
        self,
        status: int,
        document: Any,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send(status, json.dumps(document).encode(), content_type, headers)

    def _send(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


# --- helpers ------------------------------------------------------------------------------------------


def _api_group(path: str) -> str:
    if path == TOKEN_PATH:
        return "token"
    if path.startswith(CATALOG_PREFIXES):
        return "catalog"
    if path.startswith(("/api/v1/datasphere/consumption/", "/api/v1/dwc/consumption/")):
        return "metadata" if path.endswith("/$metadata") else "data"
    if path.startswith(REPOSITORY_PREFIX + "/"):
        return "repository"
    return "other"


def _basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


def _odata_key(raw: str) -> str:
    return raw.replace("''", "'")


def _page(
    rows: list[dict[str, Any]], options: QueryOptions, *, base_url: str, context: str
) -> dict[str, Any]:
    try:
        return page(rows, options, base_url=base_url, context=context)
    except ODataError as error:
        raise ApiError(400, str(error)) from error


def _repository_page(names: list[str], query: dict[str, str], catalog: Catalog) -> list[str]:
    """Cut a repository listing as SAP's command-line tool pages it: ``skip``, then ``top`` (25 if absent)."""
    if catalog.repository_ignores_paging:
        return names
    try:
        top = non_negative_int(query, "top")
        skip = non_negative_int(query, "skip") or 0
    except ODataError as error:
        raise ApiError(400, str(error)) from error
    size = min(REPOSITORY_DEFAULT_TOP if top is None else top, catalog.repository_page_limit)
    return names[skip : skip + size]


def _query_options(query: dict[str, str]) -> QueryOptions:
    try:
        return QueryOptions.parse(query)
    except ODataError as error:
        raise ApiError(400, str(error)) from error


def _space(catalog: Catalog, name: str) -> Space:
    space = catalog.spaces.get(name)
    if space is None:
        raise ApiError(404, f"space {name!r} does not exist")
    return space


def _readable_space(catalog: Catalog, name: str) -> Space:
    space = _space(catalog, name)
    if not space.member:
        raise ApiError(403, f"the client is not a member of space {name!r}")
    return space


def _source_types(space: Space, asset: Asset) -> dict[str, str]:
    """Column types of the object an analytic model reads, for measures that declare no type."""
    source = asset.definition.get("query", {}).get("SELECT", {}).get("from", {})
    ref = source.get("ref") if isinstance(source, dict) else None
    upstream = space.assets.get(ref[0]) if ref else None
    if upstream is None:
        return {}
    elements = upstream.definition.get("elements") or {}
    return {name: el["type"] for name, el in elements.items() if isinstance(el, dict) and el.get("type")}


def _csn_definition(asset: Asset) -> dict[str, Any]:
    definition = dict(asset.definition)
    definition.setdefault("kind", FLOW_KINDS.get(asset.object_type, "entity"))
    return definition


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise ApiError(400, f"request body is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise ApiError(400, "request body must be a JSON object")
    return document


AdminHandler = Callable[[EmulatorState, list[str], dict[str, Any]], tuple[int, Any]]


def _admin_route(method: str, segments: list[str]) -> AdminHandler | None:
    shape = tuple(
        "*" if i % 2 and len(segments) > 1 and segments[0] == "spaces" else s for i, s in enumerate(segments)
    )
    return _ADMIN_ROUTES.get((method, shape))


def _admin_health(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    return 200, {"status": "ok"}


def _admin_get_calls(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    with state.lock:
        counts: dict[str, Any] = {group: state.calls.get(group, 0) for group in API_GROUPS}
        counts["total"] = state.calls.get("total", 0)
        counts["faults"] = dict(state.fault_counts)
    return 200, counts


def _admin_clear_calls(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    with state.lock:
        state.calls.clear()
        state.fault_counts.clear()
    return 204, None


def _admin_get_faults(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    with state.lock:
        return 200, state.faults.to_json()


def _admin_set_faults(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    with state.lock:
        if state.faults.update(payload):
            state.expire_tokens()
        return 200, state.faults.to_json()


def _admin_clear_faults(
    state: EmulatorState, segments: list[str], payload: dict[str, Any]
) -> tuple[int, Any]:
    with state.lock:
        state.faults = state.startup_faults_copy()
    return 204, None


def _admin_expire_tokens(
    state: EmulatorState, segments: list[str], payload: dict[str, Any]
) -> tuple[int, Any]:
    state.expire_tokens()
    return 204, None


def _admin_reset(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    state.reset()
    return 204, None


def _admin_get_catalog(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    with state.lock:
        return 200, state.catalog.to_json()


def _admin_put_catalog(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    catalog = Catalog.from_json(payload, source="PUT /_emulator/catalog")
    with state.lock:
        state.catalog = catalog
    return 204, None


def _admin_set_options(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    with state.lock:
        state.catalog.set_options(payload)
        return 200, state.catalog.options()


def _admin_put_space(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    name = segments[1]
    where = f"PUT /_emulator/spaces/{name}"
    with state.lock:
        existing = state.catalog.spaces.get(name)
        settings = {"label": name, "member": True, "metadata_prefix": "datasphere", "assets": []}
        if existing:
            settings = {**existing.to_json(), "assets": []}
        space = parse_space({**settings, **payload, "name": name}, where=where)
        if existing and "assets" not in payload:
            space.assets = existing.assets
        state.catalog.spaces[name] = space
    summary = {
        "name": space.name,
        "label": space.label,
        "member": space.member,
        "metadata_prefix": space.metadata_prefix,
    }
    return (200 if existing else 201), summary


def _admin_delete_space(
    state: EmulatorState, segments: list[str], payload: dict[str, Any]
) -> tuple[int, Any]:
    with state.lock:
        if state.catalog.spaces.pop(segments[1], None) is None:
            raise ApiError(404, f"space {segments[1]!r} does not exist")
    return 204, None


def _admin_put_asset(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    space_name, name = segments[1], segments[3]
    asset = parse_asset(payload, where=f"PUT /_emulator/spaces/{space_name}/assets/{name}", name=name)
    with state.lock:
        space = state.catalog.spaces.get(space_name)
        if space is None:
            space = state.catalog.spaces[space_name] = Space(name=space_name, label=space_name)
        created = name not in space.assets
        space.assets[name] = asset
    return (201 if created else 200), asset.to_json()


def _admin_delete_asset(
    state: EmulatorState, segments: list[str], payload: dict[str, Any]
) -> tuple[int, Any]:
    space_name, name = segments[1], segments[3]
    with state.lock:
        space = state.catalog.spaces.get(space_name)
        if space is None or space.assets.pop(name, None) is None:
            raise ApiError(404, f"no asset {name!r} in space {space_name!r}")
    return 204, None


def _admin_get_asset(state: EmulatorState, segments: list[str], payload: dict[str, Any]) -> tuple[int, Any]:
    with state.lock:
        space = state.catalog.spaces.get(segments[1])
        asset = space.assets.get(segments[3]) if space else None
        if asset is None:
            raise ApiError(404, f"no asset {segments[3]!r} in space {segments[1]!r}")
        return 200, asset.to_json()


_ADMIN_ROUTES: dict[tuple[str, tuple[str, ...]], AdminHandler] = {
    ("GET", ("health",)): _admin_health,
    ("GET", ("calls",)): _admin_get_calls,
    ("DELETE", ("calls",)): _admin_clear_calls,
    ("GET", ("faults",)): _admin_get_faults,
    ("POST", ("faults",)): _admin_set_faults,
    ("PUT", ("faults",)): _admin_set_faults,
    ("DELETE", ("faults",)): _admin_clear_faults,
    ("POST", ("tokens", "expire")): _admin_expire_tokens,
    ("POST", ("reset",)): _admin_reset,
    ("GET", ("catalog",)): _admin_get_catalog,
    ("PUT", ("catalog",)): _admin_put_catalog,
    ("POST", ("options",)): _admin_set_options,
    ("PUT", ("spaces", "*")): _admin_put_space,
    ("DELETE", ("spaces", "*")): _admin_delete_space,
    ("GET", ("spaces", "*", "assets", "*")): _admin_get_asset,
    ("PUT", ("spaces", "*", "assets", "*")): _admin_put_asset,
    ("DELETE", ("spaces", "*", "assets", "*")): _admin_delete_asset,
}


def make_server(
    catalog: Catalog,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    client_id: str,
    client_secret: str,
    latency_ms: int = 0,
    token_lifetime: int = 3600,
    verbose: bool = False,
) -> EmulatorServer:
    """Bind an emulator to ``host:port`` (0 picks a free port); call ``serve_forever`` to run it.

    :param catalog: what the tenant serves; :meth:`EmulatorState.reset` returns to it.
    :param client_id: the OAuth client the token endpoint accepts.
    :param client_secret: its secret.
    :param latency_ms: delay added to every API call (not to admin calls).
    :param token_lifetime: seconds an issued token stays valid.
    :param verbose: log every request to the module logger.
    """
    state = EmulatorState(
        catalog,
        client_id=client_id,
        client_secret=client_secret,
        latency_ms=latency_ms,
        token_lifetime=token_lifetime,
    )
    return EmulatorServer((host, port), state, verbose=verbose)
