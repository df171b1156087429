"""Session audio written to disk as it arrives, crash-safe.

A WAV header holds the data length, so a file killed mid-call normally claims to be
empty (Python's wave rejects it; FACTS.md). Here every write goes straight to the OS
(unbuffered) and the header is patched after it, so a kill -9 leaves a valid file that
ends within one chunk (100 ms) of the moment of death. Left channel agent, right customer.
"""

from __future__ import annotations

import threading
import wave
from pathlib import Path

import numpy as np

from coach.events import SAMPLE_RATE, AudioChunk


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed in close()
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self.frames = 0
        self.paused = False  # "pause recording": coaching goes on, nothing is stored
        self._lock = threading.Lock()  # write() on the source thread, silence() on the pipeline's
        self._pending: list[tuple[int, int]] = []  # spans to silence that are not written yet
        self.failed: str | None = None  # why recording stopped (disk full...): coaching goes on

    def write(self, chunk: AudioChunk) -> None:
        n = chunk.n
        zeros = np.zeros(n, np.float32)
        stereo = np.stack([chunk.channels.get("agent", zeros), chunk.channels.get("customer", zeros)], axis=1)
        if self.paused:
            stereo = np.zeros_like(stereo)
        if self.failed:
            return
        with self._lock:
            for a, b in self._pending:  # silence arriving audio inside a span already known
                lo, hi = max(a - self.frames, 0), min(b - self.frames, n)
                if lo < hi:
                    stereo[lo:hi] = 0
            self._pending = [(a, b) for a, b in self._pending if b > self.frames + n]
            pcm = (np.clip(stereo, -1, 1) * 32767).astype("<i2")
            if self.failed:
                return
            try:
                self._wav.writeframes(pcm.tobytes())  # wave patches the header after each write
            except OSError as e:
                self.failed = f"recording stopped at {self.duration_s:.0f} s: {e.strerror or e}"
                return
            self.frames += n

    def silence(self, start_s: float, end_s: float) -> None:
        """Overwrite a span of the recording with silence (both channels), now or when it arrives."""
        a, b = max(0, int(start_s * SAMPLE_RATE) - 1600), int(end_s * SAMPLE_RATE) + 1600  # 0.1 s margin
        with self._lock:
            done = min(b, self.frames)
            if a < done:
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

    def close(self) -> None:
        with self._lock:
            try:
                self._wav.close()
                self._file.close()
            except OSError:
                pass  # a full disk: what was written is still a valid file up to its last header patch
