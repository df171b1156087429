"""Issue 28's attacks on the team server, each reproduced against a real `coach server` on a
PostgreSQL cluster the tests start themselves (and real Chromium where a browser is involved).
Each test fails on the code before its fix: it asserts the attack's effect is gone.

Tests that exhaust an address's rate limit send from an address of their own (all of 127/8
reaches this host), so they do not starve each other."""

# ruff: noqa: F811 - the fixtures imported below are, as pytest wants, arguments of the same names

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from coach.server import accounts
from coach.server.guards import csrf_token
from tests.team_server import Floor, Server, call, request
from tests.test_dashboard import browser  # noqa: F401 - the fixture: Debian's chromium under Playwright
from tests.test_team_server import floor, pg, server, wait_for  # noqa: F401 - fixtures: a cluster, a server, a floor

pytestmark = pytest.mark.slow


def own_server(pg: str, folder: Path, *extra: str) -> Server:
    return Server(pg, folder, None, *extra).start()


def team_cli(dsn: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coach", "team", "--db", dsn, *args], capture_output=True, text=True,
                          env={**os.environ, "COACH_DATA_DIR": str(folder)})


# --- 1: open redirect after login ----------------------------------------------------------


@pytest.mark.parametrize("trick", ["%09", "%0a", "%0d"])
def test_the_login_page_never_sends_the_browser_to_another_site(browser, server, floor, trick):
    """Browsers drop tabs and line breaks from URLs: `/<tab>/host/path` is `//host/path`."""
    other = f"localhost:{server.port}"  # another origin (another host name), whatever serves it
    page = browser.new_page()
    try:
        page.goto(f"{server.url}/login?next=/{trick}/{other}/queue")
        page.fill("input[name=name]", floor.sup_a)
        page.fill("input[name=password]", floor.pw)
        page.click("button[type=submit]")
        page.wait_for_url(lambda u: not u.startswith(server.url + "/login"))
        assert urllib.parse.urlsplit(page.url).netloc == f"127.0.0.1:{server.port}", page.url
        assert re.match(r"^[^?]*/floor$", page.url)
    finally:
        page.close()


# --- 2: unauthenticated memory and CPU exhaustion -------------------------------------------


def rss_kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1))


def test_a_burst_of_logins_keeps_memory_bounded_and_the_server_answering(pg, tmp_path):
    srv = own_server(pg, tmp_path / "data")
    try:
        pid = srv.proc.pid  # one worker: uvicorn serves in this process
        before = rss_kb(pid, "VmRSS")
        with ThreadPoolExecutor(60) as ex:
            logins = [ex.submit(request, srv.url + "/api/login", "POST", {"name": f"nobody-{i}", "password": "x" * 12},
                                timeout=120) for i in range(60)]
            time.sleep(0.3)  # the burst is in
            t0 = time.monotonic()
            health = request(srv.url + "/api/health", source="127.0.0.2", timeout=30)[0]
            health_s = time.monotonic() - t0
            codes = [f.result()[0] for f in logins]
        peak = rss_kb(pid, "VmHWM")
        assert health == 200 and health_s < 3.0, health_s  # was 9-19 s
        assert set(codes) <= {401, 503} and codes.count(503) > 0, codes  # beyond the bound: refused at once
        assert (peak - before) / 1024 < 400, (before, peak)  # was +1.1 GB (60 Argon2 hashes at 64 MiB each)
    finally:
        srv.stop()


# --- 3, 4: forwarded addresses only from trusted proxies; Secure cookie and HSTS behind TLS ---


def test_forwarded_headers_count_only_from_a_trusted_proxy(pg, floor, tmp_path):
    srv = own_server(pg, tmp_path / "data", "--insecure-behind-proxy", "--trusted-proxy", "127.0.0.2")
    try:
        # from an untrusted address: random X-Forwarded-For values neither dodge the login limit...
        tag = uuid.uuid4().hex[:6]
        codes = [request(srv.url + "/api/login", "POST", {"name": f"guess-{tag}-{i}", "password": "x" * 12},
                         [("X-Forwarded-For", f"198.51.100.{i % 250}")])[0] for i in range(150)]
        assert codes.count(429) >= 50, codes
        # ...nor write forged addresses into the audit log
        ips = {r[0] for r in floor.rows("SELECT ip FROM audit WHERE object LIKE %s", f"guess-{tag}-%")}
        assert ips == {"127.0.0.1"}
        code, headers, _ = request(srv.url + "/api/login", "POST", {"name": floor.sup_a, "password": floor.pw},
                                   [("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https")], source="127.0.0.3")
        assert code == 200 and "strict-transport-security" not in headers  # an untrusted client's word on the scheme
        # from the trusted proxy: the client's address and the public scheme are the proxy's word
        code, headers, _ = request(srv.url + "/api/login", "POST", {"name": floor.sup_a, "password": floor.pw},
                                   [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https")], source="127.0.0.2")
        assert code == 200
        assert headers["strict-transport-security"].startswith("max-age=")
        cookie = headers["set-cookie"]
        assert cookie.startswith("coach_session=") and re.search(r";\s*secure\b", cookie, re.I), cookie
        last = floor.rows("SELECT ip FROM audit WHERE action = 'login' AND object = %s ORDER BY id DESC LIMIT 1", floor.sup_a)
        assert last == [("203.0.113.9",)]
    finally:
        srv.stop()


def test_trusting_every_forwarder_is_refused(tmp_path):
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path)}
    for bad in ("*", "0.0.0.0/0", "::/0", "proxy.example.com"):
        r = subprocess.run([sys.executable, "-m", "coach", "server", "--db", "postgresql://nowhere/x", "--insecure-behind-proxy",
                            "--trusted-proxy", bad], capture_output=True, text=True, env=env)
        assert r.returncode == 2 and f"--trusted-proxy {bad!r}:" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


# --- 5: the general rate limit and unknown credentials ---------------------------------------


def test_unknown_credentials_are_limited_per_address_until_one_authenticates(server, floor):
    me = server.url + "/api/me"
    valid = floor.login(server, floor.sup_a)
    assert request(me, headers=[("Authorization", f"Bearer {valid}")], source="127.0.0.5")[0] == 200
    codes = [request(me, headers=[("Authorization", f"Bearer ccl_{uuid.uuid4().hex}")], source="127.0.0.5")[0]
             for _ in range(300)]
    assert codes[0] == 401 and codes.count(429) >= 200, codes  # were all 401: each random value had its own bucket
    health = [request(server.url + "/api/health", headers=[("Authorization", f"Bearer {uuid.uuid4().hex}")],
                      source="127.0.0.5")[0] for _ in range(5)]
    assert 429 in health  # nor does a route that reads no credential give random ones a bucket
    # the credential that authenticated has a bucket of its own: the flood did not lock it out
    assert request(me, headers=[("Authorization", f"Bearer {valid}")], source="127.0.0.5")[0] == 200


# --- 6: lockout as denial of service; the first admin's name --------------------------------


def test_failed_logins_lock_a_name_only_from_their_address_with_a_growing_delay(server, floor):
    login = server.url + "/api/login"
    wrong = {"name": floor.sup_b, "password": "not the password"}
    codes = [request(login, "POST", wrong, source="127.0.0.6")[0] for _ in range(5)]
    code, headers, _ = request(login, "POST", wrong, source="127.0.0.6")
    assert codes == [401] * 5 and code == 429
    first_wait = int(headers["retry-after"])
    # the name's owner, elsewhere, is not locked out by the guesser
    assert request(login, "POST", {"name": floor.sup_b, "password": floor.pw}, source="127.0.0.7")[0] == 200
    time.sleep(first_wait + 0.2)
    assert request(login, "POST", wrong, source="127.0.0.6")[0] == 401  # one more try, then a longer wait
    code, headers, _ = request(login, "POST", wrong, source="127.0.0.6")
    assert code == 429 and int(headers["retry-after"]) > first_wait


def test_the_first_admin_is_named_at_setup(pg, tmp_path):
    names = []
    for i, extra in enumerate((("--admin-name", "chief-of-qa"), ())):
        db = f"empty_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pg.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {db}")
        dsn = pg.rsplit("/", 1)[0] + "/" + db
        srv = own_server(dsn, tmp_path / f"data{i}", *extra)
        srv.stop()
        with psycopg.connect(dsn) as c:
            names.append([r[0] for r in c.execute("SELECT name FROM users WHERE role = 'admin'")])
    assert names[0] == ["chief-of-qa"]
    assert len(names[1]) == 1 and names[1][0] != "admin" and names[1][0].startswith("admin-")


# --- 7: the live event stream ends with its login --------------------------------------------


class Stream:
    """/api/live/events read in a thread: its events, and when it ended."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[dict] = []
        self.ended: float | None = None
        self.opened = threading.Event()
        req = urllib.request.Request(url + "/api/live/events", headers={"Authorization": f"Bearer {token}"})
        self._r = urllib.request.urlopen(req, timeout=40)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._r:
                self.opened.set()
                if line.startswith(b"data: "):
                    self.events.append(json.loads(line[6:]))
        except OSError:
            pass
        self.ended = time.monotonic()


def set_password(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        accounts.set_password(c, name, "a brand new password")  # as `coach team set-password` does


@pytest.mark.parametrize("how", ["logout", "new password", "disabled"])
def test_the_live_event_stream_ends_with_its_login(server, floor, how):
    tok = floor.login(server, floor.sup_a)
    stream = Stream(server.url, tok)
    assert stream.opened.wait(5)
    assert call(server.url + "/api/agent/live", "PUT", {"on_call": True, "mood": 0.2}, floor.token_a)[0] == 204
    assert wait_for(lambda: stream.events, 5)  # the stream works
    if how == "logout":
        assert call(server.url + "/api/logout", "POST", token=tok)[0] == 204
    elif how == "new password":
        set_password(floor.dsn, floor.sup_a)
    else:
        admin = floor.login(server, floor.admin)
        assert call(server.url + f"/api/admin/users/{floor.sup_a}/disable", "POST", token=admin)[0] == 204
    t0 = time.monotonic()
    assert wait_for(lambda: stream.ended is not None, 12), "the stream outlived its login"
    assert stream.ended - t0 < 12


# --- 8: the CSRF check and authentication read the same credential ---------------------------


def test_the_csrf_check_and_authentication_read_the_same_credential(server, floor):
    admin = floor.login(server, floor.admin)
    teams = server.url + "/api/admin/teams"

    def new_team(*headers: tuple[str, str]) -> int:
        return request(teams, "POST", {"name": f"t-{uuid.uuid4().hex[:8]}"}, list(headers))[0]

    assert new_team(("Cookie", f"coach_session={admin}"), ("X-CSRF-Token", csrf_token(admin))) == 201
    assert new_team(("Authorization", f"Bearer {admin}")) == 201
    assert new_team(("Cookie", f"coach_session={admin}")) == 403
    # a non-Bearer Authorization header is no reason to skip the check: the cookie still authenticates
    assert new_team(("Cookie", f"coach_session={admin}"), ("Authorization", "Basic eA==")) == 403
    # a second session cookie: the check read the first, authentication the last
    junk = "ccl_planted_by_an_attacker"
    assert new_team(("Cookie", f"coach_session={junk}; coach_session={admin}"), ("X-CSRF-Token", csrf_token(junk))) in (400, 403)
    assert new_team(("Cookie", f"coach_session={admin}"), ("Cookie", f"coach_session={junk}"),
                    ("X-CSRF-Token", csrf_token(junk))) in (400, 403)


# --- 10: id squatting --------------------------------------------------------------------------


def test_another_agents_call_or_segment_id_is_409(server, floor):
    summary = {"duration_s": 10.0, "cues": [], "flags": []}
    cid = str(uuid.uuid4())
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", summary, floor.token_b)[0] == 204  # B takes A's id first
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", summary, floor.token_a)[0] == 409  # was 204, and dropped
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", summary, floor.token_b)[0] == 204  # a repeat stays idempotent

    def segment(call_id: str, n: int, token: str) -> int:
        body = {"call_id": call_id, "start": 0.0, "end": 5.0, "reason": "manual"}
        return call(server.url + f"/api/agent/segments/{call_id}:{n}", "PUT", body, token)[0]

    squatted = str(uuid.uuid4())
    assert segment(squatted, 0, floor.token_b) == 204
    assert segment(squatted, 0, floor.token_a) == 409
    assert segment(squatted, 0, floor.token_b) == 204
    owned = str(uuid.uuid4())
    assert call(server.url + f"/api/agent/calls/{owned}", "PUT", summary, floor.token_a)[0] == 204
    assert segment(owned, 1, floor.token_b) == 409  # a segment of A's call
    assert segment(owned, 1, floor.token_a) == 204
    agents = dict(floor.rows("SELECT id, agent_id FROM segments WHERE call_id IN (%s, %s)", squatted, owned))
    assert agents[f"{owned}:1"] == floor.agent_a_id and agents[f"{squatted}:0"] != floor.agent_a_id


# --- 12: device data that broke pages and queues ---------------------------------------------


def test_every_device_supplied_field_is_checked_422_not_500(server, floor):
    cid = str(uuid.uuid4())
    seg = {"call_id": cid, "start": 0.0, "end": 5.0, "reason": "manual",
           "utterances": [{"speaker": "customer", "start": 0.0, "end": 2.0, "text": "hello", "sentiment": -0.5}],
           "cues": [{"id": "customer_escalating", "t": 1.0, "severity": "alert"}]}
    summary = {"duration_s": 10.0, "metrics": {"agent": {"wpm": 150.0}}, "cues": [], "flags": []}

    def raw(doc: dict, *swap: tuple[str, str]) -> bytes:
        text = json.dumps(doc)
        for old, new in swap:
            assert old in text
            text = text.replace(old, new)
        return text.encode()

    seg_url, call_url = f"/api/agent/segments/{cid}:0", f"/api/agent/calls/{cid}"
    bad = [
        (seg_url, raw(seg, ('"alert"', '"catastrophic"'))),  # a severity outside the catalog: the page answered 500
        (seg_url, raw(seg, ("-0.5", "NaN"))),  # the upload answered 500
        (seg_url, raw(seg, ("-0.5", "7.0"))),  # sentiment is -1..1
        (seg_url, raw(seg, ('"manual"', '"man\\u0000ual"'))),  # PostgreSQL stores no NUL
        (seg_url, raw(seg, ('"hello"', '"\\ud800"'))),  # a lone surrogate is no UTF-8
        (call_url, raw(summary, ("10.0", "Infinity"))),
        (call_url, raw(summary, ("150.0", "NaN"))),
        (call_url, raw(summary, ('"wpm"', '"w\\u0000pm"'))),
        ("/api/agent/live", b'{"on_call": true, "cue": "x", "cue_severity": "catastrophic"}'),
        ("/api/agent/live", b'{"on_call": true, "mood": NaN}'),
    ]
    for path, body in bad:
        code, got = call(server.url + path, "PUT", body, floor.token_a)
        assert code == 422, (path, body, code, got)
    assert call(server.url + seg_url, "PUT", seg, floor.token_a)[0] == 204  # the good one still goes in
    code, _ = call(server.url + "/api/login", "POST", b'{"name": "a\\u0000b", "password": "0123456789"}')
    assert code == 422
    # a row stored before severities were checked still renders
    floor.rows("UPDATE segments SET doc = jsonb_set(doc, '{cues,0,severity}', '\"catastrophic\"') WHERE id = %s RETURNING 1",
               f"{cid}:0")
    tok = floor.login(server, floor.sup_a)
    code, headers, page = request(server.url + f"/segments/{cid}:0", headers=[("Cookie", f"coach_session={tok}")])
    assert code == 200 and b"hello" in page


# --- 14: retention of live and audit rows, and a vacuum ---------------------------------------


def vacuums(dsn: str, table: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as c:
        return c.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = %s", (table,)).fetchone()[0]


def test_retention_deletes_old_live_and_audit_rows_then_vacuums(pg, floor, tmp_path):
    marker = f"old-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as c:
        c.execute("INSERT INTO live (agent_id, state, updated) VALUES (%s, '{}', now() - interval '100 days') "
                  "ON CONFLICT (agent_id) DO UPDATE SET updated = excluded.updated", (floor.agent_a_id,))
        c.execute("INSERT INTO audit (action, object, at) VALUES ('read', %s, now() - interval '100 days'), ('read', %s, now())",
                  (marker, marker + "-new"))
    before = vacuums(pg, "audit")
    srv = own_server(pg, tmp_path / "data", "--retention-days", "90")  # a pass at start, then hourly
    try:
        assert wait_for(lambda: not floor.rows("SELECT 1 FROM audit WHERE object = %s", marker))
        assert floor.rows("SELECT 1 FROM audit WHERE object = %s", marker + "-new") == [(1,)]
        assert not floor.rows("SELECT 1 FROM live WHERE agent_id = %s", floor.agent_a_id)
        assert wait_for(lambda: vacuums(pg, "audit") > before, 10)
    finally:
        srv.stop()
    # and `coach team purge` does the same now
    with psycopg.connect(pg, autocommit=True) as c:
        c.execute("INSERT INTO audit (action, object, at) VALUES ('read', %s, now() - interval '100 days')", (marker,))
    before = vacuums(pg, "live")
    r = team_cli(pg, tmp_path / "cli", "purge", "--days", "90")
    assert r.returncode == 0, r.stderr
    assert not floor.rows("SELECT 1 FROM audit WHERE object = %s", marker)
    assert wait_for(lambda: vacuums(pg, "live") > before, 10)


# --- 15: offboarding ------------------------------------------------------------------------


def notify_team_a(floor: Floor) -> None:
    """Agent A's live state, as the NOTIFY of a push (agent A's device is revoked by then)."""
    with psycopg.connect(floor.dsn, autocommit=True) as c:
        c.execute("SELECT pg_notify('coach_live', %s)", (json.dumps({"agent_id": floor.agent_a_id, "team_id": floor.team_a_id}),))


def test_offboarding_disables_people_and_ends_supervision(server, floor, tmp_path):
    u = server.url
    sup = floor.login(server, floor.sup_a)
    assert call(u + "/api/agent/live", "PUT", {"on_call": False}, floor.token_a)[0] == 204
    assert floor.agent_a in json.dumps(call(u + "/api/floor", token=sup)[1])
    # the CLI: an agent's devices stop working at once
    r = team_cli(floor.dsn, tmp_path, "disable-user", floor.agent_a)
    assert r.returncode == 0, r.stderr
    assert call(u + "/api/agent/live", "PUT", {"on_call": False}, floor.token_a)[0] == 401
    assert call(u + f"/api/agent/calls/{uuid.uuid4()}", "PUT", {"duration_s": 1.0}, floor.token_a)[0] == 401
    # a supervisor no longer sees a team, on an open login and on an open event stream
    stream = Stream(u, sup)
    assert stream.opened.wait(5)
    notify_team_a(floor)
    assert wait_for(lambda: stream.events, 5)  # the stream carries team A's states
    stream.events.clear()
    r = team_cli(floor.dsn, tmp_path, "remove-supervision", floor.sup_a, "--team", floor.team_a)
    assert r.returncode == 0, r.stderr
    assert floor.agent_a not in json.dumps(call(u + "/api/floor", token=sup)[1])
    r = team_cli(floor.dsn, tmp_path, "remove-supervision", floor.sup_a, "--team", floor.team_a)
    assert r.returncode == 2 and "does not supervise" in r.stderr
    time.sleep(6)  # past the stream's re-check
    notify_team_a(floor)
    time.sleep(1.0)
    assert not stream.events
    # the API: a supervisor disabled cannot log in, and their open login ends
    admin = floor.login(server, floor.admin)
    assert call(u + f"/api/admin/users/{floor.sup_a}/disable", "POST", token=admin)[0] == 204
    assert call(u + "/api/me", token=sup)[0] == 401
    assert call(u + "/api/login", "POST", {"name": floor.sup_a, "password": floor.pw})[0] == 401
    assert call(u + f"/api/admin/users/{floor.sup_a}/disable", "POST", token=admin)[0] == 400
    assert call(u + f"/api/admin/users/{floor.sup_b}/supervises/{floor.team_b}", "DELETE", token=admin)[0] == 204
    assert [r[0] for r in floor.rows("SELECT action FROM audit WHERE user_id = (SELECT id FROM users WHERE name = %s) "
                                     "AND action IN ('disable user', 'remove supervision') ORDER BY id", floor.admin)] == \
        ["disable user", "remove supervision"]
