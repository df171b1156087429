"""The coaching loop: one coached call, the same for demo and live, headless or with the overlay.

It owns the call's source, runner and pipeline, and tells its subscribers what happens: each
chunk of audio (with whether analysis saw it), each pipeline event, progress, new settings, the
end. Everything else a session does is a subscriber, chosen by coach/session/assemble.py:
recording.py, store_entry.py, overlay_feed.py, team_sharing.py, enrolment.py (the voiceprint and
the live voices' roles). The composition root (coach/app/compose.py) builds it; the
desktop (coach/ui/app.py) wraps it."""

from __future__ import annotations

import copy
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.analysis.meaning import shared_meaning
from coach.app.console import Console
from coach.audio.source import AudioSource
from coach.config.settings import Settings
from coach.core.errors import UserError
from coach.core.events import AudioChunk, Flag, Meters, Partial, Speaker, VoiceLevel
from coach.core.pipeline import Event, Pipeline
from coach.core.runner import RunnerStopped, ThreadedRunner
from coach.speech.engines import load_model
from coach.speech.models import ResolvedModel

if TYPE_CHECKING:
    from coach.config.settings_store import SettingsStore
    from coach.session.live_state import LiveState
    from coach.session.writer import SessionWriter


@dataclass
class Ending:
    """What subscribers learn when the call ends, in their order: the analysis went well (ok), and the
    stored document once the store entry has written it (later subscribers may share it)."""

    ok: bool
    doc: dict[str, Any] | None = None


class Subscriber:
    """Listens to one coaching session; every hook is optional. on_event runs on the pipeline's
    worker thread, on_chunk and on_progress on the loop's: keep them quick."""

    def on_load(self, c: Coaching) -> None:
        """The model is loaded and the pipeline built: nothing has been heard yet."""

    def on_start(self) -> None:
        """The first chunk is about to be read."""

    def on_event(self, e: Event) -> None:
        """An event of the pipeline: cue, utterance, partial words, meters, flag, voice level."""

    def on_chunk(self, chunk: AudioChunk, analysed: bool) -> None:
        """A chunk of audio; analysed=False: analysis never saw it (paused, or dropped under load)."""

    def on_progress(self, position: float, lag: float) -> None:
        """After each chunk: the stream position and how far analysis is behind."""

    def on_redact(self, span: tuple[float, float]) -> None:
        """A span of audio redaction decided must not be kept (a card read out)."""

    def on_error(self, message: str) -> None:
        """Analysis failed; the session ends."""

    def on_settings(self, new: Settings) -> None:
        """The settings dialog changed something."""

    def on_end(self, end: Ending) -> None:
        """The runner is closed: finish, in subscriber order."""


@dataclass
class PausedSpans:
    """"Pause recording" spans (the customer reads out card details): coaching goes on, nothing is
    stored from inside them. Shared by the subscribers that store or share."""

    spans: list[list[float]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.spans) and self.spans[-1][1] == float("inf")

    def set(self, on: bool, t: float) -> None:
        if on and not self.active:
            self.spans.append([t, float("inf")])
        elif not on and self.active:
            self.spans[-1][1] = t

    def hide(self, doc: dict[str, Any]) -> dict[str, Any]:
        def hidden(a: float, b: float) -> bool:
            return any(a < end and b > start for start, end in self.spans)

        doc["utterances"] = [u for u in doc["utterances"] if not hidden(u["start"], u["end"])]
        doc["turns"] = [t for t in doc.get("turns", []) if not hidden(t["start"], t["end"])]
        doc["cues"] = [c for c in doc["cues"] if not hidden(c["t"] - c["latency_s"], c["t"])]
        doc["recording_paused"] = [[round(a, 2), round(b, 2) if b != float("inf") else None] for a, b in self.spans]
        return doc


class Coaching:
    """source -> runner -> pipeline, and every subscriber told what happened."""

    def __init__(self, s: Settings, data: Path, src: AudioSource, speakers: list[Speaker], console: Console,
                 subscribers: list[Subscriber] | None = None, live: bool = False, settings: SettingsStore | None = None,
                 paused: PausedSpans | None = None) -> None:
        self.s, self.data, self.src, self.speakers, self.console, self.live = s, data, src, speakers, console, live
        self.subscribers: list[Subscriber] = list(subscribers or [])
        self.call_id = str(uuid.uuid4())  # the call's id on the team server: repeated uploads are one
        self.pauses = paused or PausedSpans()
        self.settings = settings  # the stored settings the overlay and dialog change; this session hears of it
        if settings is not None:
            settings.subscribe(self.apply_settings)
        self.stop = threading.Event()
        self.paused = False  # tray "pause coaching": audio is still recorded, not analysed
        self.split = getattr(src, "split", None)  # a mono call's two voices
        self.pipe: Pipeline | None = None
        self.runner: ThreadedRunner | None = None
        self.model: ResolvedModel | None = None
        # set by the subscribers that have them (assemble.py): the UI and tests read them here
        self.state: LiveState | None = None
        self.session: SessionWriter | None = None
        self.session_id: int | None = None

    def load(self) -> None:
        tr, self.model = load_model(self.s, self.data)
        self.pipe = Pipeline(self.s, tr, self.speakers, self.src.now, self._on_event, self._on_redact, shared_meaning())
        self.runner = ThreadedRunner(self.pipe, drop=self.live, on_error=self._failed)
        for sub in self.subscribers:
            sub.on_load(self)

    def _failed(self, e: BaseException) -> None:
        """The one error path of a session: shown at once, logged by the runner, and the run
        ends (close() raises it, so the process exits non-zero)."""
        self.console.notice(f"analysis stopped: {e}")
        for sub in self.subscribers:
            sub.on_error(str(e))
        self.stop.set()
        self.src.stop()

    def _on_redact(self, span: tuple[float, float]) -> None:
        for sub in self.subscribers:
            sub.on_redact(span)

    def _on_event(self, e: Event) -> None:
        self.console.event(e)
        for sub in self.subscribers:
            sub.on_event(e)

    def set_recording_paused(self, on: bool) -> None:
        """While paused (e.g. the customer reads out card details), coaching continues but
        no audio (silence is written, keeping the timeline) and no text is stored."""
        self.pauses.set(on, self.src.now())
        if self.session is not None:
            self.session.recorder.paused = on

    def apply_settings(self, new: Settings) -> None:
        """A change from the settings dialog: cue thresholds, phrases and the overlay's limits apply
        now (the pipeline gets its own copy on its own thread); model, VAD and devices next session."""
        self.s = new
        for sub in self.subscribers:
            sub.on_settings(new)
        if self.runner is not None:
            try:
                self.runner.put_settings(copy.deepcopy(new))
            except RunnerStopped:
                pass

    def flag(self, note: str = "") -> None:
        """A flag from the agent (overlay shortcut or tray): the last 20 s and the next 10 s."""
        if self.runner is not None:
            t = self.src.now()
            try:
                self.runner.put_flag(Flag(round(max(0.0, t - 20.0), 2), round(t + 10.0, 2), "flagged by the agent", "user", note))
            except RunnerStopped:
                pass  # the session has already failed, and said so

    def run(self, duration: float | None = None) -> None:
        assert self.runner is not None and self.pipe is not None
        for sub in self.subscribers:
            sub.on_start()
        self.runner.start()
        try:
            for chunk in self.src.chunks():
                if self.stop.is_set():
                    break
                analysed = False
                if not self.paused:
                    try:
                        analysed = self.runner.put(chunk)
                    except RunnerStopped:
                        break  # close() below raises the error that stopped it
                for sub in self.subscribers:
                    sub.on_chunk(chunk, analysed)
                lag = self.runner.lag_s() if self.live else max(0.0, self.src.now() - self.pipe.position)
                self.console.progress(chunk.t1, duration, lag, dropped=self.runner.dropped_chunks * 0.1,
                                      partials_skipped=self.pipe.partials_dropped)
                for sub in self.subscribers:
                    sub.on_progress(chunk.t1, lag)
        finally:
            try:
                self.runner.close()
            finally:
                end = Ending(ok=self.runner.error is None)
                for sub in self.subscribers:
                    sub.on_end(end)

    def summary(self) -> str:
        p = self.pipe
        where = f"; session saved in {self.session.folder}" if self.session else ""
        if self.session_id is not None:
            where += f" (session {self.session_id}: `coach sessions show {self.session_id}`)"
        return f"{'stopped' if self.stop.is_set() else 'done'}: {len(p.utterances) if p else 0} utterances, " \
               f"{len(p.cues) if p else 0} cues{where}"


def busy_event(e: Event) -> bool:
    """Events that come many times a second: no reason to save the session for them."""
    return isinstance(e, (Partial, VoiceLevel, Meters))


__all__ = ["Coaching", "Ending", "PausedSpans", "Subscriber", "UserError", "busy_event"]
