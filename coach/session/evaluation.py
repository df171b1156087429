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


@dataclass
class Judged:
    """A real call's fired cues against hand judgements (tests/data/real_cues.json)."""

    name: str
    right: list[tuple[str, float]] = field(default_factory=list)
    wrong: list[tuple[str, float, str]] = field(default_factory=list)
    debatable: list[tuple[str, float]] = field(default_factory=list)
    unjudged: list[tuple[str, float]] = field(default_factory=list)
    missed: list[tuple[str, float, float]] = field(default_factory=list)  # right entries that did not fire

    @property
    def precision(self) -> float | None:
        n = len(self.right) + len(self.wrong) + len(self.unjudged)  # an unjudged cue is not known right
        return len(self.right) / n if n else None

    @property
    def recall(self) -> float | None:
        n = len(self.right) + len(self.missed)
        return len(self.right) / n if n else None


def judge(labels: dict[str, Any], result: dict[str, Any]) -> Judged:
    """Each fired cue takes the verdict of the first entry with its id whose window holds its time."""
    j = Judged(labels["file"])
    fired_right: set[int] = set()
    for c in result["cues"]:
        cid, t = c["id"], float(c["t"])
        entry = next((i for i, e in enumerate(labels["cues"]) if e["id"] == cid and e["t0"] <= t <= e["t1"]), None)
        if entry is None:
            j.unjudged.append((cid, t))
            continue
        verdict = labels["cues"][entry]["verdict"]
        if verdict == "right":
            j.right.append((cid, t))
            fired_right.add(entry)
        elif verdict == "wrong":
            j.wrong.append((cid, t, labels["cues"][entry]["why"]))
        else:
            j.debatable.append((cid, t))
    j.missed = [(e["id"], e["t0"], e["t1"]) for i, e in enumerate(labels["cues"]) if e["verdict"] == "right" and i not in fired_right]
    return j


@dataclass
class Tally:
    """Precision and recall counts of one detector on a labelled set."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, said: bool, truth: bool, text: str) -> None:
        self.tp += said and truth
        self.fp += said and not truth
        self.fn += truth and not said
        if said != truth:
            self.errors.append(f"{'false' if said else 'missed'}: {text}")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def __str__(self) -> str:
        return f"precision {self.precision:4.0%} ({self.tp}/{self.tp + self.fp})  recall {self.recall:4.0%} ({self.tp}/{self.tp + self.fn})"


def score_acts(labelled: dict[str, Any], acts: Any) -> dict[str, Tally]:
    """An AgentActs (coach/analysis/agent_acts.py) against tests/data/intents_labelled.json: summaries and
    acknowledgements on single agent lines, reflections on (customer turn, agent reply) pairs and on lines
    (a line labelled a reflection restates something the customer said before it)."""
    out = {k: Tally() for k in ("summary", "acknowledgement", "reflection")}
    for text, labels in labelled["lines"]:
        out["summary"].add(acts.summary(text) is not None, "summary" in labels, text)
        out["acknowledgement"].add(acts.acknowledgement(text) is not None, "acknowledgement" in labels, text)
        out["reflection"].add(acts.reflection("", text) is not None, "reflection" in labels, text)
    for customer, reply, restates in labelled["pairs"]:
        out["reflection"].add(acts.reflection(customer, reply) is not None, restates, f"{reply!r} to {customer!r}")
    return out
