#!/usr/bin/env python3
"""How the customer's voice meter reads a recording: per second, and what escalates.

Usage: voice_check.py FILE [--channel N] [--gain-from S --gain-db DB] [--shift-from S --semitones ST]
Changes after S seconds let you check that a gain change alone never escalates, and that a
raised voice (pitch and gain) does. Prints the seconds that were aroused and any escalation.
"""

from __future__ import annotations

import argparse

import numpy as np
import soundfile as sf
import soxr

from coach.analysis.voice import VoiceMeter, VoiceSettings
from coach.speech.vad import SileroStream

RATE = 16000


def load(path: str, channel: int) -> np.ndarray:
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    return soxr.resample(x[:, min(channel, x.shape[1] - 1)], sr, RATE).astype(np.float32)


def headroom(x: np.ndarray, peak: float = 0.05) -> np.ndarray:
    """Scaled down so a gain of up to +26 dB does not clip (a clipped voice is not a raised one)."""
    return (x * (peak / max(float(np.abs(x).max()), 1e-9))).astype(np.float32)


def raise_voice(x: np.ndarray, start_s: float, semitones: float, gain_db: float) -> np.ndarray:
    """From start_s on: pitch raised by resampling (tempo rises with it) and gain applied."""
    a = int(start_s * RATE)
    tail = x[a:]
    if semitones:
        tail = soxr.resample(tail, RATE * 2 ** (semitones / 12), RATE).astype(np.float32)
    return np.concatenate([x[:a], np.clip(tail * 10 ** (gain_db / 20), -1, 1)]).astype(np.float32)


def read(x: np.ndarray, s: VoiceSettings | None = None) -> list:
    vad, meter, out = SileroStream(), VoiceMeter(s or VoiceSettings()), []
    for i in range(0, len(x), 1600):
        chunk = x[i:i + 1600]
        out += meter.feed(chunk, vad.feed(chunk))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--channel", type=int, default=1)
    ap.add_argument("--from", dest="frm", type=float, default=None)
    ap.add_argument("--gain-db", type=float, default=0.0)
    ap.add_argument("--semitones", type=float, default=0.0)
    a = ap.parse_args()
    x = load(a.file, a.channel)
    if a.frm is not None and a.gain_db > 0:
        x = headroom(x, 10 ** (-a.gain_db / 20))
    if a.frm is not None:
        x = raise_voice(x, a.frm, a.semitones, a.gain_db)
    rs = read(x)
    for r in rs:
        if r.aroused or r.escalating:
            print(f"{r.t:7.1f}s pooled {r.speech_s:.2f} s loud {r.loud_db:+5.1f} pitch {r.pitch_st:+5.1f} bright {r.bright_db:+5.1f} "
                  f"level {r.level:.2f} {'ESCALATING' if r.escalating else ''}")
    based = [r for r in rs if r.loud_db is not None]
    print(f"{len(rs)} s, baseline after {based[0].t if based else None} s; levels max {max((r.level for r in rs), default=0):.2f}; "
          f"aroused {sum(r.aroused for r in rs)} s; escalations at {[r.t for r in rs if r.escalating]}")


if __name__ == "__main__":
    main()
