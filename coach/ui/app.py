"""The desktop side of the composition: overlay, tray, settings, with a session running
on a worker thread. The overlay is on screen before the model has loaded."""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from coach.audio.file_source import FileSource
from coach.config import settings as settings_mod
from coach.core.errors import UserError
from coach.ui.overlay import Overlay
from coach.ui.settings_dialog import SettingsDialog
from coach.ui.tray import Tray

if TYPE_CHECKING:
    from coach.session.coaching import Coaching


def route_qt_messages() -> None:
    """Qt's warnings (a missing platform plugin, a bad stylesheet) go to the log, not the terminal."""
    log = logging.getLogger("coach.qt")
    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO, QtMsgType.QtWarningMsg: logging.WARNING,
              QtMsgType.QtCriticalMsg: logging.ERROR, QtMsgType.QtFatalMsg: logging.CRITICAL}
    qInstallMessageHandler(lambda kind, ctx, msg: log.log(levels.get(kind, logging.WARNING), "%s", msg))


def place(overlay: Overlay, ui: settings_mod.UiSettings) -> None:
    """Where it was last time on the same screen, else the top-right corner of the primary screen."""
    screens = {sc.name(): sc for sc in QGuiApplication.screens()}
    screen = screens.get(ui.screen) or QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    if ui.x >= 0 and ui.y >= 0 and area.contains(ui.x, ui.y):
        overlay.move(ui.x, ui.y)
    else:
        overlay.move(area.right() - overlay.width() - 16, area.top() + 16)


def build(c: Coaching) -> tuple[Overlay, Tray]:
    s = c.s
    assert c.state is not None and c.settings is not None
    store = c.settings
    overlay = Overlay(c.state, s.cues.visible_s)
    tray = Tray()
    place(overlay, s.ui)
    overlay.set_expanded(s.ui.expanded)
    store.subscribe(lambda new: setattr(overlay, "visible_s", new.cues.visible_s))

    def remember(x: int, y: int) -> None:
        screen = QGuiApplication.screenAt(overlay.frameGeometry().center())
        store.update(lambda st: setattr(st, "ui", dataclasses.replace(st.ui, x=x, y=y, screen=screen.name() if screen else "")))

    def click_through(on: bool) -> None:
        overlay.set_click_through(on)
        store.update(lambda st: setattr(st.ui, "click_through", on))

    def toggle() -> None:
        c.paused = not c.paused
        c.state.set(phase="paused" if c.paused else "listening")
        tray.set_paused(c.paused)

    def open_settings() -> None:
        from coach.audio.devices import list_inputs
        from coach.audio.level import LevelProbe
        from coach.speech.models import known_models

        try:
            inputs = [d.label for d in list_inputs()]
        except UserError:
            inputs = []
        dialog = SettingsDialog(store.stored(), store.replace, c.data, known_models(), inputs, LevelProbe)
        dialog.exec()

    overlay.moved.connect(remember)
    overlay.flag_requested.connect(c.flag)
    tray.flag.connect(c.flag)
    tray.toggle_click_through.connect(click_through)
    tray.toggle_coaching.connect(toggle)
    tray.pause_recording.connect(c.set_recording_paused)
    tray.open_settings.connect(open_settings)
    tray.quit.connect(lambda: (c.stop.set(), c.src.stop(), QApplication.quit()))
    if s.ui.click_through:
        tray.act_click.setChecked(True)
    if isinstance(c.src, FileSource):  # a recorded call: the trainer's controls
        tray.add_demo_controls(c.src)
    return overlay, tray


def run_overlay(c: Coaching, announce: str, duration: float | None, linger_s: float = 4.0) -> int:
    app = QApplication.instance() or QApplication([])
    route_qt_messages()
    overlay, tray = build(c)
    overlay.show()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            c.load()
            c.src.start()
            print(announce, flush=True)
            c.run(duration)
        except BaseException as e:  # re-raised on the main thread, so the process exits non-zero
            errors.append(e)
            if not isinstance(e, UserError) and c.state is not None:
                c.state.set(health="error", health_text=f"error: {e}"[:80])

    worker = threading.Thread(target=work, name="coaching", daemon=True)
    signal.signal(signal.SIGINT, lambda *_: (c.stop.set(), c.src.stop()))
    signal.signal(signal.SIGTERM, lambda *_: (c.stop.set(), c.src.stop()))
    ending = []

    def watch() -> None:  # also lets Python's signal handlers run while Qt's loop has the thread
        if not worker.is_alive() and not ending:
            ending.append(True)  # the call is over: leave the last cue up a moment, then close
            QTimer.singleShot(int(linger_s * 1000), app.quit)

    keepalive = QTimer()
    keepalive.timeout.connect(watch)
    keepalive.start(200)
    worker.start()
    app.exec()
    c.stop.set()
    c.src.stop()
    worker.join(timeout=30)
    tray.icon.hide()
    if errors:
        raise errors[0]
    print("\n" + c.summary(), flush=True)
    print(f"overlay showed {len(overlay.shown)} cues: {', '.join(overlay.shown) or 'none'}", flush=True)
    return 0
