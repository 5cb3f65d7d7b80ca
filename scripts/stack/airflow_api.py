"""A small client of Airflow 3's public REST API, authenticated like the UI's users are (JWT)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

TERMINAL_RUN_STATES = frozenset({"success", "failed"})


class AirflowApiError(RuntimeError):
    """The API answered with an error status; the message carries method, path, status and body."""


class AirflowApi:
    """Calls ``/api/v2`` with a bearer token from ``POST /auth/token``; the token is renewed on a 401.

    :param base_url: the API server, e.g. ``http://127.0.0.1:8080``.
    :param username: a simple-auth-manager user.
    :param password: its password.
    """

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._client = httpx.Client(base_url=self.base_url, timeout=30.0)
        self._token: str | None = None

    def close(self) -> None:
        self._client.close()

    def token(self) -> str:
        """A JWT for the configured user, fetched once and reused."""
        if self._token is None:
            response = self._client.post("/auth/token", json=self._credentials)
            _raise_for_status(response)
            self._token = str(response.json()["access_token"])
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request to the API; return the decoded JSON body (None when empty)."""
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token()}"}
            response = self._client.request(method, path, headers=headers, **kwargs)
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            _raise_for_status(response)
            return response.json() if response.content else None
        raise AssertionError("unreachable")

    def dag_ids(self, *, prefix: str = "") -> list[str]:
        """Every DAG the metadata database holds, optionally only those whose id starts with ``prefix``.

        Stale DAGs are included: on a busy machine the dag-processor can flag a DAG stale for a moment
        between two parses, and a DAG that exists must not look missing then.
        """
        params = {"limit": 1000, "exclude_stale": False}
        dags = self.request("GET", "/api/v2/dags", params=params)["dags"]
        return sorted(d["dag_id"] for d in dags if d["dag_id"].startswith(prefix))

    def import_errors(self) -> list[dict[str, Any]]:
        """The DAG files that failed to import, with their messages."""
        return list(self.request("GET", "/api/v2/importErrors", params={"limit": 1000})["import_errors"])

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/api/v2/dags/{quote(dag_id)}", json={"is_paused": paused})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Start a run now with ``conf`` as the UI's trigger form sends it; return the run id."""
        body = {"logical_date": None, "conf": conf or {}}
        run = self.request("POST", f"/api/v2/dags/{quote(dag_id)}/dagRuns", json=body)
        return str(run["dag_run_id"])

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        params = {"limit": 100, "order_by": "-start_date"}
        return list(self.request("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns", params=params)["dag_runs"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}"))

    def wait_for_run(self, dag_id: str, run_id: str, *, timeout: float = 300.0) -> dict[str, Any]:
        """Poll a run until it succeeded or failed; return it."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.dag_run(dag_id, run_id)
            if run["state"] in TERMINAL_RUN_STATES:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} of {dag_id} still {run['state']} after {timeout:.0f}s")
            time.sleep(1.0)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances"
        return list(self.request("GET", path, params={"limit": 1000})["task_instances"])

    def task_tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict[str, Any]]:
        """Every attempt of one task instance, oldest first, with start and end dates."""
        path = f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}"
        if map_index >= 0:
            path += f"/{map_index}"
        tries = self.request("GET", path + "/tries")["task_instances"]
        return sorted(tries, key=lambda t: t["try_number"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """The decoded value of one XCom of a run's unmapped task."""
        path = (
            f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}"
            f"/xcomEntries/{quote(key)}"
        )
        return self.request("GET", path, params={"deserialize": True})["value"]


def _raise_for_status(response: httpx.Response) -> None:
    if response.is_success:
        return
    body = response.text[:500]
    raise AirflowApiError(
        f"{response.request.method} {response.request.url.path} answered {response.status_code}: {body}"
    )
