"""Scoring analysis results against scripted-call truth files (tools/render_calls.py).

The same rule as the shared scorer the project is judged by: an expected cue counts
when it fires between the start of its turn and `within_s` after that turn's end; a
forbidden cue must never fire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Score:
    name: str
    hits: int = 0
    expected: int = 0
    forbidden_fired: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.hits == self.expected and self.forbidden_fired == 0


def score(truth: dict[str, Any], result: dict[str, Any]) -> Score:
    cues = [(c["id"], float(c["t"])) for c in result["cues"]]
    s = Score(truth["name"])
    for e in truth["expect"]:
        s.expected += 1
        turn = truth["turns"][e["after_turn"]]
        lo, hi = turn["start"], turn["end"] + e["within_s"]
        ok = [t for cid, t in cues if cid == e["cue"] and lo <= t <= hi]
        if ok:
            s.hits += 1
            s.notes.append(f"hit {e['cue']} at {ok[0]:.1f}s (window {lo:.1f}-{hi:.1f})")
        else:
            seen = [round(t, 1) for cid, t in cues if cid == e["cue"]]
            s.notes.append(f"MISS {e['cue']} (window {lo:.1f}-{hi:.1f}; fired at {seen})")
    for cid in truth["forbid"]:
        fired = [round(t, 1) for c, t in cues if c == cid]
        if fired:
            s.forbidden_fired += 1
            s.notes.append(f"FORBIDDEN {cid} fired at {fired}")
    return s
