"""The speech-to-text seam: what the pipeline needs from a recognizer, and nothing more.

The real one is faster-whisper (coach/speech/transcriber.py); tests script one by time so
rule, ordering and privacy behaviour can be checked in milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from coach.core.events import Speaker, Word


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[Word]


class SpeechToText(Protocol):
    def transcribe(self, audio: np.ndarray, offset: float, speaker: Speaker | None = None, partial: bool = False,
                   opening: bool = False) -> Transcript:
        """Words of `audio` (16 kHz mono) with stream times; `offset` is the stream time of audio[0];
        `partial`: the speech is still going on (a quick hypothesis will do); `opening`: a partial
        decode that begins where the utterance began (its first words are heard only by such decodes).
        A recognizer that serves the second pass also takes `context=` (what was said before, as a prompt)
        and `second=True` (a second-pass decode: beam search, its temperature fallback capped)."""
        ...


@dataclass
class SecondPass:
    """The second pass's recognizer (coach/core/pipeline.py), loaded on first use: on the thread that
    decodes with it, whose low priority its worker threads then inherit (coach/core/runner.py)."""

    name: str  # the model, as the analysis JSON names it
    load: Callable[[], SpeechToText]
    _stt: SpeechToText | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ready(self) -> SpeechToText:
        with self._lock:
            if self._stt is None:
                self._stt = self.load()
            return self._stt

    def transcribe(self, audio: np.ndarray, offset: float, speaker: Speaker | None = None, context: str = "") -> Transcript:
        return self.ready().transcribe(audio, offset, speaker, context=context, second=True)  # type: ignore[call-arg]


@dataclass
class TwoPasses:
    """A first-pass recognizer with the second pass that goes with it (coach/speech/engines.py);
    decodes as the first pass. The pipeline takes the second pass from it."""

    first: SpeechToText
    second: SecondPass | None = None

    def transcribe(self, audio: np.ndarray, offset: float, speaker: Speaker | None = None, partial: bool = False,
                   opening: bool = False) -> Transcript:
        return self.first.transcribe(audio, offset, speaker, partial, opening=opening)
