"""Keep secrets out of anything the metrics plugin shows: error messages are cut and scrubbed."""

from __future__ import annotations

import re
from typing import Any

MAX_MESSAGE_CHARS = 400
MAX_ERRORS_SHOWN = 5

_MASK = "***"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # user:password@ inside URLs
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), rf"\1{_MASK}@"),
    # key=value / key: value / "key": "value" for secret-looking keys
    (
        re.compile(
            r"(?i)\b((?:client_)?secret|password|passwd|pwd|token|access_token|refresh_token|id_token|"
            r"api[_-]?key|authorization|aws_secret_access_key|aws_session_token|session_token|"
            r"credentials?|private_key)\b([\"']?\s*[:=]\s*[\"']?)(?:bearer\s+|basic\s+)?[^\s\"',;&}]+"
        ),
        rf"\1\2{_MASK}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {_MASK}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), _MASK),  # JWTs
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), _MASK),  # AWS access key ids
    (re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"), _MASK),  # AWS secret keys
)


def scrub(message: Any) -> str:
    """Return a message safe to show: secret-looking values masked, length capped.

    Airflow's own masker runs first, so any secret it knows of in this process is masked too.

    :param message: anything; it is turned into text first.
    """
    text = str(message)
    try:
        from airflow.sdk._shared.secrets_masker.secrets_masker import redact

        text = str(redact(text))
    except Exception:  # the pattern pass below still runs; masking must never break the page
        pass
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    return text


def report_errors(report: Any) -> list[str]:
    """Pull the error lines out of a job report, whichever shape its ``errors`` field has.

    Reports carry ``errors`` as a mapping of asset to message, or a list of strings or of
    ``{"asset", "message"}`` objects; anything else gives no lines.
    """
    if not isinstance(report, dict):
        return []
    errors = report.get("errors")
    lines: list[str] = []
    if isinstance(errors, dict):
        lines = [f"{asset}: {message}" for asset, message in errors.items()]
    elif isinstance(errors, list):
        for entry in errors:
            if isinstance(entry, dict):
                asset = entry.get("asset") or entry.get("name") or ""
                message = entry.get("message") or entry.get("error") or ""
                lines.append(f"{asset}: {message}" if asset else str(message))
            else:
                lines.append(str(entry))
    return [scrub(line) for line in lines[:MAX_ERRORS_SHOWN]]
