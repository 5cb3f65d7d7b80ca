"""HTTP access to a Datasphere tenant: OAuth client credentials, retries, guards against misconfiguration."""

from __future__ import annotations

import base64
import email.utils
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from include.datasphere_glue.datasphere.errors import (
    DatasphereAuthError,
    DatasphereConfigError,
    DatasphereHTTPError,
    DatasphereUnavailable,
)
from include.datasphere_glue.datasphere.transport import (
    HTTPResponse,
    NetworkError,
    PooledTransport,
    Transport,
    with_query,
)

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500
JSON = "application/json"
XML = "application/xml"

# Refresh a token this long before the tenant says it expires, so a call never carries a dying token.
_TOKEN_EXPIRY_MARGIN_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying a call that fails with 429, 5xx or a network error.

    :param max_attempts: attempts per call, the first one included.
    :param backoff_seconds: delay before the second attempt; it doubles for each further one.
    :param max_backoff_seconds: cap on one computed delay (a server's ``Retry-After`` is honoured as given).
    :param max_total_seconds: give up once waiting longer would exceed this, counted from the first attempt.
    """

    max_attempts: int = 6
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    max_total_seconds: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Return the jittered delay after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))
        # Jitter spreads the retries of many worker threads that were throttled at the same moment.
        return ceiling * random.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True)
class DatasphereConfig:
    """Everything needed to talk to one tenant; built from an Airflow connection or by hand.

    :param tenant_url: the tenant's base URL with scheme, e.g. ``https://acme.eu10.hcs.cloud.sap``.
    :param client_id: OAuth client id.
    :param client_secret: OAuth client secret; kept out of ``repr``.
    :param token_url: OAuth token endpoint; defaults to ``{tenant_url}/oauth/token``.
    :param timeout: seconds for one HTTP request.
    :param page_size: catalog page size (``$top``), 1 to 500.
    :param max_concurrency: connections kept to the tenant; size it to the threads that share the client.
    :param retry: the retry policy for throttled and failing calls.
    """

    tenant_url: str
    client_id: str
    client_secret: str = field(repr=False)
    token_url: str | None = None
    timeout: float = 30.0
    page_size: int = MAX_PAGE_SIZE
    max_concurrency: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        parts = urlsplit(self.tenant_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise DatasphereConfigError(
                f"tenant URL {self.tenant_url!r} must start with https:// (or http:// for a local emulator)"
            )
        object.__setattr__(self, "tenant_url", self.tenant_url.rstrip("/"))
        if not self.client_id or not self.client_secret:
            raise DatasphereConfigError("the OAuth client id (login) and secret (password) are both required")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise DatasphereConfigError(f"page_size must be 1 to {MAX_PAGE_SIZE}, got {self.page_size}")
        if self.max_concurrency < 1:
            raise DatasphereConfigError(f"max_concurrency must be at least 1, got {self.max_concurrency}")
        if self.timeout <= 0:
            raise DatasphereConfigError(f"timeout must be positive, got {self.timeout}")
        if self.retry.max_attempts < 1:
            raise DatasphereConfigError(
                f"retry max_attempts must be 1 or more, got {self.retry.max_attempts}"
            )

    @property
    def resolved_token_url(self) -> str:
        """Return the token endpoint, defaulting to the tenant's own ``/oauth/token``."""
        return self.token_url or f"{self.tenant_url}/oauth/token"


@dataclass(slots=True)
class _Token:
    value: str
    refresh_at: float


class DatasphereClient:
    """A thread-safe HTTP client for one tenant that authenticates, retries and counts its calls.

    Every request goes to the tenant's own host: a URL pointing elsewhere is refused, so the bearer
    token never leaves the tenant. Redirects are never followed for the same reason.

    :param config: the tenant and credentials.
    :param transport: what carries the requests; pooled connections to the tenant when omitted.
    """

    def __init__(self, config: DatasphereConfig, *, transport: Transport | None = None) -> None:
        self.config = config
        self._origin = _origin(config.tenant_url)
        # More threads than connections queue for one instead of failing: the pool is the tenant's cap.
        self._transport = transport or PooledTransport(
            config.tenant_url, max_connections=config.max_concurrency, timeout=config.timeout
        )
        self._token: _Token | None = None
        self._token_lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()

    @property
    def calls(self) -> Counter[str]:
        """Return a snapshot of the requests sent so far per API group (retries included)."""
        with self._calls_lock:
            return Counter(self._calls)

    def close(self) -> None:
        """Close the connection pool."""
        self._transport.close()

    def resolve(self, url: str) -> str:
        """Return ``url`` made absolute against the tenant, refusing any other host.

        :param url: an absolute URL, a host-relative path or a tenant-relative path.
        :raises DatasphereConfigError: when the URL names another host.
        """
        absolute = urljoin(self.config.tenant_url + "/", url)
        if _origin(absolute) != self._origin:
            raise DatasphereConfigError(
                f"refusing to call {urlsplit(absolute).netloc}: it is not the tenant host "
                f"{urlsplit(self.config.tenant_url).netloc}, and the call would carry the tenant's token"
            )
        return absolute

    def get_json(
        self, url: str, *, api: str, params: dict[str, Any] | None = None, accept: str = JSON
    ) -> Any:
        """GET a JSON document from the tenant.

        :param url: absolute or tenant-relative URL.
        :param api: API group the call is counted under (catalog, metadata, repository).
        :param params: query parameters.
        :param accept: the ``Accept`` header; some repository calls need a vendor media type.
        :raises DatasphereConfigError: when the answer is an HTML page or not JSON at all.
        """
        response = self.get(url, api=api, params=params, accept=accept)
        try:
            return response.json()
        except ValueError as error:
            raise DatasphereConfigError(
                f"GET {response.path} answered with a body that is not JSON ({error})"
            ) from None

    def get(
        self, url: str, *, api: str, params: dict[str, Any] | None = None, accept: str = JSON
    ) -> HTTPResponse:
        """GET ``url`` with a bearer token, retrying transient failures and refreshing the token once on 401.

        :param url: absolute or tenant-relative URL.
        :param api: API group the call is counted under.
        :param params: query parameters.
        :param accept: the ``Accept`` header.
        :raises DatasphereHTTPError: on a final 4xx answer such as 403 or 404.
        :raises DatasphereAuthError: when the call is refused even with a fresh token.
        :raises DatasphereUnavailable: when retries are exhausted.
        :raises DatasphereConfigError: on redirects and HTML login pages.
        """
        absolute = self.resolve(url)
        token = self._bearer_token()
        response = self._send_with_retries(
            "GET", absolute, api=api, params=params, accept=accept, token=token
        )
        if response.status_code == 401:
            token = self._refresh_token(stale=token)
            response = self._send_with_retries(
                "GET", absolute, api=api, params=params, accept=accept, token=token
            )
            if response.status_code == 401:
                raise DatasphereAuthError(
                    f"GET {response.path} answered 401 even with a fresh token: "
                    "check that the OAuth client is allowed to use this API"
                )
        _raise_for_answer(response)
        return response

    def _bearer_token(self) -> str:
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token.refresh_at:
                self._token = self._fetch_token()
            return self._token.value

    def _refresh_token(self, *, stale: str) -> str:
        # Threads that got a 401 with the same stale token must cause one token call, not one each.
        with self._token_lock:
            if self._token is None or self._token.value == stale:
                self._token = self._fetch_token()
            return self._token.value

    def _fetch_token(self) -> _Token:
        url = self.config.resolved_token_url
        response = self._send_with_retries(
            "POST",
            url,
            api="token",
            accept=JSON,
            form={"grant_type": "client_credentials"},
            basic_auth=(self.config.client_id, self.config.client_secret),
        )
        path = response.path
        if response.status_code in (400, 401, 403):
            raise DatasphereAuthError(
                f"token endpoint {path} refused the OAuth client (HTTP {response.status_code}"
                f"{_oauth_error_code(response)}): check the connection's login (client id) and password "
                "(client secret)"
            )
        _raise_for_answer(response, expected="the OAuth token endpoint")
        try:
            body = response.json()
            value = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise DatasphereAuthError(
                f"token endpoint {path} answered without a usable access_token: check the token_url extra"
            ) from None
        margin = min(_TOKEN_EXPIRY_MARGIN_SECONDS, lifetime / 10)
        log.debug("Fetched an OAuth token valid for %.0fs", lifetime)
        return _Token(value=value, refresh_at=time.monotonic() + lifetime - margin)

    def _send_with_retries(
        self,
        method: str,
        url: str,
        *,
        api: str,
        accept: str,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        form: dict[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> HTTPResponse:
        policy = self.config.retry
        first_attempt = time.monotonic()
        deadline = first_attempt + policy.max_total_seconds
        url = with_query(url, params)
        headers, body = _request_headers(accept, token, basic_auth), None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form).encode()
        path = urlsplit(url).path
        for attempt in range(1, policy.max_attempts + 1):
            self._count(api)
            started = time.monotonic()
            try:
                response = self._transport.send(method, url, headers=headers, body=body)
            except NetworkError as error:
                reason = str(error) or "network error"
                delay = policy.backoff(attempt)
            else:
                log.debug(
                    "%s %s -> %d in %.3fs", method, path, response.status_code, time.monotonic() - started
                )
                if response.status_code != 429 and response.status_code < 500:
                    return response
                reason = f"HTTP {response.status_code}"
                delay = _retry_after_seconds(response) or policy.backoff(attempt)
            if attempt == policy.max_attempts or time.monotonic() + delay > deadline:
                raise DatasphereUnavailable(
                    f"{method} {path} failed after {attempt} attempt(s) in "
                    f"{time.monotonic() - first_attempt:.1f}s; last failure: {reason}"
                )
            log.warning("%s %s failed (%s); retry %d in %.2fs", method, path, reason, attempt, delay)
            time.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def _count(self, api: str) -> None:
        with self._calls_lock:
            self._calls[api] += 1


def _request_headers(accept: str, token: str | None, basic_auth: tuple[str, str] | None) -> dict[str, str]:
    headers = {"Accept": accept}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    elif basic_auth is not None:
        credentials = base64.b64encode(":".join(basic_auth).encode()).decode()
        headers["Authorization"] = f"Basic {credentials}"
    return headers


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _retry_after_seconds(response: HTTPResponse) -> float | None:
    """Read ``Retry-After`` as seconds or as an HTTP date; None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _raise_for_answer(response: HTTPResponse, *, expected: str = "the Datasphere API") -> None:
    """Turn redirects, HTML login pages and final 4xx answers into errors a user can act on."""
    path = response.path
    if response.is_redirect:
        target = urlsplit(response.headers.get("Location", "")).netloc or "another page"
        raise DatasphereConfigError(
            f"GET {path} was redirected to {target} instead of answering as {expected}; "
            "this is usually an SSO or login proxy: point the connection's host at the tenant URL "
            "(https://<tenant>.<region>.hcs.cloud.sap) and the token_url extra at the OAuth token endpoint"
        )
    if response.status_code >= 400:
        raise DatasphereHTTPError(response.status_code, path)
    if _is_html(response):
        raise DatasphereConfigError(
            f"{path} answered with an HTML page instead of {expected}: an SSO or login proxy answered. "
            "Point the connection's host at the tenant URL the API is served from "
            "(https://<tenant>.<region>.hcs.cloud.sap, not a browser or portal URL) and the token_url "
            "extra at the OAuth token endpoint of the tenant's OAuth client"
        )


def _is_html(response: HTTPResponse) -> bool:
    if "text/html" in response.headers.get("Content-Type", "").lower():
        return True
    opening = response.content[:200].lstrip().lower()
    return opening.startswith((b"<!doctype html", b"<html"))


def _oauth_error_code(response: HTTPResponse) -> str:
    """Return ``, error=<code>`` from an OAuth error answer; the code names the problem, never a secret."""
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    return f", error={code}" if isinstance(code, str) and code.isidentifier() else ""
