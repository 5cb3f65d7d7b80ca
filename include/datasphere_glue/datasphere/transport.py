"""One HTTP exchange with the tenant: pooled keep-alive connections shared by the engine's threads.

The client above decides what to send, retries and authenticates; a transport only carries a request and
brings back the whole answer. Tests hand the client a scripted transport instead of the network.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

import urllib3

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class NetworkError(Exception):
    """The request got no HTTP answer: the connection was refused, reset or timed out."""


@dataclass(frozen=True, slots=True)
class HTTPResponse:
    """A complete answer, body read.

    :param status_code: the HTTP status.
    :param headers: the answer's headers; lookups ignore case.
    :param content: the body.
    :param url: the URL the request went to, query included.
    """

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    url: str

    @property
    def path(self) -> str:
        """The path the request went to: enough to name a call in a message, and never a secret."""
        return urlsplit(self.url).path

    @property
    def is_redirect(self) -> bool:
        """Whether the answer sends the client elsewhere (never followed: see the client)."""
        return self.status_code in REDIRECT_CODES and "Location" in self.headers

    def json(self) -> Any:
        """Decode the body as JSON.

        :raises ValueError: when the body is not JSON.
        """
        return json.loads(self.content)


class Transport(Protocol):
    """Carries one request and returns the whole answer, or raises :class:`NetworkError`."""

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> HTTPResponse: ...

    def close(self) -> None: ...


class PooledTransport:
    """HTTP/1.1 keep-alive connections, at most ``max_connections`` per host, shared by threads.

    A thread that finds every connection busy waits for one, so the pool is the cap on concurrent calls
    to the tenant. Proxies named by ``HTTPS_PROXY``/``HTTP_PROXY`` are used unless ``NO_PROXY`` exempts
    the tenant, as most HTTP tools do.

    :param tenant_url: the tenant, to decide whether a proxy applies.
    :param max_connections: connections kept per host.
    :param timeout: seconds to connect, and seconds to wait for each read.
    """

    def __init__(self, tenant_url: str, *, max_connections: int, timeout: float) -> None:
        options: dict[str, Any] = {
            "num_pools": 4,  # the tenant and its OAuth host
            "maxsize": max_connections,
            "block": True,
            "retries": False,  # the client retries, with its own policy and counting
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        }
        proxy = _proxy_for(tenant_url)
        self._pool = urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> HTTPResponse:
        """Send a request and read the whole answer; redirects come back as they are.

        :raises NetworkError: when no HTTP answer arrives.
        """
        try:
            response = self._pool.request(
                method, url, headers=dict(headers), body=body, redirect=False, preload_content=True
            )
        except urllib3.exceptions.HTTPError as error:
            # The exception's own text may carry the whole URL; its type says what went wrong.
            raise NetworkError(type(error).__name__) from None
        return HTTPResponse(response.status, response.headers, response.data, url)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.clear()


def with_query(url: str, params: Mapping[str, Any] | None) -> str:
    """Append query parameters; OData's ``$`` options stay literal, as SAP's examples write them."""
    if not params:
        return url
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode(params, safe='$', quote_via=quote)}"


def _proxy_for(url: str) -> str | None:
    parts = urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return proxy
    return None
