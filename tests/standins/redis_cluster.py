"""A 3-primary Redis Cluster (cluster mode enabled) of redis-server 7 on 127.0.0.1.

ElastiCache Serverless speaks only the cluster protocol; this is the closest local
stand-in: three ``redis-server --cluster-enabled yes`` processes on free ports (each
with its own, freely chosen cluster bus port, so no ``port + 10000`` can fall off the
port range), joined by ``redis-cli --cluster create`` (Debian's redis-tools, which
redis-server depends on), nothing persisted but the cluster configuration. A restart
keeps the ports and the ``nodes.conf`` files, so the same cluster (same slots) comes
back, empty. Deviations from ElastiCache Serverless: no TLS, no ACL user, and the
nodes are reached directly (Serverless answers every slot from one endpoint).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.standins.base import (
    StandIn,
    StandInUnavailable,
    free_port,
    require_executable,
    tcp_open,
)

NODES = 3
INSTALL = "install Debian's redis-server (redis-cli comes with it, in redis-tools)"


def _distinct_free_ports(count: int, taken: set[int]) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in taken:
            taken.add(port)
            ports.append(port)
    return ports


class RedisClusterServers(StandIn):
    name = "redis_cluster"
    start_timeout = 30.0

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        taken = {self.port}
        self.ports = [self.port, *_distinct_free_ports(NODES - 1, taken)]
        self.bus_ports = _distinct_free_ports(NODES, taken)
        self.processes: list[subprocess.Popen[bytes]] = []

    def node_dir(self, index: int) -> Path:
        return self.workdir / f"node-{self.ports[index]}"

    def node_command(self, index: int) -> list[str]:
        binary = require_executable("redis-server", INSTALL)
        return [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.ports[index]),
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            str(self.node_dir(index) / "nodes.conf"),
            "--cluster-port",
            str(self.bus_ports[index]),
            # Fail over and recover fast after a restart (the default is 15 s).
            "--cluster-node-timeout",
            "2000",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.node_dir(index)),
        ]

    def command(self) -> list[str]:
        return self.node_command(0)

    def _cli(self, *args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
        cli = require_executable("redis-cli", INSTALL)
        return subprocess.run(
            [cli, *args], capture_output=True, text=True, timeout=timeout, check=False
        )

    def _state_ok(self, port: int) -> bool:
        try:
            info = self._cli("-h", "127.0.0.1", "-p", str(port), "cluster", "info", timeout=2)
        except subprocess.TimeoutExpired:
            return False
        return "cluster_state:ok" in info.stdout

    def is_ready(self) -> bool:
        return all(self._state_ok(port) for port in self.ports)

    @property
    def _created(self) -> bool:
        """A node that already belongs to the cluster lists the other nodes in nodes.conf."""
        conf = self.node_dir(0) / "nodes.conf"
        return conf.exists() and len(conf.read_text().splitlines()) > 2

    def _fail(self, why: str) -> None:
        logs = "\n".join(
            f"--- {path.name}\n" + path.read_text(errors="replace")[-800:]
            for path in sorted(self.workdir.glob("*.log"))
        )
        self.stop()
        raise StandInUnavailable(f"{self.name}: {why}\n{logs}")

    def start(self) -> None:
        if self.running:
            return
        self.stop()  # a partly dead cluster: start every node again
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.processes = []
        for index in range(NODES):
            self.node_dir(index).mkdir(parents=True, exist_ok=True)
            log = (self.workdir / f"node-{self.ports[index]}.log").open("ab")
            self.processes.append(
                subprocess.Popen(
                    self.node_command(index),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.process_env(),
                    cwd=self.workdir,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + self.start_timeout
        while not all(tcp_open(port) for port in self.ports):
            if any(process.poll() is not None for process in self.processes):
                self._fail("a node exited at start")
            if time.monotonic() > deadline:
                self._fail(f"nodes not listening after {self.start_timeout}s")
            time.sleep(0.05)
        if not self._created:
            nodes = [f"127.0.0.1:{port}" for port in self.ports]
            created = self._cli("--cluster", "create", *nodes, "--cluster-replicas", "0",
                                "--cluster-yes")  # fmt: skip
            if created.returncode != 0:
                self._fail(f"redis-cli --cluster create failed:\n{created.stdout}{created.stderr}")
        while not self.is_ready():
            if time.monotonic() > deadline:
                self._fail(f"cluster_state not ok after {self.start_timeout}s")
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            except ProcessLookupError:
                pass

    @property
    def running(self) -> bool:
        return bool(self.processes) and all(p.poll() is None for p in self.processes)

    @property
    def url(self) -> str:
        """One node is enough: the client discovers the others (as from a configuration
        endpoint)."""
        return f"redis://127.0.0.1:{self.port}/0?cluster=true"


def create(workdir: Path) -> RedisClusterServers:
    return RedisClusterServers(workdir)
