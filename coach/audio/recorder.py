"""Session audio written to disk as it arrives, crash-safe.

A WAV header holds the data length, so a file killed mid-call normally claims to be
empty (Python's wave rejects it; FACTS.md). Here every write goes straight to the OS
(unbuffered) and the header is patched after it, so a kill -9 leaves a valid file that
ends within one chunk (100 ms) of the moment of death. Left channel agent, right customer.
"""

from __future__ import annotations

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

    def write(self, chunk: AudioChunk) -> None:
        n = chunk.n
        zeros = np.zeros(n, np.float32)
        stereo = np.stack([chunk.channels.get("agent", zeros), chunk.channels.get("customer", zeros)], axis=1)
        if self.paused:
            stereo = np.zeros_like(stereo)
        pcm = (np.clip(stereo, -1, 1) * 32767).astype("<i2")
        self._wav.writeframes(pcm.tobytes())  # wave patches the header after each write
        self.frames += n

    @property
    def duration_s(self) -> float:
        return self.frames / SAMPLE_RATE

    def close(self) -> None:
        self._wav.close()
        self._file.close()
