"""Words of speech still going on, committed when two decodes in a row agree on them.

LocalAgreement-2 (Macháček et al., whisper_streaming): each partial decode of the open
utterance is a hypothesis; the words on which it and the previous one agree, beyond
what is already committed, are committed now. The last words of a hypothesis are the
ones a cut-off word or the next second of audio can still change, and two decodes rarely
agree on them by chance. Committed words are never taken back: the final decode at the
end of speech replaces the text, and keeps each committed word's commit time.
"""

from __future__ import annotations

import dataclasses
import difflib
import re

from coach.events import Word


def _norm(w: str) -> str:
    return re.sub(r"[^\w']", "", w.lower())


class Agreement:
    def __init__(self, start: int) -> None:
        self.start = start  # sample at which the utterance began: identifies it
        self.committed: list[Word] = []
        self._prev: list[Word] = []

    def _tail(self, hyp: list[Word]) -> list[Word]:
        """The words after what is committed, by time: a decode may re-spell a committed word
        ("supermiser" -> "supervisor") without that holding back the words after it."""
        cut = self.committed[-1].end if self.committed else float("-inf")
        return [w for w in hyp if (w.start + w.end) / 2 > cut]

    def update(self, hyp: list[Word], now: float) -> list[Word]:
        """Take one more hypothesis of the whole utterance so far; return the newly committed words."""
        tail, prev = self._tail(hyp), self._tail(self._prev)
        k = 0
        while k < min(len(tail), len(prev)) and _norm(tail[k].w) == _norm(prev[k].w):
            k += 1
        self._prev = hyp
        new = [dataclasses.replace(w, t_ready=round(now, 3)) for w in tail[:k]]
        self.committed += new
        return new

    def stamp(self, final: list[Word]) -> list[Word]:
        """The final decode's words, each word that was shown earlier keeping the time it was
        first shown (also when the final spells it otherwise, word for word)."""
        out = list(final)
        ops = difflib.SequenceMatcher(None, [_norm(w.w) for w in final], [_norm(c.w) for c in self.committed], autojunk=False)
        for tag, i1, i2, j1, j2 in ops.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for i, j in zip(range(i1, i2), range(j1, j2)):
                    out[i] = dataclasses.replace(final[i], t_ready=self.committed[j].t_ready)
        return out
