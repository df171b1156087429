"""Did the agent summarise, reflect or acknowledge? Phrase lists first, then meaning.

The phrase lists (settings [phrases]) catch the textbook wordings at no cost; the sentence
encoder (coach/analysis/meaning.py) catches the rest ("so I have you in the system for 8am
Thursday"). Each answer is a short reason, or None. Without a Meaning (tests of other
rules, or the encoder missing) only the phrase lists and shared words count.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from coach.analysis.meaning import Meaning
from coach.analysis.phrases import content_words, find, tokens

if TYPE_CHECKING:
    from coach.config.settings import CueSettings, PhraseSettings

MIN_WORDS = 4  # "okay", "oh, it did", "no problem": too little to mean anything by itself
# A summary names what was done: "yes, that is done now" reads as one to the intent model (p 0.47)
# but names nothing the caller could check, so a sentence needs two content words to be scored.
SUMMARY_CONTENT_WORDS = 2


def sentences(text: str) -> list[str]:
    """Whisper's sentences of MIN_WORDS words or more. Scored one by one: "Let me look at your account.
    Okay, I can see a block on the card." read as one vector looked like an outcome (p 0.58), its
    sentences do not (0.11, 0.29). Not clauses: split at commas too, two reassurances ("let's make this
    as easy as possible for you") read as acknowledgements in the labelled set."""
    return [s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if len(tokens(s)) >= MIN_WORDS]


class AgentActs:
    def __init__(self, cues: CueSettings, phrases: PhraseSettings, meaning: Meaning | None = None) -> None:
        self.s = cues
        self.ph = phrases
        self.meaning = meaning

    def _intent(self, text: str, intent: str, p: float, min_content: int = 0) -> str | None:
        if self.meaning is None:
            return None
        scored = [s for s in sentences(text) if len(content_words(s)) >= min_content]
        got = max((self.meaning.intents(s)[intent] for s in scored), default=0.0)
        return f"{intent} by meaning (p {got:.2f})" if got >= p else None

    def summary(self, text: str) -> str | None:
        said = find(tokens(text), self.ph.summary)
        if said:
            return f"said {said[0]!r}"
        return self._intent(text, "summary", self.s.confirm_resolution.meaning_p, SUMMARY_CONTENT_WORDS)

    def acknowledgement(self, text: str) -> str | None:
        said = find(tokens(text), self.ph.acknowledgement)
        if said:
            return f"said {said[0]!r}"
        return self._intent(text, "acknowledgement", self.s.acknowledge_feelings.meaning_p)

    def reflection(self, customer: str, reply: str) -> str | None:
        """Does the reply restate the customer's turn: a restating phrase, their own words, a
        line that reads as a restatement, or the same content in other words."""
        rb = self.s.reflect_back
        said = find(tokens(reply), self.ph.reflection)
        if said:
            return f"said {said[0]!r}"
        shared = content_words(customer) & content_words(reply)
        if len(shared) >= rb.shared_words:
            return f"reused {len(shared)} of the customer's words"
        by_form = self._intent(reply, "reflection", rb.meaning_p)
        if by_form or self.meaning is None or len(tokens(reply)) < MIN_WORDS or not customer.strip():
            return by_form
        sim = self.meaning.similarity(customer, reply)
        return f"restated the customer's turn in other words (similarity {sim:.2f})" if sim >= rb.similar_reply else None
