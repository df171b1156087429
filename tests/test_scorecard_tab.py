"""The agent's own scorecard: the replay window's "My scorecard" tab (pytest-qt, offscreen) over a real
session store holding the scripted session of tests/test_scorecard.py (empathy 5 of 7 there)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from coach.session.scorecard import SCHEMA, SKILLS
from coach.store.db import Store
from coach.ui.replay import ReplayWindow, ScorecardTab
from tests.test_scorecard import DOC


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "sessions.db")
    doc = {**copy.deepcopy(DOC), "model": {"name": "tiny.en"}}
    s.recent = s.save(doc, "live", started=datetime.now() - timedelta(days=1))  # type: ignore[attr-defined]
    s.older = s.save(copy.deepcopy(doc), "live", started=datetime.now() - timedelta(days=20))  # type: ignore[attr-defined]
    yield s
    s.close()


def row_of(tab: ScorecardTab, skill: str) -> int:
    return [s.id for s in SKILLS].index(skill)


def test_the_agent_reads_their_scorecard_and_replays_a_moment(qtbot, store, tmp_path):
    w = ReplayWindow(store, tmp_path / "exports", sound=False)
    qtbot.addWidget(w)
    w.show()
    tab = w.scorecard
    w.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: not tab.busy(), timeout=30_000)  # computed off the GUI thread, one call at a time
    empathy = row_of(tab, "empathy")
    assert tab.table.item(empathy, 1).text() == "5 of 7 (71%)"  # the last 7 days: one call
    assert "1 call" in tab.status.text()
    assert tab.table.item(row_of(tab, "resolution"), 0).text().endswith("⚠")  # an unreliable cue, said on the card
    tab.period.setCurrentIndex(tab.period.findData(30))
    qtbot.waitUntil(lambda: not tab.busy(), timeout=30_000)
    assert tab.table.item(empathy, 1).text() == "10 of 14 (71%)"

    # the moments of a skill, newest call first; a double-click replays one from just before it
    tab.table.selectRow(empathy)
    texts = [tab.moments.item(i).text() for i in range(tab.moments.count())]
    assert len(texts) == 16 and texts[0].startswith(f"#{store.recent}") and texts[-1].startswith(f"#{store.older}")
    missed = next(i for i, t in enumerate(texts) if "missed" in t and "01:26" in t)
    assert "held back (cooldown)" in texts[missed]  # the reason, on the agent's own PC
    item = tab.moments.item(missed)
    tab.moments.itemActivated.emit(item)
    assert w.tabs.currentIndex() == 0 and w.sid == store.recent
    assert w.playback is not None and w.playback.position() == pytest.approx(86.0 - 2.0)
    tab.table.selectRow(row_of(tab, "dead_air"))
    assert tab.moments.count() == 6 and tab.note.text() == ""

    # each card is kept with its session: read back without computing, gone with the session
    assert store.scorecard(store.recent, SCHEMA)["skills"][0]["k"] == 5

    def never(doc: dict) -> dict:
        raise AssertionError("computed again")

    again = ScorecardTab(store, compute=never)
    qtbot.addWidget(again)
    assert not again.busy() and again.table.item(empathy, 1).text() == "5 of 7 (71%)"
    store.delete(store.recent)
    assert store.db.execute("SELECT count(*) FROM scorecards WHERE session_id=?", (store.recent,)).fetchone()[0] == 0
