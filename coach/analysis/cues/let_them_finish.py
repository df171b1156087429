"""let_them_finish (warning): the agent talks over the customer mid-turn, past a backchannel."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.turns import Interruption
from coach.config.fields import opt


@dataclass
class LetThemFinishSettings:
    enabled: bool = opt(True, "warn: the agent talks over the customer mid-turn, past a backchannel (docs/cues.md)")
    cooldown_s: float = opt(30.0, "per-cue cooldown (docs/cues.md)")
    overlap_s: float = opt(1.0, "overlaps under ~0.8 s are usually backchannels, not interruptions (docs/facts.md)")
    customer_lead_s: float = opt(1.0, "the customer must have been talking this long: the agent came in mid-turn")


class LetThemFinish(CueRule):
    spec = CueSpec("let_them_finish", "let them finish", "active listening", "Stop, let the customer finish, then respond", "warn", 1)
    settings = LetThemFinishSettings

    def interruption(self, e: Interruption) -> list[Proposal]:
        return [Proposal(self.spec.id, "agent", f"you talked over the customer for {e.overlap_s:.1f} s while they were mid-sentence",
                         e.at)]
