"""offer_options (tip): the customer repeats the same demand or rejects the offer again."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import Heard
from coach.config.fields import opt


@dataclass
class OfferOptionsSettings:
    enabled: bool = opt(True, "info: the customer repeats a demand or rejects the offer again (docs/cues.md)")
    cooldown_s: float = opt(60.0, "per-cue cooldown (docs/cues.md)")
    repeats: int = opt(2, "two or more repeats or rejections (docs/cues.md)")
    window_s: float = opt(180.0, "repeats count within this span")


class OfferOptions(CueRule):
    spec = CueSpec("offer_options", "offer options", "finding common ground; mutually beneficial agreement",
                   "Ask what matters most, then offer two options", "info", 6)
    settings = OfferOptionsSettings

    def decoded(self, h: Heard) -> list[Proposal]:
        # the repeat is a shared signal (it also adds to the escalation score): see rules.py
        return [Proposal(self.spec.id, "customer", h.repeated, h.u.end)] if h.repeated else []
