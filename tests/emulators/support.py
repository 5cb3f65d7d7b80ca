"""Constants and helpers the emulator tests share: API paths and fetching a token."""

from __future__ import annotations

import httpx

from emulators.datasphere.testing import EmulatorProcess

CATALOG = "/api/v1/datasphere/consumption/catalog"
OLD_CATALOG = "/api/v1/dwc/catalog"
REPOSITORY = "/dwaas-core/api/v1/spaces"
CSN_ACCEPT = {"Accept": "application/vnd.sap.datasphere.object.content+json"}


def fetch_token(emulator: EmulatorProcess) -> str:
    """Run the client-credentials flow against the emulator and return the access token."""
    response = httpx.post(
        emulator.token_url,
        data={"grant_type": "client_credentials"},
        auth=(emulator.client_id, emulator.client_secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])
