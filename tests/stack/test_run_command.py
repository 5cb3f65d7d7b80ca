"""The run command stops every process it started on Ctrl-C or SIGTERM (emulators only: quick)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.fixtures.net import free_ports

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_every_process_the_run_command_started(tmp_path: Path, stop_signal: int) -> None:
    glue_port, datasphere_port = free_ports(2)
    command = [
        sys.executable,
        "-m",
        "scripts.local_stack",
        "--no-airflow",
        "--glue-port",
        str(glue_port),
        "--datasphere-port",
        str(datasphere_port),
        "--airflow-home",
        str(tmp_path / "home"),
    ]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    children: list[psutil.Process] = []
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        else:
            pytest.fail("the run command ended before the stack was up:\n" + "".join(lines))
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 2, "moto and the emulator run as children"
        assert f"http://127.0.0.1:{datasphere_port}" in "".join(lines)

        process.send_signal(stop_signal)
        assert process.wait(timeout=60) == 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], f"left running: {[p.cmdline() for p in alive]}"
    finally:
        if process.poll() is None:
            process.kill()
        for child in children:
            if child.is_running():
                child.kill()


def test_a_malformed_settings_file_stops_the_run_command_before_anything_starts(tmp_path: Path) -> None:
    settings = tmp_path / "airflow_settings.yaml"
    settings.write_text("airflow:\n  pools:\n    - pool_name: datasphere_sync\n      pool_slot: lots\n")
    command = [sys.executable, "-m", "scripts.local_stack", "--settings", str(settings)]
    api_port, glue_port, datasphere_port = free_ports(3)
    command += ["--airflow-home", str(tmp_path / "home"), "--api-port", str(api_port)]
    command += ["--glue-port", str(glue_port), "--datasphere-port", str(datasphere_port)]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert (
        "airflow_settings.yaml: pools[0] (datasphere_sync): pool_slot must be an integer, got 'lots'"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "home").exists()
