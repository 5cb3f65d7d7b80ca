"""The local Glue: moto's Glue API over connections that stay open, reset on request, regions apart."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest

from emulators.glue.server import GLUE_PARAMETERS, METHOD_NAMES
from tests.fixtures.aws import PROJECT_ROOT, MotoServer

CALLS = 50


class TestConnections:
    def test_a_client_keeps_one_connection_for_many_calls(
        self, moto_server: MotoServer, glue: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        glue.create_database(DatabaseInput={"Name": "dev_sales"})
        caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")

        for index in range(CALLS):
            glue.create_table(DatabaseName="dev_sales", TableInput={"Name": f"t_{index}"})

        opened = [r for r in caplog.records if "new HTTP connection" in r.getMessage()]
        dropped = [r for r in caplog.records if "dropped connection" in r.getMessage()]
        assert (len(opened), len(dropped)) == (0, 0)  # the connection of create_database served them all
        assert len(glue.get_tables(DatabaseName="dev_sales")["TableList"]) == CALLS


class TestState:
    def test_reset_empties_the_catalog(self, moto_server: MotoServer, glue: Any) -> None:
        glue.create_database(DatabaseInput={"Name": "dev_sales"})

        moto_server.reset()

        assert glue.get_databases()["DatabaseList"] == []

    def test_each_region_keeps_its_own_catalog(self, moto_server: MotoServer, glue: Any) -> None:
        glue.create_database(DatabaseInput={"Name": "dev_sales"})

        assert moto_server.glue_client("us-east-1").get_databases()["DatabaseList"] == []
        assert [db["Name"] for db in glue.get_databases()["DatabaseList"]] == ["dev_sales"]


class TestRepeatedWork:
    def test_the_pinned_moto_gets_both_caches(self) -> None:
        # In a process of its own: the caches change moto's classes for the life of the process.
        script = "import json, emulators.glue.server as s; print(json.dumps(s.cache_repeated_work()))"
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        )

        assert json.loads(result.stdout) == [METHOD_NAMES, GLUE_PARAMETERS]
        assert "moto has changed" not in result.stderr
