"""The supervisor's replay window: find a session, see its timeline, play it with the
transcript following along, jump between flagged moments, export a segment or a report.
Its second tab is the agent's own skill scorecard over their stored calls, each moment a
double-click away from playing (docs/scorecards.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPolygon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coach.analysis.catalog import CATALOG
from coach.core.errors import UserError
from coach.session.exports import COLORS, audio_array, export_segment, html_report
from coach.session.scorecard import SCHEMA, SKILLS, combine, scorecard, shown
from coach.store.db import Store


class Playback:
    """The play position, by the wall clock times the speed; sound through sounddevice when
    an output device exists (the window works the same without one)."""

    def __init__(self, duration: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.duration, self.clock = duration, clock
        self.speed = 1.0
        self._pos, self._since = 0.0, None  # position when last started, wall time it started
        self.audio: tuple[Any, int] | None = None

    @property
    def playing(self) -> bool:
        return self._since is not None

    def position(self) -> float:
        if self._since is None:
            return self._pos
        return min(self.duration, self._pos + (self.clock() - self._since) * self.speed)

    def play(self) -> None:
        if not self.playing:
            self._since = self.clock()
            self._sound()

    def pause(self) -> None:
        self._pos, self._since = self.position(), None
        self._silence()

    def seek(self, t: float) -> None:
        self._pos = max(0.0, min(self.duration, t))
        if self.playing:
            self._since = self.clock()
            self._sound()

    def set_speed(self, speed: float) -> None:
        self._pos = self.position()
        if self.playing:
            self._since = self.clock()
        self.speed = speed
        if self.playing:
            self._sound()

    def _sound(self) -> None:
        if self.audio is None:
            return
        try:
            import sounddevice as sd

            data, rate = self.audio
            sd.play(data[int(self._pos * rate):], int(rate * self.speed))  # speed changes pitch too: a review aid
        except Exception:  # noqa: BLE001 - no output device: the replay still runs silently
            self.audio = None

    def _silence(self) -> None:
        if self.audio is not None:
            try:
                import sounddevice as sd

                sd.stop()
            except Exception:  # noqa: BLE001
                pass


class Timeline(QWidget):
    """Speech of both speakers, the customer's mood, cue markers, flagged regions, playhead."""

    seek = Signal(float)

    def __init__(self) -> None:
        super().__init__()
        self.doc: dict[str, Any] | None = None
        self.position = 0.0
        self.setMinimumHeight(185)

    def _x(self, t: float) -> int:
        dur = max(self.doc["source"]["duration_s"], 1.0) if self.doc else 1.0
        return int(60 + (self.width() - 70) * t / dur)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if self.doc is None:
            p.end()
            return
        h = self.height()
        p.setPen(Qt.NoPen)
        for f in self.doc["flags"]:
            p.fillRect(QRect(self._x(f["start"]), 0, self._x(f["end"]) - self._x(f["start"]), h), QColor("#f6e3b4"))
        p.setPen(QColor("#555"))
        p.drawText(4, 30, "agent")
        p.drawText(4, 60, "customer")
        p.drawText(4, 100, "mood")
        p.drawText(4, 146, "pace")
        for u in self.doc["utterances"]:
            y = 18 if u["speaker"] == "agent" else 48
            color = QColor("#3d8fe8" if u["speaker"] == "agent" else "#8957e5")
            p.fillRect(QRect(self._x(u["start"]), y, max(1, self._x(u["end"]) - self._x(u["start"])), 16), color)
        p.setPen(QColor("#8957e5"))
        pts = [(self._x((u["start"] + u["end"]) / 2), int(96 - 24 * u["sentiment"])) for u in self.doc["utterances"]
               if u["speaker"] == "customer" and u.get("sentiment") is not None]
        for (x1, y1), (x2, y2) in zip(pts, pts[1:]):
            p.drawLine(x1, y1, x2, y2)
        # the agent's pace: dots on a 100-300 wpm scale over the speech row, orange when fast
        for u in self.doc["utterances"]:
            if u["speaker"] == "agent" and u.get("wpm") and len(u.get("words") or []) >= 4:
                fast = u["wpm"] > 230
                p.setPen(QColor("#e8a33d" if fast else "#3d8fe8"))
                y = int(150 - 9 * (min(300, max(100, u["wpm"])) - 100) / 100)
                x = self._x((u["start"] + u["end"]) / 2)
                p.fillRect(QRect(x - 4, y - 2, 8, 4), QColor("#e8a33d" if fast else "#3d8fe8"))
        for c in self.doc["cues"]:
            x = self._x(c["t"])
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(COLORS[c["severity"]]))
            p.drawPolygon(QPolygon([QPoint(x - 6, h - 4), QPoint(x + 6, h - 4), QPoint(x, h - 16)]))
            p.setPen(QColor(COLORS[c["severity"]]))
            p.drawText(x + 8, h - 5, c["label"])
        p.setPen(QColor("#d64541"))
        px = self._x(self.position)
        p.drawLine(px, 0, px, h)
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.doc is not None:
            dur = self.doc["source"]["duration_s"]
            t = (event.position().x() - 60) / max(1, self.width() - 70) * dur
            self.seek.emit(max(0.0, min(dur, t)))


class ScorecardTab(QWidget):
    """The agent's own skill scorecard over their stored calls of a period: each skill's rate with its
    denominator and, for the chosen skill, its moments; a double-click replays one. Coaching an agent
    can do alone. Each call's card is computed once, off the GUI thread, and kept in the store."""

    open_moment = Signal(int, float)  # session id, stream time

    def __init__(self, store: Store, compute: Callable[[dict[str, Any]], dict[str, Any]] = scorecard) -> None:
        super().__init__()
        self.store, self.compute = store, compute
        self.period = QComboBox()
        for label, days in (("last 7 days", 7), ("last 30 days", 30), ("any date", 0)):
            self.period.addItem(label, days)
        self.table = QTableWidget(len(SKILLS), 3)
        self.table.setHorizontalHeaderLabels(["skill", "you", "what counts"])
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.moments = QListWidget()
        self.moments.setWordWrap(True)
        self.note = QLabel(wordWrap=True)
        self.status = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel("Your skills over"))
        top.addWidget(self.period)
        top.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table)
        lay.addWidget(self.note)
        lay.addWidget(QLabel("Moments (double-click to replay one):"))
        lay.addWidget(self.moments, 1)
        self.cards: dict[int, dict[str, Any]] = {}
        self.sessions: list[tuple[int, str]] = []  # (id, started), newest first
        self._pending: list[int] = []
        self._job: tuple[int, Future[dict[str, Any]]] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scorecard")
        self.period.currentIndexChanged.connect(self.refresh)
        self.table.currentCellChanged.connect(lambda *_: self.show_moments())
        self.moments.itemActivated.connect(lambda item: self.open_moment.emit(*item.data(Qt.UserRole)))
        self.refresh()
        self.table.selectRow(0)

    def refresh(self) -> None:
        """The sessions of the period; cards kept in the store are read now, the others computed in step()."""
        days = self.period.currentData()
        since = (datetime.now() - timedelta(days=days - 1)).date().isoformat() if days else None
        self.sessions = [(r["id"], r["started"]) for r in self.store.list(since=since)]
        for sid, _ in self.sessions:
            if sid not in self.cards and (card := self.store.scorecard(sid, SCHEMA)) is not None:
                self.cards[sid] = card
        self._pending = [sid for sid, _ in self.sessions if sid not in self.cards]
        self.show_card()

    def step(self) -> None:
        """Called by the window's timer: collect a computed card, start the next."""
        if self._job is not None and self._job[1].done():
            sid, future = self._job
            self._job = None
            try:
                self.cards[sid] = future.result()
                self.store.save_scorecard(sid, self.cards[sid])
            except Exception as e:  # noqa: BLE001 - one odd session must not stop the rest
                self.status.setText(f"session {sid}: no scorecard ({e})")
            self.show_card()
        if self._job is None and self._pending:
            sid = self._pending.pop(0)
            self._job = (sid, self._pool.submit(self.compute, self.store.get(sid)))

    def busy(self) -> bool:
        return self._job is not None or bool(self._pending)

    def show_card(self) -> None:
        done = [self.cards[sid] for sid, _ in self.sessions if sid in self.cards]
        totals = combine(done)
        for row, s in enumerate(SKILLS):
            name = QTableWidgetItem(s.label + (" ⚠" if s.reliability else ""))
            if s.reliability:
                name.setToolTip(s.reliability)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(shown(s.id, totals[s.id]["n"], totals[s.id]["k"])))
            self.table.setItem(row, 2, QTableWidgetItem(f"{s.k_means}, of {s.n_means}"))
        self.table.resizeColumnsToContents()
        self.table.setMinimumHeight(self.table.horizontalHeader().height() + sum(self.table.rowHeight(r) for r in range(len(SKILLS))) + 4)
        left = len(self.sessions) - len(done)
        self.status.setText(f"{len(done)} call{'s' if len(done) != 1 else ''}" + (f" · working out {left} more…" if left else ""))
        self.show_moments()

    def show_moments(self) -> None:
        row = max(0, self.table.currentRow())
        skill = SKILLS[row]
        self.note.setText(f"⚠ {skill.reliability}" if skill.reliability else "")
        self.moments.clear()
        colours = {"taken": "#2e7d3e", "missed": "#b3261e"}
        for sid, started in self.sessions:
            card = self.cards.get(sid)
            sk = next((x for x in (card or {}).get("skills", []) if x["id"] == skill.id), None)
            for m in (sk or {}).get("moments", []):
                t = m["t"]
                flagged = " (flagged)" if m.get("segment") is not None else ""
                item = QListWidgetItem(f"#{sid}  {started[:16].replace('T', ' ')}  {int(t // 60):02d}:{int(t % 60):02d}{flagged}  "
                                       f"{m['status']}: {m['why']}")
                item.setData(Qt.UserRole, (sid, t))
                if m["status"] in colours:
                    item.setForeground(QColor(colours[m["status"]]))
                self.moments.addItem(item)


class ReplayWindow(QWidget):
    def __init__(self, store: Store, out_dir: Path, clock: Callable[[], float] = time.monotonic, sound: bool = True,
                 swap_voices: Callable[[int], int] | None = None) -> None:
        """`swap_voices(session id) -> new session id`: analyse a separated mono call again with
        the other voice as the agent (the trainer's "this is the agent")."""
        super().__init__()
        self.swap_voices = swap_voices
        self.sid: int | None = None
        self._swapping: Future[int] | None = None
        self.setWindowTitle("Call Coach — replay")
        self.store, self.out_dir, self.clock, self.sound = store, out_dir, clock, sound
        self.doc: dict[str, Any] | None = None
        self.playback: Playback | None = None
        self.search = QLineEdit(placeholderText="search what was said…")
        self.flagged = QCheckBox("flagged only")
        self.since = QComboBox()
        for label, days in (("any date", 0), ("today", 1), ("last 7 days", 7), ("last 30 days", 30)):
            self.since.addItem(label, days)
        self.cue = QComboBox()
        self.cue.addItem("any cue", "")
        for cue_id, spec in CATALOG.items():
            self.cue.addItem(spec.label, cue_id)
        self.sessions = QListWidget()
        self.timeline = Timeline()
        self.transcript = QListWidget()
        for lst in (self.sessions, self.transcript):  # long lines wrap: no sideways scrolling to read a turn
            lst.setWordWrap(True)
            lst.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.play_btn = QPushButton("Play")
        self.speed = QComboBox()
        for s in ("0.5x", "1x", "1.5x", "2x"):
            self.speed.addItem(s, float(s[:-1]))
        self.speed.setCurrentIndex(1)
        self.prev_flag, self.next_flag = QPushButton("◀ flag"), QPushButton("flag ▶")
        self.export_btn, self.report_btn = QPushButton("Export segment"), QPushButton("HTML report")
        self.status = QLabel()

        left = QVBoxLayout()
        for w in (self.search, self.flagged, self.since, self.cue, self.sessions):
            left.addWidget(w)
        controls = QHBoxLayout()
        for w in (self.play_btn, self.speed, self.prev_flag, self.next_flag, self.export_btn, self.report_btn):
            controls.addWidget(w)
        right = QVBoxLayout()
        right.addWidget(self.timeline)
        right.addLayout(controls)
        right.addWidget(self.transcript, 1)
        right.addWidget(self.status)
        lw, rw = QWidget(), QWidget()
        lw.setLayout(left)
        rw.setLayout(right)
        split = QSplitter()
        split.addWidget(lw)
        split.addWidget(rw)
        split.setSizes([260, 740])
        self.scorecard = ScorecardTab(store)
        self.tabs = QTabWidget()
        self.tabs.addTab(split, "Calls")
        self.tabs.addTab(self.scorecard, "My scorecard")
        root = QVBoxLayout(self)
        root.addWidget(self.tabs)
        self.resize(1100, 620)

        self.search.textChanged.connect(self.refresh_list)
        self.flagged.toggled.connect(self.refresh_list)
        self.cue.currentIndexChanged.connect(self.refresh_list)
        self.since.currentIndexChanged.connect(self.refresh_list)
        self.sessions.currentItemChanged.connect(lambda item, _: item and self.load(item.data(Qt.UserRole)))
        self.timeline.seek.connect(self.seek)
        self.transcript.setContextMenuPolicy(Qt.CustomContextMenu)
        self.transcript.customContextMenuRequested.connect(self._transcript_menu)
        self.play_btn.clicked.connect(self.toggle_play)
        self.speed.currentIndexChanged.connect(lambda _: self.playback and self.playback.set_speed(self.speed.currentData()))
        self.prev_flag.clicked.connect(lambda: self.jump_flag(-1))
        self.next_flag.clicked.connect(lambda: self.jump_flag(+1))
        self.export_btn.clicked.connect(lambda: self.export_current())
        self.report_btn.clicked.connect(lambda: self.report())
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.tick)
        self.scorecard.open_moment.connect(self.open_moment)
        self.tabs.currentChanged.connect(lambda _: self.tabs.currentWidget() is self.scorecard and self.scorecard.refresh())
        self.timer.start()
        self.refresh_list()

    # -- sessions --------------------------------------------------------------------

    def refresh_list(self) -> None:
        self.sessions.clear()
        try:
            days = self.since.currentData()
            since = (datetime.now() - timedelta(days=days - 1)).date().isoformat() if days else None
            rows = self.store.list(flagged=self.flagged.isChecked(), text=self.search.text().strip() or None,
                                   cue=self.cue.currentData() or None, since=since)
        except UserError as e:
            self.status.setText(str(e))
            return
        for r in rows:
            notes = "".join(f"\nnote from {n['reviewer'] or 'your supervisor'}: {n['note']}" for n in self.store.notes(r["call_id"]))
            item = QListWidgetItem(f"#{r['id']}  {r['started'][:16].replace('T', ' ')}  {r['mode']}\n"
                                   f"{Path(r['source'] or '').name} · {r['cues']} cues · {r['flags']} flags{notes}")
            item.setData(Qt.UserRole, r["id"])
            self.sessions.addItem(item)

    def load(self, sid: int) -> None:
        self.sid = sid
        self.doc = self.store.get(sid)
        if self.playback is not None:
            self.playback.pause()
        self.playback = Playback(self.doc["source"]["duration_s"], self.clock)
        if self.sound:
            self.playback.audio = audio_array(self.doc)
        audio_ok = audio_array(self.doc) is not None if not self.sound else self.playback.audio is not None
        self.timeline.doc = self.doc
        self.transcript.clear()
        for u in self.doc["utterances"]:
            who = "agent" if u["speaker"] == "agent" else "customer"
            self.transcript.addItem(f"{u['start']:6.1f}  {who}: {u['text']}")
        self.status.setText(f"session {sid}: {len(self.doc['utterances'])} utterances, {len(self.doc['cues'])} cues"
                            + ("" if audio_ok or not self.sound else " · audio file missing: transcript only"))
        self.tick()

    # -- playback --------------------------------------------------------------------

    def toggle_play(self) -> None:
        if self.playback is None:
            return
        if self.playback.playing:
            self.playback.pause()
            self.play_btn.setText("Play")
        else:
            self.playback.play()
            self.play_btn.setText("Pause")

    def seek(self, t: float) -> None:
        if self.playback is not None:
            self.playback.seek(t)
            self.tick()

    def jump_flag(self, direction: int) -> None:
        if self.doc is None or self.playback is None or not self.doc["flags"]:
            return
        now = self.playback.position()
        starts = sorted(f["start"] for f in self.doc["flags"])
        target = next((s for s in starts if s > now + 0.5), None) if direction > 0 else \
            next((s for s in reversed(starts) if s < now - 0.5), None)
        if target is not None:
            self.seek(target)

    def current_row(self) -> int:
        if self.doc is None or self.playback is None:
            return -1
        t = self.playback.position()
        row = -1
        for i, u in enumerate(self.doc["utterances"]):
            if u["start"] <= t:
                row = i
        return row

    # -- a mono call's voices: the trainer says which one is the agent -------------------

    def can_swap(self, row: int) -> bool:
        return (self.swap_voices is not None and self.doc is not None and self._swapping is None
                and bool(self.doc["source"].get("voices")) and 0 <= row < len(self.doc["utterances"])
                and self.doc["utterances"][row]["speaker"] == "customer")

    def _transcript_menu(self, pos: QPoint) -> None:
        row = self.transcript.indexAt(pos).row()
        if not self.can_swap(row):
            return
        menu = QMenu(self)
        act = menu.addAction("This is the agent")
        if menu.exec(self.transcript.mapToGlobal(pos)) is act:
            self.mark_agent(row)

    def mark_agent(self, row: int) -> None:
        """The line's voice is the agent: the call is analysed again that way, in the background."""
        if not self.can_swap(row) or self.sid is None:
            return
        self.status.setText("analysing the call again with that voice as the agent…")
        pool = ThreadPoolExecutor(max_workers=1)
        self._swapping = pool.submit(self.swap_voices, self.sid)  # type: ignore[arg-type]
        pool.shutdown(wait=False)

    def _swap_done(self) -> None:
        assert self._swapping is not None
        future, self._swapping = self._swapping, None
        try:
            new = future.result()
        except UserError as e:
            self.status.setText(str(e))
            return
        self.refresh_list()
        for i in range(self.sessions.count()):
            if self.sessions.item(i).data(Qt.UserRole) == new:
                self.sessions.setCurrentRow(i)
        self.status.setText(self.status.text() + " · voices swapped: analysed again with the other voice as the agent")

    def open_moment(self, sid: int, t: float) -> None:
        """A scorecard moment: its call on the Calls tab, from a couple of seconds before it."""
        self.tabs.setCurrentIndex(0)
        for i in range(self.sessions.count()):
            if self.sessions.item(i).data(Qt.UserRole) == sid:
                self.sessions.setCurrentRow(i)  # loads it
                break
        if self.sid != sid:  # filtered out of the list
            self.load(sid)
        self.seek(max(0.0, t - 2.0))

    def tick(self) -> None:
        if self.scorecard.busy() and self.tabs.currentWidget() is self.scorecard:  # no work for a tab nobody opened
            self.scorecard.step()
        if self._swapping is not None and self._swapping.done():
            self._swap_done()
        if self.playback is None:
            return
        self.timeline.position = self.playback.position()
        self.timeline.update()
        row = self.current_row()
        if row >= 0 and row != self.transcript.currentRow():
            self.transcript.setCurrentRow(row)  # the transcript follows playback

    # -- exports ---------------------------------------------------------------------

    def export_current(self, out: Path | None = None) -> Path | None:
        """The flagged segment around the play position (or 30 s around it) as clip + JSON."""
        if self.doc is None or self.playback is None:
            return None
        t = self.playback.position()
        flag = next((f for f in self.doc["flags"] if f["start"] <= t <= f["end"]), None)
        start, end = (flag["start"], flag["end"]) if flag else (max(0.0, t - 15), min(self.doc["source"]["duration_s"], t + 15))
        target = out or self.out_dir / f"session-{self.doc['session']['id']}-{start:.0f}s"
        try:
            export_segment(self.doc, start, end, target)
        except UserError as e:
            self.status.setText(str(e))
            return None
        self.status.setText(f"exported {end - start:.0f} s to {target}")
        return target

    def report(self, out: Path | None = None) -> Path | None:
        if self.doc is None:
            return None
        if out is None and not self.out_dir.exists():
            self.out_dir.mkdir(parents=True)
        target = out or Path(QFileDialog.getSaveFileName(self, "Save report", str(self.out_dir / "report.html"))[0] or "")
        if not str(target):
            return None
        html_report(self.doc, target)
        self.status.setText(f"report saved to {target}")
        return target
