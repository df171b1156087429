"""The supervisors' dashboard: server-rendered pages (Jinja2, autoescaped) with one small
script (static/app.js) for what must move without a reload: the live floor (server-sent
events), the player, keyboard use. No front-end build, no framework to keep patched; every
page reads the same team-scoped queries as the API.

Pages: /login, /floor (live), /queue (flagged segments), /segments/{id}, /trends. A reader
who is not logged in as staff is sent to the login page."""

# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from coach.analysis.catalog import CATALOG, SEVERITY_COLOURS
from coach.server import queries
from coach.server.accounts import Person
from coach.server.deps import State, Viewer, bearer
from coach.server.guards import csrf_token
from coach.server.palette import severity_css
from coach.server.web import env, label, trend_groups
from coach.session.exports import timeline_svg

STATIC = Path(__file__).parent.parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
ESCALATING = 0.6  # the overlay's "upset" threshold: a tile above it is highlighted and moves to the top

router = APIRouter(include_in_schema=False)


def page(request: Request, name: str, p: Person | None, **ctx: Any) -> HTMLResponse:
    token = bearer(request)  # the credential the CSRF check reads
    body = env.get_template(name).render(me=p, csrf=csrf_token(token) if token else "", path=request.url.path, **ctx)
    return HTMLResponse(body, headers={"Content-Security-Policy": CSP})


def to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/floor", status_code=303)


@router.get("/static/severity.css")
async def severity_colours() -> Response:
    """The severity colours as CSS variables, from the cue registry: app.css reads var(--alert) etc."""
    return Response(severity_css(), media_type="text/css", headers={"Cache-Control": "no-cache"})


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    f = STATIC / name
    if "/" in name or not f.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(f, headers={"Cache-Control": "no-cache"})


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return page(request, "login.html", None, next=_safe_next(request.query_params.get("next")))


@router.get("/floor")
async def floor_page(request: Request, p: Viewer, st: State) -> Response:
    if p is None:
        return to_login(request)
    async with st.pool.connection() as c:
        tiles = await queries.floor_rows(c, p)
    for t in tiles:
        s = t["state"] or {}
        t["on_call"] = bool(s.get("on_call")) and t["updated"] is not None and \
            (datetime.now(t["updated"].tzinfo) - t["updated"]).total_seconds() < 30
        t["escalating"] = t["on_call"] and ((s.get("mood") or 0) >= ESCALATING or s.get("cue_severity") == "alert")
    tiles.sort(key=lambda t: (not t["escalating"], not t["on_call"], t["agent"]))
    labels = {k: v.label for k, v in CATALOG.items()}
    return page(request, "floor.html", p, tiles=tiles, labels_json=json.dumps(labels), threshold=ESCALATING)


@router.get("/queue")
async def queue_page(request: Request, p: Viewer, st: State) -> Response:
    if p is None:
        return to_login(request)
    q = request.query_params
    f = {k: q.get(k, "").strip()[:200] for k in ("agent", "team", "cue", "q", "reviewed", "from", "to")}
    since, until = _date(f["from"]), _date(f["to"])
    async with st.pool.connection() as c:
        found = await queries.queue(c, p, f["agent"] or None, f["team"] or None, f["cue"] or None, f["q"] or None,
                                    {"yes": True, "no": False}.get(f["reviewed"]), since,
                                    until + timedelta(days=1) if until is not None else None)
        agents, teams = await queries.names_in_scope(c, p)
    return page(request, "queue.html", p, **found, f=f, agents=agents, teams=teams, cues=sorted(CATALOG))


@router.get("/segments/{segment_id}")
async def segment_page(segment_id: str, request: Request, p: Viewer, st: State) -> Response:
    if p is None:
        return to_login(request)
    segment_id = segment_id[:80]
    async with st.pool.connection() as c:
        row = await queries.visible_segment(c, p, segment_id)
        has_clip = await st.clips.has(c, segment_id)
        await queries.audit(c, p.id, None, "read", segment_id, request)
    doc = row["doc"]
    t0, t1 = row["t0"], row["t1"]
    shifted = {
        "source": {"duration_s": max(t1 - t0, 1.0)}, "flags": [],
        # utterances cut at the segment's edges, so none is drawn over the row labels
        "utterances": [{**u, "start": max(0.0, u["start"] - t0), "end": min(t1 - t0, u["end"] - t0)} for u in doc["utterances"]],
        # rows stored before severities were checked on upload may name one the registry lacks
        "cues": [{**cu, "t": cu["t"] - t0, "label": label(cu["id"]),
                  "severity": cu.get("severity") if cu.get("severity") in SEVERITY_COLOURS else "info"} for cu in doc["cues"]],
    }
    lines = sorted(({"t": u["start"] - t0, "end": u["end"] - t0, "speaker": u["speaker"], "text": u["text"]}
                    for u in doc["utterances"]), key=lambda u: u["t"])
    return page(request, "segment.html", p, s=row, doc=doc, t0=t0, dur=max(t1 - t0, 1.0), has_clip=has_clip,
                timeline=timeline_svg(shifted), lines=lines)


@router.get("/trends")
async def trends_page(request: Request, p: Viewer, st: State) -> Response:
    if p is None:
        return to_login(request)
    weeks = 8
    async with st.pool.connection() as c:
        calls = await queries.recent_calls(c, p, weeks)
    return page(request, "trends.html", p, groups=trend_groups(calls, weeks))


# a same-site path: no scheme or host, printable URL characters only. Browsers drop tabs and
# line breaks from a URL, so `/\t/host` would be `//host`, another site (issue 28's open redirect).
_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*")


def _safe_next(n: str | None) -> str:
    """Only a path on this site: no open redirect."""
    return n if n and _PATH.fullmatch(n) else "/floor"


def _date(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time()).astimezone() if text else None
    except ValueError:
        return None
