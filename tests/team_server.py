"""Test helpers for team mode: a real PostgreSQL cluster (initdb in a temp folder, a free
port) and real `coach server` processes over loopback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from coach.server.cluster import LocalCluster, free_port


def start_cluster() -> tuple[LocalCluster, str]:
    folder = Path(tempfile.mkdtemp(prefix="coach-pg-"))  # under /tmp: reachable by `postgres` when tests run as root
    cluster = LocalCluster(folder)
    return cluster, cluster.start()


def remove_cluster(cluster: LocalCluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.folder, ignore_errors=True)


class Server:
    """`coach server` in its own process on a free loopback port."""

    def __init__(self, dsn: str, data: Path, port: int | None = None, *extra: str) -> None:
        self.dsn, self.data, self.port, self.extra = dsn, data, port or free_port(), extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.scheme = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {**os.environ, "COACH_DATA_DIR": str(self.data)}
        self.proc = subprocess.Popen([sys.executable, "-m", "coach", "server", "--db", self.dsn, "--port", str(self.port), *self.extra],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stdout.read().decode() if self.proc.stdout else ''}")
            try:
                if call(self.url + "/api/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None,
         ctype: str = "application/json", timeout: float = 10) -> tuple[int, Any]:
    """One HTTP request; (status, parsed JSON or bytes). HTTPS is not verified here (test certificates)."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    headers = {"Content-Type": ctype}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    ctx = ssl._create_unverified_context() if url.startswith("https") else None
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            raw, code, rtype = r.read(), r.status, r.headers.get("content-type", "")
    except urllib.error.HTTPError as e:
        raw, code, rtype = e.read(), e.code, e.headers.get("content-type", "")
    return code, (json.loads(raw) if raw and rtype.startswith("application/json") else raw)
