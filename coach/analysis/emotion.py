"""Did the customer voice a negative emotion, and on what evidence?

An emotion word counts alone only when it was heard as written (or spelled nearly so) and the
recognizer was sure of it. A word that only sounds like one ("force" for "furious", "tribal" for
"terrible": real mishearings on calm calls, docs/evaluation.md) or that the recognizer was unsure
of needs a second signal: the turn's sentiment negative, or the customer's voice or words already
counting toward an escalation. Sentiment alone is an emotion only when clearly negative."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from coach.analysis.evidence import combine
from coach.analysis.phrases import Heard, heard_in
from coach.core.events import Word


@dataclass(frozen=True)
class Emotion:
    voiced: bool
    confidence: float
    basis: str  # what the verdict rests on, for the cue's reason
    words: list[Heard] = field(default_factory=list)  # the emotion words that count

    @property
    def phrases(self) -> list[str]:
        return [h.phrase for h in self.words]


def emotion_in(words: Sequence[Word], phrases: list[str], sentiment: float, negative_sentiment: float, sure_p: float,
               second_signal: float = 0.0, guess_sentiment: float = -0.3) -> Emotion:
    """`sentiment`: the turn's (VADER compound); `negative_sentiment`: alone, this negative is an emotion;
    `sure_p`: an emotion word heard as written with this probability counts alone; `second_signal`: the
    strength (0..1) of other evidence of arousal (an escalation score); `guess_sentiment`: a sentiment
    this negative backs an emotion word that alone would not count."""
    heard = heard_in(words, phrases)
    sure = [h for h in heard if not h.by_sound and h.p >= sure_p]
    guesses = [h for h in heard if h not in sure]
    backed = sentiment <= guess_sentiment or second_signal >= 0.3
    by_sentiment = min(1.0, max(0.0, -sentiment))  # -1 = sure, 0 = none
    if sure:
        c = combine(max(h.p for h in sure), by_sentiment if sentiment < 0 else 0.0)
        return Emotion(True, c, "said " + ", ".join(h.describe() for h in sure), sure)
    if guesses and backed:
        why = f"sentiment {sentiment:+.2f}" if sentiment <= guess_sentiment else "an escalating voice or words"
        c = combine(0.5 * max(h.p for h in guesses), by_sentiment if sentiment < 0 else 0.0, second_signal)
        return Emotion(True, c, "said " + ", ".join(h.describe() for h in guesses) + f", with {why}", guesses)
    if sentiment <= negative_sentiment:
        return Emotion(True, round(by_sentiment, 2), f"sentiment {sentiment:+.2f}")
    basis = ("only " + ", ".join(h.describe() for h in guesses) + ", nothing else negative") if guesses else ""
    return Emotion(False, 0.0, basis)
