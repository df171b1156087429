"""soften_wording (warning): the agent said something harsh or dismissive.

Some phrases are harsh only to an upset customer ("you need to" is an instruction in a calm call):
those are judged in the conversation's time order, when it is known whether the customer was upset."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal, quote
from coach.analysis.cues.state import Heard
from coach.analysis.evidence import combine
from coach.analysis.phrases import heard_in
from coach.config.fields import opt
from coach.core.events import Speaker, Utterance, Word

# "I'm sorry you have to call again" is sympathy, not an order (tiny.en drops the "had" of
# "sorry you have had to call"): an instruction phrase right after these words does not count
SYMPATHY = frozenset({"sorry", "apologise", "apologize", "apologies", "shame", "pity"})


@dataclass
class SoftenSettings:
    enabled: bool = opt(True, "warn: the agent said something harsh or dismissive (docs/cues.md)")
    cooldown_s: float = opt(30.0, "per-cue cooldown (docs/cues.md)")


class SoftenWording(CueRule):
    spec = CueSpec("soften_wording", "soften wording", "assertive, not aggressive", "Say what you can do: 'What I can do is…'", "warn", 2)
    settings = SoftenSettings

    def decoded(self, h: Heard) -> list[Proposal]:
        return self._harsh(h.u.words, self.state.phrases.harsh) if h.u.speaker == "agent" else []

    def words(self, speaker: Speaker, start: float, words: list[Word]) -> list[Proposal]:
        return self._harsh(words, self.state.phrases.harsh) if speaker == "agent" else []

    def said(self, u: Utterance) -> list[Proposal]:
        if u.speaker != "agent" or not self.state.customer_upset:
            return []
        return self._harsh(u.words, self.state.phrases.harsh_when_upset, " to an upset customer", SYMPATHY)

    def _harsh(self, words: list[Word], phrases: list[str], to_whom: str = "", unless_after: frozenset[str] = frozenset()) -> list[Proposal]:
        """The harsh phrases in these words, dated from the first of them; several phrases are
        independent evidence of the same tone."""
        said = heard_in(words, phrases, unless_after)
        if not said:
            return []
        return [Proposal(self.spec.id, "agent", f"you said {quote([h.phrase for h in said])}{to_whom}", min(h.end for h in said),
                         combine(*(h.confidence for h in said)))]
