#!/usr/bin/env python3
"""How the customer's voice meter reads a recording: per second, and what escalates.

Usage: voice_check.py FILE [--channel N] [--from S [--gain-db DB] [--semitones ST]] [--repeat N]
Changes after S seconds let you check that a gain change alone never escalates, and that a
raised voice (pitch and gain) does; --repeat plays the (changed) recording N times as one call,
as the hour of calm speech in tests/test_voice.py does (issue #31). The meter is fed as the
pipeline feeds it. Prints the seconds that were aroused and any escalation.
"""

from __future__ import annotations

import argparse

import numpy as np
import soundfile as sf
import soxr

from coach.analysis.voice import VoiceMeter, VoiceReading, VoiceSettings
from coach.config.settings import Settings
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


def read(x: np.ndarray, s: VoiceSettings | None = None, repeat: int = 1) -> tuple[list[VoiceReading], VoiceMeter]:
    """100 ms chunks and Silero's own speech probabilities, as coach/core/pipeline.py feeds the meter."""
    vad, meter, out = SileroStream(backstop_db=Settings().vad.loud_backstop_db), VoiceMeter(s or VoiceSettings()), []
    for _ in range(repeat):
        for i in range(0, len(x), 1600):
            chunk = x[i:i + 1600]
            vad.feed(chunk)
            out += meter.feed(chunk, vad.silero)
    return out, meter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--channel", type=int, default=1)
    ap.add_argument("--from", dest="frm", type=float, default=None)
    ap.add_argument("--gain-db", type=float, default=0.0)
    ap.add_argument("--semitones", type=float, default=0.0)
    ap.add_argument("--repeat", type=int, default=1, help="play the recording this many times as one call")
    a = ap.parse_args()
    x = load(a.file, a.channel)
    if a.frm is not None and a.gain_db > 0:
        x = headroom(x, 10 ** (-a.gain_db / 20))
    if a.frm is not None:
        x = raise_voice(x, a.frm, a.semitones, a.gain_db)
    rs, meter = read(x, repeat=a.repeat)
    for r in rs:
        if r.aroused or r.escalating:
            print(f"{r.t:7.1f}s pooled {r.speech_s:.2f} s loud {r.loud_db:+5.1f} pitch {r.pitch_st:+5.1f} bright {r.bright_db:+5.1f} "
                  f"level {r.level:.2f} {'ESCALATING' if r.escalating else ''}")
    based = [r for r in rs if r.loud_db is not None]
    line = "band-limited" if meter.band_limited else "wideband"
    print(f"{len(rs)} s of speech read, {len(based)} judged ({line} line), first verdict at {based[0].t if based else None} s; "
          f"levels max {max((r.level for r in rs), default=0):.2f}, tense (>= 0.3) {sum(r.level >= 0.3 for r in based)} s; "
          f"aroused {sum(r.aroused for r in rs)} s; escalations at {[r.t for r in rs if r.escalating]}")


if __name__ == "__main__":
    main()
