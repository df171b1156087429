"""The session store on real SQLite files."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_cli import coach

from coach.core.errors import UserError
from coach.store.db import Store


def doc(secret: str = "my postcode is zebra crossing", cue: str = "customer_escalating", flagged: bool = True) -> dict:
    return {
        "schema": "coach.analysis/1", "source": {"path": "/calls/a.wav", "duration_s": 60.0, "channels": 2, "sample_rate": 16000},
        "model": {"name": "tiny.en", "compute_type": "int8"},
        "utterances": [{"speaker": "customer", "start": 1.0, "end": 3.0, "text": secret, "words": [], "sentiment": -0.2, "wpm": 150.0},
                       {"speaker": "agent", "start": 4.0, "end": 5.0, "text": "thanks for waiting", "words": [], "sentiment": None,
                        "wpm": 140.0}],
        "cues": [{"id": cue, "label": "x", "t": 3.5, "speaker": "customer", "severity": "alert", "skill": "s", "tip": "t",
                  "reason": "r", "latency_s": 0.5}],
        "flags": [{"start": 0.0, "end": 20.0, "reason": cue, "by": "rule", "note": ""}] if flagged else [],
        "metrics": {}, "timing": {},
    }


def test_save_list_search_filter_export(tmp_path: Path):
    st = Store(tmp_path / "s.db")
    a = st.save(doc("the router lights are orange"), "live", started=datetime(2026, 11, 1, 9))
    b = st.save(doc("my parcel never arrived", cue="slow_down", flagged=False), "demo", started=datetime(2026, 11, 2, 9))
    assert [r["id"] for r in st.list()] == [b, a]  # newest first
    assert [r["id"] for r in st.list(text="router")] == [a]
    assert [r["id"] for r in st.list(text="parc")] == [b]  # prefix search
    assert [r["id"] for r in st.list(flagged=True)] == [a]
    assert [r["id"] for r in st.list(cue="slow_down")] == [b]
    assert [r["id"] for r in st.list(since="2026-11-02")] == [b]
    assert st.list(text='"unbalanced') == []  # user quotes are escaped, not an FTS syntax error
    got = st.get(a)
    assert got["utterances"][0]["text"] == "the router lights are orange" and got["session"]["mode"] == "live"
    with pytest.raises(UserError, match="no session 99"):
        st.get(99)
    assert st.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_delete_and_retention_leave_no_text_on_disk(tmp_path: Path):
    path = tmp_path / "s.db"
    st = Store(path)
    audio = tmp_path / "old.wav"
    audio.write_bytes(b"RIFF....")
    old = st.save(doc("supercalifragilistic secret words"), "live", audio=str(audio), started=datetime.now() - timedelta(days=100))
    keep = st.save(doc("recent and fine"), "live", started=datetime.now())
    assert st.apply_retention(90) == 1
    assert [r["id"] for r in st.list()] == [keep]
    assert not audio.exists()
    assert st.list(text="supercalifragilistic") == []
    st.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert b"supercalifragilistic" not in raw  # gone from the file, the WAL and the FTS index
    assert b"recent and fine" in raw
    st = Store(path)
    assert st.delete(keep) and not st.delete(keep)
    st.close()
    assert b"recent and fine" not in b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert old != keep


def test_schema_version_damage_and_newer_store(tmp_path: Path):
    st = Store(tmp_path / "s.db")
    assert st.db.execute("PRAGMA user_version").fetchone()[0] == 3  # v3: scorecards kept with their sessions
    st.close()
    Store(tmp_path / "s.db").close()  # reopening an up-to-date store migrates nothing
    newer = tmp_path / "newer.db"
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version=99")
    con.close()
    with pytest.raises(UserError, match="newer Call Coach"):
        Store(newer)
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserError, match="damaged"):
        Store(broken)


def test_sessions_from_the_command_line(tmp_path: Path, rendered: Path):
    r = coach("analyze", str(rendered / "d1_refund_escalation.wav"), "--json", str(tmp_path / "a.json"), "--save", "--quiet",
              data_dir=tmp_path)
    assert r.returncode == 0 and "saved as session 1" in r.stderr
    r = coach("demo", str(rendered / "d3_friendly_call.wav"), "--speed", "8", "--headless", data_dir=tmp_path)
    assert r.returncode == 0 and "session 2" in r.stdout
    listing = coach("sessions", "list", data_dir=tmp_path).stdout
    assert "analyze" in listing and "demo" in listing
    assert coach("sessions", "list", "--flagged", data_dir=tmp_path).stdout.count("\n") == 1
    assert "d1_refund" in coach("sessions", "list", "--search", "unacceptable", data_dir=tmp_path).stdout
    shown = coach("sessions", "show", "1", data_dir=tmp_path).stdout
    assert "CUSTOMER ESCALATING" in shown and "flagged" in shown
    exported = json.loads(coach("sessions", "export", "1", data_dir=tmp_path).stdout)
    assert exported["schema"] == "coach.analysis/1" and exported["session"]["id"] == 1
    assert coach("sessions", "delete", "1", data_dir=tmp_path).returncode == 0
    r = coach("sessions", "show", "1", data_dir=tmp_path)
    assert r.returncode == 2 and r.stderr.strip().startswith("coach: error: no session 1")


def bytes_of_store(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.glob("sessions.db*") if p.is_file())


def test_delete_removes_the_session_folder_and_finishes_after_a_reader_lets_go(tmp_path: Path):
    """`sessions delete` while the replay window holds the store open: the text leaves the
    database and its WAL once the reader lets go (at the latest, when the next store opens)."""
    folder = tmp_path / "sessions" / "20261125-090000"
    folder.mkdir(parents=True)
    (folder / "audio.wav").write_bytes(b"RIFF....")
    (folder / "session.json").write_text(json.dumps(doc("xylophonic postcode words")))
    st = Store(tmp_path / "sessions.db")
    sid = st.save(doc("xylophonic postcode words"), "live", audio=str(folder / "audio.wav"))
    reader = sqlite3.connect(tmp_path / "sessions.db", isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM utterances").fetchone()[0] == 2  # a snapshot held open
    assert st.delete(sid)
    assert not folder.exists()  # the recording and the session.json with the transcript
    assert st.purge_pending and b"xylophonic" in bytes_of_store(tmp_path)  # the WAL cannot be folded yet
    st.close()
    reader.execute("COMMIT")
    reader.close()
    Store(tmp_path / "sessions.db").close()  # the next command finishes the purge
    assert b"xylophonic" not in bytes_of_store(tmp_path)
    assert not (tmp_path / "sessions.db.purge-pending").exists()


def test_sessions_left_by_a_crash_are_registered_or_removed(tmp_path: Path):
    root = tmp_path / "sessions"
    saved = root / "20261125-100000"  # killed after a snapshot: redacted text exists
    saved.mkdir(parents=True)
    (saved / "audio.wav").write_bytes(b"RIFF....")
    (saved / "session.json").write_text(json.dumps(doc("the boiler makes a noise")))
    early = root / "20261125-110000"  # killed before the first snapshot
    early.mkdir()
    (early / "audio.wav").write_bytes(b"RIFF....")
    st = Store(tmp_path / "sessions.db")
    adopted = dict(st.adopt_orphans())
    assert adopted[early] is None and not early.exists()
    sid = adopted[saved]
    assert sid is not None and st.get(sid)["session"]["started"] == "2026-11-25T10:00:00"
    assert [r["id"] for r in st.list(text="boiler")] == [sid]
    assert st.adopt_orphans() == []  # once


def test_a_version_1_store_upgrades_keeping_its_sessions_and_notes_go_with_their_session(tmp_path: Path):
    from coach.store.db import MIGRATIONS

    old = tmp_path / "v1.db"
    con = sqlite3.connect(old)
    con.executescript(MIGRATIONS[0])
    con.execute("INSERT INTO sessions(started, mode, source, duration_s, model, doc) VALUES ('2026-01-01T10:00:00', 'demo', 'a.wav', "
                "10, 'tiny.en', '{}')")
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    st = Store(old)
    assert [r["id"] for r in st.list()] == [1] and st.list()[0]["call_id"] is None
    doc = {"source": {"path": "b.wav", "duration_s": 5.0}, "model": {"name": "tiny.en"}, "utterances": [], "cues": [], "flags": [],
           "call_id": "c-1"}
    sid = st.save(doc, "demo")
    assert st.save_notes([{"segment_id": "c-1:0", "call_id": "c-1", "t0": 1.0, "t1": 4.0, "note": "well calmed", "reviewer": "sue"}]) == 1
    assert st.save_notes([{"segment_id": "c-1:0", "call_id": "c-1", "t0": 1.0, "t1": 4.0, "note": "well calmed", "reviewer": "sue"}]) == 0
    assert [n["note"] for n in st.notes("c-1")] == ["well calmed"]
    st.delete(sid)
    assert st.notes("c-1") == []
    st.close()
    assert b"well calmed" not in b"".join(p.read_bytes() for p in tmp_path.glob("v1.db*"))
