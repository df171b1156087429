"""A PostgreSQL cluster in a folder of ours, for `make server` and the tests: Debian's
binaries, initdb on first start, listening on loopback only, password (SCRAM) auth.

PostgreSQL refuses to run as root; as root the cluster runs as the `postgres` system user
(Debian's package creates it) in a folder that user owns.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
from pathlib import Path

from coach.core.errors import UserError

SUPERUSER = "coach"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise UserError("PostgreSQL's server programs are not installed (Debian: apt-get install postgresql)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.pgdata = folder / "pgdata"
        self.port_file = folder / "port"
        self.password_file = folder / "password"
        self.port = port
        self.bin = _bindir()
        self._as_root = os.geteuid() == 0
        self.started = False  # by this object: then stop() is ours to call

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise UserError(f"{args[0]} failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
        return r

    def _make_folder(self) -> None:
        missing = []
        p = self.folder
        while not p.exists():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            d.mkdir()
            if self._as_root:
                d.chmod(0o711)  # `postgres` must pass through the folders made for it (umask is 077)
        self._own(self.folder)
        if self._as_root and subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(self.folder)]).returncode != 0:
            raise UserError(f"PostgreSQL runs as the 'postgres' user, who cannot reach {self.folder}; use a folder it can reach")

    def _own(self, path: Path) -> None:
        if self._as_root:
            shutil.chown(path, "postgres", "postgres")

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}:{self.password_file.read_text().strip()}@127.0.0.1:{self.port}/coach"

    def running(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists() and self._run("pg_ctl", "status", "-D", str(self.pgdata), check=False).returncode == 0

    def start(self) -> str:
        """Initialise on first use, start unless already running (then `started` stays False, and
        whoever started it stops it), make sure the `coach` database exists; return its URL."""
        self._make_folder()
        if not (self.pgdata / "PG_VERSION").exists():
            self.password_file.write_text(secrets.token_urlsafe(24))
            pwfile = self.folder / "pw.tmp"
            pwfile.write_text(self.password_file.read_text())
            self._own(pwfile)
            try:
                self._run("initdb", "-D", str(self.pgdata), "-U", SUPERUSER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
                          "-E", "UTF8", "--locale=C.UTF-8")
            finally:
                pwfile.unlink()
        if self.port is None:
            self.port = int(self.port_file.read_text()) if self.port_file.exists() else free_port()
        self.port_file.write_text(str(self.port))
        self.started = False
        if self.running():
            return self.dsn
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=200 -c fsync=on"
        self._run("pg_ctl", "-D", str(self.pgdata), "-o", opts, "-l", str(self.folder / "postgres.log"), "-w", "-t", "60", "start")
        self.started = True
        import psycopg

        admin = self.dsn.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as c:
            if not c.execute("SELECT 1 FROM pg_database WHERE datname = 'coach'").fetchone():
                c.execute("CREATE DATABASE coach")
        return self.dsn

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")
