#!/usr/bin/env python3
"""make bench: speed, memory and latency of Call Coach's pipeline against a naive baseline.

Each configuration runs in its own process (so peak RSS is its own) on the same calls:
  coach       the product: VAD-endpointed utterances with partial decodes of speech still
              going on every model.partial_every_s; a word is shown when Whisper is sure of
              it, when two decodes agree on it, or when 0.7 s of speech after it was heard;
              one final decode each, window sized to the utterance; then the second pass
              (each finished turn decoded again whole, beam 5, previous turns as prompt, on its
              own low-priority thread) with model.second_pass = auto (tiny.en here)
  coach-base2 the same with base as the second pass (when bench-out/models/base is there)
  1st-only    the first pass alone (model.second_pass = ""): the product before issue #32
  agree-2     the same with LocalAgreement-2 alone (words shown only when two decodes agree),
              one partial decode a second after 2 s of speech: the previous default
  coach-2t    the product with two decoder threads instead of one
  per-utt     the previous design: one decode per finished utterance, no partial decodes
  naive       what hobby overlays do: every 3 s, re-transcribe each speaker's growing
              buffer (reset at 30 s) with the full window and default beam search
All are timed with the same computation-aware simulated clock (runner.py), so a latency is
what live use on this machine would show. Word latency = a word's end -> its text first
shown; cue latency = end of the triggering words -> cue. WER is against the script's text
(scripted calls only). The real call runs once more with one core kept busy by another
process (an agent's PC runs a softphone and a browser). Figures vary run to run on a
shared machine: compare ratios.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out"


BASE = OUT / "models" / "base"  # fetched by bench_asr.py (`coach models fetch base`)
MODES = {  # settings overrides per configuration
    "coach": [],
    "coach-base2": [f"model.second_pass={BASE}"],
    "1st-only": ["model.second_pass="],
    "agree-2": ["model.partial_every_s=1.0", "model.partial_after_s=2.0", "model.partial_sure_p=1.01",
                "model.partial_settled_s=30"],
    "per-utt": ["model.partial_every_s=0"],
    "coach-2t": ["model.threads=2"],  # the product with two decoder threads (the default before)
}


def wer_counts(ref: str, hyp: str) -> tuple[int, int]:
    """(word edits, reference words): WER pooled over several texts is sum / sum."""
    norm = lambda s: re.sub(r"[^\w' ]+", " ", s.lower()).split()  # noqa: E731
    r, h = norm(ref), norm(hyp)
    d = np.arange(len(h) + 1)
    for i, rw in enumerate(r, 1):
        prev, d[0] = d.copy(), i
        for j, hw in enumerate(h, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (rw != hw))
    return int(d[len(h)]), len(r)


def wer(ref: str, hyp: str) -> float:
    edits, n = wer_counts(ref, hyp)
    return edits / max(1, n)


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def run_coach(call: str, mode: str) -> dict:
    from coach.app import compose as app

    out = OUT / f"{Path(call).stem}.{mode}.json"
    overrides = MODES[mode.removesuffix("+busy")]
    t = time.perf_counter()
    doc = app.analyze(call, str(out), app.Options(data_dir=str(OUT / "data"), overrides=overrides), progress=False)
    wall = time.perf_counter() - t
    texts = {s: " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == s) for s in ("agent", "customer")}
    ends = [(u["speaker"], u["end"]) for u in doc["utterances"]]
    words = [(u["speaker"], w["end"]) for u in doc["utterances"] for w in u["words"]]
    tm = doc["timing"]
    return {"wall_s": wall, "text_lat": [u["t_ready"] - u["end"] for u in doc["utterances"]],
            # the first pass's words as the overlay showed them (the second pass revises them later)
            "word_pcts": {50: tm["word_latency_p50_s"], 95: tm["word_latency_p95_s"], 99: tm["word_latency_p99_s"]},
            "second_lat": [u["t_revised"] - u["end"] for u in doc["utterances"] if u.get("t_revised") is not None],
            "cue_lat": [c["latency_s"] for c in doc["cues"]], "texts": texts, "ends": ends, "words": words,
            "cues": [(c["id"], c["t"] - c["latency_s"]) for c in doc["cues"]], "duration": doc["source"]["duration_s"],
            "partials": doc["timing"].get("partial_decodes", 0), "partials_dropped": doc["timing"].get("partials_dropped", 0),
            # the recognizer's own CPU, both passes: issue #32's budget (the rest is VAD, rules, the sentence encoder)
            "asr_per_s": (tm.get("first_pass_cpu_s_per_audio_s") or 0.0) + (tm.get("second_pass_cpu_s_per_audio_s") or 0.0)}


def run_naive(call: str, ref_path: str) -> dict:
    """Fixed 3 s ticks, growing buffer re-transcribed with the full window, one decoder thread."""
    from faster_whisper import WhisperModel

    from coach.audio.file_source import FileSource
    from coach.speech.models import resolve_model

    ref = json.loads(Path(ref_path).read_text())
    model = WhisperModel(str(resolve_model("tiny.en", [], allow_download=False).path), device="cpu",
                         compute_type="int8", cpu_threads=2)
    src = FileSource(call)
    chunks = list(src.chunks())
    audio = {s: np.concatenate([c.channels[s] for c in chunks]) for s in src.info.speakers}
    dur = src.info.duration_s
    t0 = time.perf_counter()
    free, jobs, last_text = 0.0, [], {}
    ticks = list(np.arange(3.0, dur, 3.0)) + [dur]
    for tick in ticks:
        for s, x in audio.items():
            block = int((tick - 1e-6) // 30) * 30
            start = max(tick, free)
            t = time.perf_counter()
            segs, _ = model.transcribe(x[int(block * 16000):int(tick * 16000)], language="en", vad_filter=False)
            text = " ".join(seg.text.strip() for seg in segs)
            free = start + (time.perf_counter() - t)
            jobs.append((s, block, tick, free))
            last_text[(s, block)] = text
    wall = time.perf_counter() - t0

    def seen_at(s: str, e: float) -> float | None:
        done = [d for sp, b, tick, d in jobs if sp == s and b < e <= tick + 1e-6]
        return min(done) if done else None

    text_lat = [d - e for s, e in ref["ends"] if (d := seen_at(s, e)) is not None]
    word_lat = [d - e for s, e in ref["words"] if (d := seen_at(s, e)) is not None]
    cue_lat = []
    for cid, e in ref["cues"]:
        speaker = "customer" if cid in ("customer_escalating", "customer_calming") else "agent"
        d = seen_at(speaker, e)
        if d is not None:
            cue_lat.append(d - e)
    texts = {s: " ".join(t for (sp, b), t in sorted(last_text.items(), key=lambda kv: kv[0][1]) if sp == s)
             for s in audio}
    return {"wall_s": wall, "text_lat": text_lat, "word_lat": word_lat, "cue_lat": cue_lat, "texts": texts, "duration": dur}


def child(mode: str, call: str, ref: str | None) -> None:
    r = run_naive(call, ref) if mode == "naive" else run_coach(call, mode)
    r["cpu_s"] = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    r["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(r))


def measure(mode: str, call: Path, ref: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, str(call)] + ([str(ref)] if ref else [])
    busy = None
    if mode.endswith("+busy"):  # one core kept busy by another process, like a softphone and a browser
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    finally:
        if busy is not None:
            busy.kill()
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    OUT.mkdir(exist_ok=True)
    subprocess.run([sys.executable, str(ROOT / "tools" / "render_calls.py"), str(OUT), str(ROOT / "tests/data/scenarios.json"),
                    "d1_refund_escalation"], check=True, capture_output=True)
    base2 = ("coach-base2",) if BASE.is_dir() else ()
    calls = [("real: auto repairs (phone, 8 kHz)", ROOT / "tests/data/auto_repairs_49_stereo.flac", None,
              ("coach", *base2, "1st-only", "coach-2t", "agree-2", "per-utt", "naive", "coach+busy", *(b + "+busy" for b in base2),
               "coach-2t+busy", "per-utt+busy")),
             ("scripted: d1 refund escalation", OUT / "d1_refund_escalation.wav", OUT / "d1_refund_escalation.truth.json",
              ("coach", *base2, "1st-only", "coach-2t", "agree-2", "per-utt", "naive"))]
    if "--modes" in sys.argv:  # these modes only (the ratio lines need coach, per-utt, naive, coach-2t, 1st-only)
        only = sys.argv[sys.argv.index("--modes") + 1].split(",")
        calls = [(label, call, truth, tuple(m for m in modes if m in only)) for label, call, truth, modes in calls]
    header = (f"{'call':34} {'mode':16} {'RTF':>5} {'cpu s/s':>7} {'asr s/s':>7} {'RSS MB':>6} {'word p50':>8} {'word p95':>8} {'word p99':>8} "
              f"{'text p50':>8} {'2nd p50':>7} {'cue p50':>7} {'cue p95':>7} {'partials':>9} {'WER':>5}")
    print(header)
    print("-" * len(header))
    for label, call, truth, modes in calls:
        rows = {}
        for mode in modes:
            ref = None
            if mode == "naive":
                ref = OUT / "naive-ref.json"
                ref.write_text(json.dumps({"ends": rows["coach"]["ends"], "cues": rows["coach"]["cues"], "words": rows["coach"]["words"]}))
            r = measure(mode, call, ref)
            r["rtf"] = r["wall_s"] / r["duration"]
            r["cpu_per_s"] = r["cpu_s"] / r["duration"]
            if truth:
                t = json.loads(truth.read_text())
                refs = {s: " ".join(x["text"] for x in t["turns"] if x["who"] == s) for s in ("agent", "customer")}
                r["wer"] = wer(refs["agent"] + " " + refs["customer"], r["texts"]["agent"] + " " + r["texts"]["customer"])
            rows[mode] = r
            f = lambda v, w=7: f"{v:>{w}.2f}" if isinstance(v, float) else f"{'-':>{w}}"  # noqa: E731
            parts = f"{r['partials']}/{r['partials_dropped']}" if "partials" in r else "-"
            wp = {int(k): v for k, v in r["word_pcts"].items()} if "word_pcts" in r else {q: pct(r["word_lat"], q) for q in (50, 95, 99)}
            r["wp"] = wp
            print(f"{label:34} {mode:16} {f(r['rtf'], 5)} {f(r['cpu_per_s'])} {f(r.get('asr_per_s'))} {r['rss_mb']:>6.0f} "
                  f"{f(wp[50], 8)} {f(wp[95], 8)} {f(wp[99], 8)} {f(pct(r['text_lat'], 50), 8)} "
                  f"{f(pct(r.get('second_lat', []), 50))} "
                  f"{f(pct(r['cue_lat'], 50))} {f(pct(r['cue_lat'], 95))} {parts:>9} {f(r.get('wer'), 5)}", flush=True)
        if not {"coach", "naive", "per-utt", "coach-2t", "1st-only"} <= set(rows):
            continue
        c, n, u = rows["coach"], rows["naive"], rows["per-utt"]
        ratio = lambda a, b, d=1: f"{a / b:.{d}f}x" if a and b else "-"  # noqa: E731
        print(f"{'':34} per-utt/coach: word latency p50 {ratio(u['wp'][50], c['wp'][50])}, "
              f"p95 {ratio(u['wp'][95], c['wp'][95])}, CPU {ratio(u['cpu_per_s'], c['cpu_per_s'])}; "
              f"naive/coach: word latency p95 {ratio(n['wp'][95], c['wp'][95])}, "
              f"CPU {ratio(n['cpu_per_s'], c['cpu_per_s'])}")
        t, o = rows["coach-2t"], rows["1st-only"]
        print(f"{'':34} coach-2t/coach: word latency p95 {ratio(t['wp'][95], c['wp'][95], 2)}, "
              f"CPU {ratio(t['cpu_per_s'], c['cpu_per_s'], 2)}, RTF {ratio(t['rtf'], c['rtf'], 2)}")
        print(f"{'':34} coach/1st-only: word latency p95 {ratio(c['wp'][95], o['wp'][95], 2)}, "
              f"p99 {ratio(c['wp'][99], o['wp'][99], 2)}, CPU {ratio(c['cpu_per_s'], o['cpu_per_s'], 2)}")
    print("\nRTF = wall time / audio time; cpu s/s = CPU seconds per audio second (the whole process, both cores); asr s/s =")
    print("the same for the recognizer's decodes alone, both passes (partial, final, second); word = a word's")
    print("end -> its text first shown (the first pass); text = end of speech -> first-pass final text; 2nd = end of")
    print("speech -> the second pass's text in its place; cue = end of the triggering words -> cue shown;")
    print("partials = partial decodes run / skipped; naive latencies = when its text first covered the same words.")
    print("+busy = the same with one core kept busy by another process. WER against the script (scripted calls only).")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        main()
