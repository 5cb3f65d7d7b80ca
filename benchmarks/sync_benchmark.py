"""Print how fast and lean the sync engine is against a plain sequential loop doing the same work.

A synthetic catalog (default 10,000 assets in 10 spaces) is served by the Datasphere emulator with
20 ms latency per call; Glue is moto in server mode. Both run as subprocesses on free ports and are
stopped at the end. Run from the project root::

    PYTHONPATH=. .venv/bin/python -m benchmarks.sync_benchmark            # the full 10,000 assets
    PYTHONPATH=. .venv/bin/python -m benchmarks.sync_benchmark --assets 1000   # a quick run

Targets: a no-change re-sync makes zero Glue writes, the engine is at least 10 times faster than the
sequential loop, and peak memory stays under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from emulators.datasphere.testing import EmulatorProcess
from include.datasphere_glue.datasphere.catalog import DatasphereCatalog
from include.datasphere_glue.datasphere.client import DatasphereConfig
from include.datasphere_glue.glue.catalog import WRITE_OPERATIONS, GlueCatalog
from include.datasphere_glue.glue.naming import database_name
from include.datasphere_glue.glue.tables import FINGERPRINT_KEY, build_desired_table
from include.datasphere_glue.rules.model import SYNCABLE_TYPES, Defaults, ResolvedRule, SyncRule, resolve
from include.datasphere_glue.runtime import glue_client_config
from include.datasphere_glue.sync.engine import SyncEngine
from tests.fixtures.aws import running_moto

REGION = "eu-central-1"
TARGET_SPEEDUP = 10.0
TARGET_PEAK_MB = 300.0


@dataclass
class Run:
    """What one sync pass cost."""

    name: str
    seconds: float
    cpu_seconds: float
    server_cpu_seconds: dict[str, float]
    datasphere_calls: dict[str, int]
    glue_calls: dict[str, int]
    outcome: dict[str, int] = field(default_factory=dict)

    @property
    def glue_writes(self) -> int:
        return sum(n for operation, n in self.glue_calls.items() if operation in WRITE_OPERATIONS)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; exit 1 when a target is missed."""
    args = _parser().parse_args(argv)
    if args.tracemalloc:
        tracemalloc.start()
    print(
        f"Synthetic catalog: {args.assets} assets in {args.spaces} spaces, {args.latency_ms} ms per "
        f"Datasphere call; engine with {args.workers} parallel requests, batches of {args.batch_size}",
        flush=True,
    )
    with (
        EmulatorProcess(f"synthetic:{args.assets}:{args.spaces}", latency_ms=args.latency_ms) as emulator,
        running_moto("benchmark") as moto,
    ):
        glue_url = moto.endpoint_url
        servers = {"emulator": emulator.pid or 0, "moto": moto.pid}
        rule = _rule(args)
        runs = [
            _measured(servers, _engine_run, "engine: first sync", emulator, glue_url, rule, args),
            _measured(servers, _engine_run, "engine: no-change re-sync", emulator, glue_url, rule, args),
        ]
        peak_mb = _peak_mb()
        moto.reset(timeout=30)
        runs.append(
            _measured(servers, _sequential_run, "sequential: first sync", emulator, glue_url, rule, args)
        )
        if not args.skip_sequential_resync:
            runs.append(
                _measured(
                    servers, _sequential_run, "sequential: no-change re-sync", emulator, glue_url, rule, args
                )
            )
    return _print_results(runs, peak_mb, args)


def _measured(servers: dict[str, int], run: Callable[..., Run], *args: Any) -> Run:
    """Run one pass and add the CPU time the emulator and moto spent serving it."""
    before = {name: _cpu_seconds(pid) for name, pid in servers.items()}
    result = run(*args)
    result.server_cpu_seconds = {name: _cpu_seconds(pid) - before[name] for name, pid in servers.items()}
    return result


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the engine ----------------------------------------------------------------------------------


def _engine_run(name: str, emulator: EmulatorProcess, glue_url: str, rule: ResolvedRule, args: Any) -> Run:
    emulator.admin.clear_calls()
    with DatasphereCatalog(_config(emulator, args.workers)) as source:
        glue = GlueCatalog(_glue_client(glue_url, args.workers))
        engine = SyncEngine(source, glue, rule, max_workers=args.workers)
        started, cpu_started = time.monotonic(), time.process_time()
        report = engine.sync_all()
        seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
    outcome = {k: report.summary()[k] for k in ("created", "updated", "unchanged", "failed", "skipped")}
    print(f"  {name}: {seconds:.1f}s {outcome}", flush=True)
    return Run(name, seconds, cpu_seconds, {}, _datasphere_calls(emulator), dict(glue.calls), outcome)


# --- the plain sequential loop -------------------------------------------------------------------


def _sequential_run(
    name: str, emulator: EmulatorProcess, glue_url: str, rule: ResolvedRule, args: Any
) -> Run:
    """The same work without the engine: one thread, one asset at a time, one GetTable per asset."""
    emulator.admin.clear_calls()
    client = _glue_client(glue_url, 1)
    glue_calls: Counter[str] = Counter()
    client.meta.events.register("before-call.glue.*", lambda model, **_: glue_calls.update([model.name]))
    outcome: Counter[str] = Counter()
    started, cpu_started = time.monotonic(), time.process_time()
    with DatasphereCatalog(_config(emulator, 1)) as source:
        for space in sorted(source.list_spaces()):
            database = database_name(rule, space)
            _ensure_database(client, database)
            for ref in source.list_assets(space, SYNCABLE_TYPES).refs:
                desired = build_desired_table(source.read_asset(ref), rule)
                outcome[_put_table(client, database, desired.table_input, desired.fingerprint)] += 1
    seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
    print(f"  {name}: {seconds:.1f}s {dict(outcome)}", flush=True)
    return Run(name, seconds, cpu_seconds, {}, _datasphere_calls(emulator), dict(glue_calls), dict(outcome))


def _ensure_database(client: Any, database: str) -> None:
    try:
        client.get_database(Name=database)
    except client.exceptions.EntityNotFoundException:
        client.create_database(DatabaseInput={"Name": database})


def _put_table(client: Any, database: str, table_input: dict[str, Any], fingerprint: str) -> str:
    try:
        current = client.get_table(DatabaseName=database, Name=table_input["Name"])["Table"]
    except client.exceptions.EntityNotFoundException:
        client.create_table(DatabaseName=database, TableInput=table_input)
        return "created"
    if current.get("Parameters", {}).get(FINGERPRINT_KEY) == fingerprint:
        return "unchanged"
    client.update_table(DatabaseName=database, TableInput=table_input, SkipArchive=True)
    return "updated"


# --- set-up --------------------------------------------------------------------------------------


def _rule(args: Any) -> ResolvedRule:
    rule = SyncRule.model_validate(
        {
            "name": "benchmark",
            "description": "every table-like asset of every space",
            "owner": "benchmarks",
            "priority": "LOW",
            "frequency": "manual",
            "job": {"batch_size": args.batch_size, "max_parallel_requests": args.workers},
        }
    )
    return resolve(rule, Defaults(), "benchmarks/sync_benchmark.py", 1)


def _config(emulator: EmulatorProcess, concurrency: int) -> DatasphereConfig:
    return DatasphereConfig(
        tenant_url=emulator.url,
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
        token_url=emulator.token_url,
        max_concurrency=concurrency,
    )


def _glue_client(endpoint_url: str, concurrency: int) -> Any:
    """A client configured as production configures it (pool size, validation), on moto's endpoint."""
    return boto3.client(
        "glue",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="benchmark",
        aws_secret_access_key="benchmark",
        config=glue_client_config(None, concurrency),
    )


def _datasphere_calls(emulator: EmulatorProcess) -> dict[str, int]:
    counts = emulator.admin.calls()
    groups = counts.get("calls", counts)
    return {k: int(v) for k, v in groups.items() if isinstance(v, int) and v}


def _peak_mb() -> float:
    if tracemalloc.is_tracing():
        return tracemalloc.get_traced_memory()[1] / 2**20
    # ru_maxrss is in kilobytes on Linux: the process's resident high-water mark so far
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- output --------------------------------------------------------------------------------------


def _print_results(runs: list[Run], peak_mb: float, args: Any) -> int:
    print()
    width = max(len(run.name) for run in runs)
    for run in runs:
        print(
            f"{run.name:<{width}}  {run.seconds:8.1f}s wall  {run.cpu_seconds:7.1f}s CPU (this process)  "
            f"Glue writes {run.glue_writes:6d}"
        )
        servers = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in run.server_cpu_seconds.items())
        print(f"{'':<{width}}  server CPU       {servers}")
        print(f"{'':<{width}}  Datasphere calls {json.dumps(run.datasphere_calls, sort_keys=True)}")
        print(f"{'':<{width}}  Glue calls       {json.dumps(run.glue_calls, sort_keys=True)}")
    by_name = {run.name: run for run in runs}
    checks: list[tuple[str, bool]] = []
    first_ratio = _ratio(by_name, "first sync")
    checks.append(
        (
            f"first sync {first_ratio:.1f}x faster than the sequential loop (target >= 10x)",
            first_ratio >= TARGET_SPEEDUP,
        )
    )
    if "sequential: no-change re-sync" in by_name:
        resync_ratio = _ratio(by_name, "no-change re-sync")
        checks.append(
            (
                f"no-change re-sync {resync_ratio:.1f}x faster than the sequential loop (target >= 10x)",
                resync_ratio >= TARGET_SPEEDUP,
            )
        )
    resync_writes = by_name["engine: no-change re-sync"].glue_writes
    checks.append((f"no-change re-sync made {resync_writes} Glue writes (target 0)", resync_writes == 0))
    measure = "tracemalloc peak" if args.tracemalloc else "peak RSS of the process"
    checks.append(
        (f"{measure} {peak_mb:.0f} MB during the engine runs (target < 300 MB)", peak_mb < TARGET_PEAK_MB)
    )
    print()
    print(
        "load average (1, 5, 15 min) at the end: "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
        + f" on {os.cpu_count()} CPUs; the servers share them with this process"
    )
    for text, passed in checks:
        print(f"[{'ok' if passed else 'MISSED'}] {text}")
    return 0 if all(passed for _, passed in checks) else 1


def _ratio(runs: dict[str, Run], kind: str) -> float:
    engine, sequential = runs[f"engine: {kind}"], runs[f"sequential: {kind}"]
    return sequential.seconds / engine.seconds if engine.seconds else float("inf")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sync_benchmark",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--assets", type=int, default=10_000, help="assets in the synthetic catalog")
    parser.add_argument("--spaces", type=int, default=10, help="spaces they are spread over")
    parser.add_argument("--latency-ms", type=int, default=20, help="emulated latency per Datasphere call")
    parser.add_argument("--workers", type=int, default=32, help="the engine's parallel requests (1..64)")
    parser.add_argument("--batch-size", type=int, default=50, help="assets per sync job")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="measure the Python heap peak instead of the process RSS (slows everything)",
    )
    parser.add_argument(
        "--skip-sequential-resync",
        action="store_true",
        help="time only the sequential first sync (saves minutes at full size)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
