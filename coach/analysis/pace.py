"""Speaking pace: words per minute of the speaker's own speech time.

Speech time comes from the VAD, whose segments already exclude pauses longer than the
end-of-speech wait (0.5 s), so this is an articulation rate (docs/facts.md) that does not
depend on Whisper's word timings: tiny.en times words too tightly on real phone audio
and inflated rates by 30-50 % when word durations were summed. A per-utterance rate on
a 3-word turn is noise, hence the window over the speaker's recent speech.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain


@dataclass(frozen=True)
class Stretch:
    words: int
    speech_s: float


def rate(words: int, speech_s: float) -> float | None:
    return words / speech_s * 60.0 if speech_s > 0 else None


class PaceTracker:
    """A speaker's utterances so far; rate over the last `window_s` of their speech."""

    def __init__(self) -> None:
        self.stretches: list[Stretch] = []

    def add(self, words: int, speech_s: float) -> None:
        if words and speech_s > 0:
            self.stretches.append(Stretch(words, speech_s))

    def recent(self, window_s: float, latest: Stretch | None = None) -> tuple[float | None, float]:
        """(wpm, seconds of speech it covers), whole utterances back until `window_s` is covered;
        `latest` counts as one more utterance at the end (judged before it is added)."""
        n, speech = 0, 0.0
        newest_first = chain([latest] if latest is not None else [], reversed(self.stretches))
        for st in newest_first:
            if speech >= window_s:
                break
            n, speech = n + st.words, speech + st.speech_s
        return rate(n, speech), speech

    def overall(self) -> float | None:
        return rate(sum(s.words for s in self.stretches), self.speech_s())

    def speech_s(self) -> float:
        return sum(s.speech_s for s in self.stretches)
