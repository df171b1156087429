"""Teams, people, device tokens, login tokens and retention: the server's own records,
used alike by the HTTP API and the `coach team` admin command.

Passwords are hashed with Argon2id (argon2-cffi). Device and login tokens are 256 random
bits, so a plain SHA-256 of them is what is stored: a stolen table yields nothing to
replay, and a lookup stays one index probe per request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("agent", "supervisor", "admin")
_hasher = PasswordHasher()
# verifying an unknown name costs what a known one does, so timing does not tell names apart
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A refused admin action (unknown team, duplicate name...): one line for the user."""


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token(kind: str) -> str:
    return f"cc{kind}_{secrets.token_urlsafe(32)}"


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise AccountError("passwords need at least 10 characters")
    return _hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str
    teams: tuple[int, ...]  # the teams whose calls this person may see (admins: all)

    def sees(self, team_id: int | None) -> bool:
        return self.role == "admin" or (team_id is not None and team_id in self.teams)


def team_id(conn: psycopg.Connection, name: str) -> int:
    row = conn.execute("SELECT id FROM teams WHERE name = %s", (name,)).fetchone()
    if not row:
        raise AccountError(f"no team {name!r}")
    return row[0]


def create_team(conn: psycopg.Connection, name: str) -> int:
    try:
        return conn.execute("INSERT INTO teams (name) VALUES (%s) RETURNING id", (name,)).fetchone()[0]
    except psycopg.errors.UniqueViolation:
        raise AccountError(f"a team {name!r} exists already") from None
    except psycopg.errors.CheckViolation:
        raise AccountError("team names have 1 to 80 characters") from None


def create_user(conn: psycopg.Connection, name: str, role: str, password: str | None = None,
                team: str | None = None, supervises: list[str] | None = None) -> int:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == "agent" and not team:
        raise AccountError("an agent belongs to a team (--team)")
    tid = team_id(conn, team) if team else None
    pw = hash_password(password) if password is not None else None
    try:
        uid = conn.execute("INSERT INTO users (name, role, password_hash, team_id) VALUES (%s, %s, %s, %s) RETURNING id",
                           (name, role, pw, tid)).fetchone()[0]
    except psycopg.errors.UniqueViolation:
        raise AccountError(f"a user {name!r} exists already") from None
    except psycopg.errors.CheckViolation:
        raise AccountError("user names have 1 to 80 characters") from None
    for t in supervises or []:
        conn.execute("INSERT INTO supervises VALUES (%s, %s) ON CONFLICT DO NOTHING", (uid, team_id(conn, t)))
    return uid


def set_team_policy(conn: psycopg.Connection, team: str, share_whole_calls: bool) -> None:
    """Whether the team's agents' apps upload each whole call (redacted) besides its flagged segments."""
    conn.execute("UPDATE teams SET share_whole_calls = %s WHERE id = %s", (share_whole_calls, team_id(conn, team)))


def set_password(conn: psycopg.Connection, name: str, password: str) -> None:
    """A new password; the person's open logins end."""
    row = conn.execute("UPDATE users SET password_hash = %s WHERE name = %s AND role <> 'agent' RETURNING id",
                       (hash_password(password), name)).fetchone()
    if not row:
        raise AccountError(f"no supervisor or admin {name!r}")
    conn.execute("DELETE FROM logins WHERE user_id = %s", (row[0],))


def issue_device_token(conn: psycopg.Connection, agent: str, device_name: str) -> tuple[int, str]:
    row = conn.execute("SELECT id, role FROM users WHERE name = %s", (agent,)).fetchone()
    if not row or row[1] != "agent":
        raise AccountError(f"no agent {agent!r}")
    token = new_token("d")
    did = conn.execute("INSERT INTO devices (user_id, name, token_hash) VALUES (%s, %s, %s) RETURNING id",
                       (row[0], device_name, hash_token(token))).fetchone()[0]
    return did, token


def revoke_device(conn: psycopg.Connection, device_id: int) -> None:
    if conn.execute("UPDATE devices SET revoked = now() WHERE id = %s AND revoked IS NULL", (device_id,)).rowcount == 0:
        raise AccountError(f"no active device {device_id}")


def purge(conn: psycopg.Connection, days: float) -> tuple[int, int]:
    """Delete calls and flagged segments (with their clips) received more than `days` ago, and
    expired logins; return (calls, segments) deleted. Rows are gone at once; PostgreSQL reuses
    their pages after autovacuum (VACUUM FULL rewrites the tables if the bytes must go now)."""
    segs = conn.execute("DELETE FROM segments WHERE received < now() - make_interval(secs => %s)", (days * 86400,)).rowcount
    calls = conn.execute("DELETE FROM calls WHERE received < now() - make_interval(secs => %s)", (days * 86400,)).rowcount
    conn.execute("DELETE FROM logins WHERE expires < now()")
    return calls, segs
