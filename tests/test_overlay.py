"""The overlay, tray and settings dialog as real Qt widgets (offscreen), and the real app
with the real pipeline on a scripted call in a real X server (Xvfb)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from PySide6.QtCore import Qt

from coach.analysis.catalog import CATALOG
from coach.config import settings as settings_mod
from coach.core.events import Cue, Utterance, Word
from coach.session.live_state import LiveState
from coach.ui.overlay import Overlay, cue_opacity
from coach.ui.settings_dialog import SettingsDialog
from coach.ui.tray import Tray


def cue(cue_id: str, t: float) -> Cue:
    spec = CATALOG[cue_id]
    return Cue(cue_id, spec.label, t, "customer", spec.severity, spec.skill, spec.tip, "because", 0.5)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def overlay(qtbot):
    state, clock = LiveState(), Clock()
    o = Overlay(state, visible_s=6.0, clock=clock)
    qtbot.addWidget(o)
    o.show()
    return o, state, clock


def test_cue_shows_label_tip_icon_then_fades_to_idle(overlay):
    o, state, clock = overlay
    state.set(phase="listening")
    o.refresh()
    assert o.title.text() == "listening"
    state.on_cue(cue("customer_escalating", 10.0))
    o.refresh()
    assert o.title.text() == "customer escalating" and "Acknowledge" in o.tip.text()
    assert o.icon.text() == "⚠"  # not colour alone
    clock.t = 5.9
    o.refresh()
    assert o.cue_opacity() == 1.0
    clock.t = 6.4
    o.refresh()
    assert 0.0 < o.cue_opacity() < 1.0 and o.title.text() == "customer escalating"
    clock.t = 7.0
    o.refresh()
    assert o.cue_opacity() == 0.0 and o.title.text() == "listening"
    assert o.shown == ["customer escalating"]
    assert cue_opacity(6.4, 6.0) == pytest.approx(0.5)


def test_one_cue_at_a_time_by_priority():
    wall = [100.0]
    state = LiveState(visible_s=6.0, clock=lambda: wall[0])  # the overlay's clock and visible time
    state.set(position=10.0)
    state.on_cue(cue("customer_escalating", 10.0))
    wall[0] += 1.0
    state.on_cue(cue("check_in", 11.0))  # less urgent while the alert is still up: not shown
    assert state.snapshot().cue.id == "customer_escalating"
    wall[0] += 2.0  # a 4x demo: 12 s of stream time have passed, but the alert is on screen for 6 s of wall time
    state.on_cue(cue("check_in", 22.0))
    assert state.snapshot().cue.id == "customer_escalating"
    wall[0] += 4.0
    state.set(position=26.0)
    state.on_cue(cue("check_in", 26.0))  # the alert has gone: shown
    assert state.snapshot().cue.id == "check_in"
    state.on_cue(cue("let_them_finish", 17.5))  # more urgent: replaces at once
    assert state.snapshot().cue.id == "let_them_finish"


def test_meters_show_pace_mood_share_and_health(overlay):
    o, state, clock = overlay
    o.refresh()
    assert o.mood.text == "–" and o.pace.text == "–"  # nothing heard yet
    u = Utterance("customer", 0, 3, "this is ridiculous", [Word("this", 0, 1)])
    state.on_utterance(u, escalation=0.8, agent_wpm=260.0, agent_share=0.72)
    state.set(health="behind", health_text="analysis 3.0 s behind")
    o.refresh()
    assert o.pace.text == "260 wpm fast" and o.pace.value > o.pace.band[1]
    assert o.mood.text.startswith("upset") and "rising" in o.mood.text
    assert o.share.text == "72%"
    assert "falling behind" in o.health.text()
    state.set(health="lost")
    o.refresh()
    assert "device lost" in o.health.text()
    state.set(health="ok", team="team: offline, 3 queued")  # the team server link's trouble, beside the audio's
    o.refresh()
    assert "audio OK" in o.health.text() and "team: offline, 3 queued" in o.health.text()


def test_expanded_layout_shows_transcript_lines(overlay):
    o, state, clock = overlay
    state.on_utterance(Utterance("agent", 0, 1, "how can I help", []), None, None, None)
    state.on_utterance(Utterance("customer", 1, 2, "my parcel is late", []), 0.1, None, None)
    o.set_expanded(True)
    assert "my parcel is late" in o.lines.text() and o.lines.isVisibleTo(o)
    o.set_expanded(False)
    assert not o.lines.isVisibleTo(o)


def test_flag_shortcut_and_snap_to_edge(overlay, qtbot):
    o, state, clock = overlay
    o.activateWindow()
    with qtbot.waitSignal(o.flag_requested, timeout=2000):
        qtbot.keyClick(o, Qt.Key_F, Qt.ControlModifier | Qt.ShiftModifier)
    area = o.screen().availableGeometry()
    o.move(area.left() + 10, area.top() + 200)
    with qtbot.waitSignal(o.moved, timeout=2000) as sig:
        o.snap()
    assert sig.args[0] == area.left() and sig.args[1] == area.top() + 200


def test_tray_actions_emit(qtbot):
    tray = Tray()
    for action, signal in ((tray.act_flag, tray.flag), (tray.act_settings, tray.open_settings),
                           (tray.act_toggle, tray.toggle_coaching), (tray.act_quit, tray.quit)):
        with qtbot.waitSignal(signal, timeout=1000):
            action.trigger()
    tray.set_paused(True)
    assert tray.act_toggle.text() == "Resume coaching"
    assert not tray.act_replay.isEnabled()


def test_settings_dialog_round_trip(qtbot, tmp_path: Path):
    """The dialog edits the stored settings: saved to the file, handed to the running session as a
    new copy; this run's --set stays this run's and is never written."""
    from coach.config.settings_store import SettingsStore

    path = tmp_path / "settings.toml"
    store = SettingsStore(path, this_run=lambda st: settings_mod.override(st, "cues.global_gap_s=3"))
    heard: list[settings_mod.Settings] = []
    store.subscribe(heard.append)
    s = store.stored()
    class Probe:
        opened: list[str] = []

        def __init__(self, name: str) -> None:
            Probe.opened.append(name)
            self.closed = False

        def peak(self) -> float:
            return 0.21

        def close(self) -> None:
            self.closed = True

    d = SettingsDialog(s, store.replace, tmp_path, ["tiny.en", "base.en"], ["mic (ALSA)", "speakers.monitor (PulseAudio)"], Probe)
    qtbot.addWidget(d)
    d.toggles["check_in"].setChecked(False)
    d.spins[("cues.slow_down", "max_wpm")].setValue(250)
    d.model.setCurrentText("base.en")
    d.customer_dev.setCurrentText("speakers.monitor (PulseAudio)")
    d.agent_dev.setCurrentText("mic (ALSA)")
    d.test_devices()
    assert Probe.opened == ["mic (ALSA)", "speakers.monitor (PulseAudio)"]
    qtbot.waitUntil(lambda: d.agent_meter.value() == 42 and d.customer_meter.value() == 42, timeout=2000)
    probes = [p for p, _ in d.probes]
    d.accept()
    assert all(p.closed for p in probes) and not d.timer.isActive()  # devices released with the dialog
    assert len(heard) == 1 and heard[0].cues.check_in.enabled is False  # the session hears at once ...
    assert heard[0].cues.global_gap_s == 3  # ... with this run's overrides on top
    back = settings_mod.load(path)
    assert back.cues.check_in.enabled is False and back.cues.slow_down.max_wpm == 250.0
    assert back.cues.global_gap_s == settings_mod.Settings().cues.global_gap_s  # --set is never saved
    assert back.model.name == "base.en" and back.audio.customer_device == "speakers.monitor (PulseAudio)"


def test_flag_from_the_overlay_reaches_the_session(tmp_path: Path, rendered: Path):
    """The agent's flag goes through the runner into the pipeline as a user flag."""
    from coach.app import compose as app

    opts = app.Options(data_dir=str(tmp_path))
    s, data = app.load_settings(opts)
    src = app.open_source(str(rendered / "d3_friendly_call.wav"), s, opts, realtime=True, speed=8.0)
    state = LiveState()
    c = app.coaching_session(s, data, src, list(src.info.speakers), app.Console(), state)
    c.load()
    chunks = src.chunks()
    c.runner.start()
    for _ in range(50):
        c.runner.put(next(chunks))
    c.flag("customer sounded confused")
    c.runner.close()
    [flag] = [f for f in c.pipe.flags if f.by == "user"]
    assert flag.note == "customer sounded confused"
    assert flag.start == pytest.approx(max(0.0, flag.end - 30.0))  # 20 s before the moment, 10 s after
    assert state.snapshot().flags == 1


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb is installed by `make test` (tools/system-deps.sh)")
def test_real_app_under_xvfb_shows_the_expected_cues(tmp_path: Path, rendered: Path):
    """The whole desktop app on a real X server: the overlay appears, the real pipeline
    runs the scripted escalation call, and the overlay displays the cue."""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY")}
    env["COACH_DATA_DIR"] = str(tmp_path)
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x720x24", sys.executable, "-m", "coach", "demo",
                        str(rendered / "d1_refund_escalation.wav"), "--speed", "4"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    shown = next(line for line in r.stdout.splitlines() if line.startswith("overlay showed"))
    assert "customer escalating" in shown


def test_tray_demo_controls_drive_the_call(qtbot, tmp_path: Path):
    import numpy as np
    import soundfile as sf

    from coach.audio.file_source import FileSource

    path = tmp_path / "c.wav"
    sf.write(path, np.zeros((16000 * 30, 2), np.float32), 16000)
    src = FileSource(path, realtime=True, speed=10.0)
    it = src.chunks()
    next(it)
    tray = Tray()
    tray.add_demo_controls(src)
    tray.act_demo_pause.setChecked(True)
    assert src.paused
    tray.act_demo_pause.setChecked(False)
    assert not src.paused
    tray.speed_actions[2.0].trigger()
    assert src.speed == 2.0
    tray.act_skip.trigger()
    assert next(it).t0 >= 10.0
    src.stop()


def test_the_expanded_transcript_takes_the_second_pass_text_in_place(overlay):
    """A Revision (the second pass's text of an utterance already shown) replaces its line where it
    is, whatever came after it; a revision of a line scrolled away changes nothing on screen."""
    from coach.core.events import Revision
    from coach.session.overlay_feed import OverlayFeed

    o, state, _ = overlay
    feed = OverlayFeed(state)
    said = [Utterance("customer", 1.0, 2.0, "your religion is conferred", []),
            Utterance("agent", 2.5, 3.0, "okay", []),
            Utterance("customer", 3.5, 4.0, "thanks", [])]
    for u in said:
        feed.on_event(u)
    o.set_expanded(True)
    o.refresh()
    assert "religion" in o.lines.text()
    feed.on_event(Revision(0, Utterance("customer", 1.0, 2.0, "your reservation is confirmed", [])))
    o.refresh()
    text = o.lines.text()
    assert "your reservation is confirmed" in text and "religion" not in text
    assert text.index("reservation") < text.index("okay") < text.index("thanks")  # in its place, not appended
    for k in range(10):  # the first lines scroll out of the overlay's memory
        feed.on_event(Utterance("agent", 5.0 + k, 5.5 + k, f"line {k}", []))
    feed.on_event(Revision(1, Utterance("agent", 2.5, 3.0, "okay then", [])))
    assert all("okay then" not in t for _, t in state.snapshot().transcript)
