"""The composition root: the only module that knows every part and wires them together."""

from __future__ import annotations

import os
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach import paths, report
from coach import settings as settings_mod
from coach.audio.file_source import FileSource
from coach.console import Console
from coach.errors import UserError
from coach.events import Speaker
from coach.pipeline import Event, Pipeline
from coach.runner import SimClock, SimulatedRunner, ThreadedRunner
from coach.settings import Settings
from coach.speech.models import ResolvedModel, resolve_model
from coach.speech.transcriber import Transcriber


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


def _stop_on_signals(stop: threading.Event, src: FileSource) -> None:
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
