#!/usr/bin/env python3
"""What a second pass buys, on real phone calls with human transcripts (issue #32, step 1).

On the 17 Harper Valley Bank calls of tests/data/harper_valley/ (8 kHz stereo, agent left), the
transcript the app stores (`coach analyze`, first pass only: VAD-cut utterances, greedy) against
re-decodes of the same audio by the same code (coach/speech/transcriber.py, channel resampled to
16 kHz by the app's own FileSource):
  utt b5 +prompt   each VAD utterance again, beam 5, the conversation's previous words as prompt
  turn b1 / b5     each turn whole (the speaker's utterances joined until a 1 s pause, the other
                   speaker talking, or 15 s), beam 1 / 5, no prompt
  turn b5 +prompt  the same with the previous turns' words as prompt (what the second pass does)
and, for the target, each channel decoded whole offline by faster-whisper with its own VAD, beam 5
(no coach code). WER per speaker against the human transcripts, words normalised alike for all
(lower case, no punctuation, every number as its digits, fillers dropped). CPU = process CPU seconds of the
decodes per second of call (both speakers), one decoder thread.

Usage: bench_second_pass.py [--models tiny.en,base] [--calls N] [--variants 'turn b5,whole'] [--resampler VHQ|LQ|linear]
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out" / "second"
HV = ROOT / "tests" / "data" / "harper_valley"
sys.path.insert(0, str(ROOT))

from bench import wer_counts  # noqa: E402

SPEAKERS = ("agent", "customer")
FILLERS = {"uh", "um", "uhm", "umm", "hmm", "mm", "mhm", "ah", "er", "erm", "huh", "<unk>", "unk", "noise"}
ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
       "seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
ORD = {"1st": "first", "2nd": "second", "3rd": "third", "4th": "fourth", "5th": "fifth", "6th": "sixth", "7th": "seventh",
       "8th": "eighth", "9th": "ninth", "10th": "tenth", "11th": "eleventh", "12th": "twelfth", "13th": "thirteenth",
       "15th": "fifteenth", "20th": "twentieth", "21st": "twenty first", "30th": "thirtieth"}


def _group(toks: list[str], i: int) -> tuple[str, int]:
    """The digits of the number said from toks[i] on ("ninety six" -> 96, "five hundred six" -> 506,
    "588" -> 588), and the index after it; ("", i) if toks[i] says no number."""
    def small(j: int) -> tuple[str, int]:  # below 100
        t = toks[j] if j < len(toks) else ""
        if re.fullmatch(r"\d+", t):
            return t, j + 1
        if t in ONES:
            return str(ONES.index(t)), j + 1
        if t in TENS[2:]:
            unit = toks[j + 1] if j + 1 < len(toks) else ""
            if unit in ONES[1:10]:
                return str(TENS.index(t) * 10 + ONES.index(unit)), j + 2
            return str(TENS.index(t) * 10), j + 1
        return "", j
    digits, j = small(i)
    if digits and j < len(toks) and toks[j] == "hundred" and not digits.startswith("0") and len(digits) <= 2:
        rest, k = small(j + 1)
        value = int(digits) * 100 + (int(rest) if rest and len(rest) <= 2 else 0)
        return str(value), (k if rest and len(rest) <= 2 else j + 1)
    return digits, j


def normalise(text: str) -> str:
    """Words as both sides can be compared: lower case, no punctuation, fillers dropped, and every
    number as its digits, one token each, however it is written: '588', 'five eight eight' and
    'five hundred eighty eight' all become '5 8 8' (references spell digits out, Whisper writes
    numerals and groups them its own way: '96, 773' for 'nine six seven seven three')."""
    t = text.lower().replace("%", " percent").replace("&", " and ")
    t = re.sub(r"\b([ap])\.\s?m\.?", r"\1 m", t)
    t = re.sub(r"\$(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", t)
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)
    t = re.sub(r"(\d+):(\d\d)", r"\1 \2", t)
    t = re.sub(r"(\d+)(am|pm)\b", r"\1 \2", t)
    toks = []
    for tok in re.sub(r"[^\w' ]+", " ", t).split():
        tok = tok.strip("'")
        if tok in ORD:
            toks += ORD[tok].split()
        elif tok in ("pm", "am"):
            toks += [tok[0], "m"]
        elif tok in ("ok", "okay"):
            toks.append("okay")
        elif tok and tok not in FILLERS:
            toks.append(tok)
    out, i = [], 0
    while i < len(toks):
        digits, j = _group(toks, i)
        if digits:
            out += list(digits)
            i = j
        else:
            out.append(toks[i])
            i += 1
    return " ".join(out)


def calls(n: int | None = None) -> list[str]:
    return sorted(p.name.split(".")[0] for p in HV.glob("*.ref.json"))[:n]


def reference(sid: str) -> dict[str, str]:
    ref = json.loads((HV / f"{sid}.ref.json").read_text())
    return {s: " ".join(u["text"] for u in ref["utterances"] if u["speaker"] == s) for s in SPEAKERS}


def app_transcript(sid: str) -> dict:
    """`coach analyze` of the call with the first pass only (cached in bench-out/second/)."""
    from coach.app import compose as app

    cached = OUT / f"{sid}.app.json"
    if not cached.exists():
        with tempfile.TemporaryDirectory() as d:
            doc = app.analyze(str(HV / f"{sid}.flac"), str(Path(d) / "out.json"),
                              app.Options(data_dir=d, overrides=["model.second_pass="]), progress=False)
        cached.write_text(json.dumps({"utterances": doc["utterances"], "duration_s": doc["source"]["duration_s"],
                                      "cpu_s_per_audio_s": doc["timing"]["cpu_s_per_audio_s"]}))
    return json.loads(cached.read_text())


def channels(sid: str, resampler: str = "") -> dict[str, np.ndarray]:
    """Each speaker's channel at 16 kHz, as the app resamples it (soxr HQ, coach/audio/file_source.py),
    or with another resampler to see what that does: soxr VHQ / LQ, or linear interpolation."""
    if resampler:
        import soundfile as sf
        import soxr

        x, sr = sf.read(str(HV / f"{sid}.flac"), dtype="float32", always_2d=True)
        n = int(len(x) * 16000 / sr)
        up = (lambda c: np.interp(np.arange(n) * sr / 16000, np.arange(len(c)), c).astype(np.float32)) if resampler == "linear" \
            else (lambda c: soxr.resample(c, sr, 16000, quality=resampler).astype(np.float32))
        return {"agent": up(x[:, 0]), "customer": up(x[:, 1])}
    from coach.audio.file_source import FileSource

    src = FileSource(str(HV / f"{sid}.flac"), stereo_agent_channel=0)
    chunks = list(src.chunks())
    return {s: np.concatenate([c.channels[s] for c in chunks]) for s in src.info.speakers}


def turns(utts: list[dict], gap_s: float = 1.0, max_s: float = 15.0) -> list[list[dict]]:
    """A speaker's utterances joined until a pause of gap_s, the other speaker starting, or max_s."""
    out: list[list[dict]] = []
    open_: dict[str, list[dict]] = {}
    for u in sorted(utts, key=lambda x: x["start"]):
        other = [s for s in open_ if s != u["speaker"]]
        for s in other:  # the other speaker took the floor: their turn is over
            out.append(open_.pop(s))
        cur = open_.get(u["speaker"])
        if cur and (u["start"] - cur[-1]["end"] > gap_s or u["end"] - cur[0]["start"] > max_s):
            out.append(open_.pop(u["speaker"]))
        open_.setdefault(u["speaker"], []).append(u)
    out += open_.values()
    return sorted(out, key=lambda t: t[0]["start"])


def decode_pieces(tr, audio: dict[str, np.ndarray], pieces: list[list[dict]], prompt: bool | str) -> dict[str, str]:
    """Each piece (one utterance or a turn) decoded whole; the prompt is the conversation's last words before it
    (prompt="own": the same speaker's only)."""
    from coach.core.pipeline import PAD_AFTER, PAD_BEFORE

    said: list[tuple[float, str]] = []
    texts: dict[str, list[str]] = {s: [] for s in SPEAKERS}
    for piece in pieces:
        s = piece[0]["speaker"]
        a = max(0, int(piece[0]["start"] * 16000) - PAD_BEFORE)
        b = int(piece[-1]["end"] * 16000) + PAD_AFTER
        before = [t for who, t in said if prompt != "own" or who == s]
        context = " ".join(" ".join(before).split()[-40:]) if prompt else ""
        text = tr.transcribe(audio[s][a:b], a / 16000, s, context=context).text
        texts[s].append(text)
        said.append((s, text))
    return {s: " ".join(v) for s, v in texts.items()}


def decode_with_heard(tr, audio: dict[str, np.ndarray], pieces: list[list[dict]], keep_s: float, pad_s: float = 0.0) -> dict[str, str]:
    """Each turn decoded after up to keep_s of the same speaker's speech before it (their earlier
    utterances, silence between them left out, as faster-whisper's own VAD packs a channel): Whisper
    hears the voice and what was said in its own audio; only the words in the turn's part are kept."""
    from coach.core.pipeline import PAD_AFTER, PAD_BEFORE

    gap = np.zeros(int(0.3 * 16000), np.float32)
    past: dict[str, list[np.ndarray]] = {s: [] for s in SPEAKERS}
    texts: dict[str, list[str]] = {s: [] for s in SPEAKERS}
    for piece in pieces:
        s = piece[0]["speaker"]
        a = max(0, int((piece[0]["start"] - pad_s) * 16000) - PAD_BEFORE)
        b = int((piece[-1]["end"] + pad_s) * 16000) + PAD_AFTER
        ctx: list[np.ndarray] = []
        n = 0
        for clip in reversed(past[s]):
            if n + len(clip) > keep_s * 16000:
                break
            ctx.insert(0, clip)
            n += len(clip)
        head = np.concatenate([x for c in ctx for x in (c, gap)]) if ctx else np.zeros(0, np.float32)
        t0 = len(head) / 16000
        words = tr.transcribe(np.concatenate([head, audio[s][a:b]]), 0.0, s).words
        texts[s].append(" ".join(w.w for w in words if w.mid >= t0 - 0.05))
        for u in piece:
            past[s].append(audio[s][max(0, int(u["start"] * 16000) - PAD_BEFORE): int(u["end"] * 16000) + PAD_AFTER])
    return {s: " ".join(v) for s, v in texts.items()}


def whole_channel(model_path: str, audio: dict[str, np.ndarray]) -> dict[str, str]:
    """The target: faster-whisper alone, each channel whole, its own VAD, beam 5."""
    from faster_whisper import WhisperModel

    m = WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=1)
    out = {}
    for s, x in audio.items():
        segs, _ = m.transcribe(x, language="en", beam_size=5, vad_filter=True)
        out[s] = " ".join(seg.text.strip() for seg in segs)
    return out


def main() -> None:
    from coach.speech.models import resolve_model
    from coach.speech.transcriber import Transcriber

    OUT.mkdir(parents=True, exist_ok=True)
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    models = args.get("--models", "tiny.en,base").split(",")
    ids = calls(int(args["--calls"]) if "--calls" in args else None)
    edits: dict[str, dict[str, list[int]]] = {}
    cpu: dict[str, float] = {}
    duration = 0.0

    def score(label: str, refs: dict[str, str], hyp: dict[str, str]) -> None:
        for s in SPEAKERS:
            d, n = wer_counts(normalise(refs[s]), normalise(hyp.get(s, "")))
            e = edits.setdefault(label, {}).setdefault(s, [0, 0])
            e[0] += d
            e[1] += n

    data = []
    for sid in ids:
        doc = app_transcript(sid)
        data.append((sid, doc, channels(sid, args.get("--resampler", ""))))
        duration += doc["duration_s"]
        refs = reference(sid)
        score("app (first pass, tiny.en)", refs, {s: " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == s)
                                                  for s in SPEAKERS})
        cpu["app (first pass, tiny.en)"] = cpu.get("app (first pass, tiny.en)", 0.0) + doc["cpu_s_per_audio_s"] * doc["duration_s"]
    for model in models:
        path = str(OUT.parent / "models" / "base") if model == "base" else str(resolve_model(model, [], allow_download=False).path)
        variants = [("utt b5 +prompt", 5, False, True), ("turn b1", 1, True, False), ("turn b5", 5, True, False),
                    ("turn b1 +prompt", 1, True, True), ("turn b5 +prompt", 5, True, True), ("turn b5 +own", 5, True, "own"),
                    ("utt b5", 5, False, False), ("turn b5 +heard10", 5, True, 10.0), ("turn b5 +heard20", 5, True, 20.0),
                    ("turn b1 +heard20", 1, True, 20.0), ("turn b5 pad.4", 5, True, (0.0, 0.4)),
                    ("turn b5 +heard20 pad.4", 5, True, (20.0, 0.4))]
        only = args.get("--variants", "").split(",")
        for name, beam, by_turn, prompt in variants:
            if only != [""] and name not in only:
                continue
            tr = Transcriber(path, beam_size=beam)
            label = f"{model} {name}"
            for sid, doc, audio in data:
                pieces = turns(doc["utterances"]) if by_turn else [[u] for u in sorted(doc["utterances"], key=lambda u: u["start"])]
                t = time.process_time()
                hyp = decode_with_heard(tr, audio, pieces, prompt) if isinstance(prompt, float) \
                    else decode_with_heard(tr, audio, pieces, *prompt) if isinstance(prompt, tuple) \
                    else decode_pieces(tr, audio, pieces, prompt)
                cpu[label] = cpu.get(label, 0.0) + time.process_time() - t
                score(label, reference(sid), hyp)
            report(label, edits, cpu, duration)
        label = f"{model} whole channel, own VAD, b5"
        for sid, _, audio in data if only == [""] or "whole" in only else []:
            t = time.process_time()
            hyp = whole_channel(path, audio)
            cpu[label] = cpu.get(label, 0.0) + time.process_time() - t
            score(label, reference(sid), hyp)
        if label in edits:
            report(label, edits, cpu, duration)
    report("app (first pass, tiny.en)", edits, cpu, duration)
    (OUT / "results.json").write_text(json.dumps({"edits": edits, "cpu": cpu, "duration_s": duration}, indent=1))


def report(label: str, edits: dict, cpu: dict, duration: float) -> None:
    e = edits[label]
    w = {s: e[s][0] / max(1, e[s][1]) for s in SPEAKERS}
    print(f"{label:40} WER agent {w['agent']:.3f}  customer {w['customer']:.3f}  cpu s/s {cpu.get(label, 0) / duration:.3f}",
          flush=True)


if __name__ == "__main__":
    main()
