"""The session store: SQLite in WAL mode with FTS5 search over transcripts.

Sessions from `live`, `demo` and `analyze --save` are stored alike, from the analysis
JSON (whose transcripts are already redacted). Deleting is for real: secure_delete
zeroes freed pages, and the FTS index is optimised afterwards, because FTS5 keeps
deleted text in its segments until then (docs/facts.md).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.config import paths
from coach.core.errors import UserError

if TYPE_CHECKING:
    from coach.config.settings import Settings

MIGRATIONS = [
    # v1
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY, started TEXT NOT NULL, mode TEXT NOT NULL, source TEXT, audio TEXT,
        duration_s REAL, model TEXT, doc TEXT NOT NULL);
    CREATE TABLE utterances (
        id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        speaker TEXT NOT NULL, start REAL, end REAL, text TEXT, words TEXT, sentiment REAL, wpm REAL);
    CREATE TABLE cues (
        id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        cue TEXT NOT NULL, t REAL, severity TEXT, reason TEXT, latency_s REAL);
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        start REAL, end REAL, reason TEXT, by TEXT, note TEXT);
    CREATE INDEX utterances_session ON utterances(session_id);
    CREATE INDEX cues_session ON cues(session_id);
    CREATE INDEX flags_session ON flags(session_id);
    CREATE VIRTUAL TABLE utterances_fts USING fts5(text, content='utterances', content_rowid='id');
    CREATE TRIGGER utterances_ai AFTER INSERT ON utterances BEGIN
        INSERT INTO utterances_fts(rowid, text) VALUES (new.id, new.text); END;
    CREATE TRIGGER utterances_ad AFTER DELETE ON utterances BEGIN
        INSERT INTO utterances_fts(utterances_fts, rowid, text) VALUES ('delete', old.id, old.text); END;
    """,
    # v2: team mode — the call's id on the team server, and supervisors' coaching notes on its segments
    """
    ALTER TABLE sessions ADD COLUMN call_id TEXT;
    CREATE INDEX sessions_call ON sessions(call_id);
    CREATE TABLE notes (
        segment_id TEXT PRIMARY KEY, call_id TEXT NOT NULL, t0 REAL, t1 REAL, note TEXT NOT NULL, reviewer TEXT, reviewed_at TEXT);
    CREATE INDEX notes_call ON notes(call_id);
    """,
    # v3: each session's skill scorecard (coach/session/scorecard.py), computed once and kept with it
    """
    CREATE TABLE scorecards (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE, schema TEXT NOT NULL, card TEXT NOT NULL);
    """,
]


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, timeout=10, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")  # a second app instance reads while one writes
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA secure_delete=ON")
            self._migrate()
            if self.purge_pending:
                self._purge()
        except sqlite3.DatabaseError as e:
            raise UserError(f"the session store {path} is damaged ({e}); move it aside to start a new one") from None

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise UserError(f"the session store {self.path} was made by a newer Call Coach (schema {version})")
        for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.tx():
                for stmt in _statements(script):
                    self.db.execute(stmt)
                self.db.execute(f"PRAGMA user_version={i}")

    @contextmanager
    def tx(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    # -- writing ---------------------------------------------------------------------

    def save(self, doc: dict[str, Any], mode: str, audio: str | None = None, started: datetime | None = None) -> int:
        started = started or datetime.now()
        try:
            with self.tx():
                cur = self.db.execute(
                    "INSERT INTO sessions(started, mode, source, audio, duration_s, model, doc, call_id) VALUES (?,?,?,?,?,?,?,?)",
                    (started.isoformat(timespec="seconds"), mode, doc["source"]["path"], audio,
                     doc["source"]["duration_s"], doc["model"]["name"], json.dumps(doc), doc.get("call_id")))
                sid = int(cur.lastrowid)
                self.db.executemany(
                    "INSERT INTO utterances(session_id, speaker, start, end, text, words, sentiment, wpm) VALUES (?,?,?,?,?,?,?,?)",
                    [(sid, u["speaker"], u["start"], u["end"], u["text"], json.dumps(u["words"]), u.get("sentiment"), u.get("wpm"))
                     for u in doc["utterances"]])
                self.db.executemany("INSERT INTO cues(session_id, cue, t, severity, reason, latency_s) VALUES (?,?,?,?,?,?)",
                                    [(sid, c["id"], c["t"], c["severity"], c["reason"], c["latency_s"]) for c in doc["cues"]])
                self.db.executemany("INSERT INTO flags(session_id, start, end, reason, by, note) VALUES (?,?,?,?,?,?)",
                                    [(sid, f["start"], f["end"], f["reason"], f["by"], f.get("note", "")) for f in doc["flags"]])
        except sqlite3.OperationalError as e:
            raise UserError(f"cannot save the session to {self.path}: {e}") from None
        return sid

    def delete(self, sid: int) -> bool:
        row = self.db.execute("SELECT audio, mode, call_id FROM sessions WHERE id=?", (sid,)).fetchone()
        if row is None:
            return False
        with self.tx():
            if row["call_id"]:
                self.db.execute("DELETE FROM notes WHERE call_id=?", (row["call_id"],))
            self.db.execute("DELETE FROM utterances WHERE session_id=?", (sid,))  # fires the FTS delete trigger
            self.db.execute("DELETE FROM sessions WHERE id=?", (sid,))
        if row["audio"] and row["mode"] == "live":  # live recordings belong to the store; a demo's call file does not
            self._remove_recording(Path(row["audio"]))
        outbox = paths.outbox_dir(self.path.parent)
        if row["call_id"] and outbox.is_dir():  # not yet sent to the team server: then not sent at all
            from coach.team.outbox import Outbox

            Outbox(outbox).drop_call(row["call_id"])
        self._purge()
        return True

    def adopt_orphans(self) -> list[tuple[Path, int | None]]:
        """Session folders a crash left out of the store (a live session registers itself when it
        ends). One with a session.json (already redacted: only redacted text is ever written) is
        registered as a live session; one without is removed. Call only while no live session
        runs (the live instance lock). Returns (folder, new id or None if removed)."""
        root = self.path.parent / "sessions"
        if not root.is_dir():
            return []
        known = {Path(r[0]).parent.resolve() for r in self.db.execute("SELECT audio FROM sessions WHERE audio IS NOT NULL")}
        out: list[tuple[Path, int | None]] = []
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.resolve() not in known):
            try:
                doc = json.loads((folder / "session.json").read_text())
                started = datetime.strptime(folder.name[:15], "%Y%m%d-%H%M%S")
            except (OSError, ValueError):
                shutil.rmtree(folder, ignore_errors=True)
                out.append((folder, None))
                continue
            out.append((folder, self.save(doc, "live", audio=str(folder / "audio.wav"), started=started)))
        return out

    def _remove_recording(self, audio: Path) -> None:
        """The recording and, when it sits in a session folder of this store, the whole folder
        (its session.json holds the transcript too)."""
        folder = audio.parent
        if folder.parent.resolve() == (self.path.parent / "sessions").resolve():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            audio.unlink(missing_ok=True)

    def apply_retention(self, days: int, now: datetime | None = None) -> int:
        """Delete sessions older than `days` for real; returns how many."""
        if days <= 0:
            return 0
        cutoff = ((now or datetime.now()) - timedelta(days=days)).isoformat(timespec="seconds")
        ids = [r[0] for r in self.db.execute("SELECT id FROM sessions WHERE started < ?", (cutoff,))]
        for sid in ids:
            self.delete(sid)
        return len(ids)

    @property
    def _pending_marker(self) -> Path:
        return self.path.with_name(self.path.name + ".purge-pending")

    def _purge(self) -> bool:
        """Make deleted text unrecoverable from the files: merge the FTS segments, then fold the
        WAL (which still holds the old pages) into the database and truncate it. A reader with
        an open snapshot (the replay window) blocks that; then the purge is marked pending and
        finished by the next store that opens. Returns whether it is complete."""
        self.db.execute("INSERT INTO utterances_fts(utterances_fts) VALUES ('optimize')")
        self.db.execute("PRAGMA busy_timeout=1000")  # a reader between two queries lets go within moments
        try:
            busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            self.db.execute("PRAGMA busy_timeout=10000")
        if busy:
            self._pending_marker.touch()
            return False
        self._pending_marker.unlink(missing_ok=True)
        return True

    @property
    def purge_pending(self) -> bool:
        return self._pending_marker.exists()

    # -- reading ---------------------------------------------------------------------

    def list(self, flagged: bool = False, text: str | None = None, cue: str | None = None,
             since: str | None = None) -> list[sqlite3.Row]:
        q = ["SELECT s.id, s.started, s.mode, s.source, s.duration_s, s.call_id,",
             "(SELECT COUNT(*) FROM cues c WHERE c.session_id=s.id) AS cues,",
             "(SELECT COUNT(*) FROM flags f WHERE f.session_id=s.id) AS flags FROM sessions s WHERE 1=1"]
        args: list[Any] = []
        if flagged:
            q.append("AND EXISTS (SELECT 1 FROM flags f WHERE f.session_id=s.id)")
        if cue:
            q.append("AND EXISTS (SELECT 1 FROM cues c WHERE c.session_id=s.id AND c.cue=?)")
            args.append(cue)
        if since:
            q.append("AND s.started >= ?")
            args.append(since)
        if text:
            q.append("AND s.id IN (SELECT u.session_id FROM utterances_fts JOIN utterances u ON u.id = utterances_fts.rowid "
                     "WHERE utterances_fts MATCH ?)")
            args.append(_fts_query(text))
        q.append("ORDER BY s.started DESC, s.id DESC")
        try:
            return list(self.db.execute(" ".join(q), args))
        except sqlite3.OperationalError as e:
            raise UserError(f"bad search '{text}': {e}") from None

    def save_notes(self, notes: list[dict[str, Any]]) -> int:
        """Supervisors' notes from the team server (newest text wins); return how many are new or changed."""
        changed = 0
        with self.tx():
            for n in notes:
                cur = self.db.execute(
                    "INSERT INTO notes VALUES (?,?,?,?,?,?,?) ON CONFLICT(segment_id) DO UPDATE SET note=excluded.note, "
                    "reviewer=excluded.reviewer, reviewed_at=excluded.reviewed_at WHERE note IS NOT excluded.note",
                    (n["segment_id"], n["call_id"], n.get("t0"), n.get("t1"), n["note"], n.get("reviewer"), n.get("reviewed_at")))
                changed += cur.rowcount
        return changed

    def notes(self, call_id: str | None) -> list[sqlite3.Row]:
        if not call_id:
            return []
        return list(self.db.execute("SELECT * FROM notes WHERE call_id=? ORDER BY t0", (call_id,)))

    def scorecard(self, sid: int, schema: str) -> dict[str, Any] | None:
        """The session's scorecard as computed before, if by these definitions (`schema`)."""
        row = self.db.execute("SELECT card FROM scorecards WHERE session_id=? AND schema=?", (sid, schema)).fetchone()
        return json.loads(row[0]) if row else None

    def save_scorecard(self, sid: int, card: dict[str, Any]) -> None:
        """Keep a session's scorecard (it quotes the session's words: deleted with it)."""
        self.db.execute("INSERT OR REPLACE INTO scorecards(session_id, schema, card) SELECT id, ?, ? FROM sessions WHERE id=?",
                        (card["schema"], json.dumps(card), sid))

    def get(self, sid: int) -> dict[str, Any]:
        row = self.db.execute("SELECT * FROM sessions WHERE id=?", (sid,)).fetchone()
        if row is None:
            raise UserError(f"no session {sid}; `coach sessions list` shows them")
        doc = json.loads(row["doc"])
        doc["session"] = {"id": row["id"], "started": row["started"], "mode": row["mode"], "audio": row["audio"]}
        return doc


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        joined = "\n".join(buf).strip()
        if joined.endswith(";") and (not joined.upper().startswith("CREATE TRIGGER") or joined.upper().endswith("END;")):
            out.append(joined)
            buf = []
    return out


def _fts_query(text: str) -> str:
    """User words as an FTS5 phrase-prefix query: quotes escaped, each word a prefix."""
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"*' for w in words) if words else '""'


def open_store(s: Settings, data: Path) -> Store:
    """The session store, with retention applied: old sessions are deleted for real."""
    store = Store(paths.store_path(data))
    store.apply_retention(s.store.retention_days)
    return store
