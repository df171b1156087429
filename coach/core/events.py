"""The Qt-free vocabulary every layer speaks. Times are stream seconds from call start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Speaker = Literal["agent", "customer"]
SPEAKERS: tuple[Speaker, Speaker] = ("agent", "customer")
Severity = Literal["alert", "warn", "info", "positive"]

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AudioChunk:
    """A block of 16 kHz mono audio per speaker, all of the same length, starting at t0."""

    t0: float
    channels: dict[Speaker, np.ndarray]

    @property
    def n(self) -> int:
        return len(next(iter(self.channels.values())))

    @property
    def t1(self) -> float:
        return self.t0 + self.n / SAMPLE_RATE


@dataclass(frozen=True)
class Word:
    w: str
    start: float
    end: float
    p: float = 1.0
    t_ready: float | None = None  # stream time its text was first committed (by a partial decode), if before the final

    @property
    def mid(self) -> float:
        """Where the word is: two decodes, or two parts of a cut turn, place its edges differently."""
        return (self.start + self.end) / 2


@dataclass(frozen=True)
class Partial:
    """Words of speech still going on, committed by agreement between partial decodes.
    In memory only (the overlay's transcript, phrase cues); the final decode replaces them."""

    speaker: Speaker
    start: float  # of the utterance they belong to
    words: list[Word]


@dataclass
class Utterance:
    """One VAD-bounded stretch of one speaker's speech, transcribed once."""

    speaker: Speaker
    start: float
    end: float
    text: str
    words: list[Word]
    sentiment: float | None = None  # customer only: the agent's mood is never inferred
    wpm: float | None = None
    loudness_db: float | None = None  # customer only
    pitch_hz: float | None = None
    # stream time at which the text was available (end-of-speech wait + decode included)
    t_ready: float = 0.0
    # which decode the text is from: "first" (the streaming pass) or "second" (the whole turn decoded again
    # with context, coach/core/pipeline.py); an utterance first shown from the first pass is sent again,
    # revised, when its second pass is in (t_revised)
    decoded_by: str = "first"
    t_revised: float | None = None


@dataclass(frozen=True)
class Revision:
    """An utterance already shown, with the text of its second pass (or masked anew): it replaces
    the `index`-th utterance of the conversation (Pipeline.utterances) where it is shown or stored."""

    index: int
    utterance: Utterance


@dataclass(frozen=True)
class VoiceLevel:
    """The customer's voice arousal over the last seconds, for the mood meter (coach/analysis/voice.py).
    On the escalation score's scale; never computed for the agent."""

    t: float
    level: float
    loud_db: float | None
    pitch_st: float | None


@dataclass(frozen=True)
class Meters:
    """The overlay's meters after an utterance in time order, published by the pipeline (so
    nothing outside it reads its rules or turn-taking state)."""

    escalation: float | None  # the customer's latest escalation score (None: an agent utterance, unchanged)
    agent_wpm: float | None  # the agent's recent pace
    agent_share: float | None  # the agent's recent talk share


@dataclass(frozen=True)
class Cue:
    id: str
    label: str
    t: float
    speaker: Speaker
    severity: Severity
    skill: str
    tip: str
    reason: str
    latency_s: float
    confidence: float = 1.0  # from the evidence the reason names (coach/analysis/cues/base.py)


@dataclass
class Flag:
    start: float
    end: float
    reason: str
    by: Literal["rule", "user"] = "rule"
    note: str = ""


@dataclass
class SpeakerMetrics:
    talk_s: float = 0.0
    talk_ratio: float = 0.0
    wpm: float = 0.0
    longest_monologue_s: float = 0.0
    sentiment_mean: float | None = None
    turns: int = 0  # times this speaker took the floor (coach/analysis/floor.py)
    longest_turn_s: float = 0.0


@dataclass
class CallMetrics:
    agent: SpeakerMetrics = field(default_factory=SpeakerMetrics)
    customer: SpeakerMetrics = field(default_factory=SpeakerMetrics)
    overtalk_s: float = 0.0
    dead_air_s: float = 0.0
