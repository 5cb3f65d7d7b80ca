"""The HTTP client's protocol details against scripted answers: token request, Retry-After, network errors."""

from __future__ import annotations

import base64
import email.utils
import time
from collections.abc import Callable

import httpx
import pytest

from include.datasphere_glue.datasphere.client import DatasphereClient, DatasphereConfig, RetryPolicy
from include.datasphere_glue.datasphere.errors import (
    DatasphereAuthError,
    DatasphereConfigError,
    DatasphereUnavailable,
)
from include.datasphere_glue.datasphere.transport import PooledTransport, with_query
from tests.datasphere.scripted import ScriptedTransport

TENANT = "https://acme.eu10.hcs.cloud.sap"
TOKEN_URL = "https://acme.authentication.eu10.hana.ondemand.com/oauth/token"
TOKEN = {"access_token": "tok", "token_type": "bearer", "expires_in": 3600}


def _client(answer: Callable[[httpx.Request], httpx.Response], **retry: float) -> DatasphereClient:
    policy = RetryPolicy(**{"max_attempts": 4, "backoff_seconds": 0.001, **retry})  # type: ignore[arg-type]
    config = DatasphereConfig(
        tenant_url=TENANT,
        client_id="sb-client!b1",
        client_secret="p@ss:word",
        token_url=TOKEN_URL,
        retry=policy,
    )
    return DatasphereClient(config, transport=ScriptedTransport(answer))


class TestTokenRequest:
    def test_client_credentials_go_as_basic_auth_and_the_grant_as_a_form(self) -> None:
        seen: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            if request.url.host != "acme.eu10.hcs.cloud.sap":
                return httpx.Response(200, json=TOKEN)
            return httpx.Response(200, json={"value": []})

        _client(answer).get_json("/api/v1/datasphere/consumption/catalog/spaces", api="catalog")

        token_request, call = seen
        assert (token_request.method, str(token_request.url)) == ("POST", TOKEN_URL)
        assert token_request.content == b"grant_type=client_credentials"
        assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        expected = base64.b64encode(b"sb-client!b1:p@ss:word").decode()
        assert token_request.headers["Authorization"] == f"Basic {expected}"
        assert call.headers["Authorization"] == "Bearer tok"

    def test_a_token_without_access_token_is_an_auth_error_naming_the_extra(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"token_type": "bearer"})

        with pytest.raises(
            DatasphereAuthError, match="without a usable access_token: check the token_url extra"
        ):
            _client(answer).get_json("/x", api="catalog")


class TestRetries:
    def test_retry_after_as_an_http_date_is_honoured(self) -> None:
        answers = iter([1, 0])

        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/oauth/token":
                return httpx.Response(200, json=TOKEN)
            if next(answers):
                later = email.utils.formatdate(time.time() + 2, usegmt=True)
                return httpx.Response(429, headers={"Retry-After": later})
            return httpx.Response(200, json=[])

        started = time.monotonic()
        assert _client(answer).get_json("/x", api="catalog") == []
        assert time.monotonic() - started >= 1.0

    def test_connection_errors_are_retried(self) -> None:
        failures = iter([True, True, False])

        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/oauth/token":
                return httpx.Response(200, json=TOKEN)
            if next(failures):
                raise httpx.ConnectError("connection refused", request=request)
            return httpx.Response(200, json={"ok": True})

        client = _client(answer)

        assert client.get_json("/x", api="repository") == {"ok": True}
        assert client.calls == {"token": 1, "repository": 3}

    def test_the_total_time_budget_bounds_the_retries(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/oauth/token":
                return httpx.Response(200, json=TOKEN)
            return httpx.Response(500)

        client = _client(answer, max_attempts=100, backoff_seconds=0.05, max_total_seconds=0.3)
        started = time.monotonic()

        with pytest.raises(DatasphereUnavailable, match=r"GET /x failed after \d+ attempt\(s\)"):
            client.get("/x", api="catalog")
        assert time.monotonic() - started < 1.0
        assert client.calls["catalog"] < 100


class TestMisconfiguration:
    def test_a_redirect_to_a_login_host_is_not_followed(self) -> None:
        seen: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            if request.url.path == "/oauth/token":
                return httpx.Response(200, json=TOKEN)
            return httpx.Response(302, headers={"Location": "https://login.example/saml2/idp/sso?x=1"})

        with pytest.raises(DatasphereConfigError, match=r"redirected to login\.example .*SSO or login proxy"):
            _client(answer).get("/x", api="catalog")
        assert [request.url.host for request in seen][-1] == "acme.eu10.hcs.cloud.sap"

    def test_an_html_body_without_html_content_type_is_still_recognised(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/oauth/token":
                return httpx.Response(200, json=TOKEN)
            return httpx.Response(
                200,
                content=b"\n  <!DOCTYPE html><html><body>Sign in</body></html>",
                headers={"Content-Type": "application/json"},
            )

        with pytest.raises(DatasphereConfigError, match="HTML page instead of the Datasphere API"):
            _client(answer).get_json("/x", api="catalog")


class TestPooledTransport:
    def test_a_refused_connection_is_retried_and_named_without_the_url(self, caplog) -> None:
        from tests.fixtures.net import free_port

        port = free_port()  # nothing listens there
        config = DatasphereConfig(
            tenant_url=f"http://127.0.0.1:{port}",
            client_id="client",
            client_secret="secret",
            retry=RetryPolicy(max_attempts=2, backoff_seconds=0.001),
        )
        client = DatasphereClient(config)

        with pytest.raises(DatasphereUnavailable, match=r"POST /oauth/token failed after 2 attempt\(s\)"):
            client.get_json("/x", api="catalog")
        assert client.calls == {"token": 2}
        assert "secret" not in caplog.text

    def test_a_redirect_over_the_network_is_not_followed(self) -> None:
        import http.server
        import json
        import threading

        followed: list[str] = []

        class Tenant(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the token endpoint
                self._answer(200, json.dumps(TOKEN).encode(), {"Content-Type": "application/json"})

            def do_GET(self) -> None:
                if self.path.startswith("/login"):
                    followed.append(self.path)
                self._answer(302, b"", {"Location": f"http://localhost:{self.server.server_port}/login"})

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tenant)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        config = DatasphereConfig(
            tenant_url=f"http://127.0.0.1:{server.server_port}", client_id="client", client_secret="secret"
        )
        try:
            with pytest.raises(DatasphereConfigError, match="redirected to localhost"):
                DatasphereClient(config).get("/api/v1/datasphere/consumption/catalog/spaces", api="catalog")
        finally:
            server.shutdown()
        assert followed == []  # the bearer token never went to the other host

    def test_query_options_keep_odata_dollar_signs_literal(self) -> None:
        assert with_query("https://t/a", {"$top": 500, "$skip": 0}) == "https://t/a?$top=500&$skip=0"
        assert with_query("https://t/a?x=1", {"name": "a b/c"}) == "https://t/a?x=1&name=a%20b%2Fc"
        assert with_query("https://t/a", None) == "https://t/a"

    def test_a_proxy_from_the_environment_is_used_unless_no_proxy_names_the_tenant(self, monkeypatch) -> None:
        import urllib3

        for name in ("https_proxy", "no_proxy", "all_proxy", "ALL_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
        monkeypatch.setenv("NO_PROXY", "internal.example")
        proxied = PooledTransport(TENANT, max_connections=2, timeout=5)
        monkeypatch.setenv("NO_PROXY", "acme.eu10.hcs.cloud.sap")
        direct = PooledTransport(TENANT, max_connections=2, timeout=5)

        assert isinstance(proxied._pool, urllib3.ProxyManager)
        assert not isinstance(direct._pool, urllib3.ProxyManager)
