"""Is the customer escalating? Several weak signals, none trusted alone.

VADER alone misses most escalations (docs/facts.md), so the score adds: escalation phrases,
negative sentiment, a fall against the customer's own recent turns, a repeated demand,
and acoustic arousal (loudness, pitch and speech rate against the customer's own running
baseline). The reason names every signal that contributed, so a trainer can see why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from coach.analysis.phrases import has

if TYPE_CHECKING:
    from coach.analysis.cues.customer_escalating import EscalationSettings
    from coach.config.settings import PhraseSettings

STRONG_WEIGHT = 0.55  # a manager request or an outside threat
PHRASE_WEIGHT = 0.3
PHRASE_CAP = 0.8  # words alone can fire; they still need no acoustic help


@dataclass(frozen=True)
class Arousal:
    """The utterance against the customer's own baseline; None where no baseline yet."""

    loud_db: float | None = None
    pitch_st: float | None = None
    rate_ratio: float | None = None


@dataclass(frozen=True)
class Assessment:
    score: float
    reasons: list[str]
    phrases: list[str]


def phrase_hits(text: str, phrases: PhraseSettings) -> list[tuple[str, float]]:
    strong = [(p, STRONG_WEIGHT) for p in has(text, phrases.manager_request)]
    other = [(p, PHRASE_WEIGHT) for p in has(text, phrases.escalation)]
    return strong + other


def assess(
    text: str,
    sentiment: float,
    previous_sentiments: list[float],
    arousal: Arousal,
    repeated_demand: bool,
    s: EscalationSettings,
    phrases: PhraseSettings,
) -> Assessment:
    hits = phrase_hits(text, phrases)
    parts: list[tuple[str, float]] = []  # (signal, what it added): the evidence says how much each weighed
    if hits:
        parts.append(("said " + ", ".join(f"'{p}'" for p, _ in hits), min(PHRASE_CAP, sum(w for _, w in hits))))
    if sentiment <= s.negative_sentiment:
        parts.append((f"sentiment {sentiment:+.2f}", min(0.4, -sentiment * 0.4)))
    recent = previous_sentiments[-3:]
    if recent:
        mean = sum(recent) / len(recent)
        if sentiment < mean - 0.3 and sentiment < 0:
            parts.append((f"falling from {mean:+.2f}", 0.15))
    if repeated_demand:
        parts.append(("repeated demand", 0.2))
    if arousal.loud_db is not None and arousal.loud_db >= s.loud_db:
        parts.append((f"loudness {arousal.loud_db:+.1f} dB", 0.3 if arousal.loud_db >= 2 * s.loud_db else 0.2))
    if arousal.pitch_st is not None and arousal.pitch_st >= s.pitch_semitones:
        parts.append((f"pitch {arousal.pitch_st:+.1f} semitones", 0.15))
    if arousal.rate_ratio is not None and arousal.rate_ratio >= s.rate_ratio:
        parts.append((f"pace +{(arousal.rate_ratio - 1) * 100:.0f} %", 0.1))
    score = sum(w for _, w in parts)
    reasons = [f"{why} (+{w:.2f})" for why, w in parts]
    return Assessment(round(score, 3), reasons, [p for p, _ in hits])
