"""Supervised child processes: each in its own process group, logged to a file, stopped with its tree."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil


class PortBusyError(RuntimeError):
    """A port the stack needs is already taken; the message says which one and how to choose another."""


@dataclass(frozen=True)
class PortClaim:
    """A port one service of the stack listens on, and how a user moves it elsewhere."""

    service: str
    port: int
    flag: str
    env_var: str


def check_ports_free(claims: Sequence[PortClaim], host: str = "127.0.0.1") -> None:
    """Fail before anything starts when a port is taken, naming every busy port at once.

    :param claims: the ports the stack is about to listen on.
    :param host: the address the services bind to.
    :raises PortBusyError: one line per busy or duplicated port, with the flag and variable that move it.
    """
    problems = []
    seen: dict[int, str] = {}
    for claim in claims:
        if claim.port in seen:
            problems.append(
                f"port {claim.port} is given to both {seen[claim.port]} and {claim.service}; "
                f"choose another with {claim.flag} or {claim.env_var}"
            )
            continue
        seen[claim.port] = claim.service
        reason = _why_unusable(host, claim.port)
        if reason:
            problems.append(
                f"port {claim.port} for {claim.service} {reason}; "
                f"choose another with {claim.flag} or {claim.env_var}"
            )
    if problems:
        raise PortBusyError("\n".join(problems))


def _why_unusable(host: str, port: int) -> str | None:
    if not 0 < port < 65536:
        return "is not a valid port number"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Without SO_REUSEADDR a port in TIME_WAIT would look busy although the server can bind it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return "is already in use by another program"
            if error.errno == errno.EACCES:
                return "needs privileges this user does not have"
            return f"cannot be bound ({error.strerror})"
    return None


@dataclass
class Service:
    """One long-running process of the stack.

    :param name: short name used in messages and as the log file name.
    :param argv: the command line.
    :param is_ready: a check that returns True once the service answers.
    """

    name: str
    argv: list[str]
    is_ready: Callable[[], bool]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process in a new session, so that a Ctrl-C on the terminal reaches only us."""
        with contextlib.ExitStack() as closing:
            output: Any = subprocess.DEVNULL
            if self.log_path is not None:
                output = closing.enter_context(open(self.log_path, "ab"))
            self.process = subprocess.Popen(
                self.argv,
                env=dict(self.env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        """The exit code once the process ended, None while it runs (or before it started)."""
        return self.process.poll() if self.process else None

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tree(self) -> list[psutil.Process]:
        """The process and all its descendants (task processes move to groups of their own)."""
        if not self.is_running() or self.pid is None:
            return []
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the process group and to every descendant, without waiting."""
        members = self.tree()
        if self.pid is not None:
            _signal_group(self.pid, sig)
        for member in members:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the whole tree to stop, wait, then kill whatever is left; never leaves a process behind."""
        stop_services([self], timeout=timeout)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the service's log, to show why it stopped."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as log_file:
            log_file.seek(0, os.SEEK_END)
            log_file.seek(max(0, log_file.tell() - 16_000))
            text = log_file.read().decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def stop_services(services: Sequence[Service], *, timeout: float = 15.0) -> None:
    """Send SIGTERM to every tree at once, wait for all together, then SIGKILL what is left.

    :param services: services to stop; ones never started or already gone are skipped.
    :param timeout: seconds the processes get to shut down cleanly.
    """
    members: list[psutil.Process] = []
    started = [s for s in services if s.process is not None]
    for service in started:
        tree = service.tree()
        members += tree
        if service.pid is not None:
            _signal_group(service.pid, signal.SIGTERM)
        for member in tree[1:]:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(members, timeout=timeout)
    for service in started:
        if service.pid is not None:
            _signal_group(service.pid, signal.SIGKILL)
    for member in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(alive, timeout=5)
    for service in started:
        if service.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=5)


def stop_process_group(process: subprocess.Popen[Any], *, timeout: float = 10.0) -> None:
    """Stop a process started with ``start_new_session=True``, and everything in its process group.

    SIGTERM first; SIGKILL for whatever is still there after ``timeout`` seconds.

    :param process: the group leader.
    :param timeout: seconds the group gets to shut down cleanly.
    """
    if process.poll() is not None:
        return
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    watch: Sequence[Service] = (),
    interval: float = 0.5,
) -> None:
    """Poll ``check`` until it returns True; fail early when a watched service dies meanwhile.

    :raises TimeoutError: naming ``what`` after ``timeout`` seconds.
    :raises RuntimeError: when a watched service exits before ``check`` passed, with its log tail.
    """
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        for service in watch:
            code = service.exit_code()
            if code is not None:
                raise RuntimeError(
                    f"{service.name} exited with code {code} while waiting for {what}; "
                    f"last lines of {service.log_path}:\n{service.log_tail()}"
                )
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(interval)


def tree_rss_bytes(services: Sequence[Service]) -> int:
    """Resident memory of every process of the given services and their descendants, summed."""
    total = 0
    for service in services:
        for member in service.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += member.memory_info().rss
    return total
