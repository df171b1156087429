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


@dataclass(eq=False)
class Subscriber:
    """One open event stream: who reads it (re-read as the stream goes on) and its queue."""

    person: Person
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)


class Hub:
    """This process's live-event subscribers; fed by one LISTEN connection."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()

    def publish(self, event: dict[str, Any]) -> None:
        for sub in list(self.subscribers):
            if sub.person.sees(event.get("team_id")) and sub.queue.qsize() < 1000:
                sub.queue.put_nowait(event)


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
    behind_proxy: bool = False  # a TLS proxy is in front: the browser's side is HTTPS
    hub: Hub = field(default_factory=Hub)
    failed_logins: guards.FailedLogins = field(default_factory=guards.FailedLogins)
    hashing: guards.Gate = field(default_factory=guards.Gate)
    validated: guards.Validated = field(default_factory=guards.Validated)


@dataclass(frozen=True)
class Device:
    id: int
    agent_id: int
    team_id: int | None


def server_state(request: Request) -> ServerState:
    return request.app.state.server


State = Annotated[ServerState, Depends(server_state)]


def bearer(request: Request) -> str | None:
    """The bearer token, or else the dashboard's session cookie: the same reading as the rate
    limit's and the CSRF check's (guards.credential); None when ambiguous."""
    try:
        return guards.credential(request.scope["headers"])[0]
    except guards.Ambiguous:
        return None


def token_hash(request: Request, prefix: str) -> bytes | None:
    """The hash of the request's token when it is of the kind `prefix` names (device or login)."""
    token = bearer(request)
    return accounts.hash_token(token) if token and token.startswith(prefix) else None


async def device(request: Request, st: State) -> Device:
    if h := token_hash(request, "ccd_"):
        async with st.pool.connection() as c:
            row = await queries.device_of(c, h)
        if row:
            st.validated.add(h)
            return Device(*row)
    raise HTTPException(401, "unknown or revoked device token", headers={"WWW-Authenticate": "Bearer"})


async def person_of(c: psycopg.AsyncConnection, h: bytes) -> Person | None:
    """The person an unexpired login token's hash belongs to, with their teams as they are now."""
    row = await queries.login_of(c, h)
    return Person(row[0], row[1], row[2], await queries.teams_of(c, row[0], row[2])) if row else None


async def person(request: Request, st: State) -> Person:
    if h := token_hash(request, "ccl_"):
        async with st.pool.connection() as c:
            p = await person_of(c, h)
        if p:
            st.validated.add(h)
            return p
    raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})


STAFF = ("supervisor", "admin")


async def staff(p: Annotated[Person, Depends(person)]) -> Person:
    if p.role not in STAFF:
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


def guard(app: FastAPI) -> Any:
    """The app behind the CSRF check, body size limits, rate limits and security headers."""
    guarded: Any = guards.Csrf(app)
    guarded = guards.BodyLimit(guarded, by_suffix={"/clip": CLIP_LIMIT}, by_prefix={"/api/agent/calls/": CALL_LIMIT})
    guarded = guards.RateLimit(guarded, app.state.server.validated)
    guarded = guards.SecurityHeaders(guarded)
    guarded.fastapi = app  # for the OpenAPI schema and tests
    return guarded
