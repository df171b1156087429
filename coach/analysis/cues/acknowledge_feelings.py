"""acknowledge_feelings (warning): the customer voiced a negative emotion; the reply acknowledged nothing."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import Reply
from coach.config.fields import opt


@dataclass
class AcknowledgeSettings:
    enabled: bool = opt(True, "warn: the customer voiced a negative emotion and the agent's reply acknowledged nothing "
                              "(docs/cues.md)")
    cooldown_s: float = opt(45.0, "per-cue cooldown (docs/cues.md)")
    min_reply_words: int = opt(6, "judge the agent's reply once it has this many words; shorter replies are backchannels")
    negative_sentiment: float = opt(-0.6, "sentiment alone means an emotion only when this negative ('wrong postcode' is -0.5); "
                                          "emotion words count at any sentiment", lo=-1, hi=1)
    emotion_p: float = opt(0.5, "an emotion word counts alone when heard as written with at least this probability; heard only "
                                "by sound ('force' for 'furious') or less surely, it needs the turn's sentiment negative or "
                                "an escalating voice beside it (coach/analysis/emotion.py; docs/evaluation.md)", hi=1)
    meaning_p: float = opt(0.4, "a reply the intent model (coach/analysis/meaning.py) calls an acknowledgement with this "
                                "probability counts, besides the phrase list; 1 turns the model off for this cue. 0.4: the "
                                "balance of missed and false acts on tests/data/intents_labelled.json (docs/evaluation.md)", hi=1)


class AcknowledgeFeelings(CueRule):
    spec = CueSpec("acknowledge_feelings", "acknowledge feelings", "empathy", "Try: 'I can hear how frustrating this is'", "warn", 3)
    settings = AcknowledgeSettings

    def replied(self, r: Reply) -> list[Proposal]:
        if not r.emotional or r.acknowledged:
            return []
        # the emotion's evidence, and how surely the reply was heard to acknowledge nothing
        confidence = round(r.feeling.confidence * min(1.0, r.reply_clarity / 0.8), 2)
        return [Proposal(self.spec.id, "agent", f"customer {r.feeling.basis}; your reply acknowledged nothing", r.reply[-1].end,
                         confidence)]
