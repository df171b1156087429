#!/usr/bin/env python3
"""A machine reference transcript of the real stereo call, by vote of several decoders.

The repo's real call (tests/data/auto_repairs_49_stereo.flac) has no human transcript and
nobody here may listen to it, so its word error rate is measured against a *consensus*:
each channel decoded whole (no VAD) by faster-whisper with several models, beam sizes and compute
kernels, aligned word by word to the strongest (base, beam 5, float32), each word of which
is kept, replaced or dropped by majority vote (ties keep the pivot's word; words only the
others heard are not added). Written to tests/data/auto_repairs_49_reference.json, marked as
machine-made. It is biased toward the systems that voted (tiny.en and base are among them), so
it ranks decoders and conditions but overstates their absolute accuracy.

Usage: consensus_reference.py BASE_MODEL_DIR   (e.g. bench-out/models/base, `coach models fetch base`)
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parent.parent
CALL = ROOT / "tests/data/auto_repairs_49_stereo.flac"
OUT = ROOT / "tests/data/auto_repairs_49_reference.json"
CHANNELS = {"agent": 0, "customer": 1}


def words(text: str) -> list[str]:
    return re.sub(r"[^\w' ]+", " ", text.lower()).split()


def vote(pivot: list[str], others: list[list[str]]) -> list[str]:
    """Each pivot word by majority of all systems (the pivot included); None = the system heard nothing there."""
    ballots: list[Counter] = [Counter({w: 1}) for w in pivot]
    for hyp in others:
        for op, i1, i2, j1, j2 in SequenceMatcher(None, pivot, hyp, autojunk=False).get_opcodes():
            for k in range(i1, i2):
                j = j1 + (k - i1)
                ballots[k][hyp[j] if op in ("equal", "replace") and j < j2 else None] += 1
    out = []
    for w, b in zip(pivot, ballots):
        best, n = b.most_common(1)[0]
        if n > b[w]:  # a strict majority over the pivot's word
            if best is not None:
                out.append(best)
        else:
            out.append(w)
    return out


def main() -> None:
    from faster_whisper import WhisperModel

    from coach.speech.models import resolve_model

    base = sys.argv[1]
    tiny = str(resolve_model("tiny.en", [], allow_download=False).path)
    systems = [("base beam 5 float32", base, 5, "float32"), ("base greedy int8", base, 1, "int8"),
               ("tiny.en beam 5 float32", tiny, 5, "float32"), ("tiny.en greedy int8_float32", tiny, 1, "int8_float32"),
               ("base beam 5 int8", base, 5, "int8")]
    x, sr = sf.read(CALL, dtype="float32", always_2d=True)
    hyps: dict[str, list[list[str]]] = {s: [] for s in CHANNELS}
    for label, path, beam, compute in systems:
        model = WhisperModel(path, device="cpu", compute_type=compute, cpu_threads=2)
        for speaker, ch in CHANNELS.items():
            audio = soxr.resample(x[:, ch], sr, 16000).astype(np.float32)
            # no VAD: Whisper's own 30 s windows, as Whisper is evaluated; Silero with faster-whisper's defaults
            # kept 127 of the caller's ~270 words (her 8 kHz line), the reference must not inherit a VAD's misses
            segs, _ = model.transcribe(audio, language="en", beam_size=beam, vad_filter=False, condition_on_previous_text=False)
            hyps[speaker].append(words(" ".join(s.text for s in segs)))
            print(f"{label:28} {speaker:8} {len(hyps[speaker][-1])} words", file=sys.stderr, flush=True)
    ref = {s: " ".join(vote(h[0], h[1:])) for s, h in hyps.items()}
    doc = {"about": "MACHINE CONSENSUS, not a human transcript: each channel of auto_repairs_49_stereo.flac decoded whole by "
                    + ", ".join(label for label, *_ in systems) + " (faster-whisper, Silero VAD), aligned to the first and voted "
                    "word by word (tools/consensus_reference.py). Biased toward those systems: good for ranking decoders and "
                    "conditions, not for absolute accuracy.",
           "systems": [label for label, *_ in systems], **ref}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: agent {len(ref['agent'].split())} words, customer {len(ref['customer'].split())} words")


if __name__ == "__main__":
    main()
