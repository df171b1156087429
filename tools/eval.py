#!/usr/bin/env python3
"""make eval: every scripted scenario through `coach analyze`, scored; real calls scored against hand-judged cues.

Scenario sets: tests/data/scenarios.json (the project brief's), tests/data/scenarios_coach.json
(ours, tuned on, with near-misses that must not fire), tests/data/scenarios_holdout.json
(written before tuning; one failure there led to a rule fix, see docs/evaluation.md), scenarios_holdout2.json
(written after that fix, never tuned on), assets/sample_call.json (the demo call).
Results land in eval-out/ (NAME.wav, NAME.truth.json, NAME.json), so an external scorer
can be pointed at that folder too. Exit status 1 when any scenario fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.analysis.agent_acts import AgentActs  # noqa: E402
from coach.analysis.meaning import shared_meaning  # noqa: E402
from coach.app import compose as app  # noqa: E402
from coach.config.settings import CueSettings, PhraseSettings  # noqa: E402
from coach.session.evaluation import judge, score, score_acts  # noqa: E402

OUT = ROOT / "eval-out"
SETS = {
    "brief": ROOT / "tests/data/scenarios.json",
    "coach (tuned)": ROOT / "tests/data/scenarios_coach.json",
    "holdout": ROOT / "tests/data/scenarios_holdout.json",
    "holdout 2": ROOT / "tests/data/scenarios_holdout2.json",
    "sample": ROOT / "assets/sample_call.json",
}
REAL_CUES = ROOT / "tests/data/real_cues.json"
INTENTS = ROOT / "tests/data/intents_labelled.json"


def agent_acts() -> None:
    """Summary, acknowledgement and reflection detectors on hand-labelled agent lines: the phrase lists alone,
    then with the sentence encoder. A missed act is a false cue (confirm_resolution, acknowledge_feelings,
    reflect_back); a false one is a missed cue."""
    labelled = json.loads(INTENTS.read_text())
    print(f"== agent acts on hand-labelled lines ({INTENTS.relative_to(ROOT)}: {len(labelled['lines'])} lines, "
          f"{len(labelled['pairs'])} reply pairs)")
    for label, meaning in (("phrase lists", None), ("phrases + meaning", shared_meaning())):
        for act, tally in score_acts(labelled, AgentActs(CueSettings(), PhraseSettings(), meaning)).items():
            print(f"  {label:18} {act:16} {tally}")
    print()


def speaking_rates(call: Path, result: dict) -> dict[str, tuple[float, float]]:
    """Per speaker of a stereo call: (the report's wpm, words per minute of the channel's own
    speaking time: Silero speech with pauses under 0.5 s bridged, as a listener hears a run)."""
    import numpy as np
    import soundfile as sf
    import soxr

    from coach.speech.vad import FRAME_S, SileroStream

    x, sr = sf.read(call, dtype="float32", always_2d=True)
    out = {}
    for speaker, ch in result["source"]["speakers"].items():
        if x.shape[1] < 2 or result["source"].get("agent_identified_by") != "channel" or not result["metrics"][speaker]["wpm"]:
            continue
        speech = SileroStream().feed(soxr.resample(x[:, ch], sr, 16000)) > 0.5
        idx = np.flatnonzero(speech)
        gaps = np.diff(idx) * FRAME_S
        talk = (len(idx) + sum(int(g / FRAME_S) - 1 for g in gaps if g < 0.5)) * FRAME_S
        words = sum(len(u["words"]) for u in result["utterances"] if u["speaker"] == speaker)
        out[speaker] = (result["metrics"][speaker]["wpm"], words / talk * 60)
    return out


def main() -> int:
    OUT.mkdir(exist_ok=True)
    opts = app.Options(data_dir=str(OUT / "data"))
    failed = 0
    agent_acts()
    for label, path in SETS.items():
        subprocess.run([sys.executable, str(ROOT / "tools/render_calls.py"), str(OUT), str(path)], check=True, capture_output=True)
        hits = expected = forbidden = 0
        print(f"== {label} ({path.relative_to(ROOT)})")
        for sc in json.loads(path.read_text()):
            truth = json.loads((OUT / f"{sc['name']}.truth.json").read_text())
            result = app.analyze(str(OUT / f"{sc['name']}.wav"), str(OUT / f"{sc['name']}.json"), opts, progress=False)
            s = score(truth, result)
            hits, expected, forbidden = hits + s.hits, expected + s.expected, forbidden + s.forbidden_fired
            failed += not s.ok
            print(f"  {'ok  ' if s.ok else 'FAIL'} {s.name}: " + "; ".join(s.notes or ["nothing expected, nothing forbidden fired"]))
        print(f"  {label}: {hits}/{expected} expected hit, {forbidden} forbidden fired\n")
    print("== real recordings, cues judged by hand (tests/data/real_cues.json)")
    tally: dict[str, list[int]] = {}  # cue -> [right, wrong or unjudged, missed]
    for labels in json.loads(REAL_CUES.read_text())["calls"]:
        call = ROOT / "tests/data" / labels["file"]
        result = app.analyze(str(call), str(OUT / f"{call.stem}.json"), opts, progress=False)
        minutes = result["source"]["duration_s"] / 60
        j = judge(labels, result)
        alerts = [c for c in result["cues"] if c["severity"] == "alert"]
        print(f"  {call.name}: {minutes:.1f} min, {len(result['cues']) / minutes:.2f} cues/min, {len(alerts)} alerts")
        for speaker, (wpm, heard) in speaking_rates(call, result).items():
            print(f"    pace      {speaker} {wpm:.0f} wpm; from the channel's speaking time {heard:.0f} wpm "
                  f"({(wpm / heard - 1) * 100:+.0f} %, target within 10 %)")
        for cid, t in j.right:
            print(f"    right     {cid} at {t:.1f} s")
        for cid, t, why in j.wrong:
            print(f"    WRONG     {cid} at {t:.1f} s: {why}")
        for cid, t in j.debatable:
            print(f"    debatable {cid} at {t:.1f} s")
        for cid, t in j.unjudged:
            print(f"    UNJUDGED  {cid} at {t:.1f} s: judge it in {REAL_CUES.name}")
        for cid, t0, t1 in j.missed:
            print(f"    MISSED    {cid} ({t0:.0f}-{t1:.0f} s)")
        for cid, *_ in j.right:
            tally.setdefault(cid, [0, 0, 0])[0] += 1
        for cid, *_ in [*j.wrong, *j.unjudged]:
            tally.setdefault(cid, [0, 0, 0])[1] += 1
        for cid, *_ in j.missed:
            tally.setdefault(cid, [0, 0, 0])[2] += 1
    for cid, (r, w, m) in sorted(tally.items()):
        prec = f"{r / (r + w):.0%}" if r + w else "-"
        rec = f"{r / (r + m):.0%}" if r + m else "-"
        print(f"  {cid:22} precision {prec:>5} ({r}/{r + w})   recall {rec:>5} ({r}/{r + m})")
    right, wrong = sum(v[0] for v in tally.values()), sum(v[1] for v in tally.values())
    if right + wrong:
        print(f"  all cues: precision {right / (right + wrong):.0%} ({right}/{right + wrong})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
