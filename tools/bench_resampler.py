#!/usr/bin/env python3
"""make bench, 8 kHz lines: what the resampler does to the stored transcript (issue #32).

Phone audio reaches the app at 8 kHz (the Harper Valley calls, a softphone's narrowband codec)
and is resampled to Whisper's 16 kHz: by soxr in the product (`coach/audio/file_source.py`,
`coach/audio/live_source.py`, its default "HQ" quality). Here the 17 real Harper Valley calls are
resampled ahead of time by each method, written as 16 kHz files (which the app then takes as they
are), and decoded by the product's pipeline with its defaults, partial decodes off (they never
reach the stored text); WER per speaker against the human transcripts, side by side in one run.

Methods: soxr at its default quality (HQ, the product) and at VHQ and QQ (its quickest); linear
interpolation (what a resampler written by hand does: no anti-imaging filter, so each tone gets
a mirror image above 4 kHz); FFmpeg's swresample through PyAV (faster-whisper's own `decode_audio`).

Usage: bench_resampler.py [--quick]   (--quick: six calls)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out" / "resampler"
sys.path.insert(0, str(ROOT))

from bench import wer_counts  # noqa: E402  (tools/ is the script's folder)
from bench_second_pass import HV, normalise  # noqa: E402

RATE = 16000
METHODS = ["soxr HQ (product)", "soxr VHQ", "soxr QQ", "linear", "PyAV swresample"]


def resample(x: np.ndarray, sr: int, method: str) -> np.ndarray:
    """(frames, channels) at `sr` -> at 16 kHz."""
    if method.startswith("soxr"):
        return soxr.resample(x, sr, RATE, quality=method.split()[1])
    if method == "linear":
        t = np.arange(int(len(x) * RATE / sr)) * sr / RATE
        return np.stack([np.interp(t, np.arange(len(x)), x[:, c]) for c in range(x.shape[1])], axis=1)
    return np.stack([_pyav(x[:, c], sr) for c in range(x.shape[1])], axis=1)


def _pyav(x: np.ndarray, sr: int) -> np.ndarray:
    import av

    frame = av.AudioFrame.from_ndarray(x.astype(np.float32)[None, :], format="flt", layout="mono")
    frame.sample_rate = sr
    res = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    out = [f.to_ndarray().reshape(-1) for f in res.resample(frame)] + [f.to_ndarray().reshape(-1) for f in res.resample(None)]
    return np.concatenate(out)


def calls() -> list[str]:
    sids = sorted(p.name.split(".")[0] for p in HV.glob("*.ref.json"))
    return sids[:6] if "--quick" in sys.argv else sids


def main() -> None:
    print(f"{'resampler (8 -> 16 kHz)':24} {'hv agent':>9} {'hv cust':>8} {'both':>8}")
    print("-" * 52)
    for method in METHODS:
        r = subprocess.run([sys.executable, __file__, "--child", method, *(["--quick"] if "--quick" in sys.argv else [])],
                           capture_output=True, text=True)
        if r.returncode:
            print(f"{method:24} failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
            continue
        e = json.loads(r.stdout.strip().splitlines()[-1])
        both = (e["agent"][0] + e["customer"][0]) / max(1, e["agent"][1] + e["customer"][1])
        print(f"{method:24} {e['agent'][0] / e['agent'][1]:>9.3f} {e['customer'][0] / e['customer'][1]:>8.3f} {both:>8.3f}", flush=True)
    print(f"\nWER of the stored transcript (second pass, the product's defaults) on {len(calls())} real 8 kHz Harper Valley"
          " calls against their human transcripts, per speaker; each call resampled to 16 kHz by the method, then decoded"
          " as a 16 kHz file. soxr HQ is what the app does to 8 kHz audio itself.")


def child(method: str) -> None:
    from coach.app import compose as app

    edits = {"agent": [0, 0], "customer": [0, 0]}
    folder = OUT / method.replace(" ", "-").lower()
    folder.mkdir(parents=True, exist_ok=True)
    for sid in calls():
        wav = HV / f"{sid}.flac"  # the product: the app resamples the 8 kHz file itself
        if method != METHODS[0]:
            x, sr = sf.read(wav, dtype="float32", always_2d=True)
            wav = folder / f"{sid}.wav"
            sf.write(wav, np.clip(resample(x, sr, method), -1, 1), RATE, subtype="FLOAT")
        with tempfile.TemporaryDirectory() as d:
            opts = app.Options(data_dir=d, speakers="1", agent_channel=0, overrides=["model.partial_every_s=0"])
            doc = app.analyze(str(wav), str(Path(d) / "out.json"), opts, progress=False)
        ref = json.loads((HV / f"{sid}.ref.json").read_text())
        for s in edits:
            said = " ".join(u["text"] for u in ref["utterances"] if u["speaker"] == s)
            heard = " ".join(u["text"] for u in sorted(doc["utterances"], key=lambda u: u["start"]) if u["speaker"] == s)
            d_, n = wer_counts(normalise(said), normalise(heard))
            edits[s][0] += d_
            edits[s][1] += n
    print(json.dumps(edits))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
