"""The composition root: the only module that knows every part and wires them together
(settings, sources, devices, the model, the session controller in coaching.py, the store);
the CLI maps its results and errors to exit codes, ui/app.py adds the desktop around a session."""

from __future__ import annotations

import os
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.analysis.meaning import shared_meaning
from coach.app.console import Console
from coach.audio.device_choice import LiveOptions, choose_devices
from coach.audio.file_source import FileSource
from coach.audio.source import AudioSource
from coach.config import paths
from coach.config import settings as settings_mod
from coach.config.settings import Settings
from coach.config.settings_store import SettingsStore
from coach.core.errors import UserError
from coach.core.events import Speaker
from coach.core.pipeline import Pipeline
from coach.core.runner import SimClock, SimulatedRunner
from coach.session import report
from coach.session.assemble import coaching_session
from coach.session.coaching import Coaching
from coach.session.live_state import LiveState
from coach.speech.engines import load_model
from coach.store.db import open_store

if TYPE_CHECKING:
    from coach.team.link import TeamLink


@dataclass
class Options:
    data_dir: str | None = None
    model: str | None = None
    agent_channel: int | None = None
    speaker: Speaker | None = None
    speakers: str | None = None  # a mono file: auto | 1 | 2 voices
    agent_voice: str | None = None  # a mono file of two voices: first | second is the agent
    agent_told_by: str = "user"  # who said which voice is the agent: user (command line) | trainer (replay)
    encoder_window: str | None = None
    overrides: list[str] | None = None  # --set KEY=VALUE, this run only


def settings_store(opts: Options) -> tuple[SettingsStore, Path]:
    """The user's settings.toml, with this run's command-line and COACH_SET overrides on top."""
    data = paths.data_dir(opts.data_dir)
    # COACH_SET="KEY=VALUE;KEY=VALUE" is --set for every command of a shell or test run
    # (make test-asr-variants runs the suite with other compute types this way)
    env = [a for a in os.environ.get("COACH_SET", "").split(";") if a.strip()]

    def this_run(s: Settings) -> None:
        if opts.model:
            s.model.name = opts.model
        if opts.encoder_window:
            s.model.encoder_window = opts.encoder_window
        for assignment in [*env, *(opts.overrides or [])]:
            settings_mod.override(s, assignment)

    store = SettingsStore(paths.settings_path(data), this_run)
    try:  # a data folder made by an earlier version (0755) becomes private too
        if data.stat().st_mode & 0o077:
            data.chmod(0o700)
    except OSError:
        pass  # not ours to change (a shared folder given with --data-dir): the files inside still are 0600
    return store, data


def load_settings(opts: Options) -> tuple[Settings, Path]:
    store, data = settings_store(opts)
    return store.effective(), data


def open_source(path: str, s: Settings, opts: Options, realtime: bool = False, speed: float = 1.0,
                progress: bool = True) -> FileSource:
    """A recorded call; a mono one of two voices is split into agent and customer first."""
    src = FileSource(path, agent_channel=opts.agent_channel, mono_speaker=opts.speaker or s.audio.mono_speaker,  # type: ignore[arg-type]
                     stereo_agent_channel=s.audio.agent_channel, realtime=realtime, speed=speed)
    mode = opts.speakers or ("1" if opts.speaker else s.audio.mono_speakers)
    if src.info.channels != 1 or mode == "1":
        if opts.agent_voice:
            raise UserError("--agent-voice is for a mono file of two voices")
        return src
    from coach.voices import mono_calls, voiceprint

    data = paths.data_dir(opts.data_dir)
    show = progress and sys.stderr.isatty()
    if show:
        sys.stderr.write(f"separating the voices of {Path(path).name} ...")
        sys.stderr.flush()
    split = mono_calls.separate(
        src.mono_16k(), mode, transcriber=lambda: load_model(s, data)[0], voiceprint=voiceprint.load(data, s),
        agent_voice={"first": 0, "second": 1}.get(opts.agent_voice or ""), told_by=opts.agent_told_by)
    if show:
        sys.stderr.write("\r\x1b[K")
    if split is not None:
        src.use_split(split)
    return src


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _recover(s: Settings, data: Path) -> None:
    """Sessions a crash (or kill -9) left behind join the store, so replay, delete and retention see them."""
    store = open_store(s, data)
    try:
        for folder, sid in store.adopt_orphans():
            print(f"recovered the unfinished session in {folder.name} as session {sid}" if sid is not None
                  else f"removed {folder.name}: a session that ended before anything was saved", flush=True)
    finally:
        store.close()


def analyze(call: str, out: str, opts: Options, progress: bool = True, save: bool = False) -> dict[str, Any]:
    """Push a recorded call through the live pipeline as fast as possible; write the JSON."""
    s, data = load_settings(opts)
    report.check_writable(out)
    src = open_source(call, s, opts, progress=progress)
    tr, model = load_model(s, data)
    clock = SimClock()
    pipe = Pipeline(s, tr, list(src.info.speakers), clock, meaning=shared_meaning())
    show = progress and sys.stderr.isatty()
    last = [0.0]

    def tick(pos: float) -> None:
        if show and time.monotonic() - last[0] > 0.25:
            last[0] = time.monotonic()
            sys.stderr.write(f"\ranalysing {pos:6.1f} / {src.info.duration_s:.1f} s")
            sys.stderr.flush()

    cpu0, wall0 = _cpu_s(), time.perf_counter()
    SimulatedRunner(pipe, clock, tick).run(src.chunks())
    wall, cpu = time.perf_counter() - wall0, _cpu_s() - cpu0
    if show:
        sys.stderr.write("\r\x1b[K")
    pipe.close_flags(src.info.duration_s)
    doc = report.build(pipe, src.info, {"name": model.name, "compute_type": s.model.compute_type,
                                        "encoder_window": s.model.encoder_window, "origin": model.origin}, wall, cpu)
    report.write(doc, out)
    if save:
        store = open_store(s, data)
        doc["session_id"] = store.save(doc, "analyze", audio=str(Path(call).resolve()))
        store.close()
    return doc


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _stop_on_signals(stop: threading.Event, src: AudioSource) -> None:
    def handler(signum: int, frame: object) -> None:
        stop.set()
        src.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)


def _run(c: Coaching, announce: str, duration: float | None, gui: bool) -> int:
    """Headless: load, run, report in this thread. With a display: the overlay shows at once
    (in its loading state), the model loads and the session runs on a worker thread."""
    if not gui:
        print(f"loading model '{c.s.model.name}' ...", flush=True)
        c.load()
        _stop_on_signals(c.stop, c.src)
        c.src.start()
        print(announce + (f"; saving to {c.session.folder}" if c.session else ""), flush=True)
        c.run(duration)
        print("\n" + c.summary(), flush=True)
        return 0
    from coach.ui.app import run_overlay

    return run_overlay(c, announce, duration)


def team_link(s: Settings, data: Path) -> TeamLink | None:
    """The team server link when the agent opted in ([team] server), else None: nothing leaves the PC."""
    if not s.team.server:
        return None
    from coach.team.link import TeamLink

    return TeamLink(s.team, paths.outbox_dir(data))


def demo(call: str | None, opts: Options, speed: float = 1.0, transcript: bool = False, gui: bool | None = None) -> int:
    """Trainer demo: play a call at real-time pace through the live pipeline."""
    settings, data = settings_store(opts)
    s = settings.effective()
    path = call or str(paths.sample_call())
    if not 0.1 <= speed <= 16:  # also NaN
        raise UserError(f"--speed must be from 0.1 to 16, got {speed:g}")
    src = open_source(path, s, opts, realtime=True, speed=speed)
    gui = has_display() if gui is None else gui
    state = LiveState(s.cues.slow_down.max_wpm, visible_s=s.cues.visible_s) if gui else None
    c = coaching_session(s, data, src, list(src.info.speakers), Console(transcript=transcript), state, store=True, settings=settings,
                 team=team_link(s, data))
    announce = f"playing {Path(path).name} ({src.info.duration_s:.0f} s) at {speed:g}x; Ctrl-C stops"
    return _run(c, announce, src.info.duration_s, gui)


def live(opts: Options, lo: LiveOptions, gui: bool | None = None) -> int:
    """Live coaching from the agent's mic and the softphone's output."""
    from coach.app.instance import InstanceLock
    from coach.audio.live_source import LiveSource

    settings, data = settings_store(opts)
    s = settings.effective()
    lock = InstanceLock(data / "live.lock").acquire()  # before touching devices or session files
    _recover(s, data)
    devs = choose_devices(s, lo, settings)
    gui = has_display() if gui is None else gui
    console = Console()
    src: AudioSource
    if devs.mono is not None:
        from coach.voices import voiceprint
        from coach.voices.live_split import LiveSplit, MonoLiveSource

        line = LiveSource({"agent": devs.mono}, None, lo.duration_s, on_notice=console.notice)
        src = MonoLiveSource(line, LiveSplit(voiceprint=voiceprint.load(data, s)))
    else:
        src = LiveSource(devs.sides, devs.stereo, lo.duration_s, on_notice=console.notice)
    state = LiveState(s.cues.slow_down.max_wpm, visible_s=s.cues.visible_s) if gui else None
    c = coaching_session(s, data, src, src.speakers, console, state, record=True, live=True, store=True, settings=settings,
                 team=team_link(s, data))
    try:
        return _run(c, f"listening: {devs.describe()}; Ctrl-C stops", None, gui)
    finally:
        lock.release()


