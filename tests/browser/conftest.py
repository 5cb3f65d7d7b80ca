"""A real ``airflow api-server`` with the metrics plugin on a free port, over a seeded throwaway home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scripts.stack.processes import stop_process_group
from tests.fixtures.net import free_port, wait_until_answers
from tests.metrics.home import ROOT, airflow_env, migrate

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "browser-test-password"


@dataclass(frozen=True)
class ApiServer:
    url: str
    home: Path
    seeded_at: datetime


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    home = tmp_path_factory.mktemp("airflow-browser")
    migrate(home)
    seeded_at = datetime.now(UTC)
    python = sys.executable
    env = {**os.environ, **airflow_env(home)}
    subprocess.run(
        [python, "-m", "tests.browser.seed_world", str(home), seeded_at.isoformat()],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    # The simple auth manager keeps the passwords it generated in this file; we choose ours.
    (home / "passwords.json").write_text(json.dumps({"admin": PASSWORD, "viewer": PASSWORD}))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env["AIRFLOW__API__BASE_URL"] = url
    log = (home / "api-server.log").open("w")
    server = subprocess.Popen(
        [str(Path(python).with_name("airflow")), "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_answers(f"{url}/api/v2/monitor/health", timeout=120)
        yield ApiServer(url=url, home=home, seeded_at=seeded_at)
    finally:
        stop_process_group(server, timeout=20)
        log.close()
