"""Test helpers for team mode: a real PostgreSQL cluster (initdb in a temp folder, a free
port) and real `coach server` processes over loopback."""

from __future__ import annotations

import http.client
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
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import psycopg

from coach.server import accounts
from coach.server.cluster import LocalCluster, free_port
from coach.server.schema import migrate


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


def request(url: str, method: str = "GET", body: Any = None, headers: list[tuple[str, str]] | None = None,
            source: str = "127.0.0.1", timeout: float = 10) -> tuple[int, Any, Any]:
    """One plain-HTTP request with exactly these headers (repeats kept), from a chosen loopback
    address (all of 127/8 is this host): (status, response headers, parsed JSON or bytes)."""
    u = urllib.parse.urlsplit(url)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout, source_address=(source, 0))
    try:
        conn.putrequest(method, u.path + (f"?{u.query}" if u.query else ""))
        for k, v in [("Content-Type", "application/json"), ("Content-Length", str(len(data or b""))), *(headers or [])]:
            conn.putheader(k, v)
        conn.endheaders(data)
        r = conn.getresponse()
        raw = r.read()
    finally:
        conn.close()
    parsed = json.loads(raw) if raw and r.headers.get("content-type", "").startswith("application/json") else raw
    return r.status, r.headers, parsed


class Floor:
    """Two teams, an agent and a supervisor in each, and an admin; unique names per test."""

    def __init__(self, dsn: str) -> None:
        tag = uuid.uuid4().hex[:6]
        self.dsn, self.pw = dsn, "correct horse battery"
        with psycopg.connect(dsn, autocommit=True) as c:
            migrate(c)  # as a server would at start; the test may come before any server
            self.team_a, self.team_b = f"a-{tag}", f"b-{tag}"
            self.team_a_id = accounts.create_team(c, self.team_a)
            self.team_b_id = accounts.create_team(c, self.team_b)
            self.agent_a, self.agent_b = f"agent-a-{tag}", f"agent-b-{tag}"
            self.agent_a_id = accounts.create_user(c, self.agent_a, "agent", team=self.team_a)
            accounts.create_user(c, self.agent_b, "agent", team=self.team_b)
            self.sup_a, self.sup_b, self.admin = f"sup-a-{tag}", f"sup-b-{tag}", f"admin-{tag}"
            accounts.create_user(c, self.sup_a, "supervisor", self.pw, supervises=[self.team_a])
            accounts.create_user(c, self.sup_b, "supervisor", self.pw, supervises=[self.team_b])
            accounts.create_user(c, self.admin, "admin", self.pw)
            self.device_a, self.token_a = accounts.issue_device_token(c, self.agent_a, "pc-a")
            self.device_b, self.token_b = accounts.issue_device_token(c, self.agent_b, "pc-b")

    def login(self, server: Server, name: str) -> str:
        code, body = call(server.url + "/api/login", "POST", {"name": name, "password": self.pw})
        assert code == 200, body
        return body["token"]

    def rows(self, sql: str, *args: object) -> list[tuple]:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            return c.execute(sql, args).fetchall()
