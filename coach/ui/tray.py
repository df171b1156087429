"""The tray icon: start/stop coaching, flag this moment, replay, settings, quit."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon


def app_icon(color: str = "#3d8fe8") -> QIcon:
    pix = QPixmap(64, 64)
    pix.fill(QColor(0, 0, 0, 0))
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    p.setBrush(QColor(color))
    p.setPen(QColor(color))
    p.drawRoundedRect(6, 10, 52, 36, 10, 10)
    p.end()
    return QIcon(pix)


class Tray(QObject):
    toggle_coaching = Signal()
    flag = Signal()
    open_replay = Signal()
    open_settings = Signal()
    quit = Signal()
    toggle_click_through = Signal(bool)
    pause_recording = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.menu = QMenu()
        self.act_toggle = QAction("Pause coaching", self.menu)
        self.act_flag = QAction("Flag this moment\tCtrl+Shift+F", self.menu)
        self.act_pause_rec = QAction("Pause recording (card details)", self.menu, checkable=True)
        self.act_replay = QAction("Open replay…", self.menu)
        self.act_replay.setEnabled(False)  # the replay window arrives with the session store
        self.act_settings = QAction("Settings…", self.menu)
        self.act_click = QAction("Click-through", self.menu, checkable=True)
        self.act_quit = QAction("Quit", self.menu)
        for a in (self.act_toggle, self.act_flag, self.act_pause_rec, self.act_replay, self.act_settings, self.act_click,
                  self.act_quit):
            self.menu.addAction(a)
        self.act_toggle.triggered.connect(self.toggle_coaching.emit)
        self.act_flag.triggered.connect(self.flag.emit)
        self.act_replay.triggered.connect(self.open_replay.emit)
        self.act_settings.triggered.connect(self.open_settings.emit)
        self.act_click.toggled.connect(self.toggle_click_through.emit)
        self.act_pause_rec.toggled.connect(self.pause_recording.emit)
        self.act_quit.triggered.connect(self.quit.emit)
        self.icon = QSystemTrayIcon(app_icon())
        self.icon.setToolTip("Call Coach")
        self.icon.setContextMenu(self.menu)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon.show()

    def add_demo_controls(self, src: object) -> None:
        """Trainer controls for a demo call: pause the call, skip ahead, change speed."""
        self.menu.insertSeparator(self.act_toggle)
        self.act_demo_pause = QAction("Pause the call", self.menu, checkable=True)
        self.act_demo_pause.toggled.connect(lambda on: src.pause() if on else src.resume())  # type: ignore[attr-defined]
        self.act_skip = QAction("Skip ahead 10 s", self.menu)
        self.act_skip.triggered.connect(lambda: src.skip(10.0))  # type: ignore[attr-defined]
        speed_menu = QMenu("Speed", self.menu)
        self.speed_actions = {}
        for speed in (0.5, 1.0, 1.5, 2.0):
            act = QAction(f"{speed:g}x", speed_menu)
            act.triggered.connect(lambda _=False, sp=speed: src.set_speed(sp))  # type: ignore[attr-defined]
            speed_menu.addAction(act)
            self.speed_actions[speed] = act
        actions = [self.act_demo_pause, self.act_skip]
        split = getattr(src, "split", None)
        if split is not None:  # a mono call split into two voices: the trainer can say who is who
            self.act_swap = QAction("Swap agent and customer", self.menu)
            self.act_swap.triggered.connect(lambda: split.swap("trainer", src.now()))  # type: ignore[attr-defined]
            actions.append(self.act_swap)
        for a in actions:
            self.menu.insertAction(self.act_toggle, a)
        self.menu.insertMenu(self.act_toggle, speed_menu)
        self.menu.insertSeparator(self.act_toggle)

    def set_paused(self, paused: bool) -> None:
        self.act_toggle.setText("Resume coaching" if paused else "Pause coaching")
