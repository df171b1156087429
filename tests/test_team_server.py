"""Team mode end to end on real components: a PostgreSQL cluster the tests start themselves,
real `coach server` processes over loopback, the agent's real outbox and link, and (slow
tier) a real `coach demo` session sharing its flagged segment."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest
import soundfile as sf

from coach.config.settings import TeamSettings
from coach.core.errors import UserError
from coach.server import accounts
from coach.team.link import TeamLink, check_server_url
from coach.team.outbox import Outbox
from tests.team_server import Floor, Server, call, remove_cluster, start_cluster

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pg():
    cluster, dsn = start_cluster()
    yield dsn
    remove_cluster(cluster)


@pytest.fixture(scope="module")
def server(pg, tmp_path_factory):
    s = Server(pg, tmp_path_factory.mktemp("server-data")).start()
    yield s
    s.stop()


@pytest.fixture
def floor(pg) -> Floor:
    return Floor(pg)


def call_doc(tmp_path: Path) -> dict:
    """A finished call as the session store gives it: 60 s stereo audio, one flagged span,
    one payment-data span inside it, utterances inside and outside the flag."""
    rate = 16000
    t = np.arange(60 * rate) / rate
    audio = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)], axis=1).astype(np.float32)
    path = tmp_path / "call.wav"
    sf.write(path, audio, rate)
    return {
        "source": {"path": str(path), "duration_s": 60.0},
        "session": {"id": 1, "started": "2026-11-25T10:00:00", "mode": "live", "audio": str(path)},
        "metrics": {"agent": {"talk_ratio": 0.5, "wpm": 150.0}, "customer": {"talk_ratio": 0.5, "sentiment_mean": -0.3}},
        "utterances": [
            {"speaker": "customer", "start": 2.0, "end": 5.0, "text": "my account number is private chat before the flag"},
            {"speaker": "customer", "start": 31.0, "end": 36.0, "text": "this is the third time I call, it is unacceptable"},
            {"speaker": "agent", "start": 37.0, "end": 40.0, "text": "I understand, let me fix that now"},
        ],
        "cues": [{"id": "customer_escalating", "label": "customer escalating", "t": 36.5, "severity": "alert",
                  "reason": "said 'third time'", "latency_s": 0.5}],
        "flags": [{"start": 30.0, "end": 45.0, "reason": "customer_escalating", "by": "rule", "note": ""}],
        "redactions": [[41.0, 43.0]],
    }


def link_for(server: Server, token: str, folder: Path, **kw) -> TeamLink:
    return TeamLink(TeamSettings(server=server.url, token=token, **kw), folder)


def wait_for(cond, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


# --- uploads -----------------------------------------------------------------------------


def test_a_flagged_segment_arrives_redacted_and_only_the_flagged_part(server, floor, tmp_path):
    doc = call_doc(tmp_path)
    link = link_for(server, floor.token_a, tmp_path / "outbox")
    call_id = str(uuid.uuid4())
    assert link.after_call(doc, call_id) == 3  # summary, segment, clip
    link.start()
    link.stop(flush_s=20)
    assert link.outbox.count() == 0 and link.sent == 3

    tok = floor.login(server, floor.sup_a)
    code, listed = call(server.url + f"/api/segments?team={floor.team_a_id}", token=tok)
    assert code == 200 and [s["call_id"] for s in listed] == [call_id]
    seg_id = listed[0]["id"]
    code, seg = call(server.url + f"/api/segments/{seg_id}", token=tok)
    assert code == 200 and seg["cues"] == ["customer_escalating"]
    texts = [u["text"] for u in seg["doc"]["utterances"]]
    assert texts == ["this is the third time I call, it is unacceptable", "I understand, let me fix that now"]
    assert "private chat" not in json.dumps(seg)  # outside the flag: never sent

    code, clip = call(server.url + f"/api/segments/{seg_id}/clip", token=tok)
    assert code == 200 and clip[:4] == b"OggS"  # Opus by default
    audio, rate = sf.read(io.BytesIO(clip), dtype="float32")
    assert abs(len(audio) / rate - 15.0) < 0.05  # the flag's 15 s, not the 60 s call
    red = audio[int((41.0 - 30.0 + 0.05) * rate):int((43.0 - 30.0 - 0.05) * rate)]
    assert np.sqrt(np.mean(red**2)) < 1e-3  # payment-data span silenced before it left the PC
    assert np.abs(audio[: 5 * rate]).max() > 0.1

    code, found = call(server.url + "/api/segments?q=unacceptable", token=tok)
    assert [s["id"] for s in found] == [seg_id]
    # export for a QA tool: the clip and the segment's JSON in one zip
    import zipfile

    code, z = call(server.url + f"/api/segments/{seg_id}/export", token=tok)
    with zipfile.ZipFile(io.BytesIO(z)) as zf:
        assert code == 200 and sorted(zf.namelist()) == ["clip.opus", "segment.json"]
        assert zf.read("clip.opus") == clip and json.loads(zf.read("segment.json"))["id"] == seg_id
    # every read and listen is in the audit log: who, what
    actions = floor.rows("SELECT a.action FROM audit a JOIN users u ON u.id = a.user_id WHERE u.name = %s AND a.object = %s",
                         floor.sup_a, seg_id)
    assert sorted(r[0] for r in actions) == ["export", "listen", "read"]


def test_flac_clips_are_lossless_and_silent_exactly_where_redacted(server, floor, tmp_path):
    link = link_for(server, floor.token_a, tmp_path / "outbox", share_live=False, clip_format="flac")
    call_id = str(uuid.uuid4())
    link.after_call(call_doc(tmp_path), call_id)
    link.start()
    link.stop(flush_s=20)
    code, clip = call(server.url + f"/api/segments/{call_id}:0/clip", token=floor.login(server, floor.sup_a))
    audio, rate = sf.read(io.BytesIO(clip), dtype="float32")
    assert code == 200 and clip[:4] == b"fLaC" and rate == 16000 and len(audio) == 15 * rate
    assert np.abs(audio[int(10.9 * rate):int(13.1 * rate)]).max() == 0.0  # 41-43 s, with the 0.1 s margin


def test_a_team_policy_set_by_an_admin_also_shares_whole_calls(server, floor, tmp_path):
    def share(folder: str) -> str:
        link = link_for(server, floor.token_a, tmp_path / folder, share_live=False)
        link.start()
        assert wait_for(lambda: link.policy_known)
        call_id = str(uuid.uuid4())
        link.after_call(call_doc(tmp_path), call_id)
        link.stop(flush_s=20)
        assert link.outbox.count() == 0
        return call_id

    only_flagged = share("o1")
    assert [r[0] for r in floor.rows("SELECT id FROM segments WHERE call_id = %s", only_flagged)] == [f"{only_flagged}:0"]
    r = subprocess.run([sys.executable, "-m", "coach", "team", "--db", floor.dsn, "set-policy", floor.team_a, "--whole-calls", "yes"],
                       capture_output=True, text=True, env={**os.environ, "COACH_DATA_DIR": str(tmp_path / "d")})
    assert r.returncode == 0, r.stderr
    whole = share("o2")
    ids = sorted(r[0] for r in floor.rows("SELECT id FROM segments WHERE call_id = %s", whole))
    assert ids == [f"{whole}:0", f"{whole}:call"]
    tok = floor.login(server, floor.sup_a)
    seg = call(server.url + f"/api/segments/{whole}:call", token=tok)[1]
    assert "private chat" in json.dumps(seg["doc"])  # the utterance outside the flag, this time
    clip = call(server.url + f"/api/segments/{whole}:call/clip", token=tok)[1]
    audio, rate = sf.read(io.BytesIO(clip), dtype="float32")
    assert abs(len(audio) / rate - 60.0) < 0.05
    assert np.sqrt(np.mean(audio[int(41.05 * rate):int(42.95 * rate)] ** 2)) < 1e-3  # still redacted
    # agents of other teams keep sharing flagged segments only
    assert call(server.url + "/api/agent/policy", token=floor.token_b)[1] == {"share_whole_calls": False}


def test_live_state_reaches_the_floor_and_the_event_stream_of_another_server_process(server, floor, pg, tmp_path):
    other = Server(pg, tmp_path / "data2").start()  # a second process on the same database
    try:
        tok = floor.login(other, floor.sup_a)
        got: list[dict] = []
        req = urllib.request.Request(other.url + "/api/live/events", headers={"Authorization": f"Bearer {tok}"})
        resp = urllib.request.urlopen(req, timeout=20)
        assert resp.readline().startswith(b": connected")

        def read() -> None:
            for line in resp:
                if line.startswith(b"data: "):
                    got.append(json.loads(line[6:]))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        state = {"on_call": True, "duration_s": 12.0, "mood": 0.8, "trend": 1, "cue": "customer_escalating",
                 "cue_severity": "alert", "flags": 1}
        # agent B pushes first: supervisor A must not see it
        assert call(server.url + "/api/agent/live", "PUT", {**state, "mood": 0.1}, floor.token_b)[0] == 204
        assert call(server.url + "/api/agent/live", "PUT", state, floor.token_a)[0] == 204
        reader.join(10)
        resp.close()
        assert got and got[0]["agent_id"] == floor.agent_a_id and got[0]["mood"] == 0.8
        code, tiles = call(other.url + "/api/floor", token=tok)
        assert code == 200 and [t["agent"] for t in tiles] == [floor.agent_a]
        assert tiles[0]["state"]["cue"] == "customer_escalating"
    finally:
        other.stop()


def test_a_server_killed_mid_upload_and_restarted_gets_exactly_one_copy(pg, floor, tmp_path, monkeypatch):
    srv = Server(pg, tmp_path / "data").start()
    doc = call_doc(tmp_path)
    doc["flags"].append({"start": 0.0, "end": 29.0, "reason": "flagged by the agent", "by": "user", "note": ""})
    link = link_for(srv, floor.token_a, tmp_path / "outbox", share_live=False)
    call_id = str(uuid.uuid4())
    n = link.after_call(doc, call_id)
    accepted = []
    done = Outbox.done

    def done_then_kill(item: Path) -> None:
        done(item)
        accepted.append(item)
        if len(accepted) == 2:
            srv.kill()  # the server dies with the upload half done: call and first segment in, its clip not

    monkeypatch.setattr(Outbox, "done", staticmethod(done_then_kill))
    link.start()
    assert wait_for(lambda: link.status().startswith("team: offline"), 30), link.status()
    left = link.outbox.count()
    assert left == n - 2
    srv.start()  # same port, same database
    link._wake.set()
    assert wait_for(lambda: link.outbox.count() == 0, 90), link.status()
    link.stop()
    assert floor.rows("SELECT count(*) FROM calls WHERE id = %s", call_id)[0][0] == 1
    assert floor.rows("SELECT count(*) FROM segments WHERE call_id = %s", call_id)[0][0] == 2
    assert floor.rows("SELECT count(*) FROM clips k JOIN segments s ON s.id = k.segment_id WHERE s.call_id = %s", call_id)[0][0] == 2
    # an upload repeated after a lost reply is still one copy
    seg = json.dumps({"call_id": call_id, "start": 1, "end": 2, "reason": "again"}).encode()
    assert call(srv.url + f"/api/agent/segments/{call_id}:0", "PUT", seg, floor.token_a)[0] == 204
    assert floor.rows("SELECT reason FROM segments WHERE id = %s", f"{call_id}:0") == [("customer_escalating",)]
    srv.stop()


def test_uploads_wait_on_disk_while_the_server_is_down(floor, pg, tmp_path):
    from tests.team_server import free_port

    port = free_port()
    down = Server(pg, tmp_path / "data", port)
    link = link_for(down, floor.token_a, tmp_path / "outbox")
    statuses: list[str] = []
    link.on_status = statuses.append
    call_id = str(uuid.uuid4())
    link.after_call(call_doc(tmp_path), call_id)
    link.start(lambda: {"on_call": True, "duration_s": 1.0, "flags": 0})
    assert wait_for(lambda: "team: offline, 3 queued" in statuses)
    link.stop(flush_s=5)
    assert link.outbox.count() == 3  # nothing lost when the app closes
    # the next start of the app sends them
    down.start()
    try:
        again = link_for(down, floor.token_a, tmp_path / "outbox")
        again.start()
        assert wait_for(lambda: again.outbox.count() == 0)
        again.stop()
        assert floor.rows("SELECT count(*) FROM segments WHERE call_id = %s", call_id)[0][0] == 1
    finally:
        down.stop()


def test_deleting_a_session_drops_its_queued_uploads(tmp_path):
    from coach.store.db import Store

    data = tmp_path / "data"
    store = Store(data / "sessions.db")
    doc = call_doc(tmp_path)
    kept, gone = str(uuid.uuid4()), str(uuid.uuid4())
    sid = store.save({**doc, "model": {"name": "tiny.en"}, "call_id": gone,
                      "utterances": [{**u, "words": []} for u in doc["utterances"]]}, "demo")
    link = TeamLink(TeamSettings(server="http://127.0.0.1:9", token="ccd_x"), data / "outbox")  # never started
    link.after_call(doc, kept)
    link.after_call(doc, gone)
    assert link.outbox.count() == 6
    store.delete(sid)
    assert link.outbox.count() == 3
    assert all(kept in Outbox.read(p)[1] for p in link.outbox.pending())
    assert not any(gone.encode() in p.read_bytes() for p in (data / "outbox").rglob("*") if p.is_file())
    store.close()


# --- who may do what ---------------------------------------------------------------------


def test_wrong_or_revoked_token_is_401_and_nothing_is_stored(server, floor, tmp_path):
    admin = floor.login(server, floor.admin)
    cid = str(uuid.uuid4())
    summary = {"duration_s": 10.0, "cues": [], "flags": []}
    for token in ("ccd_" + "x" * 43, "", "not-a-token", floor.login(server, floor.sup_a)):
        assert call(server.url + f"/api/agent/calls/{cid}", "PUT", summary, token or None)[0] == 401
        assert call(server.url + "/api/agent/live", "PUT", {"on_call": True}, token or None)[0] == 401
    assert call(server.url + f"/api/admin/devices/{floor.device_a}", "DELETE", token=admin)[0] == 204
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", summary, floor.token_a)[0] == 401
    assert floor.rows("SELECT count(*) FROM calls WHERE id = %s", cid)[0][0] == 0
    assert floor.rows("SELECT count(*) FROM live WHERE agent_id = %s", floor.agent_a_id)[0][0] == 0
    assert call(server.url + "/api/login", "POST", {"name": floor.sup_a, "password": "wrong password"})[0] == 401
    assert floor.rows("SELECT count(*) FROM audit WHERE action = 'login failed' AND object = %s", floor.sup_a)[0][0] == 1


def test_a_supervisor_sees_only_their_teams_on_every_endpoint(server, floor, tmp_path):
    link = link_for(server, floor.token_b, tmp_path / "outbox", share_live=False)
    link.after_call(call_doc(tmp_path), str(uuid.uuid4()))
    link.start()
    link.stop(flush_s=20)
    call(server.url + "/api/agent/live", "PUT", {"on_call": True, "mood": 0.9}, floor.token_b)
    seg_b = floor.rows("SELECT s.id FROM segments s JOIN users u ON u.id = s.agent_id WHERE u.name = %s", floor.agent_b)[0][0]
    tokens = {"sup_a": floor.login(server, floor.sup_a), "sup_b": floor.login(server, floor.sup_b),
              "admin": floor.login(server, floor.admin), "device_b": floor.token_b, "nobody": None}
    u = server.url
    # (method, path, body, {who: status}); who is not listed -> 401/403/404 all count as refused
    table = [
        ("GET", f"/api/segments/{seg_b}", None, {"sup_b": 200, "admin": 200}),
        ("GET", f"/api/segments/{seg_b}/clip", None, {"sup_b": 200, "admin": 200}),
        ("POST", f"/api/segments/{seg_b}/review", {"note": "ok"}, {"sup_b": 204, "admin": 204}),
        ("GET", "/api/segments", None, {"sup_a": 200, "sup_b": 200, "admin": 200}),
        ("GET", "/api/floor", None, {"sup_a": 200, "sup_b": 200, "admin": 200}),
        ("GET", "/api/admin/audit", None, {"admin": 200}),
        ("POST", "/api/admin/teams", {"name": f"t-{uuid.uuid4().hex[:6]}"}, {"admin": 201}),
        ("POST", "/api/admin/devices", {"agent": floor.agent_b}, {"admin": 201}),
        ("PUT", f"/api/admin/teams/{floor.team_b}/policy", {"share_whole_calls": False}, {"admin": 204}),
        ("GET", "/api/me", None, {"sup_a": 200, "sup_b": 200, "admin": 200}),
    ]
    for method, path, body, allowed in table:
        for who, tok in tokens.items():
            code, got = call(u + path, method, body, tok)
            if who in allowed:
                assert code == allowed[who], (method, path, who, code, got)
            else:
                assert code in (401, 403, 404), (method, path, who, code, got)
                assert seg_b.encode() not in (got if isinstance(got, bytes) else json.dumps(got).encode())
    # lists are filtered, not refused: supervisor A sees none of team B
    for path in ("/api/segments", f"/api/segments?team={floor.team_b_id}", "/api/segments?q=unacceptable", "/api/floor"):
        code, got = call(u + path, token=tokens["sup_a"])
        assert code == 200 and floor.agent_b not in json.dumps(got) and seg_b not in json.dumps(got), path


def test_injection_and_oversized_payloads_are_refused(server, floor):
    tok = floor.login(server, floor.sup_a)
    for q in ("'; DROP TABLE segments; --", "x' OR '1'='1", "\\' UNION SELECT * FROM users --"):
        code, got = call(server.url + "/api/segments?q=" + urllib.request.quote(q), token=tok)
        assert code == 200 and got == []
    code, _ = call(server.url + "/api/segments?cue=" + urllib.request.quote("x' OR 1=1 --"), token=tok)
    assert code == 200
    assert floor.rows("SELECT count(*) FROM pg_tables WHERE tablename = 'segments'")[0][0] == 1
    assert call(server.url + "/api/login", "POST", {"name": "' OR 1=1 --", "password": "x' OR '1'='1"})[0] == 401
    bad_id = "x'; DELETE FROM segments; --"
    assert call(server.url + "/api/agent/segments/" + urllib.request.quote(bad_id), "PUT",
                {"call_id": str(uuid.uuid4()), "start": 0, "end": 1, "reason": "r"}, floor.token_a)[0] in (404, 422)
    cid = str(uuid.uuid4())
    # declared over the limit: refused before the body is read (an endpoint's own limit, then the default)
    for path, size in ((f"/api/agent/calls/{cid}", 2 * 1024 * 1024 + 1), ("/api/agent/live", 256 * 1024 + 1),
                       (f"/api/agent/segments/{cid}:0/clip", 16 * 1024 * 1024 + 1)):
        assert declared(server, path, size, floor.token_a) == 413, path
    # a call summary may be larger than the default limit, up to its own
    roomy = {"duration_s": 1.0, "cues": [], "flags": [{"start": 0, "end": 1, "note": "n" * 3000}] * 100}
    assert 256 * 1024 < len(json.dumps(roomy)) < 2 * 1024 * 1024
    assert call(server.url + f"/api/agent/calls/{uuid.uuid4()}", "PUT", roomy, floor.token_a)[0] == 204
    # within the limit, refused by the schema: too many items, values out of range, not JSON
    many = {"duration_s": 1.0, "cues": [], "flags": [{"start": 0, "end": 1}] * 501}
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", many, floor.token_a)[0] == 422
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", {"duration_s": 1e12}, floor.token_a)[0] == 422
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", b"not json", floor.token_a)[0] == 422
    assert floor.rows("SELECT count(*) FROM calls WHERE id = %s", cid)[0][0] == 0


def declared(server: Server, path: str, length: int, token: str) -> int:
    """A request whose headers announce `length` bytes, none of which is sent: the answer."""
    import http.client

    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.putrequest("PUT", path)
    for k, v in (("Authorization", f"Bearer {token}"), ("Content-Type", "application/json"), ("Content-Length", str(length))):
        c.putheader(k, v)
    c.endheaders()
    status = c.getresponse().status
    c.close()
    return status


def test_a_body_longer_than_allowed_is_cut_off_while_it_is_read():
    """The streaming side of the size limit (a chunked body has no Content-Length), on the ASGI seam."""
    import asyncio

    from coach.server.guards import BodyLimit

    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def run(chunks: int) -> int:
        sent: list[dict] = []
        parts = [{"type": "http.request", "body": b"x" * 1024, "more_body": i < chunks - 1} for i in range(chunks)]

        async def receive():
            return parts.pop(0)

        async def send(m):
            sent.append(m)

        await BodyLimit(app, default=10 * 1024)({"type": "http", "path": "/api/x", "headers": []}, receive, send)
        return sent[0]["status"]

    assert asyncio.run(run(10)) == 204 and asyncio.run(run(11)) == 413


def test_requests_beyond_the_rate_limit_get_429(server, floor):
    codes = [call(server.url + "/api/login", "POST", {"name": floor.sup_b, "password": "nope nope nope"})[0] for _ in range(8)]
    assert codes == [401] * 5 + [429] * 3  # guessing one name's password stops after 5 tries
    assert call(server.url + "/api/login", "POST", {"name": floor.sup_b, "password": floor.pw})[0] == 429
    floor.login(server, floor.sup_a)  # other names are not locked out
    codes = [call(server.url + "/api/segments", token="ccl_flood")[0] for _ in range(80)]
    assert codes[0] == 401 and 429 in codes  # any one credential: bursts of 60, then 10 a second


def test_retention_removes_rows_and_clips(server, floor, tmp_path):
    link = link_for(server, floor.token_a, tmp_path / "outbox", share_live=False)
    old, new = str(uuid.uuid4()), str(uuid.uuid4())
    link.after_call(call_doc(tmp_path), old)
    link.after_call(call_doc(tmp_path), new)
    link.start()
    link.stop(flush_s=20)
    floor.rows("UPDATE segments SET received = now() - interval '100 days' WHERE call_id = %s RETURNING 1", old)
    floor.rows("UPDATE calls SET received = now() - interval '100 days' WHERE id = %s RETURNING 1", old)
    out = subprocess.run([sys.executable, "-m", "coach", "team", "--db", floor.dsn, "purge", "--days", "90"],
                         capture_output=True, text=True, env={**os.environ, "COACH_DATA_DIR": str(tmp_path / "d")})
    assert out.returncode == 0, out.stderr
    for cid, n in ((old, 0), (new, 1)):
        assert floor.rows("SELECT count(*) FROM calls WHERE id = %s", cid)[0][0] == n
        assert floor.rows("SELECT count(*) FROM segments WHERE call_id = %s", cid)[0][0] == n
        assert floor.rows("SELECT count(*) FROM clips WHERE segment_id LIKE %s", cid + ":%")[0][0] == n


def test_the_openapi_schema_lists_the_api(server):
    code, schema = call(server.url + "/openapi.json")
    assert code == 200
    assert {"/api/agent/live", "/api/agent/segments/{segment_id}", "/api/segments", "/api/floor", "/api/login"} <= set(schema["paths"])


# --- commands and settings -------------------------------------------------------------------


def test_plain_http_off_loopback_and_bad_server_options_are_one_line(tmp_path):
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path)}
    for args, says in ((["--host", "0.0.0.0"], "refusing plain HTTP"), (["--certfile", "x.pem"], "both --certfile"),
                       (["--workers", "0"], "--workers")):
        r = subprocess.run([sys.executable, "-m", "coach", "server", "--db", "postgresql://nowhere/x", *args],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_team_commands_manage_people_and_devices(pg, tmp_path):
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path)}
    tag = uuid.uuid4().hex[:6]

    def team(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "coach", "team", "--db", pg, *args], capture_output=True, text=True,
                              env=env, input=stdin)

    assert team("create-team", f"t-{tag}").returncode == 0
    r = team("create-team", f"t-{tag}")
    assert r.returncode == 2 and "exists already" in r.stderr
    assert team("create-user", f"u-{tag}", "--role", "agent", "--team", f"t-{tag}").returncode == 0
    r = team("create-user", f"s-{tag}", "--role", "supervisor", "--supervises", f"t-{tag}", "--password-stdin", stdin="short\n")
    assert r.returncode == 2 and "10 characters" in r.stderr
    r = team("device-token", f"u-{tag}")
    assert r.returncode == 0 and "ccd_" in r.stdout
    token = r.stdout.strip().splitlines()[-1]
    stored = psycopg.connect(pg).execute("SELECT token_hash FROM devices d JOIN users u ON u.id = d.user_id WHERE u.name = %s",
                                         (f"u-{tag}",)).fetchone()[0]
    assert bytes(stored) == accounts.hash_token(token) and token.encode() not in bytes(stored)  # stored hashed
    r = team("create-user", f"x-{tag}", "--role", "agent")
    assert r.returncode == 2 and "team" in r.stderr
    assert team("create-user", f"s-{tag}", "--role", "supervisor", "--password-stdin", stdin="first password 1\n").returncode == 0
    assert team("set-password", f"s-{tag}", "--password-stdin", stdin="second password 2\n").returncode == 0
    with psycopg.connect(pg) as c:
        stored = c.execute("SELECT password_hash FROM users WHERE name = %s", (f"s-{tag}",)).fetchone()[0]
    assert accounts.check_password(stored, "second password 2") and not accounts.check_password(stored, "first password 1")


def test_the_agent_refuses_plain_http_to_another_host():
    assert check_server_url("https://coach.example.com/") == "https://coach.example.com"
    assert check_server_url("http://127.0.0.1:8470") == "http://127.0.0.1:8470"
    for bad in ("http://coach.example.com", "ftp://x", "coach.example.com"):
        with pytest.raises(UserError):
            check_server_url(bad)


@pytest.mark.slow
def test_a_demo_session_shares_its_flagged_segment(server, floor, tmp_path):
    """A real `coach demo` of a scripted escalation, with [team] in its settings."""
    out = tmp_path / "calls"
    subprocess.run([sys.executable, str(ROOT / "tools" / "render_calls.py"), str(out), str(ROOT / "tests" / "data" / "scenarios.json"),
                    "d1_refund_escalation"], check=True, capture_output=True)
    data = tmp_path / "agent"
    data.mkdir()
    (data / "settings.toml").write_text(f'[team]\nserver = "{server.url}"\ntoken = "{floor.token_a}"\nlive_every_s = 0.5\n')
    tok = floor.login(server, floor.sup_a)
    seen_on_call: list[dict] = []

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not seen_on_call:
            tiles = call(server.url + "/api/floor", token=tok)[1]
            seen_on_call.extend(t for t in tiles if (t["state"] or {}).get("on_call"))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    r = subprocess.run([sys.executable, "-m", "coach", "demo", str(out / "d1_refund_escalation.wav"), "--headless", "--no-audio",
                        "--speed", "4", "--data-dir", str(data)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    watcher.join(5)
    assert seen_on_call and seen_on_call[0]["agent"] == floor.agent_a  # live while the call ran
    code, segs = call(server.url + "/api/segments", token=tok)
    assert code == 200 and len(segs) == 1 and "customer_escalating" in segs[0]["cues"] and segs[0]["has_clip"]
    code, tiles = call(server.url + "/api/floor", token=tok)
    assert tiles[0]["state"]["on_call"] is False  # the call's end was pushed
    assert not list((data / "outbox").glob("*.item"))


def test_tls_server_and_an_agent_that_trusts_its_private_ca(pg, floor, tmp_path):
    """--certfile/--keyfile serve HTTPS; the agent reaches it through team.ca_file, and a
    link that does not trust the certificate queues instead of sending."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    srv = Server(pg, tmp_path / "data", None, "--certfile", str(cert), "--keyfile", str(key))
    srv.scheme = "https"
    srv.start()
    try:
        untrusting = link_for(srv, floor.token_a, tmp_path / "outbox1", share_live=False)
        untrusting.after_call(call_doc(tmp_path), str(uuid.uuid4()))
        untrusting.start()
        untrusting.stop(flush_s=5)
        assert untrusting.outbox.count() == 3 and untrusting.state == "offline"
        trusting = link_for(srv, floor.token_a, tmp_path / "outbox2", share_live=False, ca_file=str(cert))
        trusting.after_call(call_doc(tmp_path), str(uuid.uuid4()))
        trusting.start()
        trusting.stop(flush_s=20)
        assert trusting.outbox.count() == 0 and trusting.sent == 3
    finally:
        srv.stop()
