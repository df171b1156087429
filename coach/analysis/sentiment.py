"""Per-utterance sentiment: VADER with a lexicon extended for call-centre language.

VADER scores many angry call phrases as neutral (docs/facts.md): "ridiculous" came out
slightly positive, "unacceptable" is absent. The additions below are single words with
valences on VADER's -4..+4 scale, chosen by comparison with its own entries
("awful" -2.0, "horrible" -2.5, "outrage" -2.3).
"""

from __future__ import annotations

import re
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

CALL_LEXICON: dict[str, float] = {
    "unacceptable": -2.6,
    "outrageous": -2.5,
    "ridiculous": -2.2,
    "useless": -2.2,
    "incompetent": -2.6,
    "pathetic": -2.4,
    "disgraceful": -2.6,
    "shambles": -2.2,
    "joke": -0.8,  # "this is a joke": mostly sarcastic on a support line
    "rubbish": -2.0,
    "overcharged": -2.0,
    "scam": -2.5,
    "fed": -1.0,  # "fed up"
    "sick": -1.2,  # "sick of this"
    "nobody": -0.6,
    "never": -0.4,
    "waited": -0.6,
    "waiting": -0.5,
    "hold": -0.2,
    "again": -0.3,
    "twice": -0.4,
    "refund": -0.4,
    "cancel": -0.8,
    "complaint": -1.6,
    "charged": -0.6,
    "appreciate": 2.0,
    "perfect": 2.2,
    "brilliant": 2.6,
    "lovely": 2.2,
    "sorted": 1.2,
    "sorry": -0.2,  # on a call mostly politeness ("sorry, could you repeat that"), not distress (VADER: -0.3)
}


@lru_cache(maxsize=1)
def analyzer() -> SentimentIntensityAnalyzer:
    a = SentimentIntensityAnalyzer()
    a.lexicon.update(CALL_LEXICON)
    return a


# Fillers between a negator and the word it negates hide the negation from VADER, which
# looks back only three words: on a real calm call "I'm not like, you know, terrified"
# scored -0.82 and helped make a false escalation alert. They carry no sentiment, so they go.
_FILLERS = [re.compile(p, re.I) for p in (
    r"\byou know\b,?", r"\bi mean\b,", r"\b(?:um+|uh+|erm+|er|hmm+)\b,?", r"\blike,",
    r"(?<=\bnot )like\b,?", r"\bor anything\b", r"\bor whatever\b",
)]


def defill(text: str) -> str:
    for rx in _FILLERS:
        text = rx.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def sentiment(text: str) -> float:
    """VADER compound score in [-1, 1] for lower-case, unpunctuated ASR text too."""
    if not text.strip():
        return 0.0
    return float(analyzer().polarity_scores(defill(text))["compound"])
