"""confirm_resolution (tip, "summarise next steps"): the agent closes without summarising the outcome.

Only in a call with a problem to resolve (a complaint, a fault, a change asked for): when the caller
asked for information, the answer is the outcome. Only before the goodbye: after it, nobody is
listening. Both come from the call's context (coach/analysis/call_context.py). Read on the stored
text in time order (`said`: the second pass's when it is in), not the first fragment decoded: a
misheard closing ("your religion is conferred") must not decide it."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal, quote
from coach.analysis.phrases import find, tokens
from coach.config.fields import opt
from coach.core.events import Utterance


@dataclass
class ConfirmResolutionSettings:
    enabled: bool = opt(True, "info: the agent closes the call without summarising the outcome (docs/cues.md)")
    cooldown_s: float = opt(120.0, "per-cue cooldown")
    lookback_s: float = opt(180.0, "a summary within this span before the closing counts")
    min_call_s: float = opt(20.0, "an 'anything else' before this point of the call is not a closing")
    meaning_p: float = opt(0.4, "an agent line the intent model calls a summary of outcome and next step with this "
                                "probability counts, besides the phrase list; 1 turns the model off for this cue", hi=1)
    problem_only: bool = opt(True, "only in calls with a problem to resolve (a complaint, a fault, a change asked for): on the "
                                   "judged calls it was wrong on every balance, branch-hours and timetable request, where "
                                   "the answer is the outcome ([phrases] fault, change_request; docs/evaluation.md)")


class ConfirmResolution(CueRule):
    spec = CueSpec("confirm_resolution", "summarise next steps", "communicating resolutions; follow-up",
                   "Before closing: 'To confirm, next you will…'", "info", 9)
    settings = ConfirmResolutionSettings

    def said(self, u: Utterance) -> list[Proposal]:
        if u.speaker != "agent":
            return []
        cr, ctx = self.cfg, self.state.context
        closing = find(tokens(u.text), self.state.phrases.closing)
        if not closing or u.end < cr.min_call_s:
            return []
        if cr.problem_only and ctx.problem is None:
            return []
        if ctx.said_goodbye(u.end):  # this line's goodbye included: too late to help anyone
            return []
        if any(u.end - t <= cr.lookback_s for t in self.state.summaries) or ctx.outcome_within(u.end, cr.lookback_s):
            return []  # this utterance's own summary or outcome included
        why = f"closing ({quote(closing)}) with no summary of the outcome; the call had {ctx.problem or 'no problem heard'}"
        return [Proposal(self.spec.id, "agent", why, u.end)]
