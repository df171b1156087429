"""Cue rules: turn utterances and turn-taking events into cue proposals.

Pure logic over events: no audio, no I/O, no Qt. The CueEngine decides what is shown.
"""

from __future__ import annotations

from coach.analysis.acoustics import Baseline
from coach.analysis.engine import Proposal
from coach.analysis.escalation import assess
from coach.analysis.pace import PaceTracker, Stretch
from coach.analysis.turns import DeadAir
from coach.events import SPEAKERS, Utterance
from coach.settings import CueSettings


class Rules:
    def __init__(self, settings: CueSettings) -> None:
        self.s = settings
        self.pace = {s: PaceTracker() for s in SPEAKERS}
        self.loudness = {s: Baseline() for s in SPEAKERS}
        self.sentiments: dict[str, list[float]] = {s: [] for s in SPEAKERS}
        self.escalated_at: float | None = None
        self.turns_since_escalation = 0
        self.last_escalation_score = 0.0

    def on_utterance(self, u: Utterance) -> list[Proposal]:
        out: list[Proposal] = []
        base = self.loudness[u.speaker].value()
        loud_delta = None if base is None else u.loudness_db - base
        if u.speaker == "customer":
            out += self._customer(u, loud_delta)
        else:
            out += self._agent(u)
        self.pace[u.speaker].add(len(u.words), u.end - u.start)
        self.loudness[u.speaker].add(u.loudness_db)
        self.sentiments[u.speaker].append(u.sentiment)
        return out

    def _customer(self, u: Utterance, loud_delta: float | None) -> list[Proposal]:
        es = self.s.customer_escalating
        a = assess(u.text, u.sentiment, self.sentiments["customer"], loud_delta, es.negative_sentiment, es.loud_db)
        self.last_escalation_score = a.score
        if a.score >= es.score_threshold:
            self.escalated_at, self.turns_since_escalation = u.end, 0
            return [Proposal("customer_escalating", "customer", "; ".join(a.reasons), u.end)]
        # calming: some turns after an escalation, a clearly positive one, at normal loudness
        if self.escalated_at is None:
            return []
        self.turns_since_escalation += 1
        calm = u.sentiment >= es.calm_sentiment and not a.phrases and (loud_delta is None or loud_delta < es.loud_db)
        if calm and self.turns_since_escalation >= es.calm_turns:
            self.escalated_at = None
            return [Proposal("customer_calming", "customer", f"sentiment {u.sentiment:+.2f}, voice back to normal, after escalation", u.end)]
        return []

    def _agent(self, u: Utterance) -> list[Proposal]:
        sd = self.s.slow_down
        tracker = self.pace["agent"]
        usual, usual_speech = tracker.overall(), tracker.speech_s()
        probe = PaceTracker()
        probe.stretches = [*tracker.stretches, Stretch(len(u.words), u.end - u.start)]
        wpm, speech = probe.recent(sd.window_s)
        if wpm is None or speech < sd.min_speech_s:
            return []
        if wpm > sd.max_wpm:
            return [Proposal("slow_down", "agent", f"pace {wpm:.0f} wpm over the last {speech:.0f} s of speech (limit {sd.max_wpm:.0f})", u.end)]
        if usual and usual_speech >= sd.baseline_min_speech_s and wpm > usual * sd.baseline_ratio:
            return [Proposal("slow_down", "agent", f"pace {wpm:.0f} wpm, your usual is {usual:.0f}", u.end)]
        return []

    def on_dead_air(self, e: DeadAir) -> list[Proposal]:
        return [Proposal("check_in", "agent", f"no one has spoken for {e.at - e.since:.0f} s", e.at)]
