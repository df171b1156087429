"""Stand-ins at the seams, so rule, ordering and privacy behaviour run in milliseconds.

ScriptedTranscriber is a recognizer that "hears" a scenario's script: for a decode of one
speaker's audio it returns the words of that speaker's scripted turns overlapping the
clip, spread evenly over each turn. It never stands in for the real model in a test about
recognition; it is for tests about what the pipeline does with text.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from coach.core.events import SAMPLE_RATE, Speaker, Word
from coach.core.runner import SimClock
from coach.speech.stt import Transcript


class ScriptedTranscriber:
    def __init__(self, turns: list[dict], delay_s: dict[str, float] | None = None, fail_on: int | None = None,
                 spend: Callable[[float], None] = time.sleep) -> None:
        self.turns = turns
        self.delay_s = delay_s or {}  # seconds each decode of that speaker takes (to force decode orders)
        self.spend = spend  # how a decode takes its time: really, or on a simulated clock
        self.fail_on = fail_on  # raise on the Nth decode (1-based), like a recognizer that crashes
        self.calls: list[tuple[str, float]] = []
        self.openings: list[tuple[str, float, bool]] = []  # each partial decode: speaker, offset, from the utterance's start?
        self._lock = threading.Lock()

    @classmethod
    def from_truth(cls, path: Path, **kw: object) -> ScriptedTranscriber:
        return cls(json.loads(Path(path).read_text())["turns"], **kw)  # type: ignore[arg-type]

    def transcribe(self, audio: np.ndarray, offset: float, speaker: Speaker | None = None, partial: bool = False,
                   opening: bool = False) -> Transcript:
        with self._lock:
            self.calls.append((speaker or "", offset))
            if partial:
                self.openings.append((speaker or "", offset, opening))
            n = len(self.calls)
        if self.fail_on is not None and n == self.fail_on:
            raise RuntimeError(f"recognizer failed on decode {n}")
        if self.delay_s.get(speaker or ""):
            self.spend(self.delay_s[speaker or ""])
        end = offset + len(audio) / SAMPLE_RATE
        words: list[Word] = []
        for t in self.turns:
            if t["who"] != speaker or t["end"] <= offset or t["start"] >= end:
                continue
            toks = t["text"].split()
            step = (t["end"] - t["start"]) / len(toks)
            for i, w in enumerate(toks):
                a = t["start"] + i * step
                if offset <= a + step / 2 < end:  # the word's middle is in this clip
                    words.append(Word(w, round(a, 3), round(a + step * 0.9, 3)))
        return Transcript(" ".join(w.w for w in words), words)


class CostClock(SimClock):
    """A simulated clock on which a scripted decode can take time without sleeping."""

    def spend(self, seconds: float) -> None:
        self._base += seconds
