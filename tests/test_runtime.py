"""A rule's engine is wired through Airflow connections, with a Glue client sized for its threads."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from emulators.datasphere.testing import EmulatorProcess
from include.datasphere_glue.runtime import glue_client_config, open_engine
from include.datasphere_glue.sync.engine import GLUE_READERS
from tests.fixtures.aws import REGION, MotoServer
from tests.glue.rules import make_rule


@pytest.fixture
def connections(
    monkeypatch: pytest.MonkeyPatch, datasphere: EmulatorProcess, moto_server: MotoServer
) -> None:
    # The connection's own botocore settings (config_kwargs) must survive the pool sizing.
    extra = {
        "endpoint_url": moto_server.endpoint_url,
        "region_name": REGION,
        "config_kwargs": {"retries": {"max_attempts": 7, "mode": "standard"}},
    }
    monkeypatch.setenv("AIRFLOW_CONN_DATASPHERE_DEFAULT", datasphere.connection_json())
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT", f"aws://testing:testing@/?__extra__={quote(json.dumps(extra))}"
    )


@pytest.mark.usefixtures("connections")
def test_the_glue_client_pools_a_connection_per_engine_thread_and_keeps_the_connection_config(
    glue: object,
) -> None:
    rule = make_rule(job={"max_parallel_requests": 32}, match={"spaces": ["HR"]})

    with open_engine(rule) as engine:
        client = engine.glue._client  # the boto3 client the engine writes through
        assert client.meta.config.max_pool_connections == 32 + GLUE_READERS
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 8}  # 7 retries
        # Glue validates every TableInput itself; botocore keeps the setting out of meta.config.
        assert type(client._serializer).__name__ != "ParamValidationDecorator"
        report = engine.sync_all()

    # Written through the connection's endpoint_url, i.e. into the local Glue.
    assert report.failed == 0 and report.created > 0
    databases = glue.get_databases()["DatabaseList"]  # type: ignore[attr-defined]
    assert {db["Name"] for db in databases} == {"dev_hr"}


def test_a_connection_that_asks_for_client_side_validation_keeps_it() -> None:
    from botocore.config import Config

    assert glue_client_config(None, 8).parameter_validation is False
    assert glue_client_config(Config(parameter_validation=True), 8).parameter_validation is True
