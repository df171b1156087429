"""Acoustic arousal from the audio itself: loudness against the speaker's own baseline."""

from __future__ import annotations

import numpy as np

FRAME = 400  # 25 ms at 16 kHz


def loudness_db(audio: np.ndarray) -> float:
    """Loudness of the voiced part of an utterance: mean power of its louder half of frames, in dBFS."""
    n = len(audio) // FRAME
    if n == 0:
        return -120.0
    power = np.mean(audio[: n * FRAME].reshape(n, FRAME).astype(np.float64) ** 2, axis=1)
    loud = np.sort(power)[n // 2:]
    return float(10 * np.log10(np.mean(loud) + 1e-12))


class Baseline:
    """Running median of a speaker's per-utterance values (robust to one shouted turn)."""

    def __init__(self, min_count: int = 1) -> None:
        self.values: list[float] = []
        self.min_count = min_count

    def value(self) -> float | None:
        return float(np.median(self.values)) if len(self.values) >= self.min_count else None

    def add(self, v: float) -> None:
        self.values.append(v)
