"""A busy port stops ./dev up before anything starts, with a message that says how to move it."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.local_stack import StackPorts
from scripts.stack.processes import PortBusyError, check_ports_free
from tests.fixtures.net import free_ports

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_free_ports_pass() -> None:
    api_port, glue_port, datasphere_port = free_ports(3)
    check_ports_free(StackPorts(api=api_port, glue=glue_port, datasphere=datasphere_port).claims())


def test_a_busy_port_names_the_service_the_flag_and_the_variable(busy_port: int) -> None:
    api_port, datasphere_port = free_ports(2)
    ports = StackPorts(api=api_port, glue=busy_port, datasphere=datasphere_port)
    with pytest.raises(PortBusyError) as caught:
        check_ports_free(ports.claims())
    assert str(caught.value) == (
        f"port {busy_port} for the local Glue (moto) is already in use by another program; "
        "choose another with --glue-port or DSG_GLUE_PORT"
    )


def test_one_port_given_to_two_services_is_refused() -> None:
    api_port, port = free_ports(2)
    with pytest.raises(PortBusyError, match=f"port {port} is given to both .* and the Datasphere emulator"):
        check_ports_free(StackPorts(api=api_port, glue=port, datasphere=port).claims())


def test_the_run_command_reports_a_busy_port_without_a_traceback(busy_port: int, tmp_path: Path) -> None:
    glue_port, datasphere_port = free_ports(2)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.local_stack",
            "--api-port",
            str(busy_port),
            "--airflow-home",
            str(tmp_path / "home"),
        ],
        cwd=PROJECT_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT_ROOT),
            "DSG_GLUE_PORT": str(glue_port),
            "DSG_DATASPHERE_PORT": str(datasphere_port),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert f"port {busy_port} for the Airflow API server (UI) is already in use" in result.stderr
    assert "--api-port or DSG_API_PORT" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "home").exists(), "nothing may be set up when a port is busy"
