"""Sync counters reach a real StatsD listener through Airflow's own metrics clients."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from include.datasphere_glue.stats import emit_sync_report

SUMMARY = {"created": 3, "updated": 2, "unchanged": 40, "deleted": 0, "failed": 1, "duration_seconds": 12.5}


@pytest.fixture
def statsd_listener() -> Iterator[socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))  # the kernel picks a UDP port that is free now, and keeps it
    listener.settimeout(2.0)
    yield listener
    listener.close()


def configure(monkeypatch: pytest.MonkeyPatch, port: int, **extra: str) -> None:
    """Point Airflow's metrics at the listener the way a deployment's settings would."""
    from airflow.sdk.observability import stats
    from airflow.sdk.observability.metrics.stats_utils import get_stats_factory

    settings = {
        "STATSD_ON": "True",
        "STATSD_HOST": "127.0.0.1",
        "STATSD_PORT": str(port),
        "STATSD_PREFIX": "af",
    }
    for key, value in {**settings, **extra}.items():
        monkeypatch.setenv(f"AIRFLOW__METRICS__{key}", value)
    stats.initialize(factory=get_stats_factory(), export_legacy_names=False)


def received(listener: socket.socket) -> list[str]:
    lines: list[str] = []
    try:
        while True:
            lines += listener.recv(65535).decode().splitlines()
            listener.settimeout(0.3)
    except TimeoutError:
        return lines


@pytest.fixture(autouse=True)
def reset_stats() -> Iterator[None]:
    yield
    from airflow.sdk._shared.observability.metrics.base_stats_logger import NoStatsLogger
    from airflow.sdk.observability import stats

    stats.initialize(factory=NoStatsLogger, export_legacy_names=False)


def test_plain_statsd_gets_rule_and_priority_in_the_name(
    monkeypatch: pytest.MonkeyPatch, statsd_listener: Any
) -> None:
    configure(monkeypatch, statsd_listener.getsockname()[1])
    emit_sync_report("sales", "CRITICAL", SUMMARY)
    lines = received(statsd_listener)

    assert "af.datasphere_sync.CRITICAL.sales.assets.created:3|c" in lines
    assert "af.datasphere_sync.CRITICAL.sales.assets.updated:2|c" in lines
    assert "af.datasphere_sync.CRITICAL.sales.assets.unchanged:40|c" in lines
    assert "af.datasphere_sync.CRITICAL.sales.assets.failed:1|c" in lines
    assert not any(".assets.deleted" in line for line in lines)  # zero counts send nothing
    assert "af.datasphere_sync.CRITICAL.sales.duration:12500.000000|ms" in lines


def test_tagged_statsd_gets_tags(monkeypatch: pytest.MonkeyPatch, statsd_listener: Any) -> None:
    configure(monkeypatch, statsd_listener.getsockname()[1], STATSD_INFLUXDB_ENABLED="True")
    emit_sync_report("sales", "HIGH", SUMMARY)
    lines = received(statsd_listener)

    assert "af.datasphere_sync.assets.created,rule=sales,priority=HIGH:3|c" in lines
    assert "af.datasphere_sync.duration,rule=sales,priority=HIGH:12500.000000|ms" in lines


def test_dry_runs_emit_nothing(monkeypatch: pytest.MonkeyPatch, statsd_listener: Any) -> None:
    configure(monkeypatch, statsd_listener.getsockname()[1])
    emit_sync_report("sales", "HIGH", {**SUMMARY, "dry_run": True})
    assert received(statsd_listener) == []
