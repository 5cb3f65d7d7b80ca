"""The rules schema's helpers: retry delays as Airflow computes them, priority weights, cron detection."""

from __future__ import annotations

import pytest

from include.datasphere_glue.rules.model import (
    PRIORITY_WEIGHTS,
    JobSettings,
    Priority,
    is_cron_expression,
    retry_delays,
)


def job(**fields: float) -> JobSettings:
    base = {
        "batch_size": 10,
        "pool": "p",
        "pool_slots": 1,
        "retries": 3,
        "retry_delay_seconds": 60,
        "backoff_multiplier": 2.0,
        "max_retry_delay_seconds": 1800,
        "execution_timeout_seconds": 600,
        "max_parallel_requests": 4,
    }
    return JobSettings.model_validate({**base, **fields})


class TestRetryDelays:
    def test_grow_by_the_multiplier(self) -> None:
        assert retry_delays(job()) == [60, 120, 240]

    def test_capped_by_the_maximum(self) -> None:
        assert retry_delays(job(retries=6, retry_delay_seconds=300)) == [300, 600, 1200, 1800, 1800, 1800]

    def test_constant_without_backoff(self) -> None:
        assert retry_delays(job(backoff_multiplier=1, retry_delay_seconds=45)) == [45, 45, 45]

    def test_rounded_up_to_whole_seconds_as_airflow_does(self) -> None:
        assert retry_delays(job(retry_delay_seconds=0.5, backoff_multiplier=1.5, retries=3)) == [1, 1, 2]

    def test_no_retries_no_delays(self) -> None:
        assert retry_delays(job(retries=0)) == []

    def test_cap_below_first_delay_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="is below retry_delay_seconds"):
            job(max_retry_delay_seconds=10)


def test_priority_weights_keep_a_strict_order() -> None:
    weights = [PRIORITY_WEIGHTS[priority] for priority in Priority]
    assert weights == [1000, 800, 600, 400, 200]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0 * * * *", True), ("*/15 6-18 * * MON-FRI", True), ("hourly", False), ("0 * * *", False)],
)
def test_is_cron_expression(value: str, expected: bool) -> None:
    assert is_cron_expression(value) is expected
