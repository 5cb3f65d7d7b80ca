"""The command line: ready line with the URL, clean exit on SIGTERM, clear error on a bad catalog."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx

from emulators.datasphere.testing import PROJECT_ROOT


def test_serves_until_sigterm_and_exits_cleanly() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulators.datasphere",
            "--port",
            "0",
            "--catalog",
            "synthetic:40:2",
            "--client-id",
            "cli-client",
            "--client-secret",
            "cli-secret",
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Datasphere emulator ready at http://127.0.0.1:")
        assert "(2 spaces, 40 assets)" in line
        url = line.split(" at ", 1)[1].split()[0]
        token = httpx.post(
            f"{url}/oauth/token", data={"grant_type": "client_credentials"}, auth=("cli-client", "cli-secret")
        )
        assert token.status_code == 200

        process.send_signal(signal.SIGTERM)

        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_bad_catalog_exits_with_a_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulators.datasphere", "--catalog", "/nonexistent/catalog.json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "/nonexistent/catalog.json" in result.stderr
