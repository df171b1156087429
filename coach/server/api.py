"""The team server's HTTP API (FastAPI on uvicorn, PostgreSQL through psycopg's async pool).

Stateless: every request reads and writes PostgreSQL only, so several processes can serve
one database behind a load balancer. Live states fan out through LISTEN/NOTIFY: each
process listens once and forwards to its own event-stream subscribers.

Who may do what:
  devices (agents' apps, bearer device token)  push live state, upload calls and flagged segments
  supervisors (login)                          read their teams' floor and segments, review them
  admins (login)                               everything, plus teams, people and device tokens
A segment of a team the reader does not supervise answers 404, as if it did not exist.

The routes are in routes/ (one router per area), what they share in deps.py, their SQL in
queries.py; this module builds the app and runs its background tasks.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool

from coach.server import accounts, queries
from coach.server.clips import ClipStore, PostgresClips
from coach.server.deps import ServerState, guard
from coach.server.routes import ROUTERS
from coach.server.schema import migrate

log = logging.getLogger("coach.server")


def create_app(dsn: str, retention_days: float = 90.0, tls: bool = False, pool_max: int = 20,
               clips: ClipStore | None = None, purge_every_s: float = 3600.0, behind_proxy: bool = False) -> Any:
    """The ASGI application: FastAPI wrapped in the size, rate and header guards."""
    app = FastAPI(title="Call Coach team server", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.server = ServerState(
        dsn=dsn, pool=AsyncConnectionPool(dsn, min_size=2, max_size=pool_max, open=False, kwargs={"autocommit": True}),
        # live pushes: a newer one follows in 2 s, so they need not wait for a disk flush
        live_pool=AsyncConnectionPool(dsn, min_size=2, max_size=max(2, pool_max // 2), open=False,
                                      kwargs={"autocommit": True, "options": "-c synchronous_commit=off"}),
        clips=clips or PostgresClips(), tls=tls, retention_days=retention_days, purge_every_s=purge_every_s,
        behind_proxy=behind_proxy)
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(psycopg.errors.DataError, _bad_data)
    app.add_exception_handler(RequestValidationError, _invalid)
    return guard(app)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each refused field, without echoing its value: a NaN there would make the
    reply itself fail (JSON has no NaN), and the sender knows what it sent."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in errors]}, status_code=422)


async def _bad_data(request: Request, exc: Exception) -> JSONResponse:
    """A value the models let through but PostgreSQL refuses (out of its range, say): the
    sender's data, so 422, not a server error."""
    log.warning("refused data on %s: %s", request.url.path, str(exc).splitlines()[0])
    return JSONResponse({"detail": "a value the database cannot store"}, status_code=422)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    st: ServerState = app.state.server
    with psycopg.connect(st.dsn, autocommit=True) as c:
        migrate(c)
    await st.pool.open(wait=True)
    await st.live_pool.open(wait=True)
    tasks = [asyncio.create_task(listen(st))]
    if st.retention_days > 0:
        tasks.append(asyncio.create_task(purge_loop(st)))
    try:
        yield
    finally:
        for t in tasks:
            t.cancel()
        await st.pool.close()
        await st.live_pool.close()


async def listen(st: ServerState) -> None:
    """Forward every live state NOTIFY to this process's event-stream subscribers."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(st.dsn, autocommit=True) as c:
                await queries.listen_live(c)
                async for n in c.notifies():
                    st.hub.publish(json.loads(n.payload))
        except (psycopg.Error, OSError) as e:
            log.warning("live listener lost its connection (%s); reconnecting", e)
            await asyncio.sleep(1.0)


async def purge_loop(st: ServerState) -> None:
    """Delete calls, segments, live states and audit rows past the retention, then vacuum; now
    and every `purge_every_s`."""
    while True:
        try:
            calls, segs = await run_in_threadpool(_purge_sync, st.dsn, st.retention_days)
            if calls or segs:
                async with st.pool.connection() as c:
                    await queries.audit(c, None, None, "retention", f"{calls} calls, {segs} segments", None)
        except (psycopg.Error, OSError) as e:
            log.warning("retention pass failed: %s", e)
        await asyncio.sleep(st.purge_every_s)


def _purge_sync(dsn: str, days: float) -> tuple[int, int]:
    with psycopg.connect(dsn, autocommit=True) as c:
        deleted = accounts.purge(c, days)
        accounts.vacuum(c)
        return deleted
