#!/usr/bin/env python3
"""Build tests/data/mishearings.json: what the recognizer really hears for the phrases the
detectors look for, with several kernels (CTranslate2's int8, int8_float32, float32) and,
when present, another model (`--model DIR`, e.g. the multilingual base from PyPI).

Another CPU's int8 kernels hear other words; other compute types on this machine reproduce
that variety. Each scripted turn is cut from its speaker's channel and decoded once per
variant; decoded tokens are aligned with the script's, and wherever a phrase of a phrase
list occurs in the script, the aligned decoded words are recorded if they differ.

Usage: mishearings.py [--model NAME=DIR ...]   (writes tests/data/mishearings.json)
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.analysis.phrases import _phrase, tokens  # noqa: E402
from coach.config.settings import PhraseSettings  # noqa: E402
from coach.speech.models import resolve_model  # noqa: E402
from coach.speech.transcriber import Transcriber  # noqa: E402

SCRIPTS = ["scenarios.json", "scenarios_coach.json", "scenarios_holdout.json", "scenarios_holdout2.json",
           "scenarios_payment.json", "scenarios_streaming.json"]


def variants(extra: list[str]) -> list[tuple[str, Transcriber]]:
    tiny = str(resolve_model("tiny.en", [], allow_download=False).path)
    out = []
    for ct in ("int8", "int8_float32", "float32"):
        try:
            out.append((f"tiny.en/{ct}", Transcriber(tiny, compute_type=ct)))
        except (RuntimeError, ValueError) as e:
            print(f"skipping {ct}: {e}", file=sys.stderr)
    for spec in extra:
        name, _, path = spec.partition("=")
        out.append((f"{name}/int8", Transcriber(path, compute_type="int8")))
    return out


def phrase_lists() -> dict[str, list[str]]:
    return {f.name: getattr(PhraseSettings(), f.name) for f in dataclasses.fields(PhraseSettings)
            if isinstance(getattr(PhraseSettings(), f.name), list)}


def main() -> None:
    extra = [a for a in sys.argv[1:] if a != "--model"]
    lists = phrase_lists()
    found: dict[tuple, dict] = {}
    tmp = Path(tempfile.mkdtemp())
    scripts = [ROOT / "tests/data" / n for n in SCRIPTS] + [ROOT / "assets/sample_call.json"]
    for script in scripts:
        subprocess.run([sys.executable, str(ROOT / "tools/render_calls.py"), str(tmp), str(script)], check=True, capture_output=True)
    models = variants(extra)
    for truth_path in sorted(tmp.glob("*.truth.json")):
        truth = json.loads(truth_path.read_text())
        audio, sr = sf.read(truth_path.with_name(truth_path.name.replace(".truth.json", ".wav")), dtype="float32")
        for turn in truth["turns"]:
            ch = 0 if turn["who"] == "agent" else 1
            clip = audio[max(0, int((turn["start"] - 0.2) * sr)): int((turn["end"] + 0.15) * sr), ch]
            said = tokens(turn["text"])
            for name, tr in models:
                heard = tokens(tr.transcribe(clip, 0.0).text)
                sm = difflib.SequenceMatcher(None, said, heard, autojunk=False)
                pos = {}  # script token index -> aligned heard index range
                for tag, i1, i2, j1, j2 in sm.get_opcodes():
                    for i in range(i1, i2):
                        pos[i] = (j1 + (i - i1) if tag == "equal" else j1, j1 + (i - i1) + 1 if tag == "equal" else j2)
                for lst, phrases in lists.items():
                    for p in phrases:
                        ph = _phrase(p)
                        for i in range(len(said) - len(ph) + 1):
                            if tuple(said[i:i + len(ph)]) != ph or "*" in ph:
                                continue
                            a, b = pos[i][0], pos[i + len(ph) - 1][1]
                            got = " ".join(heard[a:b])
                            if got != " ".join(ph):
                                key = (lst, p, got)
                                found.setdefault(key, {"list": lst, "phrase": p, "heard": got, "in": " ".join(heard),
                                                       "said": turn["text"], "variants": [], "scenario": truth_path.name[:-11]})
                                if name not in found[key]["variants"]:
                                    found[key]["variants"].append(name)
            print(f"{truth_path.name}: {turn['who']}: done", file=sys.stderr)
    out = {"generated_by": "tools/mishearings.py", "variants": [n for n, _ in models],
           "phrases": sorted(found.values(), key=lambda d: (d["list"], d["phrase"], d["heard"]))}
    (ROOT / "tests/data/mishearings.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(found)} mishearings of {sum(len(v) for v in lists.values())} phrases", file=sys.stderr)


if __name__ == "__main__":
    main()
