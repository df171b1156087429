"""Runners drive the pipeline: the same pipeline, scheduled two ways.

ThreadedRunner is live use (and the real-time demo): a worker thread does VAD and cue
rules chunk by chunk, a second thread decodes utterances, and the clock is the source's
stream clock. SimulatedRunner (analyze) pushes a file through as fast as the CPU allows
with a computation-aware simulated clock, the method of whisper_streaming's simulation:
a decode cannot start before its audio has arrived nor before the decoder finished the
previous job, and its result appears at its start plus its measured processing time. So
cue times and latencies equal what live use on this machine would show.

The second pass (coach/core/pipeline.py) has a decoder thread of its own, at low priority: it
uses the core the first pass leaves idle and never delays a first-pass decode. The simulation
gives it its own timeline, the second core's.
"""

from __future__ import annotations

import heapq
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from coach.config.settings import Settings
from coach.core.events import AudioChunk, Flag
from coach.core.pipeline import Job, Pipeline
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


class _Timeline:
    """One decoder thread on the simulated clock: what waits for it, what it is decoding, when it is free."""

    def __init__(self) -> None:
        self.pending: list[Job] = []
        self.inflight: _Inflight | None = None
        self.free_at = 0.0

    def next_start(self) -> float:
        return max(self.free_at, min(j.available_at for j in self.pending)) if self.pending else float("inf")


class SimulatedRunner:
    def __init__(self, pipeline: Pipeline, clock: SimClock, progress: Callable[[float], None] | None = None) -> None:
        self.p = pipeline
        self.clock = clock
        self.progress = progress
        self._first, self._second = _Timeline(), _Timeline()  # the first pass's decoder thread, the second pass's

    # the first pass's timeline, as the scheduling tests set it up
    @property
    def _pending(self) -> list[Job]:
        return self._first.pending

    @_pending.setter
    def _pending(self, jobs: list[Job]) -> None:
        self._first.pending = jobs

    @property
    def _free_at(self) -> float:
        return self._first.free_at

    @_free_at.setter
    def _free_at(self, t: float) -> None:
        self._first.free_at = t

    def run(self, chunks: Iterable[AudioChunk]) -> None:
        for chunk in chunks:
            self._advance(chunk.t1)
            self.clock.start(chunk.t1)  # a chunk is processed once all of it has arrived
            self._add(self.p.feed(chunk))
            if self.progress:
                self.progress(chunk.t1)
        self.clock.start(self.p.position)
        self._add(self.p.finish())
        self._advance(float("inf"))
        self.p.drain()

    def _add(self, jobs: list[Job]) -> None:
        for job in jobs:
            line = self._second if job.second else self._first
            if job.partial:  # a newer partial of the same speech supersedes one still waiting
                stale = [j for j in line.pending if j.partial and j.speaker == job.speaker]
                self.p.partials_dropped += len(stale)
                line.pending = [j for j in line.pending if j not in stale]
            line.pending.append(job)

    def _advance(self, until: float) -> None:
        """Run both decoders' timelines up to stream time `until`, every result and every start in time order."""
        while True:
            lines = (self._first, self._second)
            done = [(x.inflight.done_at, k) for k, x in enumerate(lines) if x.inflight is not None]
            starts = [(x.next_start(), k) for k, x in enumerate(lines) if x.inflight is None and x.pending]
            done_at, k = min(done, default=(float("inf"), -1))
            start, k2 = min(starts, default=(float("inf"), -1))
            if k >= 0 and done_at <= start and done_at <= until:
                line = lines[k]
                f, line.inflight = line.inflight, None
                assert f is not None
                self.clock.start(f.done_at)
                self.p.complete(f.job, f.transcript)
                line.free_at = self.clock()
                continue
            if k2 < 0 or start >= until:
                return
            line = lines[k2]
            job = min(j for j in line.pending if j.available_at <= start)
            line.pending.remove(job)
            self.clock.start(start)
            if job.partial and not self.p.partial_wanted(job):
                self.p.partials_dropped += 1  # its speech ended meanwhile: the final decode says it all
                continue
            if job.second and start > job.deadline:
                self.p.complete(job, None)  # its text is no longer awaited: the first pass's stands
                continue
            tr = self.p.transcribe(job)
            line.inflight = _Inflight(job, tr, self.clock())


PARTIAL_MAX_AGE_S = 1.0  # a partial decode that waited longer than this is skipped: the next one is due


class RunnerStopped(RuntimeError):
    """The pipeline's workers have stopped (an error, or close()): nothing more is accepted."""


class _End:
    """No more audio: behind the last chunk, so everything before it is analysed."""


@dataclass
class _Decoded:
    job: Job
    transcript: Transcript | None  # None: skipped, too old to help anyone


@dataclass
class _NewSettings:
    settings: Settings


class Mailbox:
    """The pipeline thread's one inbox: audio in a bounded lane, everything else (decoded
    text, flags) in an unbounded lane served first, so a flag or a decode never waits
    behind 30 s of audio and a producer never blocks on it. Closing wakes everyone."""

    def __init__(self, audio_limit: int) -> None:
        self._audio: deque[AudioChunk | _End] = deque()
        self._control: deque[object] = deque()
        self._limit = audio_limit
        self._cv = threading.Condition()
        self._closed: BaseException | None = None

    def put_audio(self, item: AudioChunk | _End, block: bool = True, force: bool = False) -> bool:
        """Queue audio; False when full and not blocking. Raises once closed."""
        with self._cv:
            while not force and len(self._audio) >= self._limit and self._closed is None:
                if not block:
                    return False
                self._cv.wait()
            if self._closed is not None:
                raise RunnerStopped(str(self._closed)) from self._closed
            self._audio.append(item)
            self._cv.notify_all()
            return True

    def put_control(self, item: object) -> None:
        with self._cv:
            if self._closed is not None:
                raise RunnerStopped(str(self._closed)) from self._closed
            self._control.append(item)
            self._cv.notify_all()

    def get(self) -> object:
        """The next item, control first; raises once closed."""
        with self._cv:
            while not self._control and not self._audio and self._closed is None:
                self._cv.wait()
            if self._closed is not None:
                raise RunnerStopped(str(self._closed)) from self._closed
            item = self._control.popleft() if self._control else self._audio.popleft()
            self._cv.notify_all()
            return item

    def close(self, why: BaseException) -> None:
        with self._cv:
            if self._closed is None:
                self._closed = why
            self._cv.notify_all()

    def audio_waiting(self) -> int:
        return len(self._audio)


class _JobQueue:
    """Decode jobs by priority (customers first, then oldest); closing wakes the decoder."""

    def __init__(self) -> None:
        self._heap: list[Job] = []
        self._cv = threading.Condition()
        self._last = False  # no more jobs will come
        self._closed = False

    def put(self, job: Job) -> int:
        """Queue a job; a partial supersedes the same speaker's partial still waiting. Returns how many it superseded."""
        with self._cv:
            superseded = 0
            if job.partial:
                kept = [j for j in self._heap if not (j.partial and j.speaker == job.speaker)]
                superseded = len(self._heap) - len(kept)
                if superseded:
                    self._heap = kept
                    heapq.heapify(self._heap)
            heapq.heappush(self._heap, job)
            self._cv.notify()
            return superseded

    def last(self) -> None:
        with self._cv:
            self._last = True
            self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()

    def get(self) -> Job | None:
        """The next job; None when all are done or the queue was closed."""
        with self._cv:
            while not self._heap and not self._last and not self._closed:
                self._cv.wait()
            if self._closed or not self._heap:
                return None
            return heapq.heappop(self._heap)


class ThreadedRunner:
    """Real time: chunks arrive on the caller's thread (the source); a pipeline thread does
    VAD, rules and everything that touches the pipeline's state; a decoder thread runs the
    recognizer. The first error in either stops both at once, is handed to `on_error`, and
    is raised by put(), put_flag() and close(): nothing can block on a dead worker."""

    def __init__(self, pipeline: Pipeline, inbox_size: int = 300, max_text_age_s: float = 10.0, drop: bool = False,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.p = pipeline
        self.inbox = Mailbox(inbox_size)  # ~30 s of 100 ms chunks
        self.jobs = _JobQueue()
        self.second_jobs = _JobQueue()  # the second pass's, on a decoder thread of its own at low priority
        self._ends = 0  # decoder threads that have finished every job
        self.error: BaseException | None = None
        self.on_error = on_error
        # live: when processing falls behind, stale audio is dropped on purpose and counted
        # (a cue about something said a minute ago helps nobody); a file demo just waits
        self.drop = drop
        self.max_text_age_s = max_text_age_s
        self.dropped_chunks = 0
        self.dropped_utterances = 0
        self._error_lock = threading.Lock()
        self._worker = threading.Thread(target=self._guard, args=(self._work,), name="pipeline", daemon=True)
        self._asr = threading.Thread(target=self._guard, args=(self._decode,), name="asr", daemon=True)
        self._asr2 = threading.Thread(target=self._guard, args=(self._decode_second,), name="asr-second", daemon=True)

    def start(self) -> None:
        self._worker.start()
        self._asr.start()
        self._asr2.start()

    def put(self, chunk: AudioChunk) -> bool:
        """Hand over audio; False when it was dropped because analysis is behind (live only)."""
        if self.inbox.put_audio(chunk, block=not self.drop):
            return True
        self.dropped_chunks += 1
        if self.dropped_chunks in (1, 10, 100) or self.dropped_chunks % 1000 == 0:
            log.warning("falling behind: %d audio chunks (%.1f s) dropped from analysis", self.dropped_chunks, self.dropped_chunks * 0.1)
        return False

    def put_flag(self, flag: Flag) -> None:
        """A user's flag joins the pipeline's own thread, like everything that touches its state; never blocks."""
        self.inbox.put_control(flag)

    def put_settings(self, settings: Settings) -> None:
        """New settings (a copy nobody else holds) reach the pipeline on its own thread; never blocks."""
        self.inbox.put_control(_NewSettings(settings))

    def lag_s(self) -> float:
        """How far analysis trails the audio: chunks waiting, at 100 ms each."""
        return self.inbox.audio_waiting() * 0.1

    def close(self, timeout: float = 30.0) -> None:
        """No more audio: finish open utterances, wait for their text, stop the workers.
        Raises the workers' first error, or RunnerStopped if they do not finish in time."""
        if self.error is None:
            try:
                self.inbox.put_audio(_End(), force=True)
            except RunnerStopped:
                pass
        deadline = time.monotonic() + timeout
        for t in (self._worker, self._asr, self._asr2):
            if t.ident is not None:
                t.join(max(0.0, deadline - time.monotonic()))
        if self.error is not None:
            raise self.error
        if self._worker.is_alive() or self._asr.is_alive() or self._asr2.is_alive():
            self._fail(RunnerStopped(f"analysis did not finish within {timeout:g} s"))
            raise self.error  # type: ignore[misc]

    def _fail(self, e: BaseException) -> None:
        with self._error_lock:
            if self.error is not None:
                return
            self.error = e
        log.error("analysis stopped: %s", e, exc_info=(type(e), e, e.__traceback__))
        self.inbox.close(e)
        self.jobs.close()
        self.second_jobs.close()
        if self.on_error is not None:
            self.on_error(e)

    def _guard(self, body: Callable[[], None]) -> None:
        try:
            body()
        except RunnerStopped:
            pass  # the other thread failed first
        except BaseException as e:
            self._fail(e)

    def _work(self) -> None:
        ending = False
        while True:
            item = self.inbox.get()
            if isinstance(item, AudioChunk):
                for job in self.p.feed(item):
                    self.p.partials_dropped += (self.second_jobs if job.second else self.jobs).put(job)
            elif isinstance(item, _Decoded):
                self.p.complete(item.job, item.transcript)
            elif isinstance(item, Flag):
                self.p.add_flag(item)
            elif isinstance(item, _NewSettings):
                self.p.apply_settings(item.settings)
            elif isinstance(item, _End) and not ending:
                ending = True
                for job in self.p.finish():
                    (self.second_jobs if job.second else self.jobs).put(job)
                self.jobs.last()
                self.second_jobs.last()
            elif isinstance(item, _End):  # a decoder has drained every job
                self._ends += 1
                if self._ends == 2:
                    self.p.drain()
                    return

    def _decode(self) -> None:
        while (job := self.jobs.get()) is not None:
            if job.partial and (not self.p.partial_wanted(job) or self.p.clock() - job.available_at > PARTIAL_MAX_AGE_S):
                self.inbox.put_control(_Decoded(job, None))  # speech ended, or too late to be news: the first thing dropped
                continue
            if self.drop and self.p.clock() - job.available_at > self.max_text_age_s:
                self.dropped_utterances += 1  # stale: decoding it would only delay fresher speech
                log.warning("falling behind: skipped transcribing a %s utterance %.0f s old", job.speaker, self.p.clock() - job.available_at)
                self.inbox.put_control(_Decoded(job, None))
                continue
            self.inbox.put_control(_Decoded(job, self.p.transcribe(job)))
        self.inbox.put_control(_End())

    def _decode_second(self) -> None:
        """The second pass: the core the first pass leaves idle, never ahead of anything else."""
        _lower_priority()
        works = self.p.second is not None
        if works:
            try:
                self.p.second.ready()  # type: ignore[union-attr]  # loaded here: its worker threads inherit the low priority
            except Exception as e:  # noqa: BLE001 - a second pass that cannot load leaves the first pass's text
                log.warning("second pass off: %s", e)
                works = False
        while (job := self.second_jobs.get()) is not None:
            if not works or self.p.clock() > job.deadline:
                self.inbox.put_control(_Decoded(job, None))  # its first pass's text stands
                continue
            self.inbox.put_control(_Decoded(job, self.p.transcribe(job)))
        self.inbox.put_control(_End())


def _lower_priority() -> None:
    """This thread, and threads it starts, yield the CPU to everything else in the process and on the PC:
    nice +10 (Linux keeps a nice value per thread), THREAD_PRIORITY_LOWEST on Windows."""
    try:
        if sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + 10))
        elif sys.platform == "win32":
            import ctypes

            k32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            k32.SetThreadPriority(k32.GetCurrentThread(), -2)
    except (OSError, AttributeError) as e:  # a sandbox may refuse: the second pass still runs
        log.info("second pass at normal priority: %s", e)


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
