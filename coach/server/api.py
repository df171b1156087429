"""The team server's HTTP API (FastAPI on uvicorn, PostgreSQL through psycopg's async pool).

Stateless: every request reads and writes PostgreSQL only, so several processes can serve
one database behind a load balancer. Live states fan out through LISTEN/NOTIFY: each
process listens once and forwards to its own event-stream subscribers.

Who may do what:
  devices (agents' apps, bearer device token)  push live state, upload calls and flagged segments
  supervisors (login)                          read their teams' floor and segments, review them
  admins (login)                               everything, plus teams, people and device tokens
A segment of a team the reader does not supervise answers 404, as if it did not exist.
"""
# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations, which
# name dependencies local to create_app

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from coach.server import accounts, guards, queries
from coach.server.accounts import Person
from coach.server.clips import ClipStore, PostgresClips
from coach.server.schema import migrate

log = logging.getLogger("coach.server")
CHANNEL = "coach_live"
LOGIN_HOURS = 12
CLIP_LIMIT = 16 * 1024 * 1024  # a flagged segment's clip: 30 s stereo at 16 kHz is ~0.2 MB (Opus), ~0.6 MB (FLAC)
CALL_LIMIT = 2 * 1024 * 1024  # a call's summary: its cues and flags

Text = Annotated[str, Field(max_length=4000)]
Short = Annotated[str, Field(max_length=200)]
SegmentId = Annotated[str, Path(max_length=80)]


class LiveIn(BaseModel):
    on_call: bool
    call_id: uuid.UUID | None = None
    duration_s: float = Field(0.0, ge=0, le=86400)
    mood: float | None = Field(None, ge=0, le=10)  # the customer's escalation, 0 calm .. 1+ escalating
    trend: int = Field(0, ge=-1, le=1)
    cue: Short | None = None  # the cue on the agent's overlay now
    cue_severity: Short | None = None
    flags: int = Field(0, ge=0, le=10000)


class CueIn(BaseModel):
    id: Short
    label: Short = ""
    t: float = Field(ge=0, le=86400)
    severity: Short = ""
    reason: Text = ""


class FlagIn(BaseModel):
    start: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    reason: Short = ""
    by: Short = ""
    note: Text = ""


class UtteranceIn(BaseModel):
    speaker: Literal["agent", "customer"]
    start: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    text: Text
    sentiment: float | None = None


class CallIn(BaseModel):
    started: str | None = Field(None, max_length=40)
    duration_s: float = Field(ge=0, le=86400)
    mode: Short = ""
    metrics: dict[str, dict[str, float | None]] = Field(default_factory=dict, max_length=4)
    cues: list[CueIn] = Field(default_factory=list, max_length=2000)
    flags: list[FlagIn] = Field(default_factory=list, max_length=500)


class SegmentIn(BaseModel):
    call_id: uuid.UUID
    start: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    reason: Short
    by: Short = ""
    note: Text = ""
    cues: list[CueIn] = Field(default_factory=list, max_length=200)
    utterances: list[UtteranceIn] = Field(default_factory=list, max_length=1000)


class LoginIn(BaseModel):
    name: Short
    password: Annotated[str, Field(max_length=1000)]


class ReviewIn(BaseModel):
    note: Text = ""


class TeamIn(BaseModel):
    name: Short


class UserIn(BaseModel):
    name: Short
    role: Literal["agent", "supervisor", "admin"]
    password: Annotated[str, Field(max_length=1000)] | None = None
    team: Short | None = None
    supervises: list[Short] = Field(default_factory=list, max_length=100)


class PolicyIn(BaseModel):
    share_whole_calls: bool


class DeviceIn(BaseModel):
    agent: Short
    name: Short = "agent PC"


@dataclass(frozen=True)
class Device:
    id: int
    agent_id: int
    team_id: int | None


class Hub:
    """This process's live-event subscribers; fed by one LISTEN connection."""

    def __init__(self) -> None:
        self.subscribers: set[tuple[Person, asyncio.Queue[dict[str, Any]]]] = set()

    def publish(self, event: dict[str, Any]) -> None:
        for person, q in list(self.subscribers):
            if person.sees(event.get("team_id")) and q.qsize() < 1000:
                q.put_nowait(event)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.cookies.get("coach_session")


def create_app(dsn: str, retention_days: float = 90.0, tls: bool = False, pool_max: int = 20,
               clips: ClipStore | None = None, purge_every_s: float = 3600.0) -> Any:
    """The ASGI application: FastAPI wrapped in the size, rate and header guards."""
    pool = AsyncConnectionPool(dsn, min_size=2, max_size=pool_max, open=False, kwargs={"autocommit": True})
    # live pushes: a newer one follows in 2 s, so they need not wait for a disk flush
    live_pool = AsyncConnectionPool(dsn, min_size=2, max_size=max(2, pool_max // 2), open=False,
                                    kwargs={"autocommit": True, "options": "-c synchronous_commit=off"})
    clip_store = clips or PostgresClips()
    hub = Hub()
    failed_logins = guards.FailedLogins()

    async def listen() -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as c:
                    await c.execute(f"LISTEN {CHANNEL}")
                    async for n in c.notifies():
                        hub.publish(json.loads(n.payload))
            except (psycopg.Error, OSError) as e:
                log.warning("live listener lost its connection (%s); reconnecting", e)
                await asyncio.sleep(1.0)

    async def purge_loop() -> None:
        while True:
            try:
                calls, segs = await run_in_threadpool(_purge_sync, dsn, retention_days)
                if calls or segs:
                    async with pool.connection() as c:
                        await queries.audit(c, None, None, "retention", f"{calls} calls, {segs} segments", None)
            except (psycopg.Error, OSError) as e:
                log.warning("retention pass failed: %s", e)
            await asyncio.sleep(purge_every_s)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with psycopg.connect(dsn, autocommit=True) as c:
            migrate(c)
        await pool.open(wait=True)
        await live_pool.open(wait=True)
        tasks = [asyncio.create_task(listen())]
        if retention_days > 0:
            tasks.append(asyncio.create_task(purge_loop()))
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            await pool.close()
            await live_pool.close()

    app = FastAPI(title="Call Coach team server", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)

    async def device(request: Request) -> Device:
        token = _bearer(request)
        if token and token.startswith("ccd_"):
            async with pool.connection() as c:
                row = await (await c.execute(
                    "SELECT d.id, u.id, u.team_id FROM devices d JOIN users u ON u.id = d.user_id "
                    "WHERE d.token_hash = %s AND d.revoked IS NULL AND NOT u.disabled", (accounts.hash_token(token),))).fetchone()
            if row:
                return Device(*row)
        raise HTTPException(401, "unknown or revoked device token", headers={"WWW-Authenticate": "Bearer"})

    async def person(request: Request) -> Person:
        token = _bearer(request)
        if token and token.startswith("ccl_"):
            async with pool.connection() as c:
                row = await (await c.execute(
                    "SELECT u.id, u.name, u.role FROM logins l JOIN users u ON u.id = l.user_id "
                    "WHERE l.token_hash = %s AND l.expires > now() AND NOT u.disabled", (accounts.hash_token(token),))).fetchone()
                if row:
                    teams = await queries.teams_of(c, row[0], row[2])
                    return Person(row[0], row[1], row[2], teams)
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})

    async def staff(p: Annotated[Person, Depends(person)]) -> Person:
        if p.role not in ("supervisor", "admin"):
            raise HTTPException(403, "for supervisors and admins")
        return p

    async def admin(p: Annotated[Person, Depends(person)]) -> Person:
        if p.role != "admin":
            raise HTTPException(403, "for admins")
        return p

    async def admin_action(p: Person, request: Request, action: str, obj: str, fn: Callable[[psycopg.Connection], Any]) -> Any:
        """Run an account change (the same code `coach team` runs) in a worker thread, audited."""
        def run() -> Any:
            with psycopg.connect(dsn) as c:
                return fn(c)
        try:
            result = await run_in_threadpool(run)
        except accounts.AccountError as e:
            raise HTTPException(400, str(e)) from None
        async with pool.connection() as c:
            await queries.audit(c, p.id, None, action, obj, request)
        return result

    # --- people -------------------------------------------------------------------------

    @app.post("/api/login")
    async def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
        if failed_logins.blocked(body.name):
            raise HTTPException(429, "too many failed logins for this name; wait 15 minutes", headers={"Retry-After": "900"})
        async with pool.connection() as c:
            row = await (await c.execute("SELECT id, password_hash, role FROM users WHERE name = %s AND NOT disabled",
                                         (body.name,))).fetchone()
            ok = await run_in_threadpool(accounts.check_password, row[1] if row else None, body.password)
            if not (row and ok):
                failed_logins.failed(body.name)
                await queries.audit(c, row[0] if row else None, None, "login failed", body.name, request)
                raise HTTPException(401, "wrong name or password")
            failed_logins.succeeded(body.name)
            token = accounts.new_token("l")
            await c.execute("INSERT INTO logins (token_hash, user_id, expires) VALUES (%s, %s, now() + make_interval(hours => %s))",
                            (accounts.hash_token(token), row[0], LOGIN_HOURS))
            await queries.audit(c, row[0], None, "login", body.name, request)
        response.set_cookie("coach_session", token, max_age=LOGIN_HOURS * 3600, httponly=True, secure=tls, samesite="strict")
        return {"token": token, "role": row[2], "expires_in_s": LOGIN_HOURS * 3600}

    @app.post("/api/logout", status_code=204)
    async def logout(request: Request, response: Response, p: Annotated[Person, Depends(person)]) -> None:
        async with pool.connection() as c:
            await c.execute("DELETE FROM logins WHERE token_hash = %s", (accounts.hash_token(_bearer(request) or ""),))
        response.delete_cookie("coach_session")

    @app.get("/api/me")
    async def me(p: Annotated[Person, Depends(person)]) -> dict[str, Any]:
        return {"id": p.id, "name": p.name, "role": p.role, "teams": list(p.teams)}

    # --- agents' apps --------------------------------------------------------------------

    @app.put("/api/agent/live", status_code=204)
    async def put_live(body: LiveIn, request: Request) -> None:
        """The hot path (every agent, every 2 s): token check, upsert and notify in one round trip."""
        token = _bearer(request) or ""
        state = body.model_dump(mode="json")
        async with live_pool.connection() as c:
            row = await (await c.execute(
                "WITH d AS (SELECT u.id, u.team_id FROM devices d JOIN users u ON u.id = d.user_id "
                "           WHERE d.token_hash = %(h)s AND d.revoked IS NULL AND NOT u.disabled), "
                "w AS (INSERT INTO live (agent_id, state) SELECT id, %(s)s FROM d "
                "      ON CONFLICT (agent_id) DO UPDATE SET state = excluded.state, updated = now() RETURNING agent_id) "
                "SELECT pg_notify(%(ch)s, (jsonb_build_object('agent_id', d.id, 'team_id', d.team_id) || %(s)s)::text) "
                "FROM d JOIN w ON w.agent_id = d.id",
                {"h": accounts.hash_token(token), "s": Jsonb(state), "ch": CHANNEL})).fetchone()
        if row is None:
            raise HTTPException(401, "unknown or revoked device token", headers={"WWW-Authenticate": "Bearer"})

    @app.put("/api/agent/calls/{call_id}", status_code=204)
    async def put_call(call_id: uuid.UUID, body: CallIn, d: Annotated[Device, Depends(device)]) -> None:
        async with pool.connection() as c:
            await c.execute(
                "INSERT INTO calls (id, agent_id, team_id, started, duration_s, summary) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (id) DO NOTHING", (call_id, d.agent_id, d.team_id, _timestamp(body.started), body.duration_s,
                                                Jsonb(body.model_dump(mode="json"))))
            await c.execute("UPDATE devices SET last_seen = now() WHERE id = %s", (d.id,))

    @app.put("/api/agent/segments/{segment_id}", status_code=204)
    async def put_segment(segment_id: Annotated[str, Path(max_length=80, pattern=r"^[0-9a-f-]{36}:(\d{1,5}|call)$")],
                          body: SegmentIn, d: Annotated[Device, Depends(device)]) -> None:
        if not segment_id.startswith(str(body.call_id)):
            raise HTTPException(400, "a segment's id starts with its call's id")
        words = " ".join(u.text for u in body.utterances)
        async with pool.connection() as c:
            await c.execute(
                "INSERT INTO segments (id, call_id, agent_id, team_id, t0, t1, reason, cues, doc, words) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, to_tsvector('english', %s)) ON CONFLICT (id) DO NOTHING",
                (segment_id, body.call_id, d.agent_id, d.team_id, body.start, body.end, body.reason,
                 sorted({cue.id for cue in body.cues}), Jsonb(body.model_dump(mode="json")), words))

    @app.put("/api/agent/segments/{segment_id}/clip", status_code=204)
    async def put_clip(segment_id: SegmentId, request: Request,
                       d: Annotated[Device, Depends(device)]) -> None:
        fmt = request.headers.get("content-type", "")
        if fmt not in ("audio/flac", "audio/ogg"):
            raise HTTPException(415, "clips are audio/flac or audio/ogg (Opus)")
        data = await request.body()
        if not data:
            raise HTTPException(400, "an empty clip")
        async with pool.connection() as c:
            if not await (await c.execute("SELECT 1 FROM segments WHERE id = %s AND agent_id = %s", (segment_id, d.agent_id))).fetchone():
                raise HTTPException(404, "upload the segment before its clip")
            await clip_store.put(c, segment_id, fmt, data)

    # --- supervisors ---------------------------------------------------------------------

    @app.get("/api/floor")
    async def floor(p: Annotated[Person, Depends(staff)]) -> list[dict[str, Any]]:
        async with pool.connection() as c:
            return [queries.jsonable(r) for r in await queries.floor_rows(c, p)]

    @app.get("/api/live/events")
    async def live_events(request: Request, p: Annotated[Person, Depends(staff)]) -> StreamingResponse:
        """Server-sent events: each live state pushed by an agent of the reader's teams."""
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        entry = (p, q)
        hub.subscribers.add(entry)

        async def stream() -> AsyncIterator[bytes]:
            try:
                yield b": connected\n\n"
                while not await request.is_disconnected():
                    try:
                        event = await asyncio.wait_for(q.get(), timeout=15.0)
                        yield f"event: live\ndata: {json.dumps(event)}\n\n".encode()
                    except TimeoutError:
                        yield b": keep-alive\n\n"
            finally:
                hub.subscribers.discard(entry)

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.get("/api/segments")
    async def segments(p: Annotated[Person, Depends(staff)], team: int | None = None, agent: int | None = None,
                       cue: Annotated[str | None, Query(max_length=60)] = None, q: Annotated[str | None, Query(max_length=200)] = None,
                       reviewed: bool | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                       offset: Annotated[int, Query(ge=0, le=100000)] = 0) -> list[dict[str, Any]]:
        where, args = ["(%s OR s.team_id = ANY(%s))"], list(queries.scope(p))
        for cond, val in (("s.team_id = %s", team), ("s.agent_id = %s", agent), ("%s = ANY(s.cues)", cue)):
            if val is not None:
                where.append(cond)
                args.append(val)
        if q:
            where.append("s.words @@ websearch_to_tsquery('english', %s)")
            args.append(q)
        if reviewed is not None:
            where.append("(s.reviewed_at IS NOT NULL) = %s")
            args.append(reviewed)
        async with pool.connection() as c, c.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT s.id, s.call_id, s.agent_id, u.name AS agent, s.team_id, s.t0, s.t1, s.reason, s.cues, s.received, "
                "s.reviewed_at, s.note, EXISTS (SELECT 1 FROM clips k WHERE k.segment_id = s.id) AS has_clip "
                "FROM segments s JOIN users u ON u.id = s.agent_id WHERE " + " AND ".join(where) +
                " ORDER BY s.received DESC, s.id LIMIT %s OFFSET %s", (*args, limit, offset))
            return [queries.jsonable(r) for r in await cur.fetchall()]

    @app.get("/api/segments/{segment_id}")
    async def segment(segment_id: SegmentId, request: Request,
                      p: Annotated[Person, Depends(staff)]) -> dict[str, Any]:
        async with pool.connection() as c:
            row = await queries.visible_segment(c, p, segment_id)
            await queries.audit(c, p.id, None, "read", segment_id, request)
        row.pop("words", None)
        return queries.jsonable(row)

    @app.get("/api/segments/{segment_id}/clip")
    async def clip(segment_id: SegmentId, request: Request,
                   p: Annotated[Person, Depends(staff)]) -> Response:
        async with pool.connection() as c:
            await queries.visible_segment(c, p, segment_id)
            found = await clip_store.get(c, segment_id)
            if found is None:
                raise HTTPException(404, "this segment has no clip (yet)")
            await queries.audit(c, p.id, None, "listen", segment_id, request)
        fmt, data = found
        return Response(data, media_type=fmt)

    @app.post("/api/segments/{segment_id}/review", status_code=204)
    async def review(segment_id: SegmentId, body: ReviewIn, request: Request,
                     p: Annotated[Person, Depends(staff)]) -> None:
        async with pool.connection() as c:
            await queries.visible_segment(c, p, segment_id)
            await c.execute("UPDATE segments SET reviewed_by = %s, reviewed_at = now(), note = %s WHERE id = %s",
                            (p.id, body.note or None, segment_id))
            await queries.audit(c, p.id, None, "review", segment_id, request)

    # --- admins ----------------------------------------------------------------------------

    @app.post("/api/admin/teams", status_code=201)
    async def new_team(body: TeamIn, request: Request, p: Annotated[Person, Depends(admin)]) -> dict[str, Any]:
        tid = await admin_action(p, request, "create team", body.name, lambda c: accounts.create_team(c, body.name))
        return {"id": tid}

    @app.post("/api/admin/users", status_code=201)
    async def new_user(body: UserIn, request: Request, p: Annotated[Person, Depends(admin)]) -> dict[str, Any]:
        uid = await admin_action(p, request, "create user", body.name, lambda c: accounts.create_user(
            c, body.name, body.role, body.password, body.team, body.supervises))
        return {"id": uid}

    @app.post("/api/admin/devices", status_code=201)
    async def new_device(body: DeviceIn, request: Request, p: Annotated[Person, Depends(admin)]) -> dict[str, Any]:
        did, token = await admin_action(p, request, "issue device token", body.agent,
                                        lambda c: accounts.issue_device_token(c, body.agent, body.name))
        return {"id": did, "token": token}

    @app.delete("/api/admin/devices/{device_id}", status_code=204)
    async def revoke(device_id: int, request: Request, p: Annotated[Person, Depends(admin)]) -> None:
        await admin_action(p, request, "revoke device", str(device_id), lambda c: accounts.revoke_device(c, device_id))

    @app.get("/api/admin/audit")
    async def audit(p: Annotated[Person, Depends(admin)], limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
        async with pool.connection() as c, c.cursor(row_factory=dict_row) as cur:
            await cur.execute("SELECT * FROM audit ORDER BY id DESC LIMIT %s", (limit,))
            return [queries.jsonable(r) for r in await cur.fetchall()]

    @app.get("/api/agent/policy")
    async def agent_policy(d: Annotated[Device, Depends(device)]) -> dict[str, bool]:
        """What this agent's team shares, as its admin set it (`coach team set-policy`)."""
        async with pool.connection() as c:
            row = await (await c.execute("SELECT share_whole_calls FROM teams WHERE id = %s", (d.team_id,))).fetchone()
        return {"share_whole_calls": bool(row and row[0])}

    @app.put("/api/admin/teams/{team}/policy", status_code=204)
    async def team_policy(team: Annotated[str, Path(max_length=80)], body: PolicyIn, request: Request,
                          p: Annotated[Person, Depends(admin)]) -> None:
        await admin_action(p, request, "set policy", f"{team}: whole calls {body.share_whole_calls}",
                           lambda c: accounts.set_team_policy(c, team, body.share_whole_calls))

    @app.get("/api/agent/notes")
    async def agent_notes(d: Annotated[Device, Depends(device)]) -> list[dict[str, Any]]:
        """Supervisors' coaching notes on this agent's segments, for the agent's own session list."""
        async with pool.connection() as c, c.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT s.id AS segment_id, s.call_id, s.t0, s.t1, s.note, s.reviewed_at, u.name AS reviewer FROM segments s "
                "LEFT JOIN users u ON u.id = s.reviewed_by WHERE s.agent_id = %s AND s.note IS NOT NULL "
                "ORDER BY s.reviewed_at DESC LIMIT 500", (d.agent_id,))
            return [queries.jsonable(r) for r in await cur.fetchall()]

    @app.get("/api/segments/{segment_id}/export")
    async def export(segment_id: SegmentId, request: Request, p: Annotated[Person, Depends(staff)]) -> Response:
        """clip + segment.json in one zip, for a QA tool."""
        import io
        import zipfile

        async with pool.connection() as c:
            row = await queries.visible_segment(c, p, segment_id)
            found = await clip_store.get(c, segment_id)
            await queries.audit(c, p.id, None, "export", segment_id, request)
        row.pop("words", None)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("segment.json", json.dumps(queries.jsonable(row), indent=1))
            if found:
                z.writestr("clip.flac" if found[0] == "audio/flac" else "clip.opus", found[1])
        name = segment_id.replace(":", "_")
        return Response(buf.getvalue(), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="segment_{name}.zip"'})

    @app.get("/api/health")
    async def health() -> dict[str, str]:
        async with pool.connection() as c:
            await c.execute("SELECT 1")
        return {"status": "ok"}

    from coach.server import web

    web.add_pages(app, pool, person, staff, clip_store)

    guarded: Any = guards.Csrf(app)
    guarded = guards.BodyLimit(guarded, by_suffix={"/clip": CLIP_LIMIT}, by_prefix={"/api/agent/calls/": CALL_LIMIT})
    guarded = guards.RateLimit(guarded)
    guarded = guards.SecurityHeaders(guarded, tls)
    guarded.fastapi = app  # for the OpenAPI schema and tests
    return guarded


def _purge_sync(dsn: str, days: float) -> tuple[int, int]:
    with psycopg.connect(dsn) as c:
        return accounts.purge(c, days)


def _timestamp(text: str | None) -> str | None:
    from datetime import datetime

    if not text:
        return None
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise HTTPException(422, "started: an ISO 8601 time") from None


