"""reflect_back (tip): after a long or emotional customer turn the agent moved on without restating it."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import Reply
from coach.analysis.sentiment import sentiment
from coach.config.fields import opt


@dataclass
class ReflectSettings:
    enabled: bool = opt(True, "info: after a long or emotional customer turn the agent moved on without restating it (docs/cues.md)")
    cooldown_s: float = opt(60.0, "per-cue cooldown (docs/cues.md)")
    min_words: int = opt(30, "a customer turn of this many words is long: several clauses or a list of facts")
    min_turn_s: float = opt(10.0, "or this many seconds of customer speech")
    shared_words: int = opt(2, "a reply reusing this many of the customer's content words restates them")
    happy_sentiment: float = opt(0.6, "a long turn this positive and voicing no emotion is chat (\"I'm really glad I called, "
                                      "I bought it from you\"), not a problem to restate (real call, docs/evaluation.md)", lo=-1, hi=1)
    meaning_p: float = opt(0.4, "a reply the intent model calls a reflection with this probability counts; 1 turns it off", hi=1)
    similar_reply: float = opt(0.5, "or a reply this close in meaning to the customer's turn (sentence-vector cosine: "
                                    "restatements 0.55-0.74, other replies <= 0.47 on tests/data/intents_labelled.json)", hi=1)


class ReflectBack(CueRule):
    spec = CueSpec("reflect_back", "reflect back", "active listening", "Try: 'So what I'm hearing is…'", "info", 5)
    settings = ReflectSettings

    def replied(self, r: Reply) -> list[Proposal]:
        rb = self.cfg
        n_words = sum(len(c.words) for c in r.customer)
        speech = sum(c.end - c.start for c in r.customer)
        long = n_words >= rb.min_words or speech >= rb.min_turn_s
        if not (r.emotional or long) or r.acknowledged:
            return []
        happy = not r.emotional and sentiment(r.said) >= rb.happy_sentiment  # the whole turn, not a fragment
        if happy or r.reflected:
            return []
        return [Proposal(self.spec.id, "agent", f"customer spoke {n_words} words ({speech:.0f} s); your reply did not restate it",
                         r.reply[-1].end)]
