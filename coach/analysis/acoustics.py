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


PITCH_FRAME = 640  # 40 ms: two periods of a 50 Hz voice
F0_MIN, F0_MAX = 70.0, 400.0


def pitch_hz(audio: np.ndarray, rate: int = 16000) -> float | None:
    """Median F0 of the voiced frames, by normalised autocorrelation; None if nothing voiced."""
    n = len(audio) // PITCH_FRAME
    if n == 0:
        return None
    frames = audio[: n * PITCH_FRAME].reshape(n, PITCH_FRAME).astype(np.float64)
    frames -= frames.mean(axis=1, keepdims=True)
    energy = np.sum(frames**2, axis=1)
    loud = energy > max(1e-6, 0.1 * np.median(energy[energy > 0])) if np.any(energy > 0) else energy > 0
    frames, energy = frames[loud], energy[loud]
    if len(frames) == 0:
        return None
    spec = np.fft.rfft(frames, 2 * PITCH_FRAME, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :PITCH_FRAME]
    lo, hi = int(rate / F0_MAX), int(rate / F0_MIN)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    strength = ac[np.arange(len(ac)), lag] / np.maximum(energy, 1e-12)
    voiced = strength > 0.45  # clearly periodic frames only
    if voiced.sum() < 3:
        return None
    return float(np.median(rate / lag[voiced]))


def semitones(f: float, ref: float) -> float:
    return float(12 * np.log2(f / ref))
