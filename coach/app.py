"""The composition root: the only module that knows every part and wires them together."""

from __future__ import annotations

import logging
import os
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach import paths, report
from coach import settings as settings_mod
from coach.audio.devices import InputDevice
from coach.audio.file_source import FileSource, SourceInfo
from coach.console import Console
from coach.errors import UserError
from coach.events import Speaker
from coach.pipeline import Event, Pipeline
from coach.runner import SimClock, SimulatedRunner, ThreadedRunner
from coach.settings import Settings
from coach.speech.models import ResolvedModel, resolve_model
from coach.speech.transcriber import Transcriber

if TYPE_CHECKING:
    from coach.audio.live_source import LiveSource
    from coach.session import SessionWriter


@dataclass
class Options:
    data_dir: str | None = None
    model: str | None = None
    agent_channel: int | None = None
    speaker: Speaker | None = None
    encoder_window: str | None = None


def load_settings(opts: Options) -> tuple[Settings, Path]:
    data = paths.data_dir(opts.data_dir)
    path = paths.settings_path(data)
    s = settings_mod.load(path)
    if not path.exists():
        try:  # first run: write the defaults where the user can find and edit them
            settings_mod.save(s, path)
        except OSError as e:
            raise UserError(f"cannot create the data folder {data}: {e.strerror}") from None
    if opts.model:
        s.model.name = opts.model
    if opts.encoder_window:
        s.model.encoder_window = opts.encoder_window
    return settings_mod.validate(s), data


def open_source(path: str, s: Settings, opts: Options, realtime: bool = False, speed: float = 1.0) -> FileSource:
    return FileSource(path, agent_channel=opts.agent_channel, mono_speaker=opts.speaker or s.audio.mono_speaker,  # type: ignore[arg-type]
                      stereo_agent_channel=s.audio.agent_channel, realtime=realtime, speed=speed)


def load_model(s: Settings, data: Path) -> tuple[Transcriber, ResolvedModel]:
    resolved = resolve_model(s.model.name, paths.model_dirs(data))
    try:
        tr = Transcriber(str(resolved.path), s.model.compute_type, s.model.threads, s.model.encoder_window)
    except (RuntimeError, ValueError) as e:
        raise UserError(f"cannot load model '{resolved.name}' from {resolved.path}: {e}") from None
    return tr, resolved


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def analyze(call: str, out: str, opts: Options, progress: bool = True) -> dict[str, Any]:
    """Push a recorded call through the live pipeline as fast as possible; write the JSON."""
    s, data = load_settings(opts)
    report.check_writable(out)
    src = open_source(call, s, opts)
    tr, model = load_model(s, data)
    clock = SimClock()
    pipe = Pipeline(s, tr, list(src.info.speakers), clock)
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
    return doc


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def demo(call: str | None, opts: Options, speed: float = 1.0, transcript: bool = False) -> int:
    """Trainer demo: play a call at real-time pace through the live pipeline, print cues."""
    s, data = load_settings(opts)
    path = call or str(paths.sample_call())
    if speed <= 0:
        raise UserError("--speed must be above 0")
    src = open_source(path, s, opts, realtime=True, speed=speed)
    console = Console(transcript=transcript)
    print(f"loading model '{s.model.name}' ...", flush=True)
    tr, model = load_model(s, data)
    print(f"playing {Path(path).name} ({src.info.duration_s:.0f} s) at {speed:g}x; Ctrl-C stops", flush=True)
    events: list[Event] = []

    def on_event(e: Event) -> None:
        events.append(e)
        console.event(e)

    pipe = Pipeline(s, tr, list(src.info.speakers), src.now, on_event)
    stop = threading.Event()
    _stop_on_signals(stop, src)
    runner = ThreadedRunner(pipe)
    runner.start()
    try:
        for chunk in src.chunks():
            if stop.is_set():
                break
            runner.put(chunk)
            console.progress(chunk.t1, src.info.duration_s, max(0.0, src.now() - pipe.position))
    finally:
        runner.close()
    cues = [e for e in events if e.__class__.__name__ == "Cue"]
    print(f"\n{'stopped' if stop.is_set() else 'done'}: {len(pipe.utterances)} utterances, {len(cues)} cues", flush=True)
    return 0


def _stop_on_signals(stop: threading.Event, src: FileSource | LiveSource) -> None:
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


def _setup_log(data: Path) -> Path:
    """Warnings and errors to <data>/logs/coach.log: drops, lost devices, recoveries."""
    logs = data / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / "coach.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("coach")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def _live_devices(s: Settings, lo: LiveOptions, data: Path) -> tuple[dict[Speaker, InputDevice] | None, tuple[InputDevice, int] | None]:
    """Devices from the command line, else the remembered ones; command-line choices are remembered."""
    from coach.audio.devices import list_inputs, resolve

    inputs = list_inputs()
    if not inputs:
        raise UserError("no audio input devices found: plug in a headset, or check the sound server is running")
    stereo_q = lo.stereo_device or (None if (lo.agent_device or lo.customer_device) else s.audio.stereo_device or None)
    if stereo_q:
        dev = resolve(stereo_q, devices=inputs)
        channel = lo.agent_channel if lo.agent_channel is not None else s.audio.agent_channel
        if channel not in (0, 1):
            raise UserError("--agent-channel must be 0 or 1")
        s.audio.stereo_device, s.audio.agent_channel = dev.label, channel
        settings_mod.save(s, paths.settings_path(data))
        return None, (dev, channel)
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
    s.audio.agent_device, s.audio.customer_device, s.audio.stereo_device = agent.label, customer.label, ""
    settings_mod.save(s, paths.settings_path(data))
    return {"agent": agent, "customer": customer}, None


def live(opts: Options, lo: LiveOptions) -> int:
    """Live coaching from the agent's mic and the softphone's output; headless: cues to the terminal."""
    from coach.audio.live_source import LiveSource
    from coach.session import SessionWriter

    s, data = load_settings(opts)
    devices, stereo = _live_devices(s, lo, data)
    log_path = _setup_log(data)
    console = Console()
    print(f"loading model '{s.model.name}' ...", flush=True)
    tr, model = load_model(s, data)
    session = SessionWriter(data)
    src = LiveSource(devices, stereo, lo.duration_s, on_notice=console.notice)
    holder: dict[str, Pipeline] = {}

    def snapshot(force: bool = False) -> None:
        p = holder["p"]
        doc = report.build(p, _live_info(session, src), {"name": model.name, "compute_type": s.model.compute_type,
                                                          "origin": model.origin}, src.now(), 0.0)
        doc["live"] = {"dropped_chunks": runner.dropped_chunks, "dropped_utterances": runner.dropped_utterances,
                       "dropped_blocks": src.dropped_blocks, "padded_s": {k: round(v / 16000, 2) for k, v in src.padded.items()},
                       "drift_ppm": round(src.drift_ppm(), 1), "log": str(log_path)}
        session.save(doc, force=force)

    def on_event(e: Event) -> None:
        console.event(e)
        snapshot()

    pipe = Pipeline(s, tr, src.speakers, src.now, on_event)
    holder["p"] = pipe
    runner = ThreadedRunner(pipe, drop=True)
    stop = threading.Event()
    _stop_on_signals(stop, src)
    src.start()
    sides = (f"stereo {stereo[0].label}, agent on channel {stereo[1]}" if stereo
             else f"agent = {devices['agent'].label}, customer = {devices['customer'].label}")  # type: ignore[index]
    print(f"listening: {sides}; saving to {session.folder}; Ctrl-C stops", flush=True)
    runner.start()
    try:
        for chunk in src.chunks():
            session.recorder.write(chunk)  # the recording never drops, whatever analysis does
            runner.put(chunk)
            console.progress(chunk.t1, None, runner.lag_s(), dropped=runner.dropped_chunks * 0.1)
    finally:
        runner.close()
        snapshot(force=True)
        session.close()
    print(f"\n{'stopped' if stop.is_set() else 'done'}: {len(pipe.utterances)} utterances, {len(pipe.engine.fired)} cues; "
          f"session saved in {session.folder}", flush=True)
    return 0


def _live_info(session: SessionWriter, src: LiveSource) -> SourceInfo:
    return SourceInfo(path=str(session.recorder.path), duration_s=session.recorder.duration_s or 0.001,
                      channels=2, sample_rate=16000, speakers={s: i for i, s in enumerate(src.speakers)})
