"""The Airflow hook that turns a ``datasphere`` connection into a :class:`DatasphereCatalog`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from airflow.sdk import BaseHook

from include.datasphere_glue.datasphere.catalog import DatasphereCatalog
from include.datasphere_glue.datasphere.client import DatasphereConfig, RetryPolicy
from include.datasphere_glue.datasphere.errors import DatasphereConfigError

_Number = TypeVar("_Number", int, float)

# Extras a connection may carry, with the type each is read as; anything else is a typo worth naming.
_EXTRAS: dict[str, type] = {
    "token_url": str,
    "timeout": float,
    "page_size": int,
    "max_concurrency": int,
    "retry_max_attempts": int,
    "retry_backoff_seconds": float,
    "retry_max_backoff_seconds": float,
    "retry_max_total_seconds": float,
}


class DatasphereHook(BaseHook):
    """Read SAP Datasphere through an Airflow connection of type ``datasphere``.

    The connection's host is the tenant URL (``https://`` is assumed when it has no scheme; the schema
    field may say ``http`` for a local emulator), login and password are the OAuth client id and secret.
    Extras: ``token_url`` (default ``{host}/oauth/token``), ``timeout``, ``page_size`` (at most 500),
    ``max_concurrency``, ``retry_max_attempts``, ``retry_backoff_seconds``, ``retry_max_backoff_seconds``
    and ``retry_max_total_seconds``.

    :param datasphere_conn_id: the Airflow connection to read.
    """

    conn_name_attr = "datasphere_conn_id"
    default_conn_name = "datasphere_default"
    conn_type = "datasphere"
    hook_name = "SAP Datasphere"

    def __init__(self, datasphere_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.datasphere_conn_id = datasphere_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel the connection form's fields in Datasphere's terms."""
        return {
            "hidden_fields": ["port"],
            "relabeling": {
                "host": "Tenant URL",
                "schema": "Scheme (https unless a local emulator)",
                "login": "OAuth client ID",
                "password": "OAuth client secret",
            },
            "placeholders": {
                "host": "https://<tenant>.<region>.hcs.cloud.sap",
                "extra": '{"token_url": '
                '"https://<tenant>.authentication.<region>.hana.ondemand.com/oauth/token"}',
            },
        }

    def get_config(self) -> DatasphereConfig:
        """Build the client configuration from the connection.

        :raises DatasphereConfigError: naming the connection and the field that is wrong.
        """
        connection = self.get_connection(self.datasphere_conn_id)
        try:
            return config_from_connection(
                host=connection.host,
                scheme=connection.schema,
                port=connection.port,
                client_id=connection.login,
                client_secret=connection.password,
                extras=connection.extra_dejson,
            )
        except DatasphereConfigError as error:
            raise DatasphereConfigError(f"connection {self.datasphere_conn_id!r}: {error}") from None

    def get_catalog(self) -> DatasphereCatalog:
        """Return a catalog reader for the connection's tenant; close it (or use ``with``) when done."""
        return DatasphereCatalog(self.get_config())

    def get_conn(self) -> DatasphereCatalog:
        """Return a catalog reader, as :meth:`get_catalog` does."""
        return self.get_catalog()


def config_from_connection(
    *,
    host: str | None,
    client_id: str | None,
    client_secret: str | None,
    extras: Mapping[str, Any],
    scheme: str | None = None,
    port: int | None = None,
) -> DatasphereConfig:
    """Build a :class:`DatasphereConfig` from the fields of an Airflow connection.

    :param host: the tenant URL, with or without scheme.
    :param client_id: the OAuth client id (the connection's login).
    :param client_secret: the OAuth client secret (the connection's password).
    :param extras: the connection's extras.
    :param scheme: scheme to use when ``host`` has none (the connection's schema field).
    :param port: port to add when ``host`` names none.
    :raises DatasphereConfigError: naming the field that is missing or wrong.
    """
    if not host:
        raise DatasphereConfigError("host (the tenant URL) is empty")
    unknown = sorted(set(extras) - set(_EXTRAS))
    if unknown:
        raise DatasphereConfigError(
            f"unknown extra(s) {', '.join(unknown)}; known extras: {', '.join(sorted(_EXTRAS))}"
        )
    defaults = RetryPolicy()
    retry = RetryPolicy(
        max_attempts=_number(extras, "retry_max_attempts", int, defaults.max_attempts),
        backoff_seconds=_number(extras, "retry_backoff_seconds", float, defaults.backoff_seconds),
        max_backoff_seconds=_number(extras, "retry_max_backoff_seconds", float, defaults.max_backoff_seconds),
        max_total_seconds=_number(extras, "retry_max_total_seconds", float, defaults.max_total_seconds),
    )
    return DatasphereConfig(
        tenant_url=_tenant_url(host, scheme, port),
        client_id=client_id or "",
        client_secret=client_secret or "",
        token_url=str(extras["token_url"]) if extras.get("token_url") else None,
        timeout=_number(extras, "timeout", float, 30.0),
        page_size=_number(extras, "page_size", int, 500),
        max_concurrency=_number(extras, "max_concurrency", int, 8),
        retry=retry,
    )


def _tenant_url(host: str, scheme: str | None, port: int | None) -> str:
    url = host if "://" in host else f"{scheme or 'https'}://{host}"
    if port and urlsplit(url).port is None:
        parts = urlsplit(url)
        url = parts._replace(netloc=f"{parts.netloc}:{port}").geturl()
    return url


def _number(
    extras: Mapping[str, Any], name: str, kind: Callable[[Any], _Number], default: _Number
) -> _Number:
    value = extras.get(name)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise DatasphereConfigError(f"extra {name!r} must be a number, got {value!r}") from None
