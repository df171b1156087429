"""The live floor for supervisors: every agent of their teams with the latest live state, and
the stream of live states as agents push them (server-sent events)."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from coach.server import queries
from coach.server.deps import Staff, State

router = APIRouter()


@router.get("/api/floor")
async def floor(p: Staff, st: State) -> list[dict[str, Any]]:
    async with st.pool.connection() as c:
        return [queries.jsonable(r) for r in await queries.floor_rows(c, p)]


@router.get("/api/live/events")
async def live_events(request: Request, p: Staff, st: State) -> StreamingResponse:
    """Server-sent events: each live state pushed by an agent of the reader's teams."""
    q: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    entry = (p, q)
    st.hub.subscribers.add(entry)

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
            st.hub.subscribers.discard(entry)

    return StreamingResponse(stream(), media_type="text/event-stream")
