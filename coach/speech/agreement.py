"""Words of speech still going on, committed when two decodes in a row agree on them.

LocalAgreement-2 (Macháček et al., whisper_streaming): each partial decode of the open
utterance is a hypothesis; the words on which it and the previous one agree, beyond
what is already committed, are committed now. The last words of a hypothesis are the
ones a cut-off word or the next second of audio can still change, and two decodes rarely
agree on them by chance. Committed words are never taken back: the final decode at the
end of speech replaces the text, and keeps each committed word's commit time.

Waiting for a second decode costs a cadence (docs/benchmark.md). A word Whisper is sure of and
that ended a moment before the audio the decode heard is committed from one decode:
measured against the final decodes of the real call, such words are the final's words
as often as words two decodes agree on (95 % vs 92 %, docs/design.md), while unsure words are right
only half the time and still wait for agreement — or until the decoder has heard
`stale_s` of speech after them and still puts them there: one unsure word ("uh", a name)
would otherwise hold back every word after it until the final decode.

A word the decodes that committed its neighbours dropped is shown once a later decode hears it
between them with speech after it (`_holes` by time, `_inserted` by text): else it waited for
the final decode, the p99 of issue #32's word latency (docs/benchmark.md).
"""

from __future__ import annotations

import dataclasses
import difflib
import re

from coach.core.events import SAMPLE_RATE, Word


def _norm(w: str) -> str:
    return re.sub(r"[^\w']", "", w.lower())


HOLE_MARGIN_S = 0.05  # a word whose middle is this close to a committed word is that word
OPENING_MARGIN_S = 0.2  # a partial decode hears this much before the utterance's VAD start (pipeline.PAD_BEFORE)
SAME_WORD_S = 0.5  # a final word this close to a shown word of the same text is that word
HEARD_KEPT = 4  # hypotheses kept for holes: a word one of them heard that the later ones dropped


class Agreement:
    def __init__(self, start: int, sure_p: float = 1.01, settle_s: float = 0.3, stale_s: float = float("inf")) -> None:
        self.start = start  # sample at which the utterance began: identifies it
        self.sure_p = sure_p  # a word this probable is committed from one decode (> 1: never) ...
        self.settle_s = settle_s  # ... if it ended this long before the end of the audio heard
        self.stale_s = stale_s  # any word heard with this much speech after it
        self.committed: list[Word] = []
        self._prev: list[Word] = []
        self._heard: list[list[Word]] = []  # the last HEARD_KEPT hypotheses, newest first

    def hand_over(self, at: float) -> list[Word]:
        """The committed words from stream time `at` on, taken away: a long turn was cut at a
        low point behind them, so they belong to the next part (and were already shown)."""
        keep = [w for w in self.committed if w.mid < at]
        moved, self.committed = self.committed[len(keep):], keep
        return moved

    def take(self, shown: list[Word]) -> None:
        """Words the previous part showed past its cut. Over any stretch of speech the words shown
        first stand: handed-over words usually, but a partial decode of the previous part still
        running at the cut can hand over a second batch later, over words already taken (on the
        real call that batch replaced "switch on the inside, basically", shown at 45.7 s, and the
        final then dated them 58.8 s)."""
        if not shown:
            return
        keep: list[Word] = []
        for w in sorted([*self.committed, *shown], key=lambda x: (x.t_ready is None, x.t_ready or 0.0)):
            if not any(k.start <= w.mid <= k.end or w.start <= k.mid <= w.end for k in keep):
                keep.append(w)
        self.committed = sorted(keep, key=lambda x: x.start)

    def _tail(self, hyp: list[Word]) -> list[Word]:
        """The words after what is committed, by time: a decode may re-spell a committed word
        ("supermiser" -> "supervisor") without that holding back the words after it."""
        cut = self.committed[-1].end if self.committed else float("-inf")
        return [w for w in hyp if w.mid > cut]

    def update(self, hyp: list[Word], now: float, heard_until: float = float("inf")) -> list[Word]:
        """Take one more hypothesis of the utterance so far (decoded from audio ending at stream
        time `heard_until`); return the newly committed words."""
        tail, prev = self._tail(hyp), self._tail(self._prev)
        k = 0
        while k < min(len(tail), len(prev)) and _norm(tail[k].w) == _norm(prev[k].w):
            k += 1
        sure = 0
        while sure < len(tail) and (tail[sure].p >= self.sure_p and tail[sure].end <= heard_until - self.settle_s
                                    or tail[sure].end <= heard_until - self.stale_s):
            sure += 1
        k = max(k, sure)
        self._prev = hyp
        self._heard = [hyp, *self._heard[:HEARD_KEPT - 1]]
        # a decode's first word takes in the audio before it ("that" 66.07-66.63 after "get" 66.11-66.19):
        # a new word starts after the committed ones, or sorting would show "let's that get"
        cut = self.committed[-1].end if self.committed else float("-inf")
        new = [dataclasses.replace(w, start=max(w.start, cut), t_ready=round(now, 3)) for w in tail[:k]]
        self.committed = sorted([*self.committed, *new], key=lambda w: w.start)
        holes = [dataclasses.replace(w, t_ready=round(now, 3)) for w in self._holes(heard_until)]
        self.committed = sorted([*self.committed, *holes], key=lambda w: w.start)
        inserted = [dataclasses.replace(w, t_ready=round(now, 3)) for w in self._inserted(heard_until)]
        self.committed = sorted([*self.committed, *inserted], key=lambda w: (w.start, w.end))
        return sorted([*holes, *inserted, *new], key=lambda w: (w.start, w.end))

    def _holes(self, heard_until: float) -> list[Word]:
        """Words a decode heard behind the committed ones, where nothing was committed: the decodes
        that committed the words around them had dropped them (a "to" or "of" in a long turn, the
        "Sorry," that began it), and the decodes after them no longer hear that far back, so they
        waited for the final decode, seconds later. A word one of the last few decodes heard there
        with `stale_s` of speech after it is as settled as any stale word; the newest decode's
        word wins where two overlap. Not a committed word again under other times."""
        if not self.committed:
            return []
        cut = self.committed[-1].end
        near = {_norm(c.w) for c in self.committed}
        found: list[Word] = []
        for hyp in self._heard:
            found += [w for w in hyp if w.mid <= cut and w.end <= heard_until - self.stale_s and _norm(w.w)
                      and not any(c.start - HOLE_MARGIN_S <= w.mid <= c.end + HOLE_MARGIN_S for c in self.committed)
                      and not any(f.start < w.end and w.start < f.end for f in found)
                      and not self._beside(w, near)]
        return found

    def _inserted(self, heard_until: float) -> list[Word]:
        """Words a decode heard between two committed words it also heard, where nothing is committed
        ("all day, they just forget" against the shown "all day. just forget"), matched by text: the
        times Whisper gives a word drift by a word's length between decodes, so a dropped "they" or
        "of" overlaps the shown words beside it and `_holes` cannot tell it from them. The newest
        decode's words win where two heard the same gap otherwise."""
        if not self.committed:
            return []
        norm = [_norm(c.w) for c in self.committed]
        began = self.start / SAMPLE_RATE - OPENING_MARGIN_S
        found: list[Word] = []
        gaps: set[int] = set()
        for hyp in self._heard:
            heard = [w for w in hyp if _norm(w.w)]
            ops = difflib.SequenceMatcher(None, norm, [_norm(w.w) for w in heard], autojunk=False).get_opcodes()
            # a decode that heard the utterance from its start: words before the first one shown are its first
            # words ("Hi," before "I was charged"), not the garbled end of a word a clip began inside
            opening = bool(heard) and heard[0].start <= self.start / SAMPLE_RATE + OPENING_MARGIN_S
            for k, (tag, i1, _, j1, j2) in enumerate(ops):
                # between two runs of words both have: the decode heard more there than was shown
                if tag != "insert" or i1 in gaps or k == len(ops) - 1 or ops[k + 1][0] != "equal" \
                        or not (k > 0 and ops[k - 1][0] == "equal" or k == 0 and i1 == 0 and opening):
                    continue
                before, after = (self.committed[i1 - 1] if i1 else None), self.committed[i1]
                words = [w for w in heard[j1:j2] if _norm(w.w) not in {_norm(after.w), *([_norm(before.w)] if before else [])}]
                if not words or words[-1].end > heard_until - self.stale_s:
                    continue  # (a word beside itself is the word shown)
                gaps.add(i1)
                for w in words:
                    start = min(max(w.start, before.end if before else began), after.start)
                    found.append(dataclasses.replace(w, start=start, end=max(start, min(w.end, after.start))))
        return found

    def _beside(self, w: Word, near: set[str]) -> bool:
        """Is the word the same as a committed neighbour (Whisper's times for a word drift)?"""
        before = [c for c in self.committed if c.end <= w.mid][-1:]
        after = [c for c in self.committed if c.start >= w.mid][:1]
        return any(_norm(c.w) == _norm(w.w) for c in before + after) and _norm(w.w) in near

    def stamp(self, final: list[Word]) -> list[Word]:
        """The final decode's words, each word that was shown earlier keeping the time it was
        first shown: word for word where the two agree or differ in spelling only; where the
        final heard other words ("happens" for "has happened"), the time the words shown over
        the same stretch of speech were all on screen."""
        out = list(final)
        ops = difflib.SequenceMatcher(None, [_norm(w.w) for w in final], [_norm(c.w) for c in self.committed], autojunk=False)
        for tag, i1, i2, j1, j2 in ops.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for i, j in zip(range(i1, i2), range(j1, j2)):
                    out[i] = dataclasses.replace(final[i], t_ready=self.committed[j].t_ready)
            elif tag == "replace":
                shown = [c.t_ready for c in self.committed[j1:j2]]
                for i in range(i1, i2):
                    over = [c.t_ready for c in self.committed[j1:j2] if c.start < final[i].end and c.end > final[i].start]
                    if over and all(t is not None for t in over):
                        out[i] = dataclasses.replace(final[i], t_ready=max(over))
                    elif i2 - i1 < j2 - j1 and all(t is not None for t in shown):
                        # fewer words than were shown between the same two agreed words ("was," for "a just",
                        # "Terry." for "Mary. Hi,"): each has a shown word in its place, timed or not
                        out[i] = dataclasses.replace(final[i], t_ready=max(shown))  # type: ignore[type-var]
        for i, w in enumerate(out):
            if w.t_ready is None:
                # the same word shown a moment away, out of the alignment (Whisper's times for it drifted)
                same = [c.t_ready for c in self.committed if _norm(c.w) == _norm(w.w) and abs(c.mid - w.mid) <= SAME_WORD_S
                        and c.t_ready is not None]
                if same:
                    out[i] = dataclasses.replace(w, t_ready=min(same))
        return out
