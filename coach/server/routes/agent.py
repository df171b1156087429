"""What agents' apps send and read, with a device token: live state, calls, flagged segments
and their clips, their team's sharing policy, supervisors' notes on their segments."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request

from coach.server import accounts, queries
from coach.server.deps import DeviceDep, State, bearer
from coach.server.models import CallIn, LiveIn, SegmentId, SegmentIn

router = APIRouter()
# Ids are made by the agents' apps (random UUIDs): one already another agent's is refused, never
# silently kept as the other's (the owner's app would count its upload as done)
TAKEN = "this id belongs to another agent's upload"


@router.put("/api/agent/live", status_code=204)
async def put_live(body: LiveIn, request: Request, st: State) -> None:
    """The hot path (every agent, every 2 s): token check, upsert and notify in one round trip."""
    h = accounts.hash_token(bearer(request) or "")
    async with st.live_pool.connection() as c:
        known = await queries.push_live(c, h, body.model_dump(mode="json"))
    if not known:
        raise HTTPException(401, "unknown or revoked device token", headers={"WWW-Authenticate": "Bearer"})
    st.validated.add(h)


@router.put("/api/agent/calls/{call_id}", status_code=204)
async def put_call(call_id: uuid.UUID, body: CallIn, d: DeviceDep, st: State) -> None:
    summary = body.model_dump(mode="json")
    skills = summary.pop("scorecard")  # kept in its own table (docs/scorecards.md), not twice
    async with st.pool.connection() as c:
        async with c.transaction():  # the call and its scorecard, or neither (the agent's outbox repeats the PUT)
            if not await queries.add_call(c, call_id, d.agent_id, d.team_id, _timestamp(body.started), body.duration_s, summary):
                raise HTTPException(409, TAKEN)
            await queries.add_scorecard(c, call_id, d.agent_id, d.team_id, _timestamp(body.started), skills)
        await queries.device_seen(c, d.id)


@router.put("/api/agent/segments/{segment_id}", status_code=204)
async def put_segment(segment_id: Annotated[str, Path(max_length=80, pattern=r"^[0-9a-f-]{36}:(\d{1,5}|call)$")],
                      body: SegmentIn, d: DeviceDep, st: State) -> None:
    if not segment_id.startswith(str(body.call_id)):
        raise HTTPException(400, "a segment's id starts with its call's id")
    words = " ".join(u.text for u in body.utterances)
    async with st.pool.connection() as c:
        if not await queries.add_segment(c, segment_id, body.call_id, d.agent_id, d.team_id, body.start, body.end, body.reason,
                                         sorted({cue.id for cue in body.cues}), body.model_dump(mode="json"), words):
            raise HTTPException(409, TAKEN)


@router.put("/api/agent/segments/{segment_id}/clip", status_code=204)
async def put_clip(segment_id: SegmentId, request: Request, d: DeviceDep, st: State) -> None:
    fmt = request.headers.get("content-type", "")
    if fmt not in ("audio/flac", "audio/ogg"):
        raise HTTPException(415, "clips are audio/flac or audio/ogg (Opus)")
    data = await request.body()
    if not data:
        raise HTTPException(400, "an empty clip")
    async with st.pool.connection() as c:
        if not await queries.owns_segment(c, segment_id, d.agent_id):
            raise HTTPException(404, "upload the segment before its clip")
        await st.clips.put(c, segment_id, fmt, data)


@router.get("/api/agent/policy")
async def agent_policy(d: DeviceDep, st: State) -> dict[str, bool]:
    """What this agent's team shares, as its admin set it (`coach team set-policy`)."""
    async with st.pool.connection() as c:
        return {"share_whole_calls": await queries.share_whole_calls(c, d.team_id)}


@router.get("/api/agent/notes")
async def agent_notes(d: DeviceDep, st: State) -> list[dict[str, Any]]:
    """Supervisors' coaching notes on this agent's segments, for the agent's own session list."""
    async with st.pool.connection() as c:
        return [queries.jsonable(r) for r in await queries.notes_for(c, d.agent_id)]


def _timestamp(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise HTTPException(422, "started: an ISO 8601 time") from None
