"""The replay window (pytest-qt, offscreen) on a real session store with real audio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from coach.app import compose as app
from coach.store.db import Store
from coach.ui.replay import Playback, ReplayWindow


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def stored(rendered: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("replay-data")
    for name in ("d1_refund_escalation", "d3_friendly_call"):
        app.analyze(str(rendered / f"{name}.wav"), str(data / f"{name}.json"), app.Options(data_dir=str(data)), False, save=True)
    return data


@pytest.fixture
def window(qtbot, stored: Path, tmp_path: Path):
    store = Store(stored / "sessions.db")
    clock = Clock()
    w = ReplayWindow(store, tmp_path / "exports", clock=clock, sound=False)
    qtbot.addWidget(w)
    w.show()
    yield w, clock
    store.close()


def select(w: ReplayWindow, name: str) -> None:
    for i in range(w.sessions.count()):
        if name in w.sessions.item(i).text():
            w.sessions.setCurrentRow(i)
            return
    raise AssertionError(name)


def test_list_search_and_filters(window):
    w, _ = window
    assert w.sessions.count() == 2
    w.flagged.setChecked(True)
    assert w.sessions.count() == 1 and "d1_refund" in w.sessions.item(0).text()
    w.flagged.setChecked(False)
    w.search.setText("delivery addr")  # prefix words, as typed
    assert w.sessions.count() == 1 and "d3_friendly" in w.sessions.item(0).text()
    w.search.setText("")
    w.cue.setCurrentIndex(w.cue.findData("customer_escalating"))
    assert w.sessions.count() == 1
    w.cue.setCurrentIndex(0)
    w.since.setCurrentIndex(w.since.findData(1))  # today: both were stored just now
    assert w.sessions.count() == 2
    w.store.db.execute("UPDATE sessions SET started='2020-01-01T09:00:00' WHERE source LIKE '%d3_friendly%'")
    w.since.setCurrentIndex(w.since.findData(7))
    assert w.sessions.count() == 1 and "d1_refund" in w.sessions.item(0).text()
    w.store.db.execute("UPDATE sessions SET started=datetime('now', 'localtime') WHERE source LIKE '%d3_friendly%'")


def test_a_supervisors_note_shows_in_the_session_list(window):
    w, _ = window
    w.store.db.execute("UPDATE sessions SET call_id='call-1' WHERE source LIKE '%d1_refund%'")
    w.store.save_notes([{"segment_id": "call-1:0", "call_id": "call-1", "t0": 20.0, "t1": 50.0, "note": "Well recovered.",
                         "reviewer": "sue"}])
    w.refresh_list()
    texts = [w.sessions.item(i).text() for i in range(w.sessions.count())]
    assert [t for t in texts if "note from sue: Well recovered." in t] == [t for t in texts if "d1_refund" in t]


def test_select_jump_to_flag_and_transcript_follows_playback(window):
    w, clock = window
    select(w, "d1_refund")
    doc = w.doc
    assert w.transcript.count() == len(doc["utterances"])
    w.jump_flag(+1)
    flag = doc["flags"][0]
    assert w.playback.position() == pytest.approx(flag["start"])
    row = w.transcript.currentRow()
    assert doc["utterances"][row]["start"] <= flag["start"]
    w.toggle_play()
    clock.t += 12.0  # 12 s of playback at 1x
    w.tick()
    t = w.playback.position()
    assert t == pytest.approx(flag["start"] + 12.0)
    current = doc["utterances"][w.transcript.currentRow()]
    assert current["start"] <= t and (w.transcript.currentRow() == len(doc["utterances"]) - 1
                                      or doc["utterances"][w.transcript.currentRow() + 1]["start"] > t)
    w.speed.setCurrentIndex(w.speed.findData(2.0))
    clock.t += 1.0
    assert w.playback.position() == pytest.approx(t + 2.0)
    w.toggle_play()
    w.jump_flag(-1)
    assert w.playback.position() == pytest.approx(flag["start"])


def test_timeline_click_seeks(window, qtbot):
    w, _ = window
    select(w, "d3_friendly")
    from PySide6.QtCore import QPoint, Qt

    qtbot.mouseClick(w.timeline, Qt.LeftButton, pos=QPoint(60 + (w.timeline.width() - 70) // 2, 40))
    assert w.playback.position() == pytest.approx(w.doc["source"]["duration_s"] / 2, rel=0.05)


def test_export_segment_and_html_report(window, tmp_path: Path):
    w, _ = window
    select(w, "d1_refund")
    w.jump_flag(+1)
    out = w.export_current(tmp_path / "seg")
    flag = w.doc["flags"][0]
    clip, sr = sf.read(out / "clip.wav")
    assert len(clip) / sr == pytest.approx(flag["end"] - flag["start"], abs=0.05)
    seg = json.loads((out / "segment.json").read_text())
    assert any(c["id"] == "customer_escalating" for c in seg["cues"])
    assert all(u["end"] > flag["start"] and u["start"] < flag["end"] for u in seg["utterances"])
    page = w.report(tmp_path / "r.html").read_text()
    assert "<svg" in page and "customer escalating" in page and "unacceptable" in page.lower()


def test_missing_audio_is_said_not_fatal(window, stored: Path, tmp_path: Path, rendered: Path):
    w, _ = window
    select(w, "d3_friendly")
    w.doc["source"]["path"] = str(tmp_path / "gone.wav")
    w.doc["session"]["audio"] = str(tmp_path / "gone.wav")
    assert w.export_current(tmp_path / "x") is None
    assert "missing" in w.status.text()


def test_playback_clock():
    c = Clock()
    p = Playback(100.0, c)
    p.play()
    c.t = 10
    assert p.position() == 10
    p.set_speed(1.5)
    c.t = 20
    assert p.position() == pytest.approx(25)
    p.pause()
    c.t = 30
    assert p.position() == pytest.approx(25)
    p.seek(500)
    assert p.position() == 100.0
