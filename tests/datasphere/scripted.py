"""A transport that answers the client from a test's function, written with httpx's request and response.

httpx models a request and an answer compactly (``httpx.Response(200, json=...)``), so tests script a
tenant with them; the product itself sends through urllib3.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from include.datasphere_glue.datasphere.transport import HTTPResponse, NetworkError

Answer = Callable[[httpx.Request], httpx.Response]


class ScriptedTransport:
    """Hands each request to ``answer``; an ``httpx.TransportError`` it raises is a network error."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> HTTPResponse:
        request = httpx.Request(method, url, headers=dict(headers), content=body)
        try:
            response = self.answer(request)
        except httpx.TransportError as error:
            raise NetworkError(type(error).__name__) from error
        return HTTPResponse(response.status_code, response.headers, response.read(), url)

    def close(self) -> None:
        """Nothing to release."""
