"""The hook reads an Airflow connection into a client configuration that never shows its secret."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from include.datasphere_glue.datasphere.catalog import DatasphereCatalog
from include.datasphere_glue.datasphere.client import DatasphereConfig
from include.datasphere_glue.datasphere.errors import DatasphereConfigError
from include.datasphere_glue.datasphere.hook import DatasphereHook

SECRET = "s3cr3t-never-printed"


def _json_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: object) -> None:
    document = {"conn_type": "datasphere", "login": "sb-client!b1|dwc!b2", "password": SECRET, **fields}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(document))


class TestConnection:
    def test_json_connection_with_extras(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _json_connection(
            monkeypatch,
            "datasphere_default",
            host="https://acme.eu10.hcs.cloud.sap/",
            extra={
                "token_url": "https://acme.authentication.eu10.hana.ondemand.com/oauth/token",
                "timeout": "12.5",
                "page_size": 200,
                "max_concurrency": 16,
                "retry_max_attempts": 3,
                "retry_backoff_seconds": 0.01,
            },
        )

        config = DatasphereHook().get_config()

        assert config.tenant_url == "https://acme.eu10.hcs.cloud.sap"
        assert config.client_id == "sb-client!b1|dwc!b2"
        assert config.client_secret == SECRET
        assert config.resolved_token_url == "https://acme.authentication.eu10.hana.ondemand.com/oauth/token"
        assert (config.timeout, config.page_size, config.max_concurrency) == (12.5, 200, 16)
        assert (config.retry.max_attempts, config.retry.backoff_seconds) == (3, 0.01)

    def test_uri_connection_with_scheme_in_schema_and_port(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(
            "AIRFLOW_CONN_DS_LOCAL", f"datasphere://client:{quote(SECRET)}@127.0.0.1:8765/http"
        )

        config = DatasphereHook("ds_local").get_config()

        assert config.tenant_url == "http://127.0.0.1:8765"
        assert config.resolved_token_url == "http://127.0.0.1:8765/oauth/token"

    def test_host_without_scheme_means_https(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _json_connection(monkeypatch, "ds_plain", host="acme.eu10.hcs.cloud.sap")

        assert DatasphereHook("ds_plain").get_config().tenant_url == "https://acme.eu10.hcs.cloud.sap"

    def test_get_catalog_gives_a_catalog_for_the_tenant(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _json_connection(monkeypatch, "datasphere_default", host="https://acme.eu10.hcs.cloud.sap")

        with DatasphereHook().get_catalog() as catalog:
            assert isinstance(catalog, DatasphereCatalog)
            assert catalog.config.tenant_url == "https://acme.eu10.hcs.cloud.sap"


class TestMistakes:
    def test_misspelt_extra_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _json_connection(monkeypatch, "ds_typo", host="https://t.example", extra={"page_sise": 10})

        with pytest.raises(
            DatasphereConfigError, match=r"connection 'ds_typo': unknown extra\(s\) page_sise"
        ):
            DatasphereHook("ds_typo").get_config()

    def test_page_size_over_500_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _json_connection(monkeypatch, "ds_big", host="https://t.example", extra={"page_size": 1000})

        with pytest.raises(DatasphereConfigError, match="page_size must be 1 to 500, got 1000"):
            DatasphereHook("ds_big").get_config()

    def test_non_number_extra_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _json_connection(monkeypatch, "ds_nan", host="https://t.example", extra={"timeout": "soon"})

        with pytest.raises(DatasphereConfigError, match="extra 'timeout' must be a number, got 'soon'"):
            DatasphereHook("ds_nan").get_config()

    def test_missing_secret_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(
            "AIRFLOW_CONN_DS_NOPASS",
            json.dumps({"conn_type": "datasphere", "host": "t.example", "login": "client"}),
        )

        with pytest.raises(DatasphereConfigError, match=r"client id \(login\) and secret \(password\)"):
            DatasphereHook("ds_nopass").get_config()


class TestSecrecy:
    def test_config_repr_and_str_hide_the_secret(self) -> None:
        config = DatasphereConfig(tenant_url="https://t.example", client_id="client", client_secret=SECRET)

        assert SECRET not in repr(config)
        assert SECRET not in str(config)
        assert "client" in repr(config)
