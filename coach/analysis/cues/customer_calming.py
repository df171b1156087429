"""customer_calming (positive): after an escalation, the customer's sentiment and voice recover."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import Heard
from coach.config.fields import opt


@dataclass
class CalmingSettings:
    enabled: bool = opt(True, "positive: after an escalation the customer's sentiment and voice recover (docs/cues.md)")
    cooldown_s: float = opt(60.0, "per-cue cooldown (docs/cues.md)")
    turns: int = opt(2, "customer turns after the escalation before calming may show: one polite word is not recovery")
    sentiment: float = opt(0.3, "VADER compound at or above this counts as positive", lo=-1, hi=1)


class CustomerCalming(CueRule):
    spec = CueSpec("customer_calming", "customer calming", "positive reinforcement", "It's working: keep this tone", "positive", 10)
    settings = CalmingSettings

    def decoded(self, h: Heard) -> list[Proposal]:
        st, es = self.state, self.state.cues.customer_escalating
        if h.u.speaker != "customer" or h.escalation is None or st.escalated_at is None or h.escalation.score >= es.score_threshold:
            return []
        loud = h.arousal.loud_db
        calm = h.mood >= self.cfg.sentiment and not h.escalation.phrases and (loud is None or loud < es.loud_db)
        if not calm or st.turns_since_escalation < self.cfg.turns:
            return []
        st.escalated_at = None  # the episode is over
        return [Proposal(self.spec.id, "customer", f"sentiment {h.mood:+.2f}, voice back to normal, after the escalation", h.u.end)]
