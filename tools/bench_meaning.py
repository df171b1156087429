#!/usr/bin/env python3
"""make bench (meaning): the sentence encoder's cost on an agent's PC.

Load time (onnxruntime session, tokenizer, the shipped intent weights) and what fitting the
intent models at load would add (the example lines embedded one by one), resident memory it
adds, and the time to score one agent line (one thread), over the hand-labelled agent lines
(tests/data/intents_labelled.json), each line scored once (no cache).
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    import onnxruntime  # noqa: F401  (loaded by the app for Silero anyway: not the encoder's cost)

    from coach.analysis.meaning import Meaning, shipped_examples

    lines = [t for t, _ in json.loads((ROOT / "tests/data/intents_labelled.json").read_text())["lines"]]
    before = rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    m = Meaning()
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    c1 = time.process_time()
    Meaning(encoder=m.encode, examples=shipped_examples())
    fit_cpu = time.process_time() - c1
    per = []
    for text in lines:
        t = time.perf_counter()
        m.encode([text])
        per.append(time.perf_counter() - t)
    ms = np.array(per) * 1000
    print("sentence encoder (assets/sentence-minilm, int8, 1 thread)")
    print(f"  load {load_s:.2f} s ({load_cpu:.2f} CPU s) with the shipped intent weights; fitting them at load "
          f"instead would add {fit_cpu:.2f} CPU s; resident memory +{rss_mb() - before:.0f} MB")
    print(f"  one agent line: p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms ({len(lines)} lines, "
          f"{np.mean([len(t.split()) for t in lines]):.0f} words on average)")


if __name__ == "__main__":
    main()
