"""Render the sync figures in the Prometheus text exposition format (version 0.0.4)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_HELP: dict[str, tuple[str, str]] = {
    "datasphere_sync_window_seconds": ("gauge", "Length of the window the windowed figures cover."),
    "datasphere_sync_runs": ("gauge", "Runs of a rule due in the window, by state."),
    "datasphere_sync_jobs": (
        "gauge",
        "Sync jobs (mapped sync_stage_* tasks) of a rule's runs in the window, by state.",
    ),
    "datasphere_sync_success_ratio": (
        "gauge",
        "Share of a rule's finished runs in the window that succeeded.",
    ),
    "datasphere_sync_job_duration_seconds": (
        "gauge",
        "Nearest-rank quantile of a rule's finished job durations.",
    ),
    "datasphere_sync_assets": (
        "gauge",
        "Assets in the final reports of a rule's runs in the window, by outcome.",
    ),
    "datasphere_sync_assets_per_minute": ("gauge", "Assets synced per minute of reported sync time."),
    "datasphere_sync_last_success_age_seconds": (
        "gauge",
        "Seconds since a rule's last successful run ended.",
    ),
    "datasphere_sync_freshness_promise_seconds": (
        "gauge",
        "Age a rule's frequency allows before it is late.",
    ),
    "datasphere_sync_late": (
        "gauge",
        "1 when a rule's last successful sync is older than its frequency allows.",
    ),
    "datasphere_sync_queue_jobs": ("gauge", "Sync jobs now in a state, by priority and pool."),
    "datasphere_sync_pool_slots": (
        "gauge",
        "Slots of a pool now, by kind (total, used, open, running, queued).",
    ),
}


def render(summary: dict[str, Any], rules: dict[str, Any], queue: dict[str, Any]) -> str:
    """Render the same figures the JSON API returns as Prometheus text.

    :param summary: the ``/summary`` document (for the window).
    :param rules: the ``/rules`` document.
    :param queue: the ``/queue`` document.
    """
    samples: dict[str, list[str]] = {name: [] for name in _HELP}

    def add(name: str, labels: dict[str, Any], value: Any) -> None:
        if value is None:
            return
        samples[name].append(f"{name}{_labels(labels)} {_number(value)}")

    add("datasphere_sync_window_seconds", {}, summary["window"]["seconds"])
    for entry in rules["rules"]:
        rule = {"rule": entry["rule"], "priority": entry["priority"]}
        for state, count in entry["runs"].items():
            add("datasphere_sync_runs", {**rule, "state": state}, count)
        for state, count in entry["jobs"].items():
            add("datasphere_sync_jobs", {**rule, "state": state}, count)
        add("datasphere_sync_success_ratio", rule, entry["success_rate"])
        for quantile, key in (("0.5", "p50"), ("0.95", "p95")):
            add(
                "datasphere_sync_job_duration_seconds",
                {**rule, "quantile": quantile},
                entry["job_duration_seconds"][key],
            )
        for outcome, count in entry["assets"].items():
            add("datasphere_sync_assets", {**rule, "outcome": outcome}, count)
        add("datasphere_sync_assets_per_minute", rule, entry["assets_per_minute"])
        freshness = entry["freshness"]
        add("datasphere_sync_last_success_age_seconds", rule, freshness["age_seconds"])
        add(
            "datasphere_sync_freshness_promise_seconds",
            {**rule, "frequency": entry["frequency"]},
            freshness["promise_seconds"],
        )
        add("datasphere_sync_late", rule, 1 if freshness["late"] else 0)
    for priority, lane in queue["by_priority"].items():
        for state, count in lane.items():
            if state != "waiting":
                add("datasphere_sync_queue_jobs", {"priority": priority, "state": state}, count)
    for pool, lane in queue["by_pool"].items():
        for state, count in lane.items():
            if state != "waiting":
                add("datasphere_sync_queue_jobs", {"pool": pool, "state": state}, count)
    for pool, slots in (queue["pools"] or {}).items():
        for kind in ("total", "used", "open", "running", "queued", "scheduled", "deferred"):
            add("datasphere_sync_pool_slots", {"pool": pool, "kind": kind}, slots[kind])
    return "".join(_family(name, lines) for name, lines in samples.items())


def _family(name: str, lines: Iterable[str]) -> str:
    kind, help_text = _HELP[name]
    body = "".join(f"{line}\n" for line in lines)
    return f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n{body}"


def _labels(labels: dict[str, Any]) -> str:
    if not labels:
        return ""
    pairs = ",".join(f'{key}="{_escape(str(value))}"' for key, value in labels.items())
    return "{" + pairs + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: Any) -> str:
    number = float(value)
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)
