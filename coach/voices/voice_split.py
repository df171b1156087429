"""A mono call as two channels: each speaker's stretches of the one channel, the other's silenced.

The rest of the app then treats a mono call like a stereo one (per-speaker VAD, ASR, turns,
cues, overlay, replay). Cuts fall in the pauses between voices (speakers.filled) and are
faded over FADE_S so no click reaches the recognizer. Which voice is the agent can change
(a trainer's "swap"), from the next chunk on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from coach.core.events import SAMPLE_RATE, Speaker
from coach.voices.speakers import FRAME_S, Diarization, filled

FADE_S = 0.02
HOP = int(FRAME_S * SAMPLE_RATE)


@dataclass(frozen=True)
class SplitInfo:
    """What the analysis JSON says about a mono call's speakers."""

    speakers: int  # voices found: 1 or 2
    agent_identified_by: str  # voiceprint | opening_words | first_voice | user | trainer | one_voice
    voice_similarity: float  # cosine between the two voices (high: alike)
    agent_voice: int  # 0: the voice heard first


FADE_FRAMES = max(1, int(round(FADE_S / FRAME_S)))


def gain0(labels: np.ndarray) -> np.ndarray:
    """A gain per 10 ms frame for voice 0 (voice 1 gets the rest), smoothed over the fade."""
    g = (filled(labels) == 0).astype(np.float32)
    k = FADE_FRAMES
    return np.convolve(np.pad(g, (k, k), mode="edge"), np.ones(2 * k + 1) / (2 * k + 1), mode="same")[k:-k]


class VoiceSplit:
    def __init__(self, d: Diarization, agent_voice: int, identified_by: str) -> None:
        self.diarization = d
        self._roles(agent_voice, identified_by)
        self._gain0 = gain0(d.labels)

    def _roles(self, agent_voice: int, identified_by: str) -> None:
        """Who is who, changed from any thread (a trainer's swap, the voices' first words)."""
        self._lock = threading.Lock()
        self._agent = agent_voice
        self._by = identified_by
        self.swaps: list[float] = []

    @property
    def info(self) -> SplitInfo:
        with self._lock:
            return SplitInfo(self.diarization.speakers, self._by, round(self.diarization.similarity, 3), self._agent)

    def set_agent(self, voice: int, by: str, at: float | None = None) -> None:
        """`voice` is the agent (told `by`); `at`: the stream time from which, kept as a swap
        when it changes who is who mid-call."""
        with self._lock:
            if voice != self._agent and at is not None:
                self.swaps.append(round(at, 2))
            self._agent, self._by = voice, by

    def voice_of(self, speaker: Speaker) -> int:
        with self._lock:
            return self._agent if speaker == "agent" else 1 - self._agent

    def swap(self, by: str = "trainer", at: float | None = None) -> None:
        """The other voice is the agent, from the next chunk on (`at`: the stream time, kept
        in the JSON: cues before it were given with the voices the other way round)."""
        with self._lock:
            self._agent, self._by = 1 - self._agent, by
            if at is not None:
                self.swaps.append(round(at, 2))

    def _channels(self, x: np.ndarray, g0: np.ndarray) -> dict[Speaker, np.ndarray]:
        with self._lock:
            agent = self._agent
        a, b = x * g0, x * (1 - g0)
        return {"agent": a, "customer": b} if agent == 0 else {"agent": b, "customer": a}

    def segments(self) -> list[list[float | str]]:
        """[start, end, speaker] of each stretch of one voice's speech, in stream time."""
        lab = self.diarization.labels
        with self._lock:
            agent = self._agent
        edges = np.flatnonzero(np.diff(np.concatenate([[-1], lab, [-1]])))
        out: list[list[float | str]] = []
        for a, b in zip(edges[:-1], edges[1:]):
            if lab[a] >= 0:
                out.append([round(a * FRAME_S, 2), round(b * FRAME_S, 2), "agent" if lab[a] == agent else "customer"])
        return out

    def split(self, start: int, x: np.ndarray) -> dict[Speaker, np.ndarray]:
        """`x`: mono samples from stream sample `start` -> each speaker's channel."""
        lo = max(0, start // HOP - 1)
        hi = min(len(self._gain0), (start + len(x)) // HOP + 2)
        if hi > lo:
            centres = (np.arange(lo, hi) + 0.5) * HOP
            g0 = np.interp(np.arange(start, start + len(x)), centres, self._gain0[lo:hi]).astype(np.float32)
        else:  # past the labelled audio (never, for a file labelled whole): the last voice goes on
            g0 = np.full(len(x), self._gain0[-1] if len(self._gain0) else 1.0, np.float32)
        return self._channels(x, g0)
