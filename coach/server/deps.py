"""What the routes share: the server's state (pools, clip store, live hub, settings) kept on
`app.state.server`, the FastAPI dependencies that say who is asking (a device, a person, staff,
an admin), the audited account changes, and the guards in front of every endpoint.

Dependencies run before a route reads its body, so an unauthenticated request is answered
401/403 before any 422."""

# no `from __future__ import annotations`: FastAPI reads these dependencies' annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import AsyncConnectionPool

from coach.server import accounts, guards, queries
from coach.server.accounts import Person
from coach.server.clips import ClipStore

CLIP_LIMIT = 16 * 1024 * 1024  # a flagged segment's clip: 30 s stereo at 16 kHz is ~0.2 MB (Opus), ~0.6 MB (FLAC)
CALL_LIMIT = 2 * 1024 * 1024  # a call's summary: its cues and flags


class Hub:
    """This process's live-event subscribers; fed by one LISTEN connection."""

    def __init__(self) -> None:
        self.subscribers: set[tuple[Person, asyncio.Queue[dict[str, Any]]]] = set()

    def publish(self, event: dict[str, Any]) -> None:
        for person, q in list(self.subscribers):
            if person.sees(event.get("team_id")) and q.qsize() < 1000:
                q.put_nowait(event)


@dataclass
class ServerState:
    """One server process's shared state; every request still reads and writes PostgreSQL only."""

    dsn: str
    pool: AsyncConnectionPool
    live_pool: AsyncConnectionPool  # for the 2 s live pushes, without waiting on disk flushes
    clips: ClipStore
    tls: bool
    retention_days: float
    purge_every_s: float
    hub: Hub = field(default_factory=Hub)
    failed_logins: guards.FailedLogins = field(default_factory=guards.FailedLogins)


@dataclass(frozen=True)
class Device:
    id: int
    agent_id: int
    team_id: int | None


def server_state(request: Request) -> ServerState:
    return request.app.state.server


State = Annotated[ServerState, Depends(server_state)]


def bearer(request: Request) -> str | None:
    """The bearer token, or else the dashboard's session cookie."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.cookies.get("coach_session")


def _token_hash(request: Request, prefix: str) -> str | None:
    """The hash of the request's token when it is of the kind `prefix` names (device or login)."""
    token = bearer(request)
    return accounts.hash_token(token) if token and token.startswith(prefix) else None


async def device(request: Request, st: State) -> Device:
    if h := _token_hash(request, "ccd_"):
        async with st.pool.connection() as c:
            row = await queries.device_of(c, h)
        if row:
            return Device(*row)
    raise HTTPException(401, "unknown or revoked device token", headers={"WWW-Authenticate": "Bearer"})


async def person(request: Request, st: State) -> Person:
    if h := _token_hash(request, "ccl_"):
        async with st.pool.connection() as c:
            row = await queries.login_of(c, h)
            if row:
                return Person(row[0], row[1], row[2], await queries.teams_of(c, row[0], row[2]))
    raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})


async def staff(p: Annotated[Person, Depends(person)]) -> Person:
    if p.role not in ("supervisor", "admin"):
        raise HTTPException(403, "for supervisors and admins")
    return p


async def admin(p: Annotated[Person, Depends(person)]) -> Person:
    if p.role != "admin":
        raise HTTPException(403, "for admins")
    return p


async def viewer(request: Request, st: State) -> Person | None:
    """The dashboard pages' reader: staff, or None (the page redirects to the login)."""
    try:
        return await staff(await person(request, st))
    except HTTPException:
        return None


DeviceDep = Annotated[Device, Depends(device)]
PersonDep = Annotated[Person, Depends(person)]
Staff = Annotated[Person, Depends(staff)]
Admin = Annotated[Person, Depends(admin)]
Viewer = Annotated[Person | None, Depends(viewer)]


@dataclass(frozen=True)
class AdminAction:
    """An admin's account change, bound to the request it came with."""

    admin: Person
    request: Request
    state: ServerState

    async def __call__(self, action: str, obj: str, fn: Callable[[psycopg.Connection], Any]) -> Any:
        """Run `fn` (the same code `coach team` runs) in a worker thread on its own connection, audited."""
        def run() -> Any:
            with psycopg.connect(self.state.dsn) as c:
                return fn(c)
        try:
            result = await run_in_threadpool(run)
        except accounts.AccountError as e:
            raise HTTPException(400, str(e)) from None
        async with self.state.pool.connection() as c:
            await queries.audit(c, self.admin.id, None, action, obj, self.request)
        return result


async def admin_action(request: Request, p: Admin, st: State) -> AdminAction:
    return AdminAction(p, request, st)


AdminAct = Annotated[AdminAction, Depends(admin_action)]


def guard(app: FastAPI, tls: bool) -> Any:
    """The app behind the CSRF check, body size limits, rate limits and security headers."""
    guarded: Any = guards.Csrf(app)
    guarded = guards.BodyLimit(guarded, by_suffix={"/clip": CLIP_LIMIT}, by_prefix={"/api/agent/calls/": CALL_LIMIT})
    guarded = guards.RateLimit(guarded)
    guarded = guards.SecurityHeaders(guarded, tls)
    guarded.fastapi = app  # for the OpenAPI schema and tests
    return guarded
