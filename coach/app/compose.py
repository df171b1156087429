"""The composition root: the only module that knows every part and wires them together
(settings, sources, devices, the model, the session controller in coaching.py, the store);
the CLI maps its results and errors to exit codes, ui/app.py adds the desktop around a session."""

from __future__ import annotations

import dataclasses
import os
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.analysis.meaning import shared_meaning
from coach.app.console import Console
from coach.audio.devices import InputDevice
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
from coach.session.coaching import Coaching, load_model, open_store
from coach.session.live_state import LiveState

if TYPE_CHECKING:
    from coach.store.db import Store
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


def devices() -> int:
    from coach.audio.devices import list_devices

    for line in list_devices():
        print(line)
    return 0


@dataclass
class LiveOptions:
    agent_device: str | None = None
    customer_device: str | None = None
    stereo_device: str | None = None
    agent_channel: int | None = None
    duration_s: float | None = None
    mono_device: str | None = None


@dataclass
class LiveDevices:
    """What `coach live` listens to: two devices, one stereo device, or one mono device of both voices."""

    sides: dict[Speaker, InputDevice] | None = None
    stereo: tuple[InputDevice, int] | None = None
    mono: InputDevice | None = None

    def describe(self) -> str:
        if self.stereo:
            return f"stereo {self.stereo[0].label}, agent on channel {self.stereo[1]}"
        if self.mono:
            return f"both voices on {self.mono.label}, told apart as they speak"
        assert self.sides is not None
        return f"agent = {self.sides['agent'].label}, customer = {self.sides['customer'].label}"


def _live_devices(s: Settings, lo: LiveOptions, store: SettingsStore) -> LiveDevices:
    """Devices from the command line, else the remembered ones; command-line choices are remembered."""
    from coach.audio.devices import list_inputs, resolve

    given = lo.agent_device or lo.customer_device or lo.stereo_device
    if lo.mono_device and given:
        raise UserError("--mono-device carries both voices: give it alone, without the agent, customer or stereo device")
    inputs = list_inputs()
    if not inputs:
        raise UserError("no audio input devices found: plug in a headset, or check the sound server is running")
    mono_q = lo.mono_device or (None if given else s.audio.mono_device or None)
    if mono_q:
        dev = resolve(mono_q, devices=inputs)
        _remember(store, mono_device=dev.label, stereo_device="")
        return LiveDevices(mono=dev)
    stereo_q = lo.stereo_device or (None if (lo.agent_device or lo.customer_device) else s.audio.stereo_device or None)
    if stereo_q:
        dev = resolve(stereo_q, devices=inputs)
        channel = lo.agent_channel if lo.agent_channel is not None else s.audio.agent_channel
        if channel not in (0, 1):
            raise UserError("--agent-channel must be 0 or 1")
        _remember(store, stereo_device=dev.label, agent_channel=channel, mono_device="")
        return LiveDevices(stereo=(dev, channel))
    agent_q = lo.agent_device or s.audio.agent_device
    customer_q = lo.customer_device or s.audio.customer_device
    if not customer_q:
        loops = [d for d in inputs if d.loopback]
        if len(loops) != 1:
            raise UserError("say which input carries the customer (the softphone's output) with --customer-device; "
                            "`coach devices` marks likely loopback sources")
        customer_q = loops[0].label
    customer = resolve(customer_q, devices=inputs)
    if agent_q:
        agent = resolve(agent_q, devices=inputs)
    else:
        mics = [d for d in inputs if not d.loopback and d.name not in ("pulse", "default")]
        agent = mics[0] if len(mics) == 1 else resolve("default", devices=inputs)
    if agent == customer:
        raise UserError(f"the agent and the customer cannot both be {agent.label}")
    _remember(store, agent_device=agent.label, customer_device=customer.label, stereo_device="", mono_device="")
    return LiveDevices(sides={"agent": agent, "customer": customer})


def _remember(store: SettingsStore, **audio: object) -> None:
    """Persist device choices in settings.toml (this run's --set values stay this run's)."""
    store.update(lambda st: [setattr(st.audio, key, value) for key, value in audio.items()])


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
    c = Coaching(s, data, src, list(src.info.speakers), Console(transcript=transcript), state, store=True, settings=settings,
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
    devs = _live_devices(s, lo, settings)
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
    c = Coaching(s, data, src, src.speakers, console, state, record=True, live=True, store=True, settings=settings,
                 team=team_link(s, data))
    try:
        return _run(c, f"listening: {devs.describe()}; Ctrl-C stops", None, gui)
    finally:
        lock.release()


def sessions(opts: Options, action: str, sid: int | None = None, out: str | None = None, flagged: bool = False,
             search: str | None = None, cue: str | None = None) -> int:
    """`coach sessions list|show|export|delete`."""
    s, data = load_settings(opts)
    store = open_store(s, data)
    try:
        if action == "list":
            _sync_notes(s, store)
            rows = store.list(flagged=flagged, text=search, cue=cue)
            if not rows:
                print("no sessions")
            for r in rows:
                print(f"{r['id']:4d}  {r['started']}  {r['mode']:7s}  {r['duration_s'] or 0:6.0f} s  "
                      f"{r['cues']:2d} cues  {r['flags']:2d} flags  {Path(r['source'] or '').name}")
                for n in store.notes(r["call_id"]):
                    print(f"      note from {n['reviewer'] or 'your supervisor'} on {n['t0'] or 0:.0f}-{n['t1'] or 0:.0f} s: {n['note']}")
            return 0
        assert sid is not None
        if action == "show":
            doc = store.get(sid)
            print(f"session {sid}: {doc['session']['mode']} {doc['session']['started']}, {doc['source']['duration_s']:.0f} s")
            for f in doc["flags"]:
                print(f"  flagged {f['start']:.1f}-{f['end']:.1f} s: {f['reason']}")
            events = [(u["start"], f"{u['speaker']:>8}: {u['text']}") for u in doc["utterances"]]
            events += [(c["t"], f"    >>> {c['label'].upper()} ({c['reason']})") for c in doc["cues"]]
            for t, line in sorted(events):
                print(f"[{t:7.1f}] {line}")
            return 0
        if action == "export":
            doc = store.get(sid)
            report.check_writable(out or "-")
            report.write(doc, out or "-")
            return 0
        if action == "delete":
            if not store.delete(sid):
                raise UserError(f"no session {sid}")
            print(f"deleted session {sid}" + ("; its text leaves the store file once the replay window closes "
                                                "(finished by the next command)" if store.purge_pending else ""))
            return 0
    finally:
        store.close()
    raise UserError(f"unknown action {action}")


def _sync_notes(s: Settings, store: Store) -> None:
    """With team mode on, the supervisors' latest notes join the local store (kept for offline use)."""
    if not (s.team.server and s.team.token):
        return
    from coach.team.link import fetch_notes

    notes = fetch_notes(s.team)
    if notes is None:
        print("(team server not reachable: notes as of the last time it was)", file=sys.stderr)
    else:
        store.save_notes(notes)


def swap_voices(opts: Options, sid: int) -> int:
    """A trainer said the other voice of a separated mono session is the agent: the call is
    analysed again that way (cues depend on who is who) and replaces the session; returns its id."""
    s, data = load_settings(opts)
    store = open_store(s, data)
    try:
        row = store.db.execute("SELECT audio, mode, started FROM sessions WHERE id=?", (sid,)).fetchone()
        doc = store.get(sid)
        voices = doc["source"].get("voices")
        if row is None or not voices or not row["audio"] or not Path(row["audio"]).exists():
            raise UserError(f"session {sid} is not a mono call separated into two voices, with its audio at hand")
        other = "second" if voices["agent"] == "first" else "first"
        out = data / "exports" / f"swap-{sid}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        again = dataclasses.replace(opts, agent_voice=other, agent_told_by="trainer", speakers="2")
        new = analyze(row["audio"], str(out), again, progress=False)
        out.unlink(missing_ok=True)
        new_sid = store.save(new, row["mode"], audio=row["audio"], started=datetime.fromisoformat(row["started"]))
        store.delete(sid)
        return new_sid
    finally:
        store.close()


def replay(opts: Options, sid: int | None = None) -> int:
    """The supervisor's replay window."""
    if not has_display():
        raise UserError("replay needs a display; in a terminal use `coach sessions show|export`")
    from PySide6.QtWidgets import QApplication

    from coach.ui.replay import ReplayWindow

    s, data = load_settings(opts)
    store = open_store(s, data)
    _sync_notes(s, store)
    qapp = QApplication.instance() or QApplication([])
    win = ReplayWindow(store, data / "exports", swap_voices=lambda old: swap_voices(opts, old))
    if sid is not None:
        store.get(sid)  # a clear error for an unknown session
        for i in range(win.sessions.count()):
            if win.sessions.item(i).data(0x0100) == sid:
                win.sessions.setCurrentRow(i)
    win.show()
    qapp.exec()
    store.close()
    return 0
