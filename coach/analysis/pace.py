"""Speaking pace as articulation rate: words per minute of the speaker's own speech.

Pauses longer than 0.5 s between words are excluded (FACTS.md: a per-utterance rate on
3-word turns is noise; a window over the speaker's recent speech time is stable).
"""

from __future__ import annotations

from collections.abc import Sequence

from coach.events import Word

MAX_PAUSE_S = 0.5


def articulation(words: Sequence[Word]) -> tuple[int, float]:
    """(word count, seconds of articulated speech) for words in time order."""
    if not words:
        return 0, 0.0
    speech = 0.0
    for a, b in zip(words, words[1:]):
        gap = b.start - a.end
        speech += (a.end - a.start) + (gap if 0 < gap <= MAX_PAUSE_S else 0.0)
    speech += words[-1].end - words[-1].start
    return len(words), speech


def wpm(words: Sequence[Word]) -> float | None:
    n, s = articulation(words)
    return n / s * 60.0 if s > 0 else None


class PaceTracker:
    """A speaker's words so far; rate over the last `window_s` of their speech."""

    def __init__(self) -> None:
        self.words: list[Word] = []

    def add(self, words: Sequence[Word]) -> None:
        self.words.extend(words)

    def recent(self, window_s: float) -> tuple[float | None, float]:
        """(wpm, seconds of speech it covers) over the speaker's most recent speech."""
        n, speech, i = 0, 0.0, len(self.words) - 1
        while i >= 0 and speech < window_s:
            w = self.words[i]
            speech += w.end - w.start
            if i + 1 < len(self.words):
                gap = self.words[i + 1].start - w.end
                speech += gap if 0 < gap <= MAX_PAUSE_S else 0.0
            n += 1
            i -= 1
        return (n / speech * 60.0 if speech > 0 else None), speech

    def overall(self) -> float | None:
        return wpm(self.words)
