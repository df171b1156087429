#!/usr/bin/env python3
"""Score a build against the hand-judged real calls (tests/data/judged_calls.json).

Runs `coach analyze` on each judged call (the coach next to this Python, as a subprocess), matches every fired cue to
a judged one (same id, |t - t_judged| <= 10 s, the nearest), and prints per cue and per severity: fired, right,
debatable, wrong, unjudged, precision = right / (right + wrong), and judged misses caught; then the false alerts
(alert cues judged wrong) and the unjudged cues, which a human should judge and add to the file. Exit status 0.

    .venv/bin/python tools/judged_eval.py [--out DIR] [--reuse] [--coach CMD]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests/data"
JUDGED = DATA / "judged_calls.json"
WINDOW_S = 10.0
COLUMNS = ("fired", "right", "debatable", "wrong", "unjudged", "misses", "caught")


def analyze(coach: list[str], call: Path, agent_channel: int, out: Path, reuse: bool) -> dict | None:
    """The analysis JSON of one call (rerun unless reuse and it exists); None when coach failed."""
    if not (reuse and out.exists()):
        cmd = [*coach, "analyze", str(call), "--json", str(out), "--agent-channel", str(agent_channel),
               "--data-dir", str(out.parent / "data"), "--quiet"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode:
            print(f"  {call.name}: coach failed ({run.returncode}): {run.stderr.strip()[-300:]}")
            return None
    return json.loads(out.read_text())


def nearest(entries: list[dict], cue_id: str, t: float) -> dict | None:
    """The entry with this id nearest to t within the window, if any."""
    near = [e for e in entries if e["id"] == cue_id and abs(e["t"] - t) <= WINDOW_S]
    return min(near, key=lambda e: abs(e["t"] - t), default=None)


def precision(row: dict[str, int]) -> str:
    judged = row["right"] + row["wrong"]
    return f"{row['right'] / judged:.0%}" if judged else "-"


def table(title: str, rows: dict[str, dict[str, int]]) -> None:
    print(f"\n{title:22}" + "".join(f"{c:>10}" for c in COLUMNS) + f"{'precision':>11}")
    total: dict[str, int] = defaultdict(int)
    for key in sorted(rows):
        for c in COLUMNS:
            total[c] += rows[key][c]
        print(f"{key:22}" + "".join(f"{rows[key][c]:>10}" for c in COLUMNS) + f"{precision(rows[key]):>11}")
    print(f"{'all':22}" + "".join(f"{total[c]:>10}" for c in COLUMNS) + f"{precision(total):>11}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "eval-out/judged", help="where the analysis JSONs go")
    ap.add_argument("--reuse", action="store_true", help="reuse analysis JSONs already in --out")
    ap.add_argument("--coach", default=str(Path(sys.executable).with_name("coach")), help="the coach command")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    judged = json.loads(JUDGED.read_text())
    per_cue: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    severity_of: dict[str, str] = {}
    unjudged: list[str] = []
    false_alerts: list[str] = []
    print(f"{len(judged['calls'])} judged calls ({JUDGED.relative_to(ROOT)}); match: {judged['match']}")
    for call in judged["calls"]:
        path = DATA / call["call"]
        result = analyze(shlex.split(args.coach), path, call["agent_channel"], args.out / f"{path.stem}.json", args.reuse)
        if result is None:
            continue
        fired = result["cues"]
        for cue in fired:
            severity_of[cue["id"]] = cue["severity"]
            row = per_cue[cue["id"]]
            row["fired"] += 1
            entry = nearest(call["cues"], cue["id"], cue["t"])
            if entry is None:
                row["unjudged"] += 1
                unjudged.append(f"{call['call']} {cue['id']} at {cue['t']:.1f} s ({cue['severity']}): {cue['reason']}")
                continue
            row[entry["verdict"]] += 1
            if entry["verdict"] == "wrong" and cue["severity"] == "alert":
                false_alerts.append(f"{call['call']} {cue['id']} at {cue['t']:.1f} s: {entry['reason']}")
        for miss in call["misses"]:
            row = per_cue[miss["id"]]
            row["misses"] += 1
            row["caught"] += any(c["id"] == miss["id"] and abs(c["t"] - miss["t"]) <= WINDOW_S for c in fired)

    table("cue", per_cue)
    per_severity: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    for cue_id, row in per_cue.items():
        for c in COLUMNS:
            per_severity[severity_of.get(cue_id, "? (never fired)")][c] += row[c]
    table("severity", per_severity)
    print(f"\nfalse alerts (alert cues judged wrong): {len(false_alerts)}")
    for line in false_alerts:
        print(f"  {line}")
    print(f"\nunjudged (judge them and add them to {JUDGED.name}): {len(unjudged)}")
    for line in unjudged:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
