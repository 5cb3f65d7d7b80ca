"""The emulator's OAuth client-credentials flow and the 401s a client must handle."""

from __future__ import annotations

import httpx

from emulators.datasphere.testing import EmulatorProcess
from tests.emulators.support import CATALOG, fetch_token


def _spaces(emulator: EmulatorProcess, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{emulator.url}{CATALOG}/spaces", headers=headers)


class TestTokenEndpoint:
    def test_client_credentials_with_basic_auth_return_a_bearer_token(
        self, datasphere: EmulatorProcess
    ) -> None:
        response = httpx.post(
            datasphere.token_url,
            data={"grant_type": "client_credentials"},
            auth=(datasphere.client_id, datasphere.client_secret),
        )

        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 3600
        assert _spaces(datasphere, body["access_token"]).status_code == 200

    def test_wrong_secret_is_refused(self, datasphere: EmulatorProcess) -> None:
        response = httpx.post(
            datasphere.token_url,
            data={"grant_type": "client_credentials"},
            auth=(datasphere.client_id, "not-the-secret"),
        )

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    def test_other_grant_types_are_refused(self, datasphere: EmulatorProcess) -> None:
        response = httpx.post(
            datasphere.token_url,
            data={"grant_type": "password"},
            auth=(datasphere.client_id, datasphere.client_secret),
        )

        assert response.status_code == 400

    def test_token_lifetime_is_configurable(self, datasphere: EmulatorProcess) -> None:
        datasphere.admin.set_faults(token_lifetime=0)

        token = fetch_token(datasphere)

        response = _spaces(datasphere, token)
        assert response.status_code == 401
        assert "expired" in response.json()["error"]["message"]


class TestBearerChecks:
    def test_call_without_token_is_unauthorized(self, datasphere: EmulatorProcess) -> None:
        response = _spaces(datasphere, None)

        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    def test_unknown_token_is_unauthorized(self, datasphere: EmulatorProcess) -> None:
        assert _spaces(datasphere, "made-up-token").status_code == 401

    def test_expiring_all_tokens_makes_issued_tokens_fail_until_a_new_one_is_fetched(
        self, datasphere: EmulatorProcess
    ) -> None:
        token = fetch_token(datasphere)
        assert _spaces(datasphere, token).status_code == 200

        datasphere.admin.expire_tokens()

        assert _spaces(datasphere, token).status_code == 401
        assert _spaces(datasphere, fetch_token(datasphere)).status_code == 200

    def test_expire_tokens_through_the_faults_call(self, datasphere: EmulatorProcess) -> None:
        token = fetch_token(datasphere)

        datasphere.admin.set_faults(expire_tokens=True)

        assert _spaces(datasphere, token).status_code == 401
