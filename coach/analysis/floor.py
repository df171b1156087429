"""Turns: who holds the floor, assembled from utterances.

An utterance is the recognizer's unit: the VAD ends one at every 0.5 s pause, so a customer
explaining a problem comes out as many fragments ("I'm going to...", "and I...", "so it's
still on"). A turn is what a listener hears: a speaker holds the floor until the other
speaker takes it with more than a backchannel ("okay", "mm hmm", "right"), or until a long
silence. Backchannels stay inside the turn they answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from coach.analysis.phrases import tokens
from coach.core.events import Speaker, Utterance

LONG_GAP_S = 3.0  # a silence this long gives up the floor (dead air starts at 3 s, docs/facts.md)
BACKCHANNEL_WORDS = 3  # a backchannel is this short ...
FILLERS = frozenset({"mm", "hmm", "mhm", "uh", "um", "oh", "ah", "so", "and", "huh"})  # ... and only these or listening words


@dataclass
class Turn:
    speaker: Speaker
    start: float
    end: float
    utterances: list[int] = field(default_factory=list)  # indices into the time-ordered utterances
    backchannels: list[int] = field(default_factory=list)  # the other speaker's, said during this turn
    words: int = 0


def listening_words(phrases: Iterable[str]) -> frozenset[str]:
    return frozenset(w for p in phrases for w in tokens(p)) | FILLERS


def is_backchannel(u: Utterance, listening: frozenset[str]) -> bool:
    toks = tokens(u.text)
    return 0 < len(toks) <= BACKCHANNEL_WORDS and all(t in listening for t in toks)


def assemble(utterances: Sequence[Utterance], backchannel: Iterable[str], long_gap_s: float = LONG_GAP_S) -> list[Turn]:
    """`utterances` in start order -> the turns, in order. Every utterance is in exactly one turn,
    as part of it or as a backchannel to it."""
    listening = listening_words(backchannel)
    turns: list[Turn] = []
    for i, u in enumerate(utterances):
        cur = turns[-1] if turns else None
        if cur is not None and u.speaker == cur.speaker and u.start - cur.end <= long_gap_s:
            cur.utterances.append(i)
            cur.end = max(cur.end, u.end)
            cur.words += len(u.words)
        elif cur is not None and u.speaker != cur.speaker and u.start - cur.end <= long_gap_s and is_backchannel(u, listening):
            cur.backchannels.append(i)
        else:
            turns.append(Turn(u.speaker, u.start, u.end, [i], [], len(u.words)))
    return turns
