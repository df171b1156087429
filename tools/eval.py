#!/usr/bin/env python3
"""make eval: every scripted scenario through `coach analyze`, scored; real calls' cue rates.

Scenario sets: tests/data/scenarios.json (the project brief's), tests/data/scenarios_coach.json
(ours, tuned on, with near-misses that must not fire), tests/data/scenarios_holdout.json
(written before tuning; one failure there led to a rule fix, see README), scenarios_holdout2.json
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

from coach import app  # noqa: E402
from coach.evaluation import score  # noqa: E402

OUT = ROOT / "eval-out"
SETS = {
    "brief": ROOT / "tests/data/scenarios.json",
    "coach (tuned)": ROOT / "tests/data/scenarios_coach.json",
    "holdout": ROOT / "tests/data/scenarios_holdout.json",
    "holdout 2": ROOT / "tests/data/scenarios_holdout2.json",
    "sample": ROOT / "assets/sample_call.json",
}
REAL = [ROOT / "tests/data/auto_repairs_49_stereo.flac"]


def main() -> int:
    OUT.mkdir(exist_ok=True)
    opts = app.Options(data_dir=str(OUT / "data"))
    failed = 0
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
    print("== real recordings")
    for call in REAL:
        result = app.analyze(str(call), str(OUT / f"{call.stem}.json"), opts, progress=False)
        minutes = result["source"]["duration_s"] / 60
        alerts = [c for c in result["cues"] if c["severity"] == "alert"]
        by_id: dict[str, int] = {}
        for c in result["cues"]:
            by_id[c["id"]] = by_id.get(c["id"], 0) + 1
        print(f"  {call.name}: {minutes:.1f} min, {len(result['cues']) / minutes:.2f} cues/min, "
              f"{len(alerts) / minutes:.2f} alerts/min; {by_id}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
