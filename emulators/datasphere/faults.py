"""Faults the emulator injects into API calls: latency, 429s, 5xx, HTML login pages, token expiry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TOKEN_PATH = "/oauth/token"

LOGIN_PAGE = """<!DOCTYPE html>
<html><head><title>Sign in to your account</title></head>
<body><form method="post" action="/saml2/idp/sso">
<h1>Sign in</h1><label>E-Mail or User Name <input name="j_username"></label>
<label>Password <input type="password" name="j_password"></label><button>Continue</button>
</form></body></html>
"""


class FaultError(ValueError):
    """An admin request that does not describe faults the emulator knows."""


@dataclass
class CountedFault:
    """A fault answered to the next ``remaining`` API calls whose path starts with ``path_prefix``.

    Without a prefix the fault hits every API call except the token endpoint, so that a test of catalog
    retries is not spent on the token request; give ``path_prefix="/oauth/token"`` (or ``"/"``) to fail
    token requests too.
    """

    remaining: int = 0
    path_prefix: str | None = None
    status: int = 0
    retry_after: int = 0

    def take(self, path: str) -> bool:
        """Consume one occurrence if this fault applies to ``path``."""
        if self.remaining <= 0:
            return False
        applies = path.startswith(self.path_prefix) if self.path_prefix else not path.startswith(TOKEN_PATH)
        if applies:
            self.remaining -= 1
        return applies

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.remaining,
            "path_prefix": self.path_prefix,
            **({"status": self.status} if self.status else {}),
            **({"retry_after": self.retry_after} if self.retry_after else {}),
        }


@dataclass
class Faults:
    """The faults in force; the server consults them before it looks at a request."""

    latency_ms: int = 0
    token_lifetime: int = 3600
    rate_limit: CountedFault = field(default_factory=lambda: CountedFault(status=429, retry_after=1))
    server_errors: CountedFault = field(default_factory=lambda: CountedFault(status=503))
    html_login: CountedFault = field(default_factory=lambda: CountedFault(status=200))

    def update(self, settings: dict[str, Any]) -> bool:
        """Merge admin settings into the faults in force; return True when tokens must expire now.

        :param settings: keys ``latency_ms``, ``token_lifetime``, ``expire_tokens``, ``rate_limit``
            (``count``, ``retry_after``, ``path_prefix``), ``server_errors`` (``count``, ``status``,
            ``path_prefix``) and ``html_login`` (``count``, ``path_prefix``).
        """
        unknown = set(settings) - {
            "latency_ms",
            "token_lifetime",
            "expire_tokens",
            "rate_limit",
            "server_errors",
            "html_login",
        }
        if unknown:
            raise FaultError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        if "latency_ms" in settings:
            self.latency_ms = _non_negative(settings, "latency_ms")
        if "token_lifetime" in settings:
            self.token_lifetime = _non_negative(settings, "token_lifetime")
        if "rate_limit" in settings:
            raw = _counted(settings, "rate_limit")
            self.rate_limit = CountedFault(
                remaining=_non_negative(raw, "count"),
                path_prefix=raw.get("path_prefix"),
                status=429,
                retry_after=_non_negative(raw, "retry_after", default=1),
            )
        if "server_errors" in settings:
            raw = _counted(settings, "server_errors")
            status = int(raw.get("status", 503))
            if status not in (500, 502, 503, 504):
                raise FaultError("server_errors.status must be 500, 502, 503 or 504")
            self.server_errors = CountedFault(
                remaining=_non_negative(raw, "count"), path_prefix=raw.get("path_prefix"), status=status
            )
        if "html_login" in settings:
            raw = _counted(settings, "html_login")
            # A login page is a 200: the proxy answers in place of the service.
            self.html_login = CountedFault(
                status=200, remaining=_non_negative(raw, "count"), path_prefix=raw.get("path_prefix")
            )
        return bool(settings.get("expire_tokens"))

    def to_json(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "token_lifetime": self.token_lifetime,
            "rate_limit": self.rate_limit.to_json(),
            "server_errors": self.server_errors.to_json(),
            "html_login": self.html_login.to_json(),
        }


def _counted(settings: dict[str, Any], key: str) -> dict[str, Any]:
    raw = settings[key]
    if isinstance(raw, int):
        return {"count": raw}
    if not isinstance(raw, dict):
        raise FaultError(f"{key} must be an object with 'count' (or a bare count)")
    return raw


def _non_negative(raw: dict[str, Any], key: str, *, default: int = 0) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError(f"{key} must be a non-negative number, got {value!r}")
    return int(value)
