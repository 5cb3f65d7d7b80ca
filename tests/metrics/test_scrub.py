"""Error messages shown by the metrics plugin keep no secret."""

from __future__ import annotations

import pytest

from include.datasphere_glue.metrics.scrub import MAX_ERRORS_SHOWN, MAX_MESSAGE_CHARS, report_errors, scrub


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("token request failed: client_secret=s3cr3t-value&grant_type=client_credentials", "s3cr3t-value"),
        ('{"password": "hunter2", "user": "bob"}', "hunter2"),
        ("GET https://bob:pa55word@tenant.example/api failed", "pa55word"),
        ("Authorization: Bearer abcdefghijklmnop.qrstuv", "abcdefghijklmnop"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl rejected", "eyJhbGciOiJIUzI1NiJ9"),
        ("key AKIAIOSFODNN7EXAMPLE denied", "AKIAIOSFODNN7EXAMPLE"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("api_key: 0123456789abcdef", "0123456789abcdef"),
    ],
)
def test_secrets_are_masked(message: str, secret: str) -> None:
    shown = scrub(message)
    assert secret not in shown
    assert "***" in shown


def test_ordinary_messages_stay_readable() -> None:
    message = "SALES/V_ORDERS: column AMOUNT has type DECIMAL(40,2) that Glue cannot hold"
    assert scrub(message) == message


def test_long_messages_are_cut() -> None:
    assert len(scrub("x " * 1000)) == MAX_MESSAGE_CHARS


def test_report_errors_reads_every_shape() -> None:
    assert report_errors({"errors": {"S/A": "boom"}}) == ["S/A: boom"]
    assert report_errors({"errors": ["plain"]}) == ["plain"]
    assert report_errors({"errors": [{"asset": "S/A", "message": "boom"}]}) == ["S/A: boom"]
    assert report_errors({"errors": {f"S/{n}": "x" for n in range(20)}}) == [
        f"S/{n}: x" for n in range(MAX_ERRORS_SHOWN)
    ]
    assert report_errors("not a report") == []
