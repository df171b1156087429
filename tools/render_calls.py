#!/usr/bin/env python3
"""Render scripted calls (scenario JSON) to stereo WAVs with espeak-ng.

Left = agent, right = customer, 16 kHz 16-bit. For each scenario writes NAME.wav and
NAME.truth.json (turn times, expected and forbidden cues) in the format the shared
scorer reads. Turn keys: who, text, and optional wpm, pitch, gain, gap (negative = overlap).

Usage: render_calls.py OUTDIR SCENARIOS.json [NAME ...]
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

SR = 16000


def speak(text: str, voice: str, wpm: int, pitch: int) -> np.ndarray:
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "--stdout", text],
        check=True, capture_output=True,
    ).stdout
    x, sr = sf.read(io.BytesIO(wav), dtype="float32")
    x = soxr.resample(x, sr, SR)
    nz = np.flatnonzero(np.abs(x) > 0.01)  # trim espeak's own silence: turn times = speech times
    return x[nz[0]: nz[-1] + 1] if len(nz) else x


def render(sc: dict, outdir: Path) -> Path:
    t = 1.0
    pieces, turns = [], []
    for i, turn in enumerate(sc["turns"]):
        v = sc["voices"][turn["who"]]
        x = speak(turn["text"], v["voice"], turn.get("wpm", v["wpm"]), turn.get("pitch", v["pitch"]))
        x = x * turn.get("gain", v.get("gain", 0.5))
        start = max(t + turn.get("gap", 0.6), 0.0)
        dur = len(x) / SR
        pieces.append((turn["who"], start, x))
        turns.append({"i": i, "who": turn["who"], "start": round(start, 3), "end": round(start + dur, 3),
                      "text": turn["text"], "wpm_spoken": round(len(turn["text"].split()) / dur * 60, 1)})
        t = start + dur
    total = t + 2.0
    out = np.zeros((int(total * SR) + 1, 2), np.float32)
    for who, start, x in pieces:
        a = int(start * SR)
        out[a: a + len(x), 0 if who == "agent" else 1] += x
    wav = outdir / f"{sc['name']}.wav"
    sf.write(wav, np.clip(out, -1, 1), SR, subtype="PCM_16")
    truth = {"name": sc["name"], "duration_s": round(total, 3), "turns": turns,
             "expect": sc.get("expect", []), "forbid": sc.get("forbid", [])}
    (outdir / f"{sc['name']}.truth.json").write_text(json.dumps(truth, indent=1))
    return wav


def main(argv: list[str]) -> None:
    outdir = Path(argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    names = set(argv[3:])
    for sc in json.loads(Path(argv[2]).read_text()):
        if not names or sc["name"] in names:
            print(render(sc, outdir))


if __name__ == "__main__":
    main(sys.argv)
