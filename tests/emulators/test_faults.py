"""Injected faults: 429 with Retry-After, 5xx, HTML login pages, latency; each for N calls, then normal."""

from __future__ import annotations

import concurrent.futures
import time

import httpx

from emulators.datasphere.testing import EmulatorProcess
from tests.emulators.support import CATALOG, REPOSITORY, fetch_token

SPACES = f"{CATALOG}/spaces"


class TestRateLimit:
    def test_n_calls_get_429_with_retry_after_then_calls_succeed(
        self, api: httpx.Client, datasphere: EmulatorProcess
    ) -> None:
        datasphere.admin.set_faults(rate_limit={"count": 2, "retry_after": 3})

        statuses = [api.get(SPACES) for _ in range(3)]

        assert [r.status_code for r in statuses] == [429, 429, 200]
        assert statuses[0].headers["Retry-After"] == "3"
        assert datasphere.admin.calls()["faults"] == {"429": 2}

    def test_token_endpoint_is_spared_unless_targeted(self, datasphere: EmulatorProcess) -> None:
        datasphere.admin.set_faults(rate_limit={"count": 1})
        fetch_token(datasphere)  # not rate limited: the fault waits for an API call

        datasphere.admin.set_faults(rate_limit={"count": 1, "path_prefix": "/oauth/token"})
        response = httpx.post(
            datasphere.token_url,
            data={"grant_type": "client_credentials"},
            auth=(datasphere.client_id, datasphere.client_secret),
        )

        assert response.status_code == 429


class TestServerErrors:
    def test_n_calls_get_the_status_then_calls_succeed(
        self, api: httpx.Client, datasphere: EmulatorProcess
    ) -> None:
        datasphere.admin.set_faults(server_errors={"count": 2, "status": 502})

        assert [api.get(SPACES).status_code for _ in range(3)] == [502, 502, 200]

    def test_path_prefix_limits_errors_to_one_api(
        self, api: httpx.Client, datasphere: EmulatorProcess
    ) -> None:
        datasphere.admin.set_faults(server_errors={"count": 1, "status": 500, "path_prefix": REPOSITORY})

        assert api.get(SPACES).status_code == 200
        assert api.get(f"{REPOSITORY}/SALES/views").status_code == 500
        assert api.get(f"{REPOSITORY}/SALES/views").status_code == 200

    def test_unknown_status_is_refused(self, datasphere: EmulatorProcess) -> None:
        response = httpx.post(f"{datasphere.url}/_emulator/faults", json={"server_errors": {"status": 418}})

        assert response.status_code == 400


class TestHtmlLoginPage:
    def test_n_calls_get_a_200_login_page(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        datasphere.admin.set_faults(html_login={"count": 1})

        first, second = api.get(SPACES), api.get(SPACES)

        assert first.status_code == 200
        assert first.headers["Content-Type"].startswith("text/html")
        assert "<form" in first.text
        assert second.json()["value"]


class TestCombinedFaults:
    def test_each_call_takes_one_fault_in_a_fixed_order(
        self, api: httpx.Client, datasphere: EmulatorProcess
    ) -> None:
        datasphere.admin.set_faults(
            rate_limit={"count": 1}, server_errors={"count": 1, "status": 503}, html_login={"count": 1}
        )

        answers = [api.get(SPACES) for _ in range(4)]

        assert [r.status_code for r in answers] == [429, 503, 200, 200]
        assert answers[2].headers["Content-Type"].startswith("text/html")
        assert answers[3].json()["value"]
        assert datasphere.admin.calls()["faults"] == {"429": 1, "503": 1, "html": 1}


class TestLatency:
    def test_latency_delays_every_api_call(self, api: httpx.Client, datasphere: EmulatorProcess) -> None:
        datasphere.admin.set_faults(latency_ms=300)

        started = time.monotonic()
        api.get(SPACES)

        assert time.monotonic() - started >= 0.3

    def test_concurrent_calls_wait_side_by_side(self, datasphere: EmulatorProcess) -> None:
        datasphere.admin.set_faults(latency_ms=500)
        token = fetch_token(datasphere)

        def call(_: int) -> int:
            response = httpx.get(f"{datasphere.url}{SPACES}", headers={"Authorization": f"Bearer {token}"})
            return response.status_code

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(call, range(20)))

        assert statuses == [200] * 20
        # One after another this would take 10 s; side by side it takes one latency plus overhead.
        assert time.monotonic() - started < 5

    def test_clearing_faults_restores_start_up_settings(self, datasphere: EmulatorProcess) -> None:
        datasphere.admin.set_faults(latency_ms=50, rate_limit={"count": 5}, token_lifetime=10)

        datasphere.admin.clear_faults()

        faults = datasphere.admin.faults()
        assert faults["latency_ms"] == 0
        assert faults["token_lifetime"] == 3600
        assert faults["rate_limit"]["count"] == 0
