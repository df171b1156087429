"""The team server's PostgreSQL schema, as numbered migrations.

Every server process runs `migrate()` at start; an advisory lock makes several processes
starting together apply each migration once. Rows carry the agent's own ids (call UUIDs,
segment ids made from them), so an upload repeated after a lost reply changes nothing.
"""

from __future__ import annotations

import psycopg

MIGRATIONS = [
    # v1
    """
    CREATE TABLE teams (
        id bigserial PRIMARY KEY, name text UNIQUE NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
        created timestamptz NOT NULL DEFAULT now());
    CREATE TABLE users (
        id bigserial PRIMARY KEY, name text UNIQUE NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
        role text NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
        password_hash text, team_id bigint REFERENCES teams(id) ON DELETE SET NULL,
        disabled boolean NOT NULL DEFAULT false, created timestamptz NOT NULL DEFAULT now());
    CREATE TABLE supervises (
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        team_id bigint NOT NULL REFERENCES teams(id) ON DELETE CASCADE, PRIMARY KEY (user_id, team_id));
    CREATE TABLE devices (
        id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name text NOT NULL, token_hash bytea UNIQUE NOT NULL, created timestamptz NOT NULL DEFAULT now(),
        revoked timestamptz, last_seen timestamptz);
    CREATE TABLE logins (
        token_hash bytea PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created timestamptz NOT NULL DEFAULT now(), expires timestamptz NOT NULL);
    -- live states are ephemeral (rewritten every 2 s, meaningless after a restart): no WAL
    CREATE UNLOGGED TABLE live (
        agent_id bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        state jsonb NOT NULL, updated timestamptz NOT NULL DEFAULT now());
    CREATE TABLE calls (
        id uuid PRIMARY KEY, agent_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        team_id bigint REFERENCES teams(id) ON DELETE SET NULL, started timestamptz, duration_s real,
        summary jsonb NOT NULL, received timestamptz NOT NULL DEFAULT now());
    CREATE INDEX calls_received ON calls(received);
    CREATE TABLE segments (
        id text PRIMARY KEY, call_id uuid NOT NULL, agent_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        team_id bigint REFERENCES teams(id) ON DELETE SET NULL, t0 real NOT NULL, t1 real NOT NULL,
        reason text NOT NULL, cues text[] NOT NULL DEFAULT '{}', doc jsonb NOT NULL, words tsvector NOT NULL,
        received timestamptz NOT NULL DEFAULT now(),
        reviewed_by bigint REFERENCES users(id) ON DELETE SET NULL, reviewed_at timestamptz, note text);
    CREATE INDEX segments_team ON segments(team_id, received DESC);
    CREATE INDEX segments_received ON segments(received);
    CREATE INDEX segments_words ON segments USING gin(words);
    CREATE TABLE clips (
        segment_id text PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
        format text NOT NULL, data bytea NOT NULL);
    ALTER TABLE clips ALTER COLUMN data SET STORAGE EXTERNAL;  -- FLAC does not compress further
    CREATE TABLE audit (
        id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), user_id bigint, device_id bigint,
        action text NOT NULL, object text, ip text);
    CREATE INDEX audit_at ON audit(at);
    """,
    # v2: a team's sharing policy, set by an admin: also upload each whole call (redacted), not only flagged segments
    """
    ALTER TABLE teams ADD COLUMN share_whole_calls boolean NOT NULL DEFAULT false;
    """,
    # v3: skill scorecards (docs/scorecards.md), one row per call and skill, uploaded with the call's summary;
    # `at` is when the call was (its start, else its arrival): the period it counts in
    """
    CREATE TABLE scorecards (
        call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        skill text NOT NULL CHECK (length(skill) BETWEEN 1 AND 60),
        agent_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        team_id bigint REFERENCES teams(id) ON DELETE SET NULL,
        at timestamptz NOT NULL, n real NOT NULL CHECK (n >= 0), k real NOT NULL CHECK (k >= 0),
        moments jsonb NOT NULL DEFAULT '[]', PRIMARY KEY (call_id, skill));
    CREATE INDEX scorecards_team_at ON scorecards(team_id, at);
    CREATE INDEX scorecards_agent_at ON scorecards(agent_id, at);
    """,
]

LOCK = 0x636F616368  # "coach": the advisory lock id for migrations


def migrate(conn: psycopg.Connection) -> int:
    """Bring the schema to the newest version; return it. Refuses a schema newer than this code."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        if not row:
            conn.execute("INSERT INTO schema_version VALUES (0)")
        if version > len(MIGRATIONS):
            raise RuntimeError(f"the database's schema is version {version}, newer than this server's {len(MIGRATIONS)}")
        for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
            conn.execute(script)  # psycopg sends a multi-statement script as one simple query
            conn.execute("UPDATE schema_version SET version = %s", (i,))
        return len(MIGRATIONS)
