"""What a sync did: counts, per-asset errors, conflicts, notes, durations and calls, small enough for XCom."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SUMMARY_LIST_CAP = 50
COUNT_FIELDS = ("created", "updated", "unchanged", "deleted", "skipped", "failed")


class SyncFailed(Exception):
    """A sync job finished, but some assets failed; raised last so that Airflow retries the job."""


@dataclass
class SyncReport:
    """The outcome of one sync job, of a finalize step, or of a whole run once merged.

    :param errors: asset key (``space/technical_name``) or step → why it failed.
    :param conflicts: asset key → what had been changed by hand in Glue and was put back.
    :param skips: asset key → why it was left alone (e.g. an unowned table of that name).
    :param notes: type mapping fallbacks and truncations.
    :param warnings: things that limited the run, e.g. an incomplete listing that stopped deletions.
    :param actions: for dry runs, what a real run would do, one line each.
    :param durations: seconds per phase (list, read, map, plan, apply, lineage, delete).
    :param calls: API calls made, e.g. ``glue.GetTables`` or ``datasphere.catalog``.
    """

    rule: str = ""
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    failed: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, str] = field(default_factory=dict)
    skips: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    duration_seconds: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, outcome: str, n: int = 1) -> None:
        """Add to one of the outcome counters; safe to call from worker threads."""
        if outcome not in COUNT_FIELDS:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {COUNT_FIELDS}")
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + n)

    def fail(self, key: str, message: str) -> None:
        """Record a failed asset (or step) and why."""
        with self._lock:
            self.failed += 1
            self.errors[key] = message

    def skip(self, key: str, reason: str) -> None:
        """Record an asset left alone on purpose, and why."""
        with self._lock:
            self.skipped += 1
            self.skips[key] = reason

    def conflict(self, key: str, what: str) -> None:
        """Record a table that had been changed by hand and was put back from the source."""
        with self._lock:
            self.conflicts[key] = what

    def note(self, *lines: str) -> None:
        """Record type mapping fallbacks and truncations."""
        with self._lock:
            self.notes.extend(lines)

    def act(self, line: str) -> None:
        """Record what a dry run would do."""
        with self._lock:
            self.actions.append(line)

    def add_time(self, phase: str, seconds: float) -> None:
        """Add the time a phase took."""
        with self._lock:
            self.durations[phase] = round(self.durations.get(phase, 0.0) + seconds, 3)

    def add_calls(self, prefix: str, calls: Mapping[str, int]) -> None:
        """Add API call counts, each under ``prefix.name``."""
        with self._lock:
            for name, n in calls.items():
                key = f"{prefix}.{name}"
                self.calls[key] = self.calls.get(key, 0) + n

    @property
    def has_failures(self) -> bool:
        """Whether any asset or step failed."""
        return self.failed > 0 or bool(self.errors)

    def raise_for_failures(self) -> None:
        """Raise :class:`SyncFailed` naming the failures, when there were any.

        :raises SyncFailed: at the end of a job in which any asset or step failed.
        """
        if not self.has_failures:
            return
        first = "; ".join(f"{key}: {message}" for key, message in list(self.errors.items())[:5])
        more = f" (+{len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        raise SyncFailed(
            f"rule '{self.rule}': {self.failed} asset(s) failed, {self.created} created, {self.updated} "
            f"updated, {self.unchanged} unchanged, {self.deleted} deleted: {first}{more}"
        )

    def summary(self) -> dict[str, Any]:
        """A small JSON-serialisable view (lists capped) to return as a task's XCom."""
        result: dict[str, Any] = {"rule": self.rule, "dry_run": self.dry_run}
        result.update({name: getattr(self, name) for name in COUNT_FIELDS})
        for name in ("errors", "conflicts", "skips"):
            items: dict[str, str] = getattr(self, name)
            result[name] = dict(list(items.items())[:SUMMARY_LIST_CAP])
            result[f"{name}_more"] = max(0, len(items) - SUMMARY_LIST_CAP)
        for name in ("notes", "warnings", "actions"):
            values: list[str] = getattr(self, name)
            result[name] = values[:SUMMARY_LIST_CAP]
            result[f"{name}_more"] = max(0, len(values) - SUMMARY_LIST_CAP)
        result["durations"] = dict(self.durations)
        result["duration_seconds"] = round(self.duration_seconds, 3)
        result["calls"] = dict(self.calls)
        return result

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> SyncReport:
        """Rebuild a report from :meth:`summary` (lists stay capped; the counts are exact)."""
        report = cls(rule=summary.get("rule", ""), dry_run=bool(summary.get("dry_run", False)))
        for name in COUNT_FIELDS:
            setattr(report, name, int(summary.get(name, 0)))
        for name in ("errors", "conflicts", "skips"):
            getattr(report, name).update(summary.get(name, {}))
        for name in ("notes", "warnings", "actions"):
            getattr(report, name).extend(summary.get(name, []))
            if summary.get(f"{name}_more"):
                getattr(report, name).append(f"... and {summary[f'{name}_more']} more")
        report.durations.update(summary.get("durations", {}))
        report.duration_seconds = float(summary.get("duration_seconds", 0.0))
        report.calls.update(summary.get("calls", {}))
        return report

    @classmethod
    def merge(cls, reports: Iterable[SyncReport]) -> SyncReport:
        """Combine the reports of a run's jobs into one: counts, calls and durations add up."""
        merged = cls()
        for report in reports:
            merged.rule = merged.rule or report.rule
            merged.dry_run = merged.dry_run or report.dry_run
            for name in COUNT_FIELDS:
                setattr(merged, name, getattr(merged, name) + getattr(report, name))
            merged.errors.update(report.errors)
            merged.conflicts.update(report.conflicts)
            merged.skips.update(report.skips)
            merged.notes.extend(report.notes)
            merged.warnings.extend(w for w in report.warnings if w not in merged.warnings)
            merged.actions.extend(report.actions)
            for phase, seconds in report.durations.items():
                merged.add_time(phase, seconds)
            for key, n in report.calls.items():
                merged.calls[key] = merged.calls.get(key, 0) + n
            merged.duration_seconds += report.duration_seconds
        return merged
