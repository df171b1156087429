"""confirm_resolution (tip, "summarise next steps"): the agent closes without summarising the outcome."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal, quote
from coach.analysis.cues.state import Heard
from coach.analysis.phrases import find
from coach.config.fields import opt


@dataclass
class ConfirmResolutionSettings:
    enabled: bool = opt(True, "info: the agent closes the call without summarising the outcome (docs/cues.md)")
    cooldown_s: float = opt(120.0, "per-cue cooldown")
    lookback_s: float = opt(180.0, "a summary within this span before the closing counts")
    min_call_s: float = opt(20.0, "an 'anything else' before this point of the call is not a closing")
    meaning_p: float = opt(0.4, "an agent line the intent model calls a summary of outcome and next step with this "
                                "probability counts, besides the phrase list; 1 turns the model off for this cue", hi=1)


class ConfirmResolution(CueRule):
    spec = CueSpec("confirm_resolution", "summarise next steps", "communicating resolutions; follow-up",
                   "Before closing: 'To confirm, next you will…'", "info", 9)
    settings = ConfirmResolutionSettings

    def decoded(self, h: Heard) -> list[Proposal]:
        if h.u.speaker != "agent":
            return []
        cr = self.cfg
        closing = find(h.toks, self.state.phrases.closing)
        if not closing or h.u.end < cr.min_call_s:
            return []
        if any(h.u.end - t <= cr.lookback_s for t in self.state.summaries):  # this utterance's own summary included
            return []
        return [Proposal(self.spec.id, "agent", f"closing ({quote(closing)}) with no summary of the outcome", h.u.end)]
