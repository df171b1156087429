"""The supervisors' dashboard: server-rendered pages (Jinja2, autoescaped) with one small
script (static/app.js) for what must move without a reload: the live floor (server-sent
events), the player, keyboard use. No front-end build, no framework to keep patched; every
page reads the same team-scoped queries as the API.

Pages: /login, /floor (live), /queue (flagged segments), /segments/{id}, /trends.
"""

# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations

import html
import json
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from coach.analysis.catalog import CATALOG
from coach.server import queries
from coach.server.accounts import Person
from coach.server.clips import ClipStore
from coach.server.guards import csrf_token
from coach.session.exports import timeline_svg

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
ESCALATING = 0.6  # the overlay's "upset" threshold: a tile above it is highlighted and moves to the top

env = Environment(loader=PackageLoader("coach.server", "templates"), autoescape=select_autoescape(["html"]))


def label(cue_id: str) -> str:
    return CATALOG[cue_id].label if cue_id in CATALOG else cue_id


env.filters["cue_label"] = label
env.filters["mmss"] = lambda t: f"{int(t // 60):02d}:{int(t % 60):02d}" if t is not None else ""


def add_pages(app: FastAPI, pool: AsyncConnectionPool, person: Callable[[Request], Awaitable[Person]],
              staff: Callable[[Person], Awaitable[Person]], clips: ClipStore) -> None:
    async def who(request: Request) -> Person | None:
        try:
            return await staff(await person(request))
        except HTTPException:
            return None

    def page(request: Request, name: str, p: Person | None, **ctx: Any) -> HTMLResponse:
        cookie = request.cookies.get("coach_session", "")
        body = env.get_template(name).render(me=p, csrf=csrf_token(cookie) if cookie else "", path=request.url.path, **ctx)
        return HTMLResponse(body, headers={"Content-Security-Policy": CSP})

    def to_login(request: Request) -> RedirectResponse:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/floor", status_code=303)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> FileResponse:
        f = STATIC / name
        if "/" in name or not f.is_file():
            raise HTTPException(404, "no such file")
        return FileResponse(f, headers={"Cache-Control": "no-cache"})

    @app.get("/login", include_in_schema=False)
    async def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", None, next=_safe_next(request.query_params.get("next")))

    @app.get("/floor", include_in_schema=False)
    async def floor_page(request: Request) -> Response:
        p = await who(request)
        if p is None:
            return to_login(request)
        async with pool.connection() as c:
            tiles = await queries.floor_rows(c, p)
        for t in tiles:
            s = t["state"] or {}
            t["on_call"] = bool(s.get("on_call")) and t["updated"] is not None and \
                (datetime.now(t["updated"].tzinfo) - t["updated"]).total_seconds() < 30
            t["escalating"] = t["on_call"] and ((s.get("mood") or 0) >= ESCALATING or s.get("cue_severity") == "alert")
        tiles.sort(key=lambda t: (not t["escalating"], not t["on_call"], t["agent"]))
        labels = {k: v.label for k, v in CATALOG.items()}
        return page(request, "floor.html", p, tiles=tiles, labels_json=json.dumps(labels), threshold=ESCALATING)

    @app.get("/queue", include_in_schema=False)
    async def queue_page(request: Request) -> Response:
        p = await who(request)
        if p is None:
            return to_login(request)
        q = request.query_params
        where, args = ["(%s OR s.team_id = ANY(%s))"], list(queries.scope(p))
        filters = {k: q.get(k, "").strip()[:200] for k in ("agent", "team", "cue", "q", "reviewed", "from", "to")}
        for key, cond in (("agent", "u.name = %s"), ("team", "t.name = %s"), ("cue", "%s = ANY(s.cues)"),
                          ("q", "s.words @@ websearch_to_tsquery('english', %s)")):
            if filters[key]:
                where.append(cond)
                args.append(filters[key])
        if filters["reviewed"] in ("yes", "no"):
            where.append("(s.reviewed_at IS NOT NULL) = %s")
            args.append(filters["reviewed"] == "yes")
        for key, op in (("from", ">="), ("to", "<")):
            d = _date(filters[key])
            if d is not None:
                where.append(f"s.received {op} %s")
                args.append(d + timedelta(days=1) if key == "to" else d)
        sql_where = " AND ".join(where)
        async with pool.connection() as c, c.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT s.id, s.t0, s.t1, s.reason, s.cues, s.received, s.reviewed_at, s.note, u.name AS agent, t.name AS team, "
                "left(s.doc->'utterances'->0->>'text', 90) AS first_words FROM segments s JOIN users u ON u.id = s.agent_id "
                "LEFT JOIN teams t ON t.id = s.team_id WHERE " + sql_where + " ORDER BY s.received DESC, s.id LIMIT 200", args)
            rows = await cur.fetchall()
            await cur.execute("SELECT cue, count(*) AS n FROM segments s JOIN users u ON u.id = s.agent_id LEFT JOIN teams t "
                              "ON t.id = s.team_id, unnest(s.cues) AS cue WHERE " + sql_where + " GROUP BY cue ORDER BY n DESC", args)
            by_cue = await cur.fetchall()
            await cur.execute("SELECT u.name AS agent, count(*) AS n FROM segments s JOIN users u ON u.id = s.agent_id LEFT JOIN "
                              "teams t ON t.id = s.team_id WHERE " + sql_where + " GROUP BY u.name ORDER BY n DESC", args)
            by_agent = await cur.fetchall()
            await cur.execute("SELECT u.name FROM users u WHERE u.role = 'agent' AND (%s OR u.team_id = ANY(%s)) ORDER BY u.name",
                              queries.scope(p))
            agents = [r["name"] for r in await cur.fetchall()]
            await cur.execute("SELECT name FROM teams WHERE %s OR id = ANY(%s) ORDER BY name", queries.scope(p))
            teams = [r["name"] for r in await cur.fetchall()]
        return page(request, "queue.html", p, rows=rows, by_cue=by_cue, by_agent=by_agent, f=filters, agents=agents, teams=teams,
                    cues=sorted(CATALOG))

    @app.get("/segments/{segment_id}", include_in_schema=False)
    async def segment_page(segment_id: str, request: Request) -> Response:
        p = await who(request)
        if p is None:
            return to_login(request)
        segment_id = segment_id[:80]
        async with pool.connection() as c:
            row = await queries.visible_segment(c, p, segment_id)
            has_clip = await clips.has(c, segment_id)
            await queries.audit(c, p.id, None, "read", segment_id, request)
        doc = row["doc"]
        t0, t1 = row["t0"], row["t1"]
        shifted = {
            "source": {"duration_s": max(t1 - t0, 1.0)}, "flags": [],
            # utterances cut at the segment's edges, so none is drawn over the row labels
            "utterances": [{**u, "start": max(0.0, u["start"] - t0), "end": min(t1 - t0, u["end"] - t0)} for u in doc["utterances"]],
            "cues": [{**cu, "t": cu["t"] - t0, "label": label(cu["id"]), "severity": cu.get("severity") or "info"}
                     for cu in doc["cues"]],
        }
        lines = sorted(({"t": u["start"] - t0, "end": u["end"] - t0, "speaker": u["speaker"], "text": u["text"]}
                        for u in doc["utterances"]), key=lambda u: u["t"])
        return page(request, "segment.html", p, s=row, doc=doc, t0=t0, dur=max(t1 - t0, 1.0), has_clip=has_clip,
                    timeline=timeline_svg(shifted), lines=lines)

    @app.get("/trends", include_in_schema=False)
    async def trends_page(request: Request) -> Response:
        p = await who(request)
        if p is None:
            return to_login(request)
        weeks = 8
        async with pool.connection() as c, c.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT c.received, c.summary, u.name AS agent, t.name AS team FROM calls c JOIN users u ON u.id = c.agent_id "
                "LEFT JOIN teams t ON t.id = c.team_id WHERE (%s OR c.team_id = ANY(%s)) "
                "AND c.received > now() - make_interval(weeks => %s) ORDER BY c.received LIMIT 50000",
                (*queries.scope(p), weeks))
            calls = await cur.fetchall()
        return page(request, "trends.html", p, groups=trend_groups(calls, weeks))


def _safe_next(n: str | None) -> str:
    """Only a path on this site: no open redirect."""
    return n if n and n.startswith("/") and not n.startswith("//") and "\\" not in n else "/floor"


def _date(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time()).astimezone() if text else None
    except ValueError:
        return None


# --- trends ------------------------------------------------------------------------------


def week_of(t: datetime) -> date:
    d = t.date()
    return d - timedelta(days=d.weekday())


def call_facts(summary: dict[str, Any]) -> dict[str, Any]:
    """One call's numbers for the weekly view: cues by kind, escalated, calmed after it."""
    cues = sorted(summary.get("cues") or [], key=lambda c: c.get("t", 0))
    esc = [c["t"] for c in cues if c["id"] == "customer_escalating"]
    calmed = bool(esc) and any(c["id"] == "customer_calming" and c["t"] > esc[0] for c in cues)
    agent = (summary.get("metrics") or {}).get("agent") or {}
    return {"kinds": Counter(c["id"] for c in cues), "escalated": bool(esc), "calmed": calmed,
            "talk": agent.get("talk_ratio"), "wpm": agent.get("wpm")}


def trend_groups(calls: list[dict[str, Any]], weeks: int) -> list[dict[str, Any]]:
    """Per team and per agent, per week: calls, cues per call by kind, escalations and how many
    calmed, the agent's talk share and pace; each with small SVG charts."""
    this_week = week_of(datetime.now())
    wk = [this_week - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    buckets: dict[tuple[str, str], dict[date, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for c in calls:
        f = call_facts(c["summary"])
        w = week_of(c["received"])
        buckets[("team", c["team"] or "–")][w].append(f)
        buckets[("agent", c["agent"])][w].append(f)
    groups = []
    for (kind, name), by_week in sorted(buckets.items(), key=lambda kv: (kv[0][0] != "team", kv[0][1])):
        rows = []
        for w in wk:
            fs = by_week.get(w, [])
            kinds: Counter[str] = Counter()
            for f in fs:
                kinds.update(f["kinds"])
            esc = sum(f["escalated"] for f in fs)
            talks = [f["talk"] for f in fs if f["talk"] is not None]
            paces = [f["wpm"] for f in fs if f["wpm"]]
            rows.append({"week": w, "calls": len(fs), "per_call": {k: v / len(fs) for k, v in kinds.items()} if fs else {},
                         "escalations": esc, "calmed": sum(f["calmed"] for f in fs),
                         "talk": sum(talks) / len(talks) if talks else None, "wpm": sum(paces) / len(paces) if paces else None})
        n_calls = sum(r["calls"] for r in rows)
        groups.append({"kind": kind, "name": name, "rows": rows,
                       "cues_per_call": sum(sum(r["per_call"].values()) * r["calls"] for r in rows) / n_calls if n_calls else 0.0,
                       "talk_latest": next((r["talk"] for r in reversed(rows) if r["talk"] is not None), None),
                       "wpm_latest": next((r["wpm"] for r in reversed(rows) if r["wpm"]), None),
                       "cue_chart": cue_bars(rows), "talk_chart": line(rows, "talk", 0, 1),
                       "wpm_chart": line(rows, "wpm", 80, 260), "esc_chart": esc_bars(rows)})
    return groups


PALETTE = {"customer_escalating": "#d64541", "soften_wording": "#e8a33d", "slow_down": "#e8a33d", "let_them_finish": "#e8a33d",
           "acknowledge_feelings": "#3d8fe8", "reflect_back": "#3d8fe8", "offer_options": "#3d8fe8", "check_in": "#3d8fe8",
           "pause_and_listen": "#3d8fe8", "confirm_resolution": "#3d8fe8", "customer_calming": "#3dae5c"}


def cue_bars(rows: list[dict[str, Any]], w: int = 240, h: int = 60) -> str:
    """Stacked bars: cues per call by kind, one bar per week."""
    top = max([sum(r["per_call"].values()) for r in rows] + [1.0])
    bw = w / len(rows)
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>cues per call by kind</title>']
    for i, r in enumerate(rows):
        y = h
        for k, v in sorted(r["per_call"].items()):
            bh = (h - 4) * v / top
            y -= bh
            parts.append(f'<rect x="{i * bw + 2:.1f}" y="{y:.1f}" width="{bw - 4:.1f}" height="{bh:.1f}" fill="{PALETTE.get(k, "#999")}">'
                         f'<title>{html.escape(label(k))}: {v:.2f} per call (week of {r["week"]})</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def esc_bars(rows: list[dict[str, Any]], w: int = 160, h: int = 60) -> str:
    """Escalations per week (red) and how many of them calmed (green, inside)."""
    top = max([r["escalations"] for r in rows] + [1])
    bw = w / len(rows)
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>escalations, calmed</title>']
    for i, r in enumerate(rows):
        eh, ch = (h - 4) * r["escalations"] / top, (h - 4) * r["calmed"] / top
        parts.append(f'<rect x="{i * bw + 2:.1f}" y="{h - eh:.1f}" width="{bw - 4:.1f}" height="{eh:.1f}" fill="#d64541">'
                     f'<title>{r["escalations"]} escalations, {r["calmed"]} calmed (week of {r["week"]})</title></rect>'
                     f'<rect x="{i * bw + 4:.1f}" y="{h - ch:.1f}" width="{max(bw - 8, 1):.1f}" height="{ch:.1f}" fill="#3dae5c"/>')
    parts.append("</svg>")
    return "".join(parts)


def line(rows: list[dict[str, Any]], key: str, lo: float, hi: float, w: int = 160, h: int = 60) -> str:
    pts = [(i, r[key]) for i, r in enumerate(rows) if r[key] is not None]
    step = w / max(len(rows) - 1, 1)
    y = lambda v: h - 4 - (h - 8) * (min(max(v, lo), hi) - lo) / (hi - lo)  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>{key} per week</title>',
             f'<line x1="0" y1="{h - 4}" x2="{w}" y2="{h - 4}" stroke="#ddd"/>']
    if len(pts) > 1:
        parts.append('<polyline fill="none" stroke="#3d8fe8" stroke-width="2" points="' +
                     " ".join(f"{i * step:.1f},{y(v):.1f}" for i, v in pts) + '"/>')
    for i, v in pts:
        shown = f"{v:.0%}" if key == "talk" else f"{v:.0f} wpm"
        parts.append(f'<circle cx="{i * step:.1f}" cy="{y(v):.1f}" r="3" fill="#3d8fe8"><title>{shown} (week of {rows[i]["week"]})</title></circle>')
    parts.append("</svg>")
    return "".join(parts)

