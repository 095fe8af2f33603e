"""A throwaway PostgreSQL cluster on a free port (Debian's ``postgresql`` binaries).

``initdb`` into a temporary folder, then ``postgres`` listening on 127.0.0.1 only,
its socket in the same folder, trust authentication, no fsync (a test cluster).
Run as the ``postgres`` user when the tests run as root (PostgreSQL refuses root).
``stop`` is a fast shutdown (SIGINT: sessions are cut, as when a server goes
down), and ``restart`` keeps the port and the data, for the fault test.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.standins.base import StandIn, StandInUnavailable, tcp_open

INSTALL_HINT = "install Debian's postgresql (scripts/install_system.sh does)"


def _bindir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    if on_path:
        return Path(on_path).parent
    raise StandInUnavailable(f"postgres not found; {INSTALL_HINT}")


class PostgreSQLServer(StandIn):
    name = "postgresql"
    start_timeout = 30.0

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.bindir = _bindir()
        # Not under pytest's folder: that one is private to root, and the server runs
        # as postgres when the tests run as root.
        self.datadir = Path(tempfile.mkdtemp(prefix="statekit-pg-"))
        atexit.register(shutil.rmtree, self.datadir, True)
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise StandInUnavailable(
                    f"no 'postgres' user to run the server as; {INSTALL_HINT}"
                ) from None
            os.chown(self.datadir, account.pw_uid, account.pw_gid)
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                raise StandInUnavailable("setpriv (util-linux) is needed to run postgres as root")
            self._as_user = [setpriv, "--reuid=postgres", "--regid=postgres", "--init-groups"]
        self._initdb()

    def _initdb(self) -> None:
        data = self.datadir / "data"
        result = subprocess.run(
            [
                *self._as_user,
                str(self.bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise StandInUnavailable(f"initdb failed: {result.stderr[-2000:]}")

    def command(self) -> list[str]:
        return [
            *self._as_user,
            str(self.bindir / "postgres"),
            "-D",
            str(self.datadir / "data"),
            "-p",
            str(self.port),
            "-k",
            str(self.datadir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=100",
        ]

    def is_ready(self) -> bool:
        if not tcp_open(self.port):
            return False
        probe = subprocess.run(
            [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
            timeout=5,
            check=False,
        )
        return probe.returncode == 0

    def stop(self) -> None:
        """Fast shutdown: open sessions are cut, as when the server goes down."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def url(self, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        base = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return f"{base}?{query}" if query else base

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)


def create(workdir: Path) -> PostgreSQLServer:
    return PostgreSQLServer(workdir)
