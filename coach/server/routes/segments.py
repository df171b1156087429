"""Flagged segments for supervisors: search, read, listen, review, export. Every read of one
segment is audited; a segment of a team the reader does not supervise answers 404."""

import io
import json
import zipfile
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from coach.server import queries
from coach.server.deps import Staff, State
from coach.server.models import ReviewIn, SegmentId

router = APIRouter()


@router.get("/api/segments")
async def segments(p: Staff, st: State, team: int | None = None, agent: int | None = None,
                   cue: Annotated[str | None, Query(max_length=60)] = None, q: Annotated[str | None, Query(max_length=200)] = None,
                   reviewed: bool | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                   offset: Annotated[int, Query(ge=0, le=100000)] = 0) -> list[dict[str, Any]]:
    async with st.pool.connection() as c:
        return [queries.jsonable(r) for r in await queries.find_segments(c, p, team, agent, cue, q, reviewed, limit, offset)]


@router.get("/api/segments/{segment_id}")
async def segment(segment_id: SegmentId, request: Request, p: Staff, st: State) -> dict[str, Any]:
    async with st.pool.connection() as c:
        row = await queries.visible_segment(c, p, segment_id)
        await queries.audit(c, p.id, None, "read", segment_id, request)
    row.pop("words", None)
    return queries.jsonable(row)


@router.get("/api/segments/{segment_id}/clip")
async def clip(segment_id: SegmentId, request: Request, p: Staff, st: State) -> Response:
    async with st.pool.connection() as c:
        await queries.visible_segment(c, p, segment_id)
        found = await st.clips.get(c, segment_id)
        if found is None:
            raise HTTPException(404, "this segment has no clip (yet)")
        await queries.audit(c, p.id, None, "listen", segment_id, request)
    fmt, data = found
    return Response(data, media_type=fmt)


@router.post("/api/segments/{segment_id}/review", status_code=204)
async def review(segment_id: SegmentId, body: ReviewIn, request: Request, p: Staff, st: State) -> None:
    async with st.pool.connection() as c:
        await queries.visible_segment(c, p, segment_id)
        await queries.mark_reviewed(c, segment_id, p.id, body.note or None)
        await queries.audit(c, p.id, None, "review", segment_id, request)


@router.get("/api/segments/{segment_id}/export")
async def export(segment_id: SegmentId, request: Request, p: Staff, st: State) -> Response:
    """clip + segment.json in one zip, for a QA tool."""
    async with st.pool.connection() as c:
        row = await queries.visible_segment(c, p, segment_id)
        found = await st.clips.get(c, segment_id)
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
