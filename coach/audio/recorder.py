"""Session audio, written to disk once redaction has seen it, crash-safe.

Privacy is a gate: audio is held in memory until the pipeline says everything before a
point in stream time has been transcribed and redacted (`release`), so card digits are
silenced before they are written, never after. Audio that was not analysed (coaching
paused, dropped under load) is written as silence. If analysis falls more than
HOLD_MAX_S behind, the oldest held audio is written as silence rather than unchecked.

A WAV header holds the data length, so a file killed mid-call normally claims to be
empty (Python's wave rejects it; docs/facts.md). Here every write goes straight to the OS
(unbuffered) and the header is patched after it, so a kill -9 leaves a valid file that
ends where the checked audio ended (at most HOLD_MAX_S, normally a few seconds, before
the moment of death). Left channel agent, right customer.
"""

from __future__ import annotations

import logging
import threading
import wave
from collections import deque
from pathlib import Path

import numpy as np

from coach.core.events import SAMPLE_RATE, AudioChunk

HOLD_MAX_S = 60.0
MARGIN = 1600  # 0.1 s around a silenced span
log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed in close()
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self.failed: str | None = None  # why recording stopped (disk full...): coaching goes on
        try:
            self._wav.writeframes(b"")  # the header now: a file killed before the first release is a valid empty WAV
        except OSError as e:
            self.failed = f"recording stopped at 0 s: {e.strerror or e}"
        self.frames = 0  # written to disk
        self.held_frames = 0  # in memory, waiting for redaction
        self.unchecked_s = 0.0  # written as silence because analysis was too far behind
        self.paused = False  # "pause recording": coaching goes on, nothing is stored
        self._lock = threading.Lock()  # write() on the source thread, silence()/release() on the pipeline's
        self._held: deque[np.ndarray] = deque()  # stereo float32 blocks after self.frames
        self._pending: list[tuple[int, int]] = []  # spans to silence that are not written yet

    def write(self, chunk: AudioChunk, analysed: bool = True) -> None:
        """Hold a chunk until redaction has seen it; not analysed (or paused) means silence."""
        n = chunk.n
        zeros = np.zeros(n, np.float32)
        stereo = np.stack([chunk.channels.get("agent", zeros), chunk.channels.get("customer", zeros)], axis=1)
        if self.paused or not analysed:
            stereo = np.zeros_like(stereo)
        with self._lock:
            self._held.append(stereo)
            self.held_frames += n
            over = self.held_frames - int(HOLD_MAX_S * SAMPLE_RATE)
            if over > 0:  # analysis is far behind: what it has not checked is not stored
                self._flush(over, silent=True)
                self.unchecked_s += over / SAMPLE_RATE
                log.warning("recording: %.1f s written as silence, analysis more than %.0f s behind", over / SAMPLE_RATE, HOLD_MAX_S)

    def release(self, until_s: float) -> None:
        """Everything before `until_s` has been redacted: write it."""
        with self._lock:
            self._flush(min(self.held_frames, max(0, int(until_s * SAMPLE_RATE) - self.frames)))

    def _flush(self, n: int, silent: bool = False) -> None:
        """Write the oldest n held frames (caller holds the lock)."""
        while n > 0 and self._held:
            block = self._held.popleft()
            if len(block) > n:
                self._held.appendleft(block[n:])
                block = block[:n]
            n -= len(block)
            self.held_frames -= len(block)
            self._write_now(np.zeros_like(block) if silent else block)

    def _write_now(self, stereo: np.ndarray) -> None:
        n = len(stereo)
        for a, b in self._pending:  # silence audio inside a span already known
            lo, hi = max(a - self.frames, 0), min(b - self.frames, n)
            if lo < hi:
                stereo = stereo.copy() if not stereo.flags.writeable else stereo
                stereo[lo:hi] = 0
        self._pending = [(a, b) for a, b in self._pending if b > self.frames + n]
        if self.failed:
            self.frames += n
            return
        pcm = (np.clip(stereo, -1, 1) * 32767).astype("<i2")
        try:
            self._wav.writeframes(pcm.tobytes())  # wave patches the header after each write
        except OSError as e:
            self.failed = f"recording stopped at {self.duration_s:.0f} s: {e.strerror or e}"
            return
        self.frames += n

    def silence(self, start_s: float, end_s: float) -> None:
        """Silence a span of the recording (both channels): in memory if it is still held,
        on disk if it was written (only audio released before its redaction was known: the
        margin, or a span found after the hold's bound)."""
        a, b = max(0, int(start_s * SAMPLE_RATE) - MARGIN), int(end_s * SAMPLE_RATE) + MARGIN
        with self._lock:
            done = min(b, self.frames)
            if a < done and not self.failed:
                end = self._file.tell()
                self._file.seek(self._header_size() + a * 4)
                self._file.write(bytes((done - a) * 4))
                self._file.seek(end)
            if b > self.frames:
                self._pending.append((max(a, self.frames), b))

    def _header_size(self) -> int:
        return 44  # Python's wave writes the canonical 44-byte PCM header

    @property
    def duration_s(self) -> float:
        return self.frames / SAMPLE_RATE

    def close(self, checked_until: float = float("inf")) -> None:
        """Write what is held: up to `checked_until` as it is, the rest (never redacted: the
        analysis failed) as silence."""
        with self._lock:
            self._flush(min(self.held_frames, max(0, int(checked_until * SAMPLE_RATE) - self.frames)) if checked_until < float("inf")
                        else self.held_frames)
            self._flush(self.held_frames, silent=True)
            try:
                self._wav.close()
            except OSError:  # a full disk: what was written is still a valid file up to its last header patch
                self._wav._file = None  # or wave's __del__ tries the same header write again
            try:
                self._file.close()
            except OSError:
                pass
