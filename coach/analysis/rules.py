"""Cue rules: turn utterances and turn-taking events into cue proposals.

Pure logic over events: no audio, no I/O, no Qt. The CueEngine decides what is shown.
"""

from __future__ import annotations

from coach.analysis.acoustics import Baseline
from coach.analysis.engine import Proposal
from coach.analysis.escalation import assess
from coach.analysis.pace import PaceTracker
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
        self.last_escalation_score = 0.0

    def on_utterance(self, u: Utterance) -> list[Proposal]:
        out: list[Proposal] = []
        base = self.loudness[u.speaker].value()
        loud_delta = None if base is None else u.loudness_db - base
        if u.speaker == "customer":
            out += self._customer(u, loud_delta)
        else:
            out += self._agent(u)
        if u.words:
            self.pace[u.speaker].add(u.words)
        self.loudness[u.speaker].add(u.loudness_db)
        self.sentiments[u.speaker].append(u.sentiment)
        return out

    def _customer(self, u: Utterance, loud_delta: float | None) -> list[Proposal]:
        es = self.s.customer_escalating
        a = assess(u.text, u.sentiment, self.sentiments["customer"], loud_delta, es.negative_sentiment, es.loud_db)
        self.last_escalation_score = a.score
        if a.score >= es.score_threshold:
            self.escalated_at = u.end
            return [Proposal("customer_escalating", "customer", "; ".join(a.reasons), u.end)]
        # calming: after an escalation, a clearly positive turn with no anger left in it
        if self.escalated_at is not None and u.sentiment >= 0.3 and not a.phrases and a.score < 0.2:
            self.escalated_at = None
            return [Proposal("customer_calming", "customer", f"sentiment {u.sentiment:+.2f} after escalation", u.end)]
        return []

    def _agent(self, u: Utterance) -> list[Proposal]:
        sd = self.s.slow_down
        tracker = self.pace["agent"]
        usual = tracker.overall()
        usual_speech = sum(w.end - w.start for w in tracker.words)
        probe = PaceTracker()
        probe.words = tracker.words + list(u.words)
        rate, speech = probe.recent(sd.window_s)
        if rate is None or speech < sd.min_speech_s:
            return []
        if rate > sd.max_wpm:
            return [Proposal("slow_down", "agent", f"pace {rate:.0f} wpm over the last {speech:.0f} s (limit {sd.max_wpm:.0f})", u.end)]
        if usual and usual_speech >= sd.baseline_min_speech_s and rate > usual * sd.baseline_ratio:
            return [Proposal("slow_down", "agent", f"pace {rate:.0f} wpm, your usual is {usual:.0f}", u.end)]
        return []

    def on_dead_air(self, e: DeadAir) -> list[Proposal]:
        return [Proposal("check_in", "agent", f"no one has spoken for {e.at - e.since:.0f} s", e.at)]
