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


def disable_user(conn: psycopg.Connection, name: str) -> None:
    """Offboarding: the person can no longer log in, their open logins end and their devices'
    tokens are revoked; what they uploaded or reviewed stays (retention deletes it in time)."""
    row = conn.execute("SELECT id, role FROM users WHERE name = %s AND NOT disabled", (name,)).fetchone()
    if not row:
        raise AccountError(f"no enabled user {name!r}")
    if row[1] == "admin" and conn.execute("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled").fetchone()[0] < 2:
        raise AccountError("the last enabled admin cannot be disabled")
    conn.execute("UPDATE users SET disabled = true WHERE id = %s", (row[0],))
    conn.execute("DELETE FROM logins WHERE user_id = %s", (row[0],))
    conn.execute("UPDATE devices SET revoked = now() WHERE user_id = %s AND revoked IS NULL", (row[0],))


def remove_supervision(conn: psycopg.Connection, name: str, team: str) -> None:
    """The supervisor no longer sees the team (open pages and event streams follow within seconds)."""
    if conn.execute("DELETE FROM supervises WHERE user_id = (SELECT id FROM users WHERE name = %s) AND team_id = %s",
                    (name, team_id(conn, team))).rowcount == 0:
        raise AccountError(f"{name!r} does not supervise {team!r}")


def purge(conn: psycopg.Connection, days: float) -> tuple[int, int]:
    """Delete calls and flagged segments (with their clips), agents' last live states and audit
    rows older than `days`, and expired logins; return (calls, segments) deleted. Rows are gone
    at once; their bytes stay in table pages until `vacuum()` (which the server runs after
    each pass) marks them free to be overwritten."""
    age = (days * 86400,)
    segs = conn.execute("DELETE FROM segments WHERE received < now() - make_interval(secs => %s)", age).rowcount
    calls = conn.execute("DELETE FROM calls WHERE received < now() - make_interval(secs => %s)", age).rowcount
    conn.execute("DELETE FROM live WHERE updated < now() - make_interval(secs => %s)", age)
    conn.execute("DELETE FROM audit WHERE at < now() - make_interval(secs => %s)", age)
    conn.execute("DELETE FROM logins WHERE expires < now()")
    return calls, segs


RETAINED = ("segments", "clips", "calls", "scorecards", "live", "audit", "logins")


def vacuum(conn: psycopg.Connection) -> None:
    """VACUUM the tables retention deletes from, so their dead rows' space is reused rather than
    left to autovacuum's thresholds (VACUUM FULL, which returns it to the disk, locks the table:
    an admin's choice, docs/security.md). Needs an autocommit connection."""
    conn.execute("VACUUM (ANALYZE) " + ", ".join(RETAINED))
