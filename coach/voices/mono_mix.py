"""Mono mixes of stereo calls with per-channel truth: how speaker separation is scored
(tests, `make bench`: tools/bench_speakers.py, tools/bench_asr.py). A stereo call with one speaker per channel
summed to mono is a mono call whose answer is known."""

from __future__ import annotations

import numpy as np
import soundfile as sf
import soxr

from coach.voices.speakers import FRAME_S, HOP, RATE, filled, speech_mask


def mulaw(x: np.ndarray) -> np.ndarray:
    """A G.711 mu-law telephone line: 8 kHz, 8-bit companding, back to 16 kHz."""
    y = np.clip(soxr.resample(x, RATE, 8000), -1, 1)
    mu = 255.0
    q = np.round((np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu) + 1) * 127.5) / 127.5 - 1
    return soxr.resample(np.sign(q) * np.expm1(np.abs(q) * np.log1p(mu)) / mu, 8000, RATE).astype(np.float32)


def add_noise(x: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """White noise `snr_db` below the speech's level."""
    loud = np.abs(x) > 0.01
    level = float(np.sqrt(np.mean(x[loud] ** 2))) if loud.any() else 0.01
    return (x + np.random.default_rng(seed).normal(0, level * 10 ** (-snr_db / 20), len(x))).astype(np.float32)


def stereo_16k(path: str) -> tuple[np.ndarray, np.ndarray]:
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    return (soxr.resample(x[:, 0], sr, RATE).astype(np.float32), soxr.resample(x[:, 1], sr, RATE).astype(np.float32))


def mix(path: str, noise_db: float | None = None, law: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(mono mix at 16 kHz, per-10 ms truth: 0 left channel only, 1 right only, -1 otherwise)."""
    left, right = stereo_16k(path)
    truth_l, truth_r = speech_mask(left), speech_mask(right)
    mono = (left + right) * 0.5
    if noise_db is not None:
        mono = add_noise(mono, noise_db)
    if law:
        mono = mulaw(mono)
    n = min(len(truth_l), len(truth_r))
    truth = np.where(truth_l[:n] & ~truth_r[:n], 0, np.where(truth_r[:n] & ~truth_l[:n], 1, -1))
    return mono, truth


def louder_side(agent: np.ndarray, customer: np.ndarray) -> np.ndarray:
    """Per 10 ms frame, which channel of a split carries the sound: 0 agent, 1 customer, -1 neither."""
    n = min(len(agent), len(customer)) // HOP
    ea, ec = ((x[:n * HOP].reshape(n, HOP) ** 2).sum(axis=1) for x in (agent, customer))
    return np.where(ea + ec > 0, (ec > ea).astype(int), -1)


def frame_error(labels: np.ndarray, truth: np.ndarray, which_is_left: int | None = None) -> float:
    """Share of single-speaker speech frames given the wrong voice (pauses are given to the
    nearer voice first, as the split does). `which_is_left`: the label
    that should be the left channel; None: whichever mapping is better (names are arbitrary)."""
    n = min(len(labels), len(truth))
    lab, tru = filled(labels)[:n], truth[:n]
    judged = tru >= 0
    if not judged.any():
        return 0.0
    same = np.mean(lab[judged] == tru[judged])
    swapped = np.mean(lab[judged] == 1 - tru[judged])
    if which_is_left is not None:
        return float(1 - (same if which_is_left == 0 else swapped))
    return float(1 - max(same, swapped))


SHORT_TURN = (0.2, 2.0)  # seconds: a turn this long between two of the other voice's is a short answer


def turns(truth: np.ndarray) -> list[tuple[int, int, int]]:
    """(voice, first frame, end frame) of each turn of the truth: a voice's frames until the other's."""
    idx = np.flatnonzero(truth >= 0)
    if len(idx) == 0:
        return []
    v = truth[idx]
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(v)) + 1, [len(v)]])
    return [(int(v[a]), int(idx[a]), int(idx[b - 1]) + 1) for a, b in zip(cuts[:-1], cuts[1:])]


def short_turn_errors(labels: np.ndarray, truth: np.ndarray, which_is_left: int | None = None) -> tuple[int, int]:
    """(short answers given to the other voice, short answers): turns of SHORT_TURN length between
    two turns of the other voice ("Yes." between two of the agent's questions), one given away
    when under half of its frames got its voice. Voices are matched as in frame_error."""
    n = min(len(labels), len(truth))
    lab, tru = filled(labels)[:n], truth[:n]
    if which_is_left is None:
        judged = tru >= 0
        which_is_left = 0 if np.mean(lab[judged] == tru[judged]) >= np.mean(lab[judged] == 1 - tru[judged]) else 1
    if which_is_left == 1:
        lab = 1 - lab
    lo, hi = (int(s / FRAME_S) for s in SHORT_TURN)
    wrong = total = 0
    for v, a, b in turns(tru)[1:-1]:
        if lo <= b - a <= hi:
            own = tru[a:b] == v
            total += 1
            wrong += int(np.mean(lab[a:b][own] == v) < 0.5)
    return wrong, total


__all__ = ["FRAME_S", "add_noise", "frame_error", "louder_side", "mix", "mulaw", "short_turn_errors", "speech_mask", "stereo_16k",
           "turns"]
