"""A live mono device (a call recorder, a line tap, a mixed softphone output): both voices in
one channel, split into agent and customer as they speak.

The split runs LAG_S behind the device: a voice is known once the 1.5 s window centred on
the moment has been heard, so each 100 ms chunk goes out when the windows around it are in.
The recognizer, cues and recording then see two channels as from a stereo device. Until a
second voice is heard, all speech is the first voice's (the agent, who usually answers);
the agent's voiceprint (if enrolled), then the voices' first words (coach/voices/mono_calls.py),
then the agent or a trainer (tray: swap) may say otherwise, each from the next chunk on.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from coach.audio.live_source import LiveSource
from coach.audio.source import SourceHealth
from coach.core.events import SAMPLE_RATE, AudioChunk, Speaker
from coach.voices import speakers as sp
from coach.voices.live_speakers import StreamingDiarizer
from coach.voices.voice_split import HOP, SplitInfo, VoiceSplit, gain0

LAG_S = 1.6  # the nearest window's end lies up to 1.1 s after a moment; the rest covers VAD blocks
STEP = int(0.1 * SAMPLE_RATE)
REACH = 2 * sp.WINDOW_FRAMES  # frames looked at around a chunk: a pause's nearest voice may be this far


class LiveSplit(VoiceSplit):
    def __init__(self, diarizer: StreamingDiarizer | None = None, voiceprint: np.ndarray | None = None,
                 lag_s: float = LAG_S) -> None:
        self._d = diarizer or StreamingDiarizer()
        self._roles(0, "first_voice")
        self._voiceprint = voiceprint
        self._lag = int(lag_s * SAMPLE_RATE)
        self._pending = np.zeros(0, np.float32)
        self.emitted = 0  # samples given out
        self._last_g = 1.0

    @property
    def diarization(self) -> sp.Diarization:  # type: ignore[override]
        return self._d.result()

    @property
    def info(self) -> SplitInfo:
        with self._lock:
            return SplitInfo(2 if self._d.two else 1, self._by, round(self._d.similarity, 3), self._agent)

    def now(self) -> float:
        """Stream time of the next chunk given out."""
        return self.emitted / SAMPLE_RATE

    def swap(self, by: str = "trainer", at: float | None = None) -> None:
        super().swap(by, self.now())  # the chunks out trail the wall clock by the lag

    def push(self, x: np.ndarray) -> list[tuple[int, dict[Speaker, np.ndarray]]]:
        """Mono 16 kHz samples in; out: (start sample, channels) for each chunk now decided."""
        self._d.push(x)
        if self._voiceprint is not None and self._by == "first_voice" and self._d.two and self._d.centroids is not None:
            v = sp.voice_of(self._d.centroids, self._voiceprint)
            if v is not None:
                self.set_agent(v, "voiceprint", self.now())
        self._pending = np.concatenate([self._pending, x.astype(np.float32, copy=False)])
        out = []
        while len(self._pending) - self._lag >= STEP:
            out.append(self._give(STEP))
        return out

    def flush(self) -> list[tuple[int, dict[Speaker, np.ndarray]]]:
        """The device stopped: the rest, with the voices as finally understood."""
        self._d.finish()
        out = []
        while len(self._pending):
            out.append(self._give(min(STEP, len(self._pending))))
        return out

    def _give(self, n: int) -> tuple[int, dict[Speaker, np.ndarray]]:
        x, self._pending = self._pending[:n], self._pending[n:]
        start = self.emitted
        self.emitted += n
        f0, f1 = start // HOP, (start + n + HOP - 1) // HOP
        lo = max(0, f0 - REACH)
        labels = self._d.labels(lo, f1 + REACH)
        if np.any(labels >= 0):
            g = gain0(labels)[f0 - lo:f1 - lo + 1]
            self._last_g = float(g[-1])
        else:  # nobody near: the line's noise stays where the last voice was
            g = np.full(f1 - f0 + 1, self._last_g)
        centres = (np.arange(f0, f0 + len(g)) + 0.5) * HOP
        g0 = np.interp(np.arange(start, start + n), centres, g).astype(np.float32)
        return start, self._channels(x, g0)


class MonoLiveSource:
    """One live device carrying both voices, as an AudioSource of two speakers."""

    speakers: list[Speaker] = ["agent", "customer"]

    def __init__(self, device: LiveSource, split: LiveSplit) -> None:
        self.device, self.split = device, split
        self.duration_s = device.duration_s

    def start(self) -> None:
        self.device.start()

    def chunks(self) -> Iterator[AudioChunk]:
        [side] = self.device.speakers
        for c in self.device.chunks():
            for start, ch in self.split.push(c.channels[side]):
                yield AudioChunk(start / SAMPLE_RATE, ch)
        for start, ch in self.split.flush():
            yield AudioChunk(start / SAMPLE_RATE, ch)

    def now(self) -> float:
        return self.device.now()  # the wall clock: the lag counts in every latency

    def stop(self) -> None:
        self.device.stop()

    def health(self) -> SourceHealth:
        h = self.device.health()
        [side] = self.device.speakers
        lost = list(self.speakers) if side in h.lost else []
        return SourceHealth(lost=lost, dropped_blocks=h.dropped_blocks, padded_s=h.padded_s, drift_ppm=0.0)


__all__ = ["LAG_S", "LiveSplit", "MonoLiveSource"]
