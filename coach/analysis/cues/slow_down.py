"""slow_down (warning): the agent's pace is sustained above the limit or well above their own usual."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import Heard
from coach.analysis.pace import Stretch
from coach.config.fields import opt


@dataclass
class SlowDownSettings:
    enabled: bool = opt(True, "warn: the agent's pace is sustained above the limit or their own usual (docs/cues.md)")
    cooldown_s: float = opt(60.0, "per-cue cooldown (docs/cues.md)")
    max_wpm: float = opt(230.0, "articulation rate, pauses > 0.5 s excluded, which runs ~15-25 % above speaking rate: "
                                "130-175 wpm is comfortable and one product triggers at 180 (docs/facts.md), so ~190 speaking")
    window_s: float = opt(20.0, "rate over the last ~20 s of the agent's own speech (docs/cues.md)")
    min_speech_s: float = opt(8.0, "flag only sustained pace: a rate over a short turn is noise (docs/facts.md); 6 s fired on "
                                   "one brisk 20-word reflection (6.5 s) in the real call (docs/evaluation.md)", hi=600)
    baseline_ratio: float = opt(1.3, "or this much above the agent's own usual pace (Cogito's approach, docs/facts.md)")
    baseline_min_speech_s: float = opt(60.0, "the agent's usual pace counts once this much of their speech is known")


class SlowDown(CueRule):
    spec = CueSpec("slow_down", "slow down", "remaining calm and composed; communicating clearly", "Slow down, pause between steps",
                   "warn", 4)
    settings = SlowDownSettings

    def decoded(self, h: Heard) -> list[Proposal]:
        if h.u.speaker != "agent":
            return []
        sd, u = self.cfg, h.u
        tracker = self.state.pace["agent"]  # this utterance joins it after the cues have run
        usual, usual_speech = tracker.overall(), tracker.speech_s()
        wpm, speech = tracker.recent(sd.window_s, Stretch(len(u.words), u.end - u.start))
        if wpm is None or speech < sd.min_speech_s:
            return []
        if wpm > sd.max_wpm:
            return [Proposal(self.spec.id, "agent", f"pace {wpm:.0f} wpm over your last {speech:.0f} s of speech, limit {sd.max_wpm:.0f}",
                             u.end)]
        if usual and usual_speech >= sd.baseline_min_speech_s and wpm > usual * sd.baseline_ratio:
            return [Proposal(self.spec.id, "agent", f"pace {wpm:.0f} wpm, your usual is {usual:.0f}", u.end)]
        return []
