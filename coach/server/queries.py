"""All the team server's SQL (but the account changes `coach team` shares, in accounts.py):
the routes and the dashboard pages call these by name. One copy of who sees what, so a page
can never show what the API would refuse."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg
from fastapi import HTTPException, Request
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from coach.server.accounts import Person

CHANNEL = "coach_live"  # NOTIFY channel of agents' live states


def scope(p: Person) -> tuple[bool, list[int]]:
    """Arguments for `(%s OR x.team_id = ANY(%s))`: everything for admins, else the person's teams."""
    return p.role == "admin", list(p.teams)


async def _dicts(c: psycopg.AsyncConnection, sql: str, args: Any) -> list[dict[str, Any]]:
    async with c.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, args)
        return await cur.fetchall()


async def _one(c: psycopg.AsyncConnection, sql: str, args: Any) -> tuple[Any, ...] | None:
    return await (await c.execute(sql, args)).fetchone()


async def ping(c: psycopg.AsyncConnection) -> None:
    await c.execute("SELECT 1")


async def listen_live(c: psycopg.AsyncConnection) -> None:
    await c.execute(f"LISTEN {CHANNEL}")


# --- who is asking -------------------------------------------------------------------------


async def device_of(c: psycopg.AsyncConnection, token_hash: str) -> tuple[int, int, int | None] | None:
    """(device id, agent id, agent's team id) of a live device token."""
    return await _one(c, "SELECT d.id, u.id, u.team_id FROM devices d JOIN users u ON u.id = d.user_id "
                         "WHERE d.token_hash = %s AND d.revoked IS NULL AND NOT u.disabled", (token_hash,))


async def login_of(c: psycopg.AsyncConnection, token_hash: str) -> tuple[int, str, str] | None:
    """(user id, name, role) of an unexpired login."""
    return await _one(c, "SELECT u.id, u.name, u.role FROM logins l JOIN users u ON u.id = l.user_id "
                         "WHERE l.token_hash = %s AND l.expires > now() AND NOT u.disabled", (token_hash,))


async def teams_of(c: psycopg.AsyncConnection, uid: int, role: str) -> tuple[int, ...]:
    if role == "admin":
        return tuple(r[0] for r in await (await c.execute("SELECT id FROM teams")).fetchall())
    if role == "supervisor":
        return tuple(r[0] for r in await (await c.execute("SELECT team_id FROM supervises WHERE user_id = %s", (uid,))).fetchall())
    return ()


async def user_named(c: psycopg.AsyncConnection, name: str) -> tuple[int, str | None, str] | None:
    """(id, password hash, role) of an enabled user."""
    return await _one(c, "SELECT id, password_hash, role FROM users WHERE name = %s AND NOT disabled", (name,))


async def add_login(c: psycopg.AsyncConnection, token_hash: str, uid: int, hours: int) -> None:
    await c.execute("INSERT INTO logins (token_hash, user_id, expires) VALUES (%s, %s, now() + make_interval(hours => %s))",
                    (token_hash, uid, hours))


async def drop_login(c: psycopg.AsyncConnection, token_hash: str) -> None:
    await c.execute("DELETE FROM logins WHERE token_hash = %s", (token_hash,))


# --- what agents' apps send ------------------------------------------------------------------


async def push_live(c: psycopg.AsyncConnection, token_hash: str, state: dict[str, Any]) -> bool:
    """Token check, upsert and notify in one round trip; False for an unknown or revoked token."""
    row = await _one(
        c, "WITH d AS (SELECT u.id, u.team_id FROM devices d JOIN users u ON u.id = d.user_id "
           "           WHERE d.token_hash = %(h)s AND d.revoked IS NULL AND NOT u.disabled), "
           "w AS (INSERT INTO live (agent_id, state) SELECT id, %(s)s FROM d "
           "      ON CONFLICT (agent_id) DO UPDATE SET state = excluded.state, updated = now() RETURNING agent_id) "
           "SELECT pg_notify(%(ch)s, (jsonb_build_object('agent_id', d.id, 'team_id', d.team_id) || %(s)s)::text) "
           "FROM d JOIN w ON w.agent_id = d.id",
        {"h": token_hash, "s": Jsonb(state), "ch": CHANNEL})
    return row is not None


async def add_call(c: psycopg.AsyncConnection, call_id: uuid.UUID, agent_id: int, team_id: int | None, started: str | None,
                   duration_s: float, summary: dict[str, Any]) -> bool:
    """A call's summary; a repeated upload keeps the first. False when the id is another agent's
    (then nothing is stored: the id is not theirs to take)."""
    if await _one(c, "INSERT INTO calls (id, agent_id, team_id, started, duration_s, summary) VALUES (%s, %s, %s, %s, %s, %s) "
                     "ON CONFLICT (id) DO NOTHING RETURNING 1", (call_id, agent_id, team_id, started, duration_s, Jsonb(summary))):
        return True
    return await _one(c, "SELECT 1 FROM calls WHERE id = %s AND agent_id = %s", (call_id, agent_id)) is not None


async def add_scorecard(c: psycopg.AsyncConnection, call_id: uuid.UUID, agent_id: int, team_id: int | None, started: str | None,
                        skills: list[dict[str, Any]]) -> None:
    """A call's skill scorecard, a row per skill; a moment's flag index becomes its segment's id. A
    repeated upload keeps the first."""
    rows = [(call_id, sk["id"], agent_id, team_id, started, sk["n"], sk["k"],
             Jsonb([{**m, "segment": f"{call_id}:{m['segment']}" if m.get("segment") is not None else None} for m in sk["moments"]]))
            for sk in skills]
    async with c.cursor() as cur:
        await cur.executemany("INSERT INTO scorecards (call_id, skill, agent_id, team_id, at, n, k, moments) "
                              "VALUES (%s, %s, %s, %s, coalesce(%s::timestamptz, now()), %s, %s, %s) ON CONFLICT DO NOTHING", rows)


async def device_seen(c: psycopg.AsyncConnection, device_id: int) -> None:
    await c.execute("UPDATE devices SET last_seen = now() WHERE id = %s", (device_id,))


async def add_segment(c: psycopg.AsyncConnection, segment_id: str, call_id: uuid.UUID, agent_id: int, team_id: int | None,
                      t0: float, t1: float, reason: str, cues: list[str], doc: dict[str, Any], words: str) -> bool:
    """A flagged segment, its words indexed for search; a repeated upload keeps the first. False
    when the id, or its call, is another agent's (then nothing is stored)."""
    if await _one(c, "INSERT INTO segments (id, call_id, agent_id, team_id, t0, t1, reason, cues, doc, words) "
                     "SELECT %(id)s, %(call)s, %(agent)s, %(team)s, %(t0)s, %(t1)s, %(reason)s, %(cues)s, %(doc)s, "
                     "to_tsvector('english', %(words)s) "
                     "WHERE NOT EXISTS (SELECT 1 FROM calls WHERE id = %(call)s AND agent_id <> %(agent)s) "
                     "ON CONFLICT (id) DO NOTHING RETURNING 1",
                  {"id": segment_id, "call": call_id, "agent": agent_id, "team": team_id, "t0": t0, "t1": t1, "reason": reason,
                   "cues": cues, "doc": Jsonb(doc), "words": words}):
        return True
    return await owns_segment(c, segment_id, agent_id)


async def owns_segment(c: psycopg.AsyncConnection, segment_id: str, agent_id: int) -> bool:
    return await _one(c, "SELECT 1 FROM segments WHERE id = %s AND agent_id = %s", (segment_id, agent_id)) is not None


async def share_whole_calls(c: psycopg.AsyncConnection, team_id: int | None) -> bool:
    row = await _one(c, "SELECT share_whole_calls FROM teams WHERE id = %s", (team_id,))
    return bool(row and row[0])


async def notes_for(c: psycopg.AsyncConnection, agent_id: int) -> list[dict[str, Any]]:
    """Supervisors' notes on an agent's segments, newest review first."""
    return await _dicts(
        c, "SELECT s.id AS segment_id, s.call_id, s.t0, s.t1, s.note, s.reviewed_at, u.name AS reviewer FROM segments s "
           "LEFT JOIN users u ON u.id = s.reviewed_by WHERE s.agent_id = %s AND s.note IS NOT NULL "
           "ORDER BY s.reviewed_at DESC LIMIT 500", (agent_id,))


# --- what supervisors read -------------------------------------------------------------------


async def floor_rows(c: psycopg.AsyncConnection, p: Person) -> list[dict[str, Any]]:
    """Each agent of the person's teams with their latest live state (None if never pushed)."""
    return await _dicts(
        c, "SELECT u.id AS agent_id, u.name AS agent, u.team_id, t.name AS team, l.state, l.updated "
           "FROM users u LEFT JOIN live l ON l.agent_id = u.id LEFT JOIN teams t ON t.id = u.team_id "
           "WHERE u.role = 'agent' AND (%s OR u.team_id = ANY(%s)) ORDER BY u.name", scope(p))


def _where(p: Person, *conds: tuple[str, Any]) -> tuple[str, list[Any]]:
    """The person's team scope AND each condition whose value is not None, with their arguments."""
    where, args = ["(%s OR s.team_id = ANY(%s))"], list(scope(p))
    for cond, val in conds:
        if val is not None:
            where.append(cond)
            args.append(val)
    return " AND ".join(where), args


async def find_segments(c: psycopg.AsyncConnection, p: Person, team: int | None, agent: int | None, cue: str | None,
                        q: str | None, reviewed: bool | None, limit: int, offset: int) -> list[dict[str, Any]]:
    """The API's segment list, newest first; None (and an empty q) filters nothing."""
    where, args = _where(p, ("s.team_id = %s", team), ("s.agent_id = %s", agent), ("%s = ANY(s.cues)", cue),
                         ("s.words @@ websearch_to_tsquery('english', %s)", q or None), ("(s.reviewed_at IS NOT NULL) = %s", reviewed))
    return await _dicts(
        c, "SELECT s.id, s.call_id, s.agent_id, u.name AS agent, s.team_id, s.t0, s.t1, s.reason, s.cues, s.received, "
           "s.reviewed_at, s.note, EXISTS (SELECT 1 FROM clips k WHERE k.segment_id = s.id) AS has_clip "
           "FROM segments s JOIN users u ON u.id = s.agent_id WHERE " + where +
           " ORDER BY s.received DESC, s.id LIMIT %s OFFSET %s", (*args, limit, offset))


async def queue(c: psycopg.AsyncConnection, p: Person, agent: str | None, team: str | None, cue: str | None, q: str | None,
                reviewed: bool | None, since: datetime | None, before: datetime | None) -> dict[str, list[dict[str, Any]]]:
    """The dashboard's queue: its rows (the latest 200) and their counts by cue and by agent;
    names filter, None filters nothing."""
    where, args = _where(p, ("u.name = %s", agent), ("t.name = %s", team), ("%s = ANY(s.cues)", cue),
                         ("s.words @@ websearch_to_tsquery('english', %s)", q), ("(s.reviewed_at IS NOT NULL) = %s", reviewed),
                         ("s.received >= %s", since), ("s.received < %s", before))
    joined = "FROM segments s JOIN users u ON u.id = s.agent_id LEFT JOIN teams t ON t.id = s.team_id"
    return {
        "rows": await _dicts(c, "SELECT s.id, s.t0, s.t1, s.reason, s.cues, s.received, s.reviewed_at, s.note, u.name AS agent, "
                                "t.name AS team, left(s.doc->'utterances'->0->>'text', 90) AS first_words " + joined +
                                " WHERE " + where + " ORDER BY s.received DESC, s.id LIMIT 200", args),
        "by_cue": await _dicts(c, "SELECT cue, count(*) AS n " + joined + ", unnest(s.cues) AS cue WHERE " + where +
                                  " GROUP BY cue ORDER BY n DESC", args),
        "by_agent": await _dicts(c, "SELECT u.name AS agent, count(*) AS n " + joined + " WHERE " + where +
                                    " GROUP BY u.name ORDER BY n DESC", args),
    }


async def names_in_scope(c: psycopg.AsyncConnection, p: Person) -> tuple[list[str], list[str]]:
    """(agents' names, teams' names) the person sees, for the queue's filters."""
    agents = await _dicts(c, "SELECT u.name FROM users u WHERE u.role = 'agent' AND (%s OR u.team_id = ANY(%s)) ORDER BY u.name",
                          scope(p))
    teams = await _dicts(c, "SELECT name FROM teams WHERE %s OR id = ANY(%s) ORDER BY name", scope(p))
    return [r["name"] for r in agents], [r["name"] for r in teams]


async def recent_calls(c: psycopg.AsyncConnection, p: Person, weeks: int) -> list[dict[str, Any]]:
    """The person's teams' call summaries of the last weeks, oldest first, with agent and team names."""
    return await _dicts(
        c, "SELECT c.received, c.summary, u.name AS agent, t.name AS team FROM calls c JOIN users u ON u.id = c.agent_id "
           "LEFT JOIN teams t ON t.id = c.team_id WHERE (%s OR c.team_id = ANY(%s)) "
           "AND c.received > now() - make_interval(weeks => %s) ORDER BY c.received LIMIT 50000", (*scope(p), weeks))


async def scorecard_totals(c: psycopg.AsyncConnection, p: Person, since: datetime, until: datetime,
                           team: str | None) -> list[dict[str, Any]]:
    """Per agent and skill, the calls of [since, until) in the person's teams (a team's by name, or all):
    opportunities and taken summed, and how many calls."""
    where, args = _where(p, ("t.name = %s", team), ("s.at >= %s", since), ("s.at < %s", until))
    return await _dicts(
        c, "SELECT s.agent_id, u.name AS agent, s.team_id, t.name AS team, s.skill, sum(s.n) AS n, sum(s.k) AS k, "
           "count(*) AS calls FROM scorecards s JOIN users u ON u.id = s.agent_id LEFT JOIN teams t ON t.id = s.team_id "
           "WHERE " + where + " GROUP BY s.agent_id, u.name, s.team_id, t.name, s.skill", args)


async def scorecard_moments(c: psycopg.AsyncConnection, p: Person, since: datetime, until: datetime, skill: str | None,
                            team: str | None, agent: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
    """The moments behind a scorecard's figures, newest call first, each with the segment that holds it
    (its flagged segment, else the whole call's when the team shares whole calls) if the person may see it."""
    where, args = _where(p, ("s.skill = %s", skill), ("t.name = %s", team), ("u.name = %s", agent),
                         ("m->>'status' = %s", status), ("s.at >= %s", since), ("s.at < %s", until))
    return await _dicts(
        c, "SELECT s.call_id, s.at, s.skill, u.name AS agent, t.name AS team, (m->>'t')::float8 AS t, (m->>'end')::float8 AS t_end, "
           "m->>'status' AS status, m->>'cue' AS cue, g.id AS segment_id, g.t0 AS segment_t0, "
           "EXISTS (SELECT 1 FROM clips k WHERE k.segment_id = g.id) AS has_clip "
           "FROM scorecards s JOIN users u ON u.id = s.agent_id LEFT JOIN teams t ON t.id = s.team_id "
           "CROSS JOIN LATERAL jsonb_array_elements(s.moments) m "
           "LEFT JOIN segments g ON g.id = coalesce(m->>'segment', s.call_id::text || ':call') AND (%s OR g.team_id = ANY(%s)) "
           "WHERE " + where + " ORDER BY s.at DESC, s.call_id, (m->>'t')::float8 LIMIT %s", (*scope(p), *args, limit))


async def visible_segment(c: psycopg.AsyncConnection, p: Person, segment_id: str) -> dict[str, Any]:
    """The segment with its agent's name; 404 when it does not exist or is another team's."""
    rows = await _dicts(c, "SELECT s.*, u.name AS agent FROM segments s JOIN users u ON u.id = s.agent_id WHERE s.id = %s",
                        (segment_id,))
    if not rows or not p.sees(rows[0]["team_id"]):
        raise HTTPException(404, "no such segment")
    return rows[0]


async def mark_reviewed(c: psycopg.AsyncConnection, segment_id: str, uid: int, note: str | None) -> None:
    await c.execute("UPDATE segments SET reviewed_by = %s, reviewed_at = now(), note = %s WHERE id = %s", (uid, note, segment_id))


# --- the audit log ---------------------------------------------------------------------------


async def audit(c: psycopg.AsyncConnection, uid: int | None, device_id: int | None, action: str, obj: str | None,
                request: Request | None) -> None:
    ip = request.client.host if request is not None and request.client else None
    await c.execute("INSERT INTO audit (user_id, device_id, action, object, ip) VALUES (%s, %s, %s, %s, %s)",
                    (uid, device_id, action, obj, ip))


async def audit_rows(c: psycopg.AsyncConnection, limit: int) -> list[dict[str, Any]]:
    return await _dicts(c, "SELECT * FROM audit ORDER BY id DESC LIMIT %s", (limit,))


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        elif isinstance(v, uuid.UUID):
            v = str(v)
        out[k] = v
    return out
