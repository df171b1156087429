"""The speech-to-text seam: what the pipeline needs from a recognizer, and nothing more.

The real one is faster-whisper (coach/speech/transcriber.py); tests script one by time so
rule, ordering and privacy behaviour can be checked in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from coach.core.events import Speaker, Word


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[Word]


class SpeechToText(Protocol):
    def transcribe(self, audio: np.ndarray, offset: float, speaker: Speaker | None = None, partial: bool = False) -> Transcript:
        """Words of `audio` (16 kHz mono) with stream times; `offset` is the stream time of audio[0];
        `partial`: the speech is still going on (a quick hypothesis will do)."""
        ...
