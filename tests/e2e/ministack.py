"""MiniStack (a local AWS emulator, PyPI ``ministack``) on a free 127.0.0.1 port.

Installed by scripts/tools/ministack.sh into .tools/ministack-venv (its own
environment: it pins botocore). Lambda code runs as local processes on that
environment's Python, which carries boto3 as the Lambda runtime does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".tools" / "ministack-venv" / "bin" / "python"
INSTALLER = ROOT / "scripts" / "tools" / "ministack.sh"
READY_TIMEOUT = 60.0
# What MiniStack inherits from this process: only what any program needs. Its Lambda
# workers start from MiniStack's own environment ({**os.environ, **function variables}),
# so a variable the suite set earlier would reach the functions: the conformance cases'
# AWS_ENDPOINT_URL (moto) won over MiniStack's own address, and the deployed API's
# first call failed in the full suite only (CI, 2026-12-07).
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "USER")


def hermetic_env(**extra: str) -> dict[str, str]:
    """This process's basic variables, none of its SDK settings, and ``extra``."""
    return {
        **{name: os.environ[name] for name in INHERITED if name in os.environ},
        **extra,
    }


def ensure_installed() -> Path:
    """The environment's Python; installs it (pinned, idempotent) when it is missing."""
    if not VENV_PYTHON.is_file():
        subprocess.run(["bash", str(INSTALLER)], check=True, timeout=900)
    return VENV_PYTHON


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_ministack(
    workdir: Path, region: str, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Yields the endpoint URL; the server (and its Lambda processes) is stopped after.

    ``extra_env``: e.g. ``REDIS_HOST``/``REDIS_PORT`` (the address MiniStack gives every
    cache) and ``SSL_CERT_FILE`` (inherited by the Lambda processes).
    """
    python = ensure_installed()
    port = free_port()
    log_path = workdir / "ministack.log"
    env = hermetic_env(
        BIND_HOST="127.0.0.1",  # without it MiniStack binds 0.0.0.0
        GATEWAY_PORT=str(port),
        MINISTACK_HOST="127.0.0.1",
        MINISTACK_REGION=region,
        LAMBDA_EXECUTOR="local",
        AWS_DEFAULT_REGION=region,
        **(extra_env or {}),
    )
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(python), "-m", "ministack"],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its Lambda workers go with it
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while b"Ready" not in log_path.read_bytes():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"MiniStack did not start on 127.0.0.1:{port}:\n"
                    + log_path.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, 15)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait(timeout=10)
