"""Runners drive the pipeline: the same pipeline, scheduled two ways.

ThreadedRunner is live use (and the real-time demo): a worker thread does VAD and cue
rules chunk by chunk, a second thread decodes utterances, and the clock is the source's
stream clock. SimulatedRunner (analyze) pushes a file through as fast as the CPU allows
with a computation-aware simulated clock, the method of whisper_streaming's simulation:
a decode cannot start before its audio has arrived nor before the decoder finished the
previous job, and its result appears at its start plus its measured processing time. So
cue times and latencies equal what live use on this machine would show.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from coach.events import AudioChunk, Flag
from coach.pipeline import Job, Pipeline
from coach.speech.transcriber import Transcript

log = logging.getLogger(__name__)


class SimClock:
    """Stream time = the moment the current work item began + wall time spent on it."""

    def __init__(self) -> None:
        self._base = 0.0
        self._wall = time.perf_counter()

    def start(self, at: float) -> None:
        self._base, self._wall = at, time.perf_counter()

    def __call__(self) -> float:
        return self._base + (time.perf_counter() - self._wall)


@dataclass
class _Inflight:
    job: Job
    transcript: Transcript
    done_at: float


class SimulatedRunner:
    def __init__(self, pipeline: Pipeline, clock: SimClock, progress: Callable[[float], None] | None = None) -> None:
        self.p = pipeline
        self.clock = clock
        self.progress = progress
        self._pending: list[Job] = []
        self._inflight: _Inflight | None = None
        self._free_at = 0.0  # when the decoder thread would next be idle

    def run(self, chunks: Iterable[AudioChunk]) -> None:
        for chunk in chunks:
            self._advance(chunk.t1)
            self.clock.start(chunk.t1)  # a chunk is processed once all of it has arrived
            self._pending += self.p.feed(chunk)
            if self.progress:
                self.progress(chunk.t1)
        self.clock.start(self.p.position)
        self._pending += self.p.finish()
        self._advance(float("inf"))

    def _advance(self, until: float) -> None:
        """Run the decoder's timeline up to stream time `until`, in order."""
        while True:
            if self._inflight is not None:
                if self._inflight.done_at > until:
                    return
                f, self._inflight = self._inflight, None
                self.clock.start(f.done_at)
                self.p.complete(f.job, f.transcript)
                self._free_at = self.clock()
                continue
            if not self._pending:
                return
            start = max(self._free_at, min(j.available_at for j in self._pending))
            if start >= until:
                return
            job = min(j for j in self._pending if j.available_at <= start)
            self._pending.remove(job)
            self.clock.start(start)
            tr = self.p.transcribe(job)
            self._inflight = _Inflight(job, tr, self.clock())


_STOP = object()


class ThreadedRunner:
    """Real time: chunks arrive on the caller's thread (the source), work runs on two workers."""

    def __init__(self, pipeline: Pipeline, inbox_size: int = 300, max_text_age_s: float = 10.0, drop: bool = False) -> None:
        self.p = pipeline
        self.inbox: queue.Queue = queue.Queue(maxsize=inbox_size)  # ~30 s of 100 ms chunks
        self.jobs: queue.PriorityQueue = queue.PriorityQueue()
        self.error: BaseException | None = None
        # live: when processing falls behind, stale audio is dropped on purpose and counted
        # (a cue about something said a minute ago helps nobody); a file demo just waits
        self.drop = drop
        self.max_text_age_s = max_text_age_s
        self.dropped_chunks = 0
        self.dropped_utterances = 0
        self._worker = threading.Thread(target=self._work, name="pipeline", daemon=True)
        self._asr = threading.Thread(target=self._decode, name="asr", daemon=True)

    def start(self) -> None:
        self._worker.start()
        self._asr.start()

    def put(self, chunk: AudioChunk) -> None:
        if not self.drop:
            self.inbox.put(chunk)
            return
        try:
            self.inbox.put_nowait(chunk)
        except queue.Full:
            self.dropped_chunks += 1
            if self.dropped_chunks in (1, 10, 100) or self.dropped_chunks % 1000 == 0:
                log.warning("falling behind: %d audio chunks (%.1f s) dropped from analysis, recording kept",
                            self.dropped_chunks, self.dropped_chunks * 0.1)

    def put_flag(self, flag: Flag) -> None:
        """A user's flag joins the pipeline's own thread, like everything that touches its state."""
        self.inbox.put(flag)

    def lag_s(self) -> float:
        """How far analysis trails the audio: chunks waiting, at 100 ms each."""
        return self.inbox.qsize() * 0.1

    def close(self) -> None:
        """No more audio: finish open utterances, wait for their text, stop the workers."""
        self.inbox.put(_STOP)
        self._worker.join()
        self._asr.join()
        if self.error is not None:
            raise self.error

    def _submit(self, jobs: list[Job]) -> None:
        for job in jobs:
            self.jobs.put(job)

    def _work(self) -> None:
        try:
            while True:
                item = self.inbox.get()
                if item is _STOP:
                    self._submit(self.p.finish())
                    self.jobs.put(_LastJob())
                    # drain decoded results until the ASR thread says it is done
                    while (item := self.inbox.get()) is not _STOP:
                        if isinstance(item, Flag):
                            self.p.add_flag(item)
                        elif not isinstance(item, AudioChunk):
                            self.p.complete(*item)
                    return
                if isinstance(item, AudioChunk):
                    self._submit(self.p.feed(item))
                elif isinstance(item, Flag):
                    self.p.add_flag(item)
                else:
                    self.p.complete(*item)
        except BaseException as e:  # surfaced to the caller by close()
            self.error = e
            self.jobs.put(_LastJob())

    def _decode(self) -> None:
        try:
            while True:
                job = self.jobs.get()
                if isinstance(job, _LastJob):
                    self.inbox.put(_STOP)
                    return
                if self.drop and self.p.clock() - job.available_at > self.max_text_age_s:
                    self.dropped_utterances += 1  # stale: decoding it would only delay fresher speech
                    log.warning("falling behind: skipped transcribing a %s utterance %.0f s old",
                                job.speaker, self.p.clock() - job.available_at)
                    continue
                self.inbox.put((job, self.p.transcribe(job)))
        except BaseException as e:
            self.error = e
            self.inbox.put(_STOP)


class _LastJob:
    """Sorts after every real job, so the ASR thread drains them all before stopping."""

    key = (9, 0, 0)

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True


def run_realtime(pipeline: Pipeline, chunks: Iterable[AudioChunk], stop: threading.Event | None = None) -> None:
    runner = ThreadedRunner(pipeline)
    runner.start()
    try:
        for chunk in chunks:
            if stop is not None and stop.is_set():
                break
            runner.put(chunk)
    finally:
        runner.close()

