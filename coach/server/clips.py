"""Where flagged segments' audio lives. PostgreSQL by default (one backup, one retention,
one access check); the interface is small (put, get, has) so an S3-compatible store can be added for
floors whose clips outgrow the database (write the object, keep its key in a row)."""

from __future__ import annotations

from typing import Protocol

import psycopg


class ClipStore(Protocol):
    async def put(self, c: psycopg.AsyncConnection, segment_id: str, fmt: str, data: bytes) -> None:
        """Store a segment's clip; a repeated upload of the same segment keeps the first."""

    async def get(self, c: psycopg.AsyncConnection, segment_id: str) -> tuple[str, bytes] | None:
        """(media type, bytes), or None."""

    async def has(self, c: psycopg.AsyncConnection, segment_id: str) -> bool:
        """Whether the segment's clip has arrived (without reading it)."""


class PostgresClips:
    """Clips as bytea rows, deleted with their segment (ON DELETE CASCADE)."""

    async def put(self, c: psycopg.AsyncConnection, segment_id: str, fmt: str, data: bytes) -> None:
        await c.execute("INSERT INTO clips (segment_id, format, data) VALUES (%s, %s, %s) ON CONFLICT (segment_id) DO NOTHING",
                        (segment_id, fmt, data))

    async def get(self, c: psycopg.AsyncConnection, segment_id: str) -> tuple[str, bytes] | None:
        row = await (await c.execute("SELECT format, data FROM clips WHERE segment_id = %s", (segment_id,))).fetchone()
        return (row[0], bytes(row[1])) if row else None

    async def has(self, c: psycopg.AsyncConnection, segment_id: str) -> bool:
        return await (await c.execute("SELECT 1 FROM clips WHERE segment_id = %s", (segment_id,))).fetchone() is not None
