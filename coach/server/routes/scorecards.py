"""Skill scorecards for team leads (docs/scorecards.md): per team and per agent over a chosen period,
each rate with its denominator, its change against the period before and the team's median beside
it; each rate opens the list of its moments, the flagged ones playable; a CSV for QA tools.

The numbers are what agents' apps computed from their own sessions (coach/session/scorecard.py) and
uploaded with each call's summary. A supervisor sees their own teams only: the same team scope as
every other query (queries.py), so another team's agent or moment is simply not found."""

# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations

import csv
import io
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from coach.server import queries
from coach.server.deps import State, Viewer
from coach.server.routes.pages import page, to_login
from coach.session.scorecard import BY_ID, SKILLS, rate

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 7  # a week: the span of a weekly one-to-one
STATUSES = ("taken", "missed", "unsure", "cue")


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        start = datetime.combine(self.first, datetime.min.time()).astimezone()
        return start, start + timedelta(days=self.days)

    def previous(self) -> "Period":
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def period_of(request: Request) -> Period:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD (inclusive), else the last DEFAULT_DAYS days; at most a year."""
    last = _day(request.query_params.get("to")) or date.today()
    first = _day(request.query_params.get("from")) or last - timedelta(days=DEFAULT_DAYS - 1)
    first = max(min(first, last), last - timedelta(days=365))
    return Period(first, last)


def link(path: str, per: Period, f: dict[str, str], **kw: str | None) -> str:
    """A link within the scorecards keeping the period and filters; a None value drops that filter."""
    q = {"from": per.first.isoformat(), "to": per.last.isoformat(), **{k: v for k, v in f.items() if v}}
    q.update({k: v for k, v in kw.items() if v is not None})
    for k in [k for k, v in kw.items() if v is None]:
        q.pop(k, None)
    return f"{path}?{urlencode(q)}"


def _filters(request: Request) -> dict[str, str]:
    q = request.query_params
    return {k: q.get(k, "").strip()[:200] for k in ("team", "agent", "skill", "status")}


# --- the figures ---------------------------------------------------------------------------------


def cell(skill: str, n: float, k: float, prev: dict[str, float] | None) -> dict[str, Any]:
    """One rate as the page shows it: the figure with its denominator and its change against the
    previous period (points for rates and shares, events for per-call counts), judged by the skill's direction."""
    s = BY_ID[skill]
    r = rate(n, k)
    before = rate(prev["n"], prev["k"]) if prev else None
    change = None if r is None or before is None else r - before
    if change is None:
        text = ""
    elif abs(change) < 0.005:
        text = "no change"
    elif s.kind == "per_call":
        text = f"{change:+.1f} per call"
    else:
        text = f"{change * 100:+.0f} pts"
    trend = None
    if change is not None and s.better and abs(change) > 1e-9:
        trend = "better" if (change > 0) == (s.better == "higher") else "worse"
    return {"n": n, "k": k, "rate": r, "prev": before, "change": change, "change_text": text, "trend": trend,
            "pct": _pct(s.kind, r), "prev_pct": _pct(s.kind, before), "den": _den(s.kind, n, k)}


def _pct(kind: str, r: float | None) -> str:
    if r is None:
        return "–"
    return f"{r:.1f}" if kind == "per_call" else f"{r:.0%}"


def _den(kind: str, n: float, k: float) -> str:
    """The denominator beside the rate: '5 of 7', '3 in 12 calls', 'of 48 min'."""
    if kind == "per_call":
        return f"{k:.0f} in {n:.0f} call{'s' if n != 1 else ''}"
    if kind == "share":
        return f"of {n / 60:.0f} min" if n >= 60 else f"of {n:.0f} s"
    return f"{k:.0f} of {n:.0f}"


def board(now: list[dict[str, Any]], before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per team: its total, each agent's cells and the median of its agents' rates, per skill."""
    prev: dict[tuple[Any, ...], dict[str, float]] = {}
    prev_team: dict[tuple[Any, ...], dict[str, float]] = {}
    for r in before:
        prev[(r["agent_id"], r["team_id"], r["skill"])] = {"n": r["n"], "k": r["k"]}
        t = prev_team.setdefault((r["team_id"], r["skill"]), {"n": 0.0, "k": 0.0})
        t["n"] += r["n"]
        t["k"] += r["k"]
    teams: dict[Any, dict[str, Any]] = {}
    for r in now:
        if r["skill"] not in BY_ID:
            continue  # a skill this server does not know yet (a newer agent's app)
        team = teams.setdefault(r["team_id"], {"id": r["team_id"], "name": r["team"] or "–", "agents": {}, "sums": {}})
        agent = team["agents"].setdefault(r["agent_id"], {"id": r["agent_id"], "name": r["agent"], "cells": {}, "calls": 0})
        agent["cells"][r["skill"]] = cell(r["skill"], r["n"], r["k"], prev.get((r["agent_id"], r["team_id"], r["skill"])))
        agent["calls"] = max(agent["calls"], r["calls"])
        sums = team["sums"].setdefault(r["skill"], {"n": 0.0, "k": 0.0})
        sums["n"] += r["n"]
        sums["k"] += r["k"]
    out = []
    for team in sorted(teams.values(), key=lambda t: t["name"]):
        agents = sorted(team["agents"].values(), key=lambda a: a["name"])
        total = {sk: cell(sk, v["n"], v["k"], prev_team.get((team["id"], sk))) for sk, v in team["sums"].items()}
        median = {}
        for s in SKILLS:
            rates = [a["cells"][s.id]["rate"] for a in agents if s.id in a["cells"] and a["cells"][s.id]["rate"] is not None]
            median[s.id] = {"value": statistics.median(rates) if rates else None, "of": len(rates),
                            "pct": _pct(s.kind, statistics.median(rates) if rates else None)}
        out.append({"id": team["id"], "name": team["name"], "agents": agents, "total": total, "median": median,
                    "calls": sum(a["calls"] for a in agents)})
    return out


async def _board(st: Any, p: Any, per: Period, team: str | None) -> list[dict[str, Any]]:
    async with st.pool.connection() as c:
        now = await queries.scorecard_totals(c, p, *per.bounds(), team)
        before = await queries.scorecard_totals(c, p, *per.previous().bounds(), team)
    return board(now, before)


def _agent_view(teams: list[dict[str, Any]], name: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(team, agent) for the agent's card: their cells beside their team's median."""
    for team in teams:
        for a in team["agents"]:
            if a["name"] == name:
                return team, a
    return None


# --- pages ---------------------------------------------------------------------------------------


@router.get("/scorecards")
async def scorecards_page(request: Request, p: Viewer, st: State) -> Response:
    if p is None:
        return to_login(request)
    per, f = period_of(request), _filters(request)
    teams = await _board(st, p, per, f["team"] or None)
    async with st.pool.connection() as c:
        agents, team_names = await queries.names_in_scope(c, p)
    found = _agent_view(teams, f["agent"]) if f["agent"] else None
    return page(request, "scorecards.html", p, teams=teams, skills=SKILLS, per=per, prev=per.previous(), f=f,
                agents=agents, team_names=team_names, found=found, link=lambda path, **kw: link(path, per, f, **kw))


@router.get("/scorecards/moments")
async def moments_page(request: Request, p: Viewer, st: State) -> Response:
    if p is None:
        return to_login(request)
    per, f = period_of(request), _filters(request)
    skill = f["skill"] if f["skill"] in BY_ID else None
    rows = await _moments(st, p, per, f, skill)
    return page(request, "scorecard_moments.html", p, rows=rows, per=per, f=f, skill=BY_ID.get(f["skill"]),
                statuses=STATUSES, link=lambda path, **kw: link(path, per, f, **kw))


async def _moments(st: Any, p: Any, per: Period, f: dict[str, str], skill: str | None) -> list[dict[str, Any]]:
    async with st.pool.connection() as c:
        return await queries.scorecard_moments(c, p, *per.bounds(), skill, f["team"] or None, f["agent"] or None,
                                               f["status"] if f["status"] in STATUSES else None, 2000)


@router.get("/scorecards.csv")
async def scorecards_csv(request: Request, p: Viewer, st: State) -> Response:
    """Per team and agent and skill: the period's figures, the previous period's, the change and the
    team's median; with ?moments=1, every moment instead (QA tools join them on call id and time)."""
    if p is None:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})
    per, f = period_of(request), _filters(request)
    buf = io.StringIO()
    w = csv.writer(buf)
    if request.query_params.get("moments"):
        w.writerow(["call_id", "call_at", "team", "agent", "skill", "t", "end", "status", "cue", "segment_id"])
        for m in await _moments(st, p, per, f, f["skill"] if f["skill"] in BY_ID else None):
            w.writerow([m["call_id"], m["at"].isoformat(), m["team"] or "", m["agent"], m["skill"], m["t"], m["t_end"],
                        m["status"], m["cue"] or "", m["segment_id"] or ""])
    else:
        w.writerow(["from", "to", "team", "agent", "skill", "label", "opportunities", "taken", "rate", "previous_rate",
                    "change", "team_median", "reliability"])
        for team in await _board(st, p, per, f["team"] or None):
            rows = [("", team["total"])] + [(a["name"], a["cells"]) for a in team["agents"]]
            for agent, cells in rows:
                if f["agent"] and agent != f["agent"]:
                    continue
                for s in SKILLS:
                    c = cells.get(s.id)
                    if c is None:
                        continue
                    w.writerow([per.first, per.last, team["name"], agent, s.id, s.label, _num(c["n"]), _num(c["k"]),
                                _num(c["rate"]), _num(c["prev"]), _num(c["change"]), _num(team["median"][s.id]["value"]),
                                s.reliability or ""])
    async with st.pool.connection() as c:
        await queries.audit(c, p.id, None, "export", f"scorecards {per.first}..{per.last}", request)
    name = f"scorecards_{per.first}_{per.last}{'_moments' if request.query_params.get('moments') else ''}.csv"
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.4g}"
