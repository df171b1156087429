"""The coaching session controller: one coached call, the same for demo and live, headless
or with the overlay. It owns the session's source, runner, pipeline, recording, session
file and store entry, and routes the pipeline's events to the console and the overlay
state. The composition root (coach/app/compose.py) builds it; the desktop (ui/app.py) wraps it."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.analysis.meaning import shared_meaning
from coach.app.console import Console
from coach.audio.file_source import FileSource, SourceInfo
from coach.audio.source import AudioSource
from coach.config import paths
from coach.config.settings import Settings
from coach.config.settings_store import SettingsStore
from coach.core.errors import UserError
from coach.core.events import Cue, Flag, Meters, Partial, Speaker, Utterance, VoiceLevel
from coach.core.pipeline import Event, Pipeline
from coach.core.runner import RunnerStopped, ThreadedRunner
from coach.session import report
from coach.session.live_state import LiveState
from coach.speech.models import ResolvedModel, resolve_model
from coach.speech.transcriber import Transcriber
from coach.voices import voiceprint
from coach.voices.mono_calls import OpeningWords

if TYPE_CHECKING:
    from coach.session.writer import SessionWriter
    from coach.store.db import Store
    from coach.team.link import TeamLink


_loaded: dict[tuple[str, str, int, str, int, str], Transcriber] = {}
_loading = threading.Lock()


def load_model(s: Settings, data: Path) -> tuple[Transcriber, ResolvedModel]:
    """The recognizer, loaded once per process for the same model and options (a mono call's
    separation and its analysis share it). A decode's text can depend on the decodes before it
    (the temperature fallback's random generator, transcriber.py)."""
    resolved = resolve_model(s.model.name, paths.model_dirs(data))
    key = (str(resolved.path), s.model.compute_type, s.model.threads, s.model.encoder_window, s.model.beam_size, s.model.prompt)
    with _loading:
        if key not in _loaded:
            try:
                _loaded[key] = Transcriber(*key)
            except (RuntimeError, ValueError) as e:
                raise UserError(f"cannot load model '{resolved.name}' from {resolved.path}: {e}") from None
        return _loaded[key], resolved


def open_store(s: Settings, data: Path) -> Store:
    """The session store, with retention applied: old sessions are deleted for real."""
    from coach.store.db import Store

    store = Store(paths.store_path(data))
    store.apply_retention(s.store.retention_days)
    return store


class Coaching:
    """One coaching session, the same for demo and live, headless or with the overlay:
    source -> recording -> runner -> pipeline -> console, overlay state and session file."""

    def __init__(self, s: Settings, data: Path, src: AudioSource, speakers: list[Speaker],
                 console: Console, state: LiveState | None = None, record: bool = False, live: bool = False,
                 store: bool = False, settings: SettingsStore | None = None, team: TeamLink | None = None) -> None:
        self.s, self.data, self.src, self.speakers = s, data, src, speakers
        self.console, self.state = console, state
        self.team = team  # the team server link (opt-in), None when nothing leaves this PC
        self.call_id = str(uuid.uuid4())  # the call's id on the team server: repeated uploads are one
        if team is not None:
            if state is None and s.team.share_live:  # headless, the live push still needs the overlay's view
                self.state = LiveState(s.cues.slow_down.max_wpm, visible_s=s.cues.visible_s)
            team.on_status = self._team_status
        self.record, self.live, self.store = record, live, store
        self.settings = settings  # the stored settings the overlay and dialog change; this session hears of it
        if settings is not None:
            settings.subscribe(self.apply_settings)
        self.session_id: int | None = None
        self._told_disk = False
        self.stop = threading.Event()
        self.paused = False  # tray "pause coaching": audio is still recorded, not analysed
        self.pauses: list[list[float]] = []  # "pause recording" spans: coaching goes on, nothing is stored
        self.pipe: Pipeline | None = None
        self.runner: ThreadedRunner | None = None
        self.session: SessionWriter | None = None
        self.model: ResolvedModel | None = None
        self.error: UserError | None = None
        # the agent's voiceprint learns from their own microphone in live calls, only if they opted in
        # (not from a mono device: its agent channel is the voices' split, a guess)
        self.split = getattr(src, "split", None)  # a mono call's two voices
        self.enroller = (voiceprint.Enroller() if live and s.voiceprint.enroll and "agent" in speakers and self.split is None
                         else None)
        self.opening = OpeningWords(self.split) if live and hasattr(self.split, "push") else None  # a live split

    def load(self) -> None:
        tr, self.model = load_model(self.s, self.data)
        self.pipe = Pipeline(self.s, tr, self.speakers, self.src.now, self._on_event, self._on_redact, shared_meaning())
        self.runner = ThreadedRunner(self.pipe, drop=self.live, on_error=self._failed)
        if self.record:
            from coach.session.writer import SessionWriter

            self.session = SessionWriter(self.data, on_error=self._disk_trouble)

    def _failed(self, e: BaseException) -> None:
        """The one error path of a session: shown at once, logged by the runner, and the run
        ends (close() raises it, so the process exits non-zero)."""
        self.console.notice(f"analysis stopped: {e}")
        if self.state is not None:
            self.state.set(health="error", health_text=f"error: {e}"[:80])
        self.stop.set()
        self.src.stop()

    def _on_redact(self, span: tuple[float, float]) -> None:
        if self.session is not None:
            self.session.recorder.silence(*span)

    def _on_event(self, e: Event) -> None:
        self.console.event(e)
        p = self.pipe
        if self.state is not None and p is not None:
            if isinstance(e, Cue):
                self.state.on_cue(e)
            elif isinstance(e, Utterance):
                self.state.on_utterance(e)
            elif isinstance(e, Meters):
                self.state.on_meters(e)
            elif isinstance(e, Flag):
                self.state.on_flag(e)
            elif isinstance(e, Partial):
                self.state.on_partial(e)
            elif isinstance(e, VoiceLevel):
                self.state.on_voice(e)
        if self.opening is not None and isinstance(e, Utterance):
            self.opening.heard(e.speaker, e.text, self.split.now())
        if self.team is not None and isinstance(e, (Cue, Flag)):
            self.team.nudge()
        if not isinstance(e, (Partial, VoiceLevel, Meters)):
            self.snapshot()

    def snapshot(self, force: bool = False) -> None:
        if self.session is None or self.pipe is None or self.runner is None or not (force or self.session.due()):
            return
        info = SourceInfo(path=str(self.session.recorder.path), duration_s=self.session.recorder.duration_s or 0.001,
                          channels=2, sample_rate=16000, speakers={sp: i for i, sp in enumerate(self.speakers)},
                          split=self.split)
        assert self.model is not None
        doc = report.build(self.pipe, info, {"name": self.model.name, "compute_type": self.s.model.compute_type,
                                             "origin": self.model.origin}, self.src.now(), 0.0)
        h = self.src.health()
        doc["live"] = {"dropped_chunks": self.runner.dropped_chunks, "dropped_utterances": self.runner.dropped_utterances,
                       "dropped_blocks": h.dropped_blocks, "padded_s": h.padded_s, "drift_ppm": h.drift_ppm}
        try:
            self.session.save(self._unpaused(doc), force=force)
        except UserError as e:  # a full disk must not stop the coaching
            self._disk_trouble(str(e))

    def _disk_trouble(self, message: str) -> None:
        if not self._told_disk:
            self._told_disk = True
            self.console.notice(f"{message}; coaching continues")

    def set_recording_paused(self, on: bool) -> None:
        """While paused (e.g. the customer reads out card details), coaching continues but
        no audio (silence is written, keeping the timeline) and no text is stored."""
        t = self.src.now()
        if on and not (self.pauses and self.pauses[-1][1] == float("inf")):
            self.pauses.append([t, float("inf")])
        elif not on and self.pauses and self.pauses[-1][1] == float("inf"):
            self.pauses[-1][1] = t
        if self.session is not None:
            self.session.recorder.paused = on

    def _unpaused(self, doc: dict[str, Any]) -> dict[str, Any]:
        def hidden(a: float, b: float) -> bool:
            return any(a < end and b > start for start, end in self.pauses)

        doc["utterances"] = [u for u in doc["utterances"] if not hidden(u["start"], u["end"])]
        doc["turns"] = [t for t in doc.get("turns", []) if not hidden(t["start"], t["end"])]
        doc["cues"] = [c for c in doc["cues"] if not hidden(c["t"] - c["latency_s"], c["t"])]
        doc["recording_paused"] = [[round(a, 2), round(b, 2) if b != float("inf") else None] for a, b in self.pauses]
        return doc

    def apply_settings(self, new: Settings) -> None:
        """A change from the settings dialog: cue thresholds, phrases and the overlay's limits apply
        now (the pipeline gets its own copy on its own thread); model, VAD and devices next session."""
        self.s = new
        if self.state is not None:
            self.state.set(wpm_limit=new.cues.slow_down.max_wpm)
            self.state.visible_s = new.cues.visible_s
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

    def _team_status(self, text: str) -> None:
        if self.state is not None:
            self.state.set(team=text)

    def live_summary(self) -> dict[str, Any]:
        """What the team server's live floor shows of this call: no words, no audio."""
        assert self.state is not None
        snap = self.state.snapshot()
        cue = self.state.cue_showing()
        return {"on_call": snap.phase in ("listening", "paused"), "call_id": self.call_id, "duration_s": round(snap.position, 1),
                "mood": None if snap.escalation is None else round(min(snap.escalation, 10.0), 3), "trend": snap.escalation_trend,
                "cue": cue.id if cue else None, "cue_severity": cue.severity if cue else None, "flags": snap.flags}

    def run(self, duration: float | None = None) -> None:
        assert self.runner is not None and self.pipe is not None
        if self.team is not None:
            self.team.start(self.live_summary if self.state is not None else None)
        self.runner.start()
        if self.state is not None:
            self.state.set(phase="listening", health="ok", health_text="audio OK")
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
                if self.enroller is not None and analysed and not (self.session and self.session.recorder.paused):
                    self.enroller.feed(chunk.channels["agent"])
                if self.session is not None:
                    # held until redaction has seen it; what analysis never saw is recorded as silence
                    self.session.recorder.write(chunk, analysed=analysed)
                    self.session.recorder.release(self.pipe.checked_until)
                    if self.session.recorder.failed and not self._told_disk:
                        self._told_disk = True
                        self.console.notice(self.session.recorder.failed + "; coaching continues")
                lag = self.runner.lag_s() if self.live else max(0.0, self.src.now() - self.pipe.position)
                self.console.progress(chunk.t1, duration, lag, dropped=self.runner.dropped_chunks * 0.1,
                                      partials_skipped=self.pipe.partials_dropped)
                if self.state is not None:
                    self._health(chunk.t1, lag)
        finally:
            try:
                self.runner.close()
            finally:
                if self.session is not None:
                    if self.runner.error is None:
                        self.snapshot(force=True)
                    # after a failed analysis, audio never redacted is written as silence
                    self.session.close(self.pipe.checked_until)
            doc = self._store() if self.store else None
            if self.enroller is not None and self.runner.error is None:
                learnt = self.enroller.finish(self.data)
                if learnt:
                    self.console.notice(f"voiceprint: learnt from {learnt:.0f} s of your speech (settings: Voiceprint)")
            if self.state is not None:
                self.state.set(phase="stopped")
            if self.team is not None:
                self._share(doc)

    def _share(self, doc: dict[str, Any] | None) -> None:
        """After the call: its summary and flagged segments go to the outbox, then to the server."""
        assert self.team is not None
        try:
            if doc is not None and self.runner is not None and self.runner.error is None:
                n = self.team.after_call(doc, self.call_id)
                if n:
                    whole = " and the whole call (your team's policy)" if self.team.share_whole_calls else ""
                    self.console.notice(f"team: sharing this call's summary, {len(doc['flags'])} flagged segment(s){whole}")
        finally:
            self.team.stop()
            left = self.team.outbox.count()
            if left:
                self.console.notice(f"team: {left} upload(s) queued; they go at the next start")

    def _store(self) -> dict[str, Any]:
        """The finished session joins the store, looking like any other; returns its document."""
        assert self.pipe is not None and self.model is not None
        if self.session is not None:
            doc = json.loads(self.session.json_path.read_text())
            audio = str(self.session.recorder.path)
        else:  # not recorded: a demo of a file, whose own audio is the session's
            src = self.src
            assert isinstance(src, FileSource)
            doc = self._unpaused(report.build(self.pipe, src.info, {"name": self.model.name,
                                                                    "compute_type": self.s.model.compute_type}, src.now(), 0.0))
            audio = src.info.path
        doc["call_id"] = self.call_id  # links the session to its team-server copy and its supervisors' notes
        store = open_store(self.s, self.data)
        try:
            self.session_id = store.save(doc, "live" if self.live else "demo", audio=audio)
            return store.get(self.session_id)
        finally:
            store.close()

    def _health(self, position: float, lag: float) -> None:
        assert self.state is not None
        lost = self.src.health().lost
        if lost:
            self.state.set(position=position, health="lost", health_text=f"{' and '.join(lost)} device lost")
        elif lag > 2.0 or (self.runner is not None and self.runner.dropped_chunks):
            self.state.set(position=position, health="behind", health_text=f"analysis {lag:.1f} s behind")
        else:
            self.state.set(position=position, health="ok", health_text="audio OK")

    def summary(self) -> str:
        p = self.pipe
        where = f"; session saved in {self.session.folder}" if self.session else ""
        if self.session_id is not None:
            where += f" (session {self.session_id}: `coach sessions show {self.session_id}`)"
        return f"{'stopped' if self.stop.is_set() else 'done'}: {len(p.utterances) if p else 0} utterances, " \
               f"{len(p.cues) if p else 0} cues{where}"
