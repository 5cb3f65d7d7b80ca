"""Errors raised while reading SAP Datasphere; none of them ever carries a secret or a token."""

from __future__ import annotations


class DatasphereError(Exception):
    """Base of every error this package raises about Datasphere."""


class DatasphereAuthError(DatasphereError):
    """The tenant refused the OAuth client, or refused a call even with a fresh token."""


class DatasphereConfigError(DatasphereError):
    """The connection points somewhere that is not the Datasphere API (a login page, another host)."""


class DatasphereUnavailable(DatasphereError):
    """A call kept failing (429, 5xx, network) after every retry the policy allows."""


class DatasphereHTTPError(DatasphereError):
    """A call got a final client error such as 403 or 404.

    :param status_code: the HTTP status the tenant answered.
    :param path: the URL path of the call (never the query string's secrets, of which there are none).
    """

    def __init__(self, status_code: int, path: str, detail: str = "") -> None:
        self.status_code = status_code
        self.path = path
        message = f"GET {path} answered HTTP {status_code}"
        super().__init__(f"{message}: {detail}" if detail else message)


class AssetReadError(DatasphereError):
    """One asset could not be read; other assets are unaffected.

    :param space: the asset's space.
    :param technical_name: the asset's technical name.
    :param cause: what went wrong, in words a user can act on.
    """

    def __init__(self, space: str, technical_name: str, cause: str) -> None:
        self.space = space
        self.technical_name = technical_name
        self.cause = cause
        super().__init__(f"cannot read asset {space}/{technical_name}: {cause}")


class DocumentError(DatasphereError):
    """An EDMX or CSN document could not be understood; the message says where and why."""
