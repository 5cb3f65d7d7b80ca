"""Run the emulator in a subprocess for tests, benchmarks and the local stack, and drive its admin API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from emulators.datasphere.catalog import Catalog
from emulators.datasphere.server import ADMIN_PREFIX
from scripts.stack.processes import stop_process_group

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_READY_MARK = "Datasphere emulator ready at "


class EmulatorStartError(RuntimeError):
    """The emulator process exited or stayed silent instead of announcing its URL."""


class AdminClient:
    """A small client of the emulator's admin API (``/_emulator/...``, no authentication)."""

    def __init__(self, url: str) -> None:
        self.base = f"{url}{ADMIN_PREFIX}"

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Merge faults into those in force, e.g. ``set_faults(rate_limit={"count": 2, "retry_after": 1})``.

        :param faults: ``latency_ms``, ``token_lifetime``, ``expire_tokens``, ``rate_limit``,
            ``server_errors``, ``html_login`` (see the emulator README).
        """
        return self._call("POST", "/faults", faults)

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        """Drop every fault; latency and token lifetime go back to their start-up values."""
        self._call("DELETE", "/faults")

    def expire_tokens(self) -> None:
        """Make every issued access token expired from now on."""
        self._call("POST", "/tokens/expire")

    def upsert_asset(
        self, space: str, name: str, *, object_type: str, definition: dict[str, Any], exposed: bool = False
    ) -> dict[str, Any]:
        """Add or replace an asset; the next API call sees it.

        :param space: the space (created, with the client as member, when missing).
        :param name: the technical name.
        :param object_type: repository type: views, analyticmodels, localtables, remotetables, dataflows,
            replicationflows or transformationflows.
        :param definition: the CSN definition (the value under ``definitions[name]``).
        :param exposed: whether a view or analytic model is exposed for consumption.
        """
        body = {"type": object_type, "exposed": exposed, "definition": definition}
        return self._call("PUT", f"/spaces/{quote(space, safe='')}/assets/{quote(name, safe='')}", body)

    def delete_asset(self, space: str, name: str) -> None:
        self._call("DELETE", f"/spaces/{quote(space, safe='')}/assets/{quote(name, safe='')}")

    def get_asset(self, space: str, name: str) -> dict[str, Any]:
        return self._call("GET", f"/spaces/{quote(space, safe='')}/assets/{quote(name, safe='')}")

    def upsert_space(self, space: str, **settings: Any) -> dict[str, Any]:
        """Create or change a space: ``label``, ``member``, ``metadata_prefix`` (datasphere, dwc, mixed)."""
        return self._call("PUT", f"/spaces/{quote(space, safe='')}", settings)

    def delete_space(self, space: str) -> None:
        self._call("DELETE", f"/spaces/{quote(space, safe='')}")

    def set_options(self, **options: Any) -> dict[str, Any]:
        """Change tenant options, e.g. ``spaces_as_array=True``."""
        return self._call("POST", "/options", options)

    def catalog(self) -> dict[str, Any]:
        """The live catalog in its file format."""
        return self._call("GET", "/catalog")

    def load_catalog(self, document: dict[str, Any]) -> None:
        """Replace the live catalog (until the next :meth:`reset`)."""
        self._call("PUT", "/catalog", document)

    def calls(self) -> dict[str, Any]:
        """Calls per API group (token, catalog, metadata, data, repository, other), total, and faults."""
        return self._call("GET", "/calls")

    def clear_calls(self) -> None:
        self._call("DELETE", "/calls")

    def reset(self) -> None:
        """Back to the loaded catalog, start-up faults and zero call counts."""
        self._call("POST", "/reset")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            raise RuntimeError(f"emulator admin {method} {path} failed: {error.code} {detail}") from error
        return json.loads(payload) if payload else None


class EmulatorProcess:
    """The emulator in its own process group on a free port; a context manager that always stops it.

    :param catalog: ``"demo"``, ``"synthetic:ASSETS:SPACES[:SEED]"``, a catalog file path, a catalog
        document (dict) or a :class:`Catalog`.
    :param latency_ms: delay added to every API call.
    :param token_lifetime: seconds an access token lives.
    :param client_id: the OAuth client id the tenant accepts.
    :param client_secret: its secret.
    :param startup_timeout: seconds to wait for the ready line.
    """

    def __init__(
        self,
        catalog: str | Path | dict[str, Any] | Catalog = "demo",
        *,
        latency_ms: int = 0,
        token_lifetime: int = 3600,
        client_id: str = "emulator-client",
        client_secret: str = "emulator-secret",
        startup_timeout: float = 60.0,
    ) -> None:
        self.catalog = catalog
        self.latency_ms = latency_ms
        self.token_lifetime = token_lifetime
        self.client_id = client_id
        self.client_secret = client_secret
        self.startup_timeout = startup_timeout
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def pid(self) -> int | None:
        """Process id of the running emulator (e.g. to read its memory use), None when stopped."""
        return self._process.pid if self._process is not None else None

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth/token"

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.url)

    def connection_json(self) -> str:
        """The Airflow connection, in JSON form, for ``AIRFLOW_CONN_DATASPHERE_DEFAULT``."""
        return json.dumps(
            {
                "conn_type": "datasphere",
                "host": self.url,
                "login": self.client_id,
                "password": self.client_secret,
                "extra": {"token_url": self.token_url},
            }
        )

    def start(self) -> EmulatorProcess:
        """Start the process and wait until it prints its URL."""
        self._tempdir = tempfile.TemporaryDirectory(prefix="datasphere-emulator-")
        stderr_path = Path(self._tempdir.name) / "stderr.log"
        command = [
            sys.executable,
            "-m",
            "emulators.datasphere",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--catalog",
            self._catalog_spec(Path(self._tempdir.name)),
            "--latency-ms",
            str(self.latency_ms),
            "--token-lifetime",
            str(self.token_lifetime),
            "--client-id",
            self.client_id,
            "--client-secret",
            self.client_secret,
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p),
        }
        with stderr_path.open("w") as stderr:
            self._process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=env,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
        try:
            self.url = self._wait_for_ready_line(stderr_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the process group (SIGTERM, then SIGKILL after 10 s) and remove temporary files."""
        process, self._process = self._process, None
        if process is not None:
            stop_process_group(process, timeout=10)
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _catalog_spec(self, folder: Path) -> str:
        if isinstance(self.catalog, Catalog):
            document: dict[str, Any] | None = self.catalog.to_json()
        elif isinstance(self.catalog, dict):
            document = self.catalog
        else:
            return str(self.catalog)
        path = folder / "catalog.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return str(path)

    def _wait_for_ready_line(self, stderr_path: Path) -> str:
        import selectors

        assert self._process is not None and self._process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self._process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=self.startup_timeout)
        selector.close()
        line = self._process.stdout.readline() if ready else ""
        if _READY_MARK not in line:
            self._process.poll()
            detail = stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise EmulatorStartError(
                f"Datasphere emulator did not start (exit code {self._process.returncode}): {detail.strip()}"
            )
        return line.split(_READY_MARK, 1)[1].split()[0]
