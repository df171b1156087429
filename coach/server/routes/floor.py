"""The live floor for supervisors: every agent of their teams with the latest live state, and
the stream of live states as agents push them (server-sent events)."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from coach.server import queries
from coach.server.deps import STAFF, Staff, State, Subscriber, person_of, token_hash

router = APIRouter()
REAUTH_S = 5.0  # how long a stream may outlive its login
KEEP_ALIVE_S = 15.0


@router.get("/api/floor")
async def floor(p: Staff, st: State) -> list[dict[str, Any]]:
    async with st.pool.connection() as c:
        return [queries.jsonable(r) for r in await queries.floor_rows(c, p)]


@router.get("/api/live/events")
async def live_events(request: Request, p: Staff, st: State) -> StreamingResponse:
    """Server-sent events: each live state pushed by an agent of the reader's teams. The login
    is checked again every REAUTH_S (and its teams re-read): a logout, a new password, a
    disabled account or a lost supervision ends the stream or narrows it within that time."""
    h = token_hash(request, "ccl_")
    sub = Subscriber(p)
    st.hub.subscribers.add(sub)

    async def still_allowed() -> bool:
        async with st.pool.connection() as c:
            now = await person_of(c, h) if h else None
        if now is None or now.role not in STAFF:
            return False
        sub.person = now
        return True

    async def stream() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        checked = quiet = loop.time()
        try:
            yield b": connected\n\n"
            while not await request.is_disconnected():
                try:
                    event: dict[str, Any] | None = await asyncio.wait_for(sub.queue.get(), timeout=REAUTH_S)
                except TimeoutError:
                    event = None
                if loop.time() - checked >= REAUTH_S:
                    if not await still_allowed():
                        return
                    checked = loop.time()
                if event is not None and sub.person.sees(event.get("team_id")):
                    yield f"event: live\ndata: {json.dumps(event)}\n\n".encode()
                    quiet = loop.time()
                elif loop.time() - quiet >= KEEP_ALIVE_S:
                    yield b": keep-alive\n\n"
                    quiet = loop.time()
        finally:
            st.hub.subscribers.discard(sub)

    return StreamingResponse(stream(), media_type="text/event-stream")
