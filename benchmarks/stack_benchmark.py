"""Time ./dev up from the run command to a UI that answers and to the demo catalog synced; peak memory.

Runs ``python -m scripts.local_stack`` (what ``./dev up`` runs) on free ports with a fresh, temporary
AIRFLOW_HOME, so the figures include migrating the metadata database and applying the settings. The
rules are the project's own: the scheduled rules run once when they are unpaused, and the demo catalog
counts as synced when every table it should give is in the local Glue. Memory is the sum over the
whole process tree (the run command and everything under it), sampled while the stack runs.

    PYTHONPATH=. .venv/bin/python benchmarks/stack_benchmark.py [--timeout 600]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_CATALOG = PROJECT_ROOT / "emulators" / "datasphere" / "catalogs" / "demo.json"
FLOW_TYPES = {"dataflows", "replicationflows", "transformationflows"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1500.0, help="give up after this many seconds")
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.fixtures.net import free_ports

    ports = dict(zip(("api", "glue", "datasphere"), free_ports(3), strict=True))
    expected = expected_demo_tables()
    with tempfile.TemporaryDirectory(prefix="stack-bench-") as home:
        command = [
            sys.executable,
            "-m",
            "scripts.local_stack",
            "--airflow-home",
            home,
            "--api-port",
            str(ports["api"]),
            "--glue-port",
            str(ports["glue"]),
            "--datasphere-port",
            str(ports["datasphere"]),
        ]
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        sampler = MemorySampler(process.pid)
        sampler.start()
        missing: list[str] = []
        runs: dict[str, list[str]] = {}
        welcome = threading.Event()
        threading.Thread(target=_watch_output, args=(process, welcome), daemon=True).start()
        try:
            ui_at = _wait(lambda: _ui_answers(ports["api"]), started, args.timeout, "the UI to answer")
            welcome.wait(timeout=max(0.0, args.timeout - (time.monotonic() - started)))
            up_at = time.monotonic() - started
            synced_at: float | None = None
            with contextlib.suppress(TimeoutError):
                synced_at = _wait(
                    lambda: expected <= glue_tables(ports["glue"]),
                    started,
                    args.timeout,
                    "the demo catalog in Glue",
                )
            missing = sorted(expected - glue_tables(ports["glue"]))
            runs = rule_runs(home, ports["api"])
        finally:
            stop_started = time.monotonic()
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
            stopped_in = time.monotonic() - stop_started
            sampler.stop()
        leftovers = [p for p in psutil.process_iter(["cmdline"]) if home in " ".join(p.info["cmdline"] or [])]

    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB")
    print(f"run command -> UI answers:                 {ui_at:6.1f} s")
    print(f"run command -> all components ready, DAGs unpaused: {up_at:6.1f} s")
    if synced_at is not None:
        print(f"UI answers -> demo catalog synced ({len(expected)} tables): {synced_at - ui_at:6.1f} s")
        print(f"run command -> demo catalog synced:        {synced_at:6.1f} s")
    else:
        print(
            f"demo catalog NOT synced within {args.timeout:.0f}s: {len(missing)} of {len(expected)} missing"
        )
        print(f"  e.g. {', '.join(missing[:5])}")
    for dag_id, states in runs.items():
        print(f"  {dag_id}: {states}")
    print(f"peak memory, sum of RSS of the process tree: {sampler.peak_rss / 2**20:7.0f} MiB")
    print(f"peak memory, sum of PSS (shared pages split): {sampler.peak_pss / 2**20:7.0f} MiB")
    print(f"processes at the peak: {sampler.peak_processes}")
    print(f"Ctrl-C -> everything stopped: {stopped_in:.1f} s; processes left behind: {len(leftovers)}")
    return 0 if not leftovers else 1


def expected_demo_tables() -> set[str]:
    """Glue tables the demo catalog should give: every non-flow asset of a space the client can read,
    except names that collide after folding (the sync refuses to write those)."""
    catalog = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    tables: set[str] = set()
    for space in catalog["spaces"]:
        if not space.get("member", True):
            continue
        names = [a["name"].lower().replace(".", "_") for a in space["assets"] if a["type"] not in FLOW_TYPES]
        counts = Counter(names)
        tables |= {f"dev_{space['name'].lower()}.{name}" for name in names if counts[name] == 1}
    return tables


def glue_tables(port: int) -> set[str]:
    import boto3

    glue = boto3.client(
        "glue",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="eu-central-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        databases = [d["Name"] for d in glue.get_databases()["DatabaseList"]]
        return {
            f"{db}.{t['Name']}" for db in databases for t in glue.get_tables(DatabaseName=db)["TableList"]
        }
    except Exception:  # the server is still starting
        return set()


def rule_runs(home: str, api_port: int) -> dict[str, list[str]]:
    """Run type and state of every run of every rule DAG, to tell why a table is missing."""
    from scripts.stack.airflow_api import AirflowApi

    password = json.loads((Path(home) / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
    api = AirflowApi(f"http://127.0.0.1:{api_port}", "admin", password)
    try:
        return {
            dag_id: [f"{r['run_type']}:{r['state']}" for r in api.dag_runs(dag_id)]
            for dag_id in api.dag_ids(prefix="datasphere_sync__")
        }
    finally:
        api.close()


class MemorySampler(threading.Thread):
    """Samples the summed RSS (and, less often, PSS) of a process and all its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self._halt = threading.Event()

    def run(self) -> None:
        ticks = 0
        while not self._halt.is_set():
            tree = self._tree()
            self.peak_rss = max(self.peak_rss, sum(_memory(p, "rss") for p in tree))
            self.peak_processes = max(self.peak_processes, len(tree))
            if ticks % 4 == 0:  # PSS reads /proc/*/smaps, which costs more
                self.peak_pss = max(self.peak_pss, sum(_memory(p, "pss") for p in tree))
            ticks += 1
            self._halt.wait(0.5)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


def _memory(process: psutil.Process, kind: str) -> int:
    with contextlib.suppress(psutil.Error):
        info: Any = process.memory_full_info() if kind == "pss" else process.memory_info()
        return int(getattr(info, kind))
    return 0


def _ui_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait(check: Any, started: float, timeout: float, what: str) -> float:
    while not check():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.5)
    return time.monotonic() - started


def _watch_output(process: subprocess.Popen[str], welcome: threading.Event) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("The stack is up"):
            welcome.set()
        if line.startswith("error:"):
            print(line.rstrip(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
