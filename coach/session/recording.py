"""Recording: the call's audio (held until redaction has seen it) and its session file, saved as it goes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.audio.file_source import SourceInfo
from coach.core.errors import UserError
from coach.core.events import AudioChunk
from coach.session import report
from coach.session.coaching import Coaching, Ending, PausedSpans, Subscriber, busy_event
from coach.session.writer import SessionWriter

if TYPE_CHECKING:
    from coach.core.pipeline import Event


class Recording(Subscriber):
    def __init__(self, paused: PausedSpans) -> None:
        self.paused = paused
        self.c: Coaching | None = None
        self.writer: SessionWriter | None = None
        self._told_disk = False

    def on_load(self, c: Coaching) -> None:
        self.c = c
        self.writer = c.session = SessionWriter(c.data, on_error=self._disk_trouble)

    def on_redact(self, span: tuple[float, float]) -> None:
        if self.writer is not None:
            self.writer.recorder.silence(*span)

    def on_event(self, e: Event) -> None:
        if not busy_event(e):
            self.snapshot()

    def on_chunk(self, chunk: AudioChunk, analysed: bool) -> None:
        assert self.writer is not None and self.c is not None and self.c.pipe is not None
        # held until redaction has seen it; what analysis never saw is recorded as silence
        self.writer.recorder.write(chunk, analysed=analysed)
        self.writer.recorder.release(self.c.pipe.checked_until)
        if self.writer.recorder.failed and not self._told_disk:
            self._told_disk = True
            self.c.console.notice(self.writer.recorder.failed + "; coaching continues")

    def snapshot(self, force: bool = False) -> None:
        c, w = self.c, self.writer
        if w is None or c is None or c.pipe is None or c.runner is None or not (force or w.due()):
            return
        info = SourceInfo(path=str(w.recorder.path), duration_s=w.recorder.duration_s or 0.001,
                          channels=2, sample_rate=16000, speakers={sp: i for i, sp in enumerate(c.speakers)}, split=c.split)
        assert c.model is not None
        doc = report.build(c.pipe, info, {"name": c.model.name, "compute_type": c.s.model.compute_type,
                                          "origin": c.model.origin}, c.src.now(), 0.0)
        h = c.src.health()
        doc["live"] = {"dropped_chunks": c.runner.dropped_chunks, "dropped_utterances": c.runner.dropped_utterances,
                       "dropped_blocks": h.dropped_blocks, "padded_s": h.padded_s, "drift_ppm": h.drift_ppm}
        try:
            w.save(self.paused.hide(doc), force=force)
        except UserError as e:  # a full disk must not stop the coaching
            self._disk_trouble(str(e))

    def _disk_trouble(self, message: str) -> None:
        if not self._told_disk and self.c is not None:
            self._told_disk = True
            self.c.console.notice(f"{message}; coaching continues")

    def on_end(self, end: Ending) -> None:
        if self.writer is None or self.c is None or self.c.pipe is None:
            return
        if end.ok:
            self.snapshot(force=True)
        # after a failed analysis, audio never redacted is written as silence
        self.writer.close(self.c.pipe.checked_until)
