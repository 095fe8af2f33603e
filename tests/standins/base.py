"""A stand-in server as a child process: start, wait until ready, stop, restart.

Restart keeps the port so a client made before a stop reaches the new process
(the fault tests stop a stand-in mid-run and bring it back).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from abc import ABC, abstractmethod
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
TOOLS = ROOT / ".tools"


class StandInUnavailable(RuntimeError):
    """The stand-in's program is missing or did not become ready: the message says which."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status) < 500
    except OSError:
        return False


def tcp_open(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def require_executable(path: str | Path, how_to_install: str) -> str:
    found = (
        shutil.which(str(path))
        if os.path.sep not in str(path)
        else (str(path) if Path(path).exists() else None)
    )
    if not found:
        raise StandInUnavailable(f"{path} not found; {how_to_install}")
    return found


class StandIn(ABC):
    """Subclasses give the command, the environment for clients, and a readiness probe."""

    name: str = "stand-in"
    start_timeout: float = 60.0

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{self.name}.log"

    @abstractmethod
    def command(self) -> list[str]: ...

    @abstractmethod
    def is_ready(self) -> bool: ...

    def process_env(self) -> dict[str, str]:
        return dict(os.environ)

    def client_env(self) -> dict[str, str]:
        """Variables a client SDK needs to reach this stand-in (endpoints, fake credentials)."""
        return {}

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def after_start(self) -> None:  # noqa: B027 - optional hook
        """Configure the running server (e.g. moto's execution switch)."""

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.process_env(),
            cwd=self.workdir,
            start_new_session=True,  # its own process group: stop() ends its children too
        )
        deadline = time.monotonic() + self.start_timeout
        while not self.is_ready():
            if self.process.poll() is not None:
                raise StandInUnavailable(
                    f"{self.name} exited with {self.process.returncode}; log: {self.log_path}\n"
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            if time.monotonic() > deadline:
                self.stop()
                raise StandInUnavailable(
                    f"{self.name} not ready after {self.start_timeout}s; log: {self.log_path}"
                )
            time.sleep(0.05)
        self.after_start()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class StandInPool:
    """Starts each stand-in on first use and stops them all at the end of the session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._running: dict[str, StandIn] = {}

    def get(self, name: str) -> StandIn:
        standin = self._running.get(name)
        if standin is None:
            import importlib

            module = importlib.import_module(f"tests.standins.{name}")
            standin = module.create(self.workdir / name)
            standin.start()
            self._running[name] = standin
        elif not standin.running:
            standin.start()
        return standin

    def stop_all(self) -> None:
        for standin in self._running.values():
            standin.stop()
        self._running.clear()
