"""The sync report: small summaries for XCom, exact counts through merge, and the failure at the end."""

from __future__ import annotations

import json

import pytest

from include.datasphere_glue.sync.report import SUMMARY_LIST_CAP, SyncFailed, SyncReport


def busy_report(failures: int) -> SyncReport:
    report = SyncReport(rule="sales", created=3, unchanged=1000)
    for i in range(failures):
        report.fail(f"SALES/T{i}", "HTTP 500 after retries " + "x" * 200)
    report.notes.extend(f"note {i}" for i in range(500))
    report.add_time("sync", 1.25)
    report.add_calls("glue", {"GetTables": 2})
    return report


def test_summary_caps_lists_and_counts_the_rest() -> None:
    summary = busy_report(failures=400).summary()
    assert len(summary["errors"]) == SUMMARY_LIST_CAP and summary["errors_more"] == 400 - SUMMARY_LIST_CAP
    assert len(summary["notes"]) == SUMMARY_LIST_CAP and summary["notes_more"] == 450
    assert summary["failed"] == 400 and summary["unchanged"] == 1000
    assert summary["calls"] == {"glue.GetTables": 2} and summary["durations"] == {"sync": 1.25}
    assert len(json.dumps(summary)) < 20_000  # an XCom, whatever the size of the run


def test_merge_adds_counts_calls_and_durations() -> None:
    merged = SyncReport.merge([busy_report(2), busy_report(1), SyncReport(rule="sales", deleted=4)])
    assert (merged.created, merged.failed, merged.deleted, merged.unchanged) == (6, 3, 4, 2000)
    assert merged.calls == {"glue.GetTables": 4} and merged.durations == {"sync": 2.5}
    assert set(merged.errors) == {"SALES/T0", "SALES/T1"}


def test_summaries_round_trip_with_exact_counts() -> None:
    original = busy_report(failures=120)
    rebuilt = SyncReport.from_summary(original.summary())
    assert (rebuilt.failed, rebuilt.created, rebuilt.unchanged) == (120, 3, 1000)
    assert rebuilt.notes[-1] == "... and 450 more"


def test_failures_raise_at_the_end_naming_assets() -> None:
    SyncReport(rule="sales", created=5).raise_for_failures()  # no failure: nothing raised
    with pytest.raises(SyncFailed, match=r"rule 'sales': 7 asset\(s\) failed.*SALES/T0.*\(\+2 more\)"):
        busy_report(failures=7).raise_for_failures()


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        SyncReport().count("vanished")
