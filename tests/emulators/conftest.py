"""An authenticated HTTP client against the running emulator, for the emulator's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulators.datasphere.testing import EmulatorProcess
from tests.emulators.support import fetch_token


@pytest.fixture
def api(datasphere: EmulatorProcess) -> Iterator[httpx.Client]:
    """A client that sends a fresh bearer token to the reset demo tenant."""
    headers = {"Authorization": f"Bearer {fetch_token(datasphere)}"}
    with httpx.Client(base_url=datasphere.url, headers=headers, timeout=30) as client:
        yield client
