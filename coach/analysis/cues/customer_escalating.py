"""customer_escalating (alert): the customer's recent turns show rising anger.

Words, the turn's sentiment, a repeated demand and the voice against the customer's own baseline
are scored together (coach/analysis/escalation.py); the voice alone can escalate mid-turn
(coach/analysis/voice.py), and phrases alone fire from partial decodes while the customer talks."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal, quote
from coach.analysis.cues.state import Heard
from coach.analysis.escalation import PHRASE_CAP, phrase_hits
from coach.analysis.evidence import combine
from coach.analysis.phrases import heard_in, said_at
from coach.analysis.voice import VoiceReading, VoiceSettings
from coach.config.fields import opt, table
from coach.core.events import Speaker, Word


@dataclass
class EscalationSettings:
    enabled: bool = opt(True, "alert: the customer's recent turns show rising anger (docs/cues.md)")
    cooldown_s: float = opt(45.0, "per-cue cooldown 30-60 s (docs/cues.md)")
    score_threshold: float = opt(0.6, "sum of the signals below needed to fire; a manager request plus one more signal does it")
    negative_sentiment: float = opt(-0.3, "VADER compound at or below this counts as negative", lo=-1, hi=1)
    loud_db: float = opt(3.0, "loudness this far above the customer's own median counts as arousal (docs/facts.md)")
    pitch_semitones: float = opt(2.0, "pitch this far above the customer's own median counts as arousal (docs/facts.md)")
    rate_ratio: float = opt(1.25, "speech rate this much above the customer's own median counts as arousal (docs/facts.md)")
    voice: VoiceSettings = table(VoiceSettings, "escalation from the voice alone, second by second")


class CustomerEscalating(CueRule):
    spec = CueSpec("customer_escalating", "customer escalating", "de-escalation; recognising strong emotions",
                   "Acknowledge, lower your pace, offer a next step", "alert", 0)
    settings = EscalationSettings

    def decoded(self, h: Heard) -> list[Proposal]:
        if h.u.speaker != "customer" or h.escalation is None or h.escalation.score < self.cfg.score_threshold:
            return []
        enough = self.words_enough(h.u.words)
        # when the words alone were enough, the evidence ended with the phrase that made them
        # enough; otherwise it needed the whole turn (its sentiment, its voice)
        return [Proposal(self.spec.id, "customer", "; ".join(h.escalation.reasons), enough[0] if enough else h.u.end,
                         self._confidence(h))]

    def _confidence(self, h: Heard) -> float:
        """The escalation words as surely as they were heard, and the other signals (sentiment, voice,
        repeats) by how far they reach toward the threshold on their own."""
        assert h.escalation is not None
        ph = self.state.phrases
        heard = heard_in(h.u.words, [*ph.manager_request, *ph.escalation])
        words_part = min(PHRASE_CAP, sum(w for _, w in phrase_hits(h.u.text, ph)))
        rest = max(0.0, h.escalation.score - words_part) / self.cfg.score_threshold
        return combine(max((x.confidence for x in heard), default=0.0), min(1.0, rest))

    def words(self, speaker: Speaker, start: float, words: list[Word]) -> list[Proposal]:
        enough = self.words_enough(words) if speaker == "customer" else None
        return [Proposal(self.spec.id, "customer", f"said {quote(enough[1])} (still talking)", enough[0])] if enough else []

    def voice(self, r: VoiceReading) -> list[Proposal]:
        v = self.cfg.voice
        return [Proposal(self.spec.id, "customer",
                         f"voice {r.loud_db:+.0f} dB, pitch {r.pitch_st:+.0f} semitones, brightness {r.bright_db:+.0f} dB "
                         f"over {r.speech_s:.0f} s of speech against your caller's first {v.baseline_s:.0f} s", r.t)]

    def words_enough(self, words: list[Word]) -> tuple[float, list[str]] | None:
        """(when, which phrases) if escalation phrases alone reach the threshold in these words."""
        threshold = self.cfg.score_threshold
        hits = dict(phrase_hits(" ".join(w.w for w in words), self.state.phrases))
        if min(PHRASE_CAP, sum(hits.values())) < threshold:
            return None
        total, said = 0.0, []
        for p, t in sorted(said_at(words, hits).items(), key=lambda kv: kv[1]):
            total += hits[p]
            said.append(p)
            if min(PHRASE_CAP, total) >= threshold:
                return t, said
        return None
