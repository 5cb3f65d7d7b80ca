"""Run the whole product locally: Datasphere emulator, local Glue (moto), and Airflow 3 on SQLite.

``./dev up`` runs this module. It migrates the metadata database under ``.local/airflow``, applies
``airflow_settings.yaml`` with connections pointed at the local emulators, starts every process in a
process group of its own, waits until each answers, unpauses the rule DAGs and prints how to log in.
Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from scripts.apply_settings import SettingsError, load_settings
from scripts.stack.airflow_api import AirflowApi
from scripts.stack.processes import (
    PortBusyError,
    PortClaim,
    Service,
    check_ports_free,
    stop_services,
    wait_until,
)

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AIRFLOW_HOME = PROJECT_ROOT / ".local" / "airflow"
RULE_DAG_PREFIX = "datasphere_sync__"
DAG_FILE = "datasphere_sync.py"
ADMIN_USER = "admin"
LOOPBACK = "127.0.0.1"
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


@dataclass(frozen=True)
class StackPorts:
    """The loopback ports the stack listens on."""

    api: int = 8080
    glue: int = 5000
    datasphere: int = 8090

    def claims(self, *, airflow: bool = True) -> list[PortClaim]:
        claims = [
            PortClaim("the local Glue (moto)", self.glue, "--glue-port", "DSG_GLUE_PORT"),
            PortClaim("the Datasphere emulator", self.datasphere, "--datasphere-port", "DSG_DATASPHERE_PORT"),
        ]
        if airflow:
            claims.insert(0, PortClaim("the Airflow API server (UI)", self.api, "--api-port", "DSG_API_PORT"))
        return claims


@dataclass(frozen=True)
class StackConfig:
    """Where the stack keeps its state and how it is wired.

    :param airflow_home: metadata database, logs, generated passwords; never inside the package code.
    :param rules_dir: rules folder the DAG file reads (``DATASPHERE_GLUE_RULES_DIR``); None keeps its default.
    :param settings_file: the Astro-format settings file applied on start.
    :param catalog: the emulator's catalog (``demo`` or a catalog file).
    :param airflow: False starts only the emulators.
    :param airflow_env: extra ``AIRFLOW__...`` settings, e.g. shorter heartbeat timeouts for tests.
    :param emulator_args: extra command-line arguments of the Datasphere emulator.
    """

    airflow_home: Path = DEFAULT_AIRFLOW_HOME
    ports: StackPorts = field(default_factory=StackPorts)
    rules_dir: Path | None = None
    settings_file: Path = PROJECT_ROOT / "airflow_settings.yaml"
    catalog: str = "demo"
    airflow: bool = True
    parallelism: int = 4
    airflow_env: Mapping[str, str] = field(default_factory=dict)
    emulator_args: Sequence[str] = ()
    start_timeout: float = 180.0

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.api}"

    @property
    def glue_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.glue}"

    @property
    def datasphere_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.datasphere}"

    @property
    def log_dir(self) -> Path:
        return self.airflow_home / "stack-logs"


def airflow_environment(config: StackConfig) -> dict[str, str]:
    """The environment every Airflow process of the stack runs with.

    Everything is set through ``AIRFLOW__...`` variables, so the generated ``airflow.cfg`` in
    ``AIRFLOW_HOME`` only keeps the secrets Airflow generates once (JWT and API secret keys), which
    all components then share.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__")}
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        {
            "AIRFLOW_HOME": str(config.airflow_home),
            # Airflow starts some of its own subcommands by name, and the DAGs import ``include.``.
            "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": _prepend_path(str(PROJECT_ROOT), env.get("PYTHONPATH")),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(config.parallelism),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{config.airflow_home / 'airflow.db'}",
            "AIRFLOW__API__HOST": LOOPBACK,
            "AIRFLOW__API__PORT": str(config.ports.api),
            "AIRFLOW__API__WORKERS": "1",
            # Workers report task state to the execution API; it must follow the API server's port.
            "AIRFLOW__API__BASE_URL": config.api_url,
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "20",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
            # A crashed local scheduler should hand its tasks back within a minute, not five.
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "15",
            "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
            "AIRFLOW__API__EXPOSE_CONFIG": "False",
            # boto3 must never wait for an instance-metadata endpoint on a laptop.
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    if config.rules_dir is not None:
        env["DATASPHERE_GLUE_RULES_DIR"] = str(config.rules_dir)
    env.update(config.airflow_env)
    return env


def _prepend_path(entry: str, existing: str | None) -> str:
    parts = [entry, *(existing.split(os.pathsep) if existing else [])]
    return os.pathsep.join(dict.fromkeys(p for p in parts if p))


class LocalStack:
    """The running product: emulators and Airflow components, started and stopped together.

    :param config: ports, folders and tuning of this stack.
    """

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.env = airflow_environment(config)
        self.services: dict[str, Service] = {}
        self._api: AirflowApi | None = None

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bring up every service and return once each answers; stops what started if one fails."""
        check_ports_free(self.config.ports.claims(airflow=self.config.airflow), LOOPBACK)
        if self.config.settings_file.exists():
            load_settings(self.config.settings_file)  # a malformed file stops us before anything starts
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_emulators()
            if self.config.airflow:
                self._prepare_metadata_database()
                for component in AIRFLOW_COMPONENTS:
                    self.start_service(component)
            self._wait_until_ready()
            if self.config.airflow:
                self.unpause_rule_dags()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every service, Airflow first so that no task is left talking to a vanished emulator."""
        if self._api is not None:
            self._api.close()
            self._api = None
        emulators = [s for n, s in self.services.items() if n not in AIRFLOW_COMPONENTS]
        stop_services(self._airflow())
        stop_services(emulators, timeout=5)

    def start_service(self, name: str) -> Service:
        """Start (or start again) one service by name: ``glue``, ``datasphere`` or an Airflow component."""
        service = self._build_service(name)
        service.start()
        self.services[name] = service
        return service

    def kill_service(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one service's process group and descendants at once, as a crash would."""
        service = self.services[name]
        service.kill(sig)
        if service.process is not None:
            service.process.wait(timeout=30)

    def api(self) -> AirflowApi:
        """A REST client logged in as the admin user."""
        if self._api is None:
            self._api = AirflowApi(self.config.api_url, ADMIN_USER, self.admin_password())
        return self._api

    def admin_password(self) -> str:
        """The admin password the simple auth manager generated into ``AIRFLOW_HOME``."""
        passwords = json.loads(self.password_file.read_text(encoding="utf-8"))
        return str(passwords[ADMIN_USER])

    @property
    def password_file(self) -> Path:
        return self.config.airflow_home / "simple_auth_manager_passwords.json.generated"

    def expected_rule_dag_ids(self) -> list[str] | None:
        """The DAG ids the enabled, valid rules compile to; None when the rules cannot be read here."""
        try:
            from include.datasphere_glue.rules.loader import load_rules
        except ImportError:
            return None
        folder = self.config.rules_dir or PROJECT_ROOT / "rules"
        rule_set = load_rules(folder)
        return sorted(f"{RULE_DAG_PREFIX}{r.name}" for r in rule_set.rules if r.rule.enabled)

    def unpause_rule_dags(self, timeout: float = 120.0) -> list[str]:
        """Wait until the dag-processor has stored every rule DAG, then unpause them; return their ids.

        Import errors are logged (a bad rule names its file, line and field there); when the DAG file
        itself failed to import, waiting is cut short since its DAGs cannot appear.
        """
        expected = self.expected_rule_dag_ids()
        api = self.api()

        def all_parsed() -> bool:
            present = set(api.dag_ids(prefix=RULE_DAG_PREFIX))
            if bool(present) and (expected is None or set(expected) <= present):
                return True
            return any(Path(e.get("filename", "")).name == DAG_FILE for e in api.import_errors())

        try:
            wait_until(all_parsed, timeout=timeout, what="the rule DAGs to be parsed", watch=self._airflow())
        except TimeoutError:
            missing = sorted(set(expected or []) - set(api.dag_ids(prefix=RULE_DAG_PREFIX)))
            log.warning("rule DAGs not parsed within %.0fs: %s", timeout, ", ".join(missing))
        for error in api.import_errors():
            trace = (error.get("stack_trace") or "").strip().splitlines()
            log.warning("import error in %s: %s", error.get("filename"), "\n  ".join(trace[-12:]))
        dag_ids = api.dag_ids(prefix=RULE_DAG_PREFIX)
        for dag_id in dag_ids:
            api.set_paused(dag_id, False)
        log.info("unpaused %d rule DAGs: %s", len(dag_ids), ", ".join(dag_ids))
        return dag_ids

    def dead_services(self) -> list[Service]:
        return [s for s in self.services.values() if s.exit_code() is not None]

    def _airflow(self) -> list[Service]:
        return [self.services[n] for n in AIRFLOW_COMPONENTS if n in self.services]

    def _start_emulators(self) -> None:
        self.start_service("glue")
        self.start_service("datasphere")

    def _prepare_metadata_database(self) -> None:
        self.config.airflow_home.mkdir(parents=True, exist_ok=True)
        log.info("migrating the metadata database in %s", self.config.airflow_home)
        self._run_step([sys.executable, "-m", "airflow", "db", "migrate"], "airflow db migrate")
        endpoints = {"aws": self.config.glue_url, "datasphere": self.config.datasphere_url}
        if self.config.settings_file.exists():
            output = self._run_step(
                [
                    sys.executable,
                    "-m",
                    "scripts.apply_settings",
                    str(self.config.settings_file),
                    "--endpoints",
                    json.dumps(endpoints),
                ],
                f"applying {self.config.settings_file.name}",
            )
            log.info("%s", output.strip().splitlines()[-1] if output.strip() else "settings applied")
        else:
            log.warning("%s not found; no pools, connections or variables applied", self.config.settings_file)

    def _run_step(self, argv: list[str], what: str) -> str:
        result = subprocess.run(
            argv, env=self.env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        step_log = self.config.log_dir / "setup.log"
        with open(step_log, "a", encoding="utf-8") as handle:
            handle.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}\n")
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-15:]
            raise RuntimeError(f"{what} failed (exit {result.returncode}):\n" + "\n".join(detail))
        return result.stdout

    def _build_service(self, name: str) -> Service:
        log_path = self.config.log_dir / f"{name}.log"
        python = sys.executable
        if name == "glue":
            port = str(self.config.ports.glue)
            return Service(
                name="glue",
                argv=[python, "-m", "emulators.glue", "--host", LOOPBACK, "--port", port],
                is_ready=lambda: _answers(f"{self.config.glue_url}/moto-api/"),
                env={**self.env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
                cwd=PROJECT_ROOT,
                log_path=log_path,
            )
        if name == "datasphere":
            argv = [python, "-m", "emulators.datasphere", "--host", LOOPBACK]
            argv += ["--port", str(self.config.ports.datasphere)]
            argv += ["--catalog", self.config.catalog, *self.config.emulator_args]
            return Service(
                name="datasphere",
                argv=argv,
                is_ready=lambda: _answers(self.config.datasphere_url + "/_emulator/health"),
                env=self.env,
                cwd=PROJECT_ROOT,
                log_path=log_path,
            )
        if name not in AIRFLOW_COMPONENTS:
            raise ValueError(f"unknown service {name!r}")
        argv = [python, "-m", "airflow", name]
        if name == "api-server":
            argv += ["--host", LOOPBACK, "--port", str(self.config.ports.api)]
        return Service(
            name=name,
            argv=argv,
            is_ready=lambda: self._component_healthy(name),
            env=self.env,
            cwd=PROJECT_ROOT,
            log_path=log_path,
        )

    def _component_healthy(self, name: str) -> bool:
        health = _get_json(f"{self.config.api_url}/api/v2/monitor/health")
        if health is None:
            return False
        if name == "api-server":
            return self.password_file.exists()
        section = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}[name]
        return (health.get(section) or {}).get("status") == "healthy"

    def _wait_until_ready(self) -> None:
        for service in list(self.services.values()):
            wait_until(
                service.is_ready,
                timeout=self.config.start_timeout,
                what=f"{service.name} to answer",
                watch=list(self.services.values()),
            )
            log.info("%s is up (log: %s)", service.name, service.log_path)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # an error status is still an answer
    except OSError:
        return False


def _get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


@contextmanager
def _signals_stop_the_stack() -> Generator[None]:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt, so every way of stopping runs the same clean-up."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def parse_args(argv: Sequence[str] | None) -> StackConfig:
    """Read ports and options from flags, falling back to ``DSG_*`` environment variables."""
    defaults = StackPorts()
    parser = argparse.ArgumentParser(prog="./dev up", description=__doc__.splitlines()[0])
    parser.add_argument("--api-port", type=int, default=_env_int("DSG_API_PORT", defaults.api))
    parser.add_argument("--glue-port", type=int, default=_env_int("DSG_GLUE_PORT", defaults.glue))
    parser.add_argument(
        "--datasphere-port", type=int, default=_env_int("DSG_DATASPHERE_PORT", defaults.datasphere)
    )
    parser.add_argument(
        "--airflow-home",
        type=Path,
        default=Path(os.environ.get("DSG_AIRFLOW_HOME", DEFAULT_AIRFLOW_HOME)),
        help="state folder (metadata database, logs); default .local/airflow",
    )
    parser.add_argument("--rules-dir", type=Path, default=None, help="rules folder; default rules/")
    parser.add_argument(
        "--settings",
        type=Path,
        default=PROJECT_ROOT / "airflow_settings.yaml",
        help="Astro-format settings file (pools, connections, variables); default airflow_settings.yaml",
    )
    parser.add_argument("--catalog", default="demo", help="emulator catalog: demo or a catalog file")
    parser.add_argument(
        "--no-airflow", action="store_true", help="start only the Datasphere emulator and the local Glue"
    )
    args = parser.parse_args(argv)
    return StackConfig(
        airflow_home=args.airflow_home.resolve(),
        ports=StackPorts(api=args.api_port, glue=args.glue_port, datasphere=args.datasphere_port),
        rules_dir=args.rules_dir.resolve() if args.rules_dir else None,
        settings_file=args.settings.resolve(),
        catalog=args.catalog,
        airflow=not args.no_airflow,
    )


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"error: {name}={value!r} is not a port number") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stack until Ctrl-C; return the exit code."""
    logging.basicConfig(level=logging.INFO, format="[up] %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per REST call is noise here
    config = parse_args(argv)
    stack = LocalStack(config)
    with _signals_stop_the_stack():
        try:
            started = time.monotonic()
            stack.start()
            _print_welcome(stack, time.monotonic() - started)
            return _supervise(stack)
        except (PortBusyError, SettingsError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        except (RuntimeError, TimeoutError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\n[up] stopping every process of the stack ...", file=sys.stderr)
            return 0
        finally:
            stack.stop()


def _supervise(stack: LocalStack) -> int:
    while True:
        dead = stack.dead_services()
        if dead:
            for service in dead:
                print(
                    f"error: {service.name} exited with code {service.exit_code()}; last lines of "
                    f"{service.log_path}:\n{service.log_tail()}",
                    file=sys.stderr,
                )
            return 1
        time.sleep(1.0)


def _print_welcome(stack: LocalStack, seconds: float) -> None:
    config = stack.config
    lines = [
        f"The stack is up after {seconds:.0f}s.",
        f"  Datasphere emulator: {config.datasphere_url} (catalog: {config.catalog})",
        f"  Local Glue (moto):   {config.glue_url}",
    ]
    if config.airflow:
        lines += [
            f"  Airflow UI:          {config.api_url}",
            f"  Log in as:           {ADMIN_USER} / {stack.admin_password()}",
            f"                       (generated once, kept in {stack.password_file})",
        ]
    lines += [f"  Logs:                {config.log_dir}", "Press Ctrl-C to stop everything."]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
