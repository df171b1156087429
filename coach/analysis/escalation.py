"""Is the customer escalating? Several weak signals, none trusted alone.

VADER alone misses most escalations (FACTS.md), so the score adds: escalation phrases,
negative sentiment, a fall against the customer's own recent turns, and loudness above
the customer's own baseline. The reason string names every signal that contributed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (pattern over normalised text, weight, name shown in the reason). Patterns are written
# for lower-case, unpunctuated ASR output; sources: FACTS.md's lexicon and CUES.md.
PHRASES: list[tuple[str, float, str]] = [
    (r"\b(speak|talk|put me through) to (a|your|the|somebody|someone)( \w+)? (manager|supervisor|boss)", 0.55, "asks for a manager"),
    (r"\b(want|get|need) (a|your|the) (manager|supervisor)", 0.55, "asks for a manager"),
    (r"\b(supervisor|manager) (now|please now|right now)\b", 0.55, "asks for a manager"),
    (r"\b(supervisor|manager)\b", 0.3, "manager"),
    (r"\bunacceptable\b", 0.35, "unacceptable"),
    (r"\b(outrageous|disgraceful|appalling|shocking)\b", 0.3, "outrageous"),
    (r"\b(ridiculous|absurd|a joke)\b", 0.3, "ridiculous"),
    (r"\b(cancel|close) (my|the) (account|contract|subscription|order|service)", 0.35, "cancel"),
    (r"\b(third|3rd|fourth|4th|fifth|5th) time\b", 0.35, "third time"),
    (r"\b(how many times|every single time|yet again|still not)\b", 0.25, "repeated failure"),
    (r"\b(complaint|complain)\b", 0.3, "complaint"),
    (r"\b(lawyer|solicitor|attorney|sue|legal action|ombudsman|regulator|trading standards)\b", 0.5, "legal threat"),
    (r"\b(fed up|sick of|sick and tired|had enough|enough is enough)\b", 0.35, "fed up"),
    (r"\b(nobody|no one) (has|have|ever|even|bothered|can|could|will|is)\b", 0.2, "nobody helps"),
    (r"\b(useless|incompetent|pathetic|waste of (my )?time)\b", 0.35, "insult"),
    (r"\b(refund|money back) (now|immediately|today)\b", 0.3, "demands refund"),
    (r"\b(i want|i need|i demand) (it|this)? ?(fixed|sorted|done) (now|today|immediately)\b", 0.3, "demand"),
]
_COMPILED = [(re.compile(p), w, n) for p, w, n in PHRASES]
PHRASE_CAP = 0.8


def normalise(text: str) -> str:
    """Lower case, punctuation out (apostrophes kept), single spaces: the shape of ASR text."""
    return " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())


def phrase_hits(text: str) -> list[tuple[str, float]]:
    """Distinct named escalation phrases found; a name counts once, at its highest weight."""
    t = normalise(text)
    best: dict[str, float] = {}
    for rx, w, name in _COMPILED:
        if rx.search(t):
            best[name] = max(best.get(name, 0.0), w)
    if "asks for a manager" in best:
        best.pop("manager", None)
    return sorted(best.items(), key=lambda kv: -kv[1])


@dataclass(frozen=True)
class Assessment:
    score: float
    reasons: list[str]
    phrases: list[str]


def assess(
    text: str,
    sentiment: float,
    previous_sentiments: list[float],
    loud_delta_db: float | None,
    negative_sentiment: float = -0.3,
    loud_db: float = 3.0,
) -> Assessment:
    hits = phrase_hits(text)
    score = min(PHRASE_CAP, sum(w for _, w in hits))
    reasons = [f"escalation phrase{'s' if len(hits) > 1 else ''} " + ", ".join(f"'{n}'" for n, _ in hits)] if hits else []
    if sentiment <= negative_sentiment:
        score += min(0.4, -sentiment * 0.4)
        reasons.append(f"sentiment {sentiment:+.2f}")
    recent = previous_sentiments[-3:]
    if recent:
        mean = sum(recent) / len(recent)
        if sentiment < mean - 0.3 and sentiment < 0:
            score += 0.15
            reasons.append(f"falling from {mean:+.2f}")
    if loud_delta_db is not None and loud_delta_db >= loud_db:
        score += 0.3 if loud_delta_db >= 2 * loud_db else 0.2
        reasons.append(f"loudness {loud_delta_db:+.1f} dB")
    return Assessment(round(score, 3), reasons, [n for n, _ in hits])
