"""SQL the API and the dashboard pages share: who sees what, the floor, a visible segment,
the audit log. One copy, so a page can never show what the API would refuse."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from fastapi import HTTPException, Request
from psycopg.rows import dict_row

from coach.server.accounts import Person


def scope(p: Person) -> tuple[bool, list[int]]:
    """Arguments for `(%s OR x.team_id = ANY(%s))`: everything for admins, else the person's teams."""
    return p.role == "admin", list(p.teams)


async def teams_of(c: psycopg.AsyncConnection, uid: int, role: str) -> tuple[int, ...]:
    if role == "admin":
        return tuple(r[0] for r in await (await c.execute("SELECT id FROM teams")).fetchall())
    if role == "supervisor":
        return tuple(r[0] for r in await (await c.execute("SELECT team_id FROM supervises WHERE user_id = %s", (uid,))).fetchall())
    return ()


async def floor_rows(c: psycopg.AsyncConnection, p: Person) -> list[dict[str, Any]]:
    """Each agent of the person's teams with their latest live state (None if never pushed)."""
    async with c.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT u.id AS agent_id, u.name AS agent, u.team_id, t.name AS team, l.state, l.updated "
            "FROM users u LEFT JOIN live l ON l.agent_id = u.id LEFT JOIN teams t ON t.id = u.team_id "
            "WHERE u.role = 'agent' AND (%s OR u.team_id = ANY(%s)) ORDER BY u.name", scope(p))
        return await cur.fetchall()


async def visible_segment(c: psycopg.AsyncConnection, p: Person, segment_id: str) -> dict[str, Any]:
    """The segment with its agent's name; 404 when it does not exist or is another team's."""
    async with c.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT s.*, u.name AS agent FROM segments s JOIN users u ON u.id = s.agent_id WHERE s.id = %s",
                          (segment_id,))
        row = await cur.fetchone()
    if row is None or not p.sees(row["team_id"]):
        raise HTTPException(404, "no such segment")
    return row


async def audit(c: psycopg.AsyncConnection, uid: int | None, device_id: int | None, action: str, obj: str | None,
                request: Request | None) -> None:
    ip = request.client.host if request is not None and request.client else None
    await c.execute("INSERT INTO audit (user_id, device_id, action, object, ip) VALUES (%s, %s, %s, %s, %s)",
                    (uid, device_id, action, obj, ip))


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        elif isinstance(v, uuid.UUID):
            v = str(v)
        out[k] = v
    return out
