"""Speaking pace: the articulation rate a listener hears, words per minute of voiced time.

Voiced time comes from the VAD, whose utterances end at every pause longer than the
end-of-speech wait (0.5 s): the speech runs a listener hears, as docs/facts.md defines an
articulation rate. It does not depend on Whisper's word timings: tiny.en times words too
tightly on real phone audio and inflated rates by 30-50 % when word durations were summed.

Words are counted as spoken: Whisper writes "$41" for "forty one dollars", a phone number
as one token and "10:15 a.m." as two, so a read-back of digits read 10-15 % slow against
the human transcripts of the judged banking calls (tests/data/harper_valley/*.ref.json).

A per-utterance rate on a 3-word turn is noise, hence windows over the speaker's recent speech.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from coach.core.events import Utterance

_ONES = 20  # "zero" .. "nineteen" are one word each
_DIGITS = re.compile(r"\d+")
_SPELLED = re.compile(r"(?:[a-z]\.){2,}")  # "a.m.", "u.s.": one word per letter, as read out


def number_words(n: int) -> int:
    """Words in the English reading of a whole number: 41 "forty one" = 2, 2019 "twenty nineteen" = 2."""
    if n < _ONES or (n < 100 and n % 10 == 0):
        return 1
    if n < 100:
        return 2
    if n < 1000:
        return 2 + (number_words(n % 100) if n % 100 else 0)  # "one hundred (and) five"
    if n < 10000 and n % 100 >= 10:
        return number_words(n // 100) + number_words(n % 100)  # read in pairs, as years are: "twenty nineteen"
    for scale in (10**9, 10**6, 1000):
        if n >= scale:
            return number_words(n // scale) + 1 + (number_words(n % scale) if n % scale else 0)
    return 1


def spoken_words(words: Iterable[str]) -> int:
    """How many words these written tokens are when spoken: numbers as read out, digit strings
    (phone numbers, account and zip codes) digit by digit, a currency sign or % as one word more."""
    total = 0
    for w in words:
        t = w.lower().strip(",;!?\"'()")
        runs = _DIGITS.findall(t)
        if not runs:
            total += len(t.replace(".", "")) if _SPELLED.fullmatch(t) else 1
            continue
        phone = "-" in t and len(runs) >= 2
        total += sum(len(r) if phone or len(r) >= 5 else number_words(int(r)) for r in runs)
        total += any(c in t for c in "$£€%")  # "dollars", "percent"
        total += bool(re.search(r"\d\.\d", t))  # "point" (or the cents after "dollars")
    return total


def rate(words: float, speech_s: float) -> float | None:
    return words / speech_s * 60.0 if speech_s > 0 else None


@dataclass(frozen=True)
class Stretch:
    """Speech of one utterance (or the part of it a cue counts): words spoken over voiced seconds."""

    words: float
    speech_s: float
    start: float = 0.0
    end: float = 0.0


def recent(stretches: Iterable[Stretch], window_s: float) -> tuple[float | None, float]:
    """(wpm, seconds of speech it covers) over whole stretches, newest first, until `window_s` is covered."""
    n, speech = 0.0, 0.0
    for st in stretches:
        if speech >= window_s:
            break
        n, speech = n + st.words, speech + st.speech_s
    return rate(n, speech), speech


class PaceTracker:
    """A speaker's utterances so far; rate over the last `window_s` of their speech."""

    def __init__(self) -> None:
        self.stretches: list[Stretch] = []

    def add(self, words: float, speech_s: float, start: float = 0.0, end: float = 0.0) -> None:
        if words and speech_s > 0:
            self.stretches.append(Stretch(words, speech_s, start, end))

    def hear(self, u: Utterance) -> None:
        """One utterance: its words as spoken over its voiced span."""
        self.add(spoken_words(w.w for w in u.words), u.end - u.start, u.start, u.end)

    def recent(self, window_s: float, latest: Stretch | None = None) -> tuple[float | None, float]:
        """(wpm, seconds of speech it covers), whole utterances back until `window_s` is covered;
        `latest` counts as one more utterance at the end (judged before it is added)."""
        newest_first = [*([latest] if latest is not None else []), *reversed(self.stretches)]
        return recent(newest_first, window_s)

    def overall(self) -> float | None:
        return rate(sum(s.words for s in self.stretches), self.speech_s())

    def speech_s(self) -> float:
        return sum(s.speech_s for s in self.stretches)
