"""The overlay: a small, calm, always-on-top window beside the softphone.

It redraws from a LiveState snapshot on a 30 Hz timer and never waits on audio or the
model. One cue at a time: label, one-line tip, colour and icon by severity (never colour
alone), shown for `visible_s`, then faded out. Under it, at-a-glance meters: the agent's
pace against the target band, the customer's mood with its trend, talk share, health.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QKeySequence, QMouseEvent, QPainter, QPaintEvent, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from coach.analysis.catalog import SEVERITY_COLOURS, SEVERITY_ICONS
from coach.session.live_state import LiveState, Snapshot

# colour, icon, word per severity, from the cue registry: the icon and word carry the meaning for colour-blind users
SEVERITY = {sev: (colour, *SEVERITY_ICONS[sev]) for sev, colour in SEVERITY_COLOURS.items()}
FADE_S = 0.8
SNAP_PX = 24


def cue_opacity(age_s: float, visible_s: float) -> float:
    """1 while the cue is fresh, then a linear fade to 0 over FADE_S."""
    if age_s < visible_s:
        return 1.0
    return max(0.0, 1.0 - (age_s - visible_s) / FADE_S)


class Meter(QWidget):
    """A thin horizontal bar: a value in [0, 1], an optional band, a caption beside it."""

    def __init__(self, caption: str) -> None:
        super().__init__()
        self.caption = caption
        self.value: float | None = None
        self.band: tuple[float, float] | None = None
        self.color = QColor("#9aa5b1")
        self.text = "–"
        self.setMinimumHeight(16)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        w, h = self.width(), self.height()
        cap_w = 64
        p.setPen(QColor("#c9d1d9"))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        p.setFont(small)
        p.drawText(QRect(0, 0, cap_w, h), Qt.AlignVCenter | Qt.AlignLeft, self.caption)
        bar = QRect(cap_w, h // 2 - 3, max(10, w - cap_w - 96), 6)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(255, 255, 255, 40))
        p.drawRoundedRect(bar, 3, 3)
        if self.band:
            lo, hi = self.band
            p.setBrush(QColor(61, 174, 92, 90))
            p.drawRect(QRect(bar.x() + int(lo * bar.width()), bar.y(), int((hi - lo) * bar.width()), bar.height()))
        if self.value is not None:
            x = bar.x() + int(min(1.0, max(0.0, self.value)) * bar.width())
            p.setBrush(self.color)
            # the QRect overload: drawEllipse(QPoint, int, int) leaked a reference to None in
            # PySide6 6.12 and crashed the interpreter after a few thousand frames
            p.drawEllipse(QRect(x - 5, bar.center().y() - 5, 10, 10))
        p.setPen(QColor("#c9d1d9"))
        p.drawText(QRect(bar.right() + 8, 0, 90, h), Qt.AlignVCenter | Qt.AlignLeft, self.text)
        p.end()


class Overlay(QWidget):
    flag_requested = Signal()
    moved = Signal(int, int)

    def __init__(self, state: LiveState, visible_s: float = 6.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(None, Qt.FramelessWindowHint | Qt.WindowStaysOnTopHint | Qt.Tool)
        self.setAttribute(Qt.WA_TranslucentBackground)
        self.setWindowTitle("Call Coach")
        self.state = state
        self.visible_s = visible_s
        self.clock = clock
        self.expanded = False
        self._drag: QPoint | None = None
        self._shown_cue: object = None
        self._shown_wall = 0.0
        self.shown: list[str] = []  # every cue label this overlay displayed, in order
        self.last: Snapshot = state.snapshot()

        self.icon = QLabel()
        self.icon.setFixedWidth(30)
        self.icon.setAlignment(Qt.AlignCenter)
        self.title = QLabel()
        self.tip = QLabel()
        self.tip.setWordWrap(True)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.35)
        big.setBold(True)
        self.title.setFont(big)
        self.pace, self.mood, self.share = Meter("pace"), Meter("customer"), Meter("you talk")
        self.health = QLabel()
        self.lines = QLabel()
        self.lines.setTextFormat(Qt.RichText)
        self.lines.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # long lines must not widen the window
        self.lines.setVisible(False)

        head = QHBoxLayout()
        head.addWidget(self.icon)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.title)
        text.addWidget(self.tip)
        head.addLayout(text, 1)
        root = QVBoxLayout(self)
        root.setContentsMargins(14, 10, 14, 10)
        root.addLayout(head)
        for m in (self.pace, self.mood, self.share):
            root.addWidget(m)
        root.addWidget(self.health)
        root.addWidget(self.lines)
        for lab in (self.title, self.tip, self.health, self.lines):
            lab.setStyleSheet("color: #e6edf3;")
        self.resize(360, 170)

        QShortcut(QKeySequence("Ctrl+Shift+F"), self, activated=self.flag_requested.emit, context=Qt.ApplicationShortcut)
        self.timer = QTimer(self)
        self.timer.setInterval(33)  # 30 Hz from the latest state, not once per audio block
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    # -- drawing ---------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(22, 27, 34, 225))
        p.drawRoundedRect(self.rect(), 12, 12)
        s = self.last
        if s.cue is not None and self.cue_opacity() > 0:
            color = QColor(SEVERITY[s.cue.severity][0])
            color.setAlphaF(self.cue_opacity())
            p.setBrush(color)
            p.drawRoundedRect(QRect(0, 0, 6, self.height()), 3, 3)
        p.end()

    def cue_opacity(self) -> float:
        if self.last.cue is None:
            return 0.0
        return cue_opacity(self.clock() - self._shown_wall, self.visible_s)

    def refresh(self) -> None:
        s = self.state.snapshot()
        self.last = s
        if s.cue is not None and s.cue is not self._shown_cue:
            self._shown_cue, self._shown_wall = s.cue, self.clock()
            self.shown.append(s.cue.label)
        opacity = self.cue_opacity()
        if s.phase == "loading":
            self._head("…", "#9aa5b1", "loading", "getting the speech model ready", 0.8)
        elif s.cue is not None and opacity > 0:
            color, icon, _ = SEVERITY[s.cue.severity]
            self._head(icon, color, s.cue.label, s.cue.tip, opacity)
        else:
            idle = "paused" if s.phase == "paused" else "listening" if s.phase == "listening" else s.phase
            self._head("•", "#6e7681", idle, "cues appear here", 0.55)
        self._meters(s)
        self.update()

    def _head(self, icon: str, color: str, title: str, tip: str, opacity: float) -> None:
        alpha = int(255 * max(0.35, opacity))
        self.icon.setText(icon)
        self.icon.setStyleSheet(f"color: {color}; font-size: 20px; font-weight: bold;")
        self.title.setText(title)
        self.title.setStyleSheet(f"color: rgba(230, 237, 243, {alpha});")
        self.tip.setText(tip)
        self.tip.setStyleSheet(f"color: rgba(201, 209, 217, {alpha});")

    def _meters(self, s: Snapshot) -> None:
        top = max(s.wpm_limit * 1.3, 1.0)
        self.pace.band = (130 / top, s.wpm_limit / top)
        self.pace.value = None if s.agent_wpm is None else s.agent_wpm / top
        fast = s.agent_wpm is not None and s.agent_wpm > s.wpm_limit
        self.pace.color = QColor("#e8a33d" if fast else "#3dae5c")
        self.pace.text = "–" if s.agent_wpm is None else f"{s.agent_wpm:.0f} wpm" + (" fast" if fast else "")
        e = s.escalation
        self.mood.value = None if e is None else min(1.0, e)
        self.mood.color = QColor("#d64541" if (e or 0) >= 0.6 else "#e8a33d" if (e or 0) >= 0.3 else "#3dae5c")
        arrow = {1: "↑ rising", -1: "↓ calming", 0: ""}[s.escalation_trend]
        self.mood.text = "–" if e is None else ("upset " if e >= 0.6 else "tense " if e >= 0.3 else "calm ") + arrow
        self.share.value = s.agent_share
        self.share.band = (0.3, 0.65)
        self.share.text = "–" if s.agent_share is None else f"{s.agent_share:.0%}"
        dot = {"ok": "#3dae5c", "behind": "#e8a33d", "lost": "#d64541", "error": "#d64541", "loading": "#9aa5b1"}.get(s.health, "#9aa5b1")
        word = {"ok": "audio OK", "behind": "falling behind", "lost": "device lost", "error": "stopped by an error",
                "loading": "loading"}.get(s.health, s.health)
        extra = (f" · {s.flags} flagged" if s.flags else "") + (f" · {s.team}" if s.team else "")
        self.health.setText(f"<span style='color:{dot}'>●</span> {word}{extra}")
        self.health.setToolTip(s.health_text)
        if self.expanded:
            who = {"agent": "you", "customer": "cust"}
            # the newest three lines, each cut to one line's worth: a glance, not a transcript
            short = [(sp, t if len(t) <= 46 else t[:45] + "…") for sp, t in s.transcript[-3:]]
            self.lines.setText("<br>".join(f"<b>{who[sp]}:</b> {html.escape(t)}" for sp, t in short))

    # -- behaviour -------------------------------------------------------------------

    def set_expanded(self, on: bool) -> None:
        self.expanded = on
        self.lines.setVisible(on)
        self.resize(self.width(), 240 if on else 170)
        self.refresh()

    def set_click_through(self, on: bool) -> None:
        self.setWindowFlag(Qt.WindowTransparentForInput, on)
        self.show()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.set_expanded(not self.expanded)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.LeftButton:
            self._drag = event.globalPosition().toPoint() - self.frameGeometry().topLeft()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            self.move(event.globalPosition().toPoint() - self._drag)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            self._drag = None
            self.snap()

    def snap(self) -> None:
        """Stick to the edge of the screen the window is on when within SNAP_PX of it."""
        screen = QGuiApplication.screenAt(self.frameGeometry().center()) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        g = self.frameGeometry()
        x, y = g.x(), g.y()
        if abs(g.left() - area.left()) < SNAP_PX:
            x = area.left()
        elif abs(area.right() - g.right()) < SNAP_PX:
            x = area.right() - g.width() + 1
        if abs(g.top() - area.top()) < SNAP_PX:
            y = area.top()
        elif abs(area.bottom() - g.bottom()) < SNAP_PX:
            y = area.bottom() - g.height() + 1
        self.move(x, y)
        self.moved.emit(x, y)
