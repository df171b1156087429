"""Turn-taking from VAD timing alone: talk time, overtalk, dead air, monologues,
interruptions and talk share.

Fed one 32 ms frame at a time with each speaker's voice activity (`active`: this frame
is speech; `speaking`: inside an utterance, short pauses included), so these signals are
there at once, without waiting for speech recognition.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from coach.core.events import SPEAKERS, Speaker


@dataclass(frozen=True)
class Interruption:
    """The agent came in while the customer was mid-turn and kept talking over them."""

    since: float  # the agent's onset
    at: float  # when the overlap crossed the threshold
    overlap_s: float


def _other(s: Speaker) -> Speaker:
    return SPEAKERS[1 - SPEAKERS.index(s)]


class TurnTracker:
    def __init__(
        self,
        frame_s: float,
        dead_air_min_s: float,
        monologue_gap_s: float,
        overlap_s: float = 1.0,
        customer_lead_s: float = 1.0,
        share_window_s: float = 120.0,
    ) -> None:
        self.frame_s = frame_s
        self.dead_air_min = round(dead_air_min_s / frame_s)
        self.mono_gap = round(monologue_gap_s / frame_s)
        self.overlap_frames = round(overlap_s / frame_s)
        self.lead_frames = round(customer_lead_s / frame_s)
        self.frames = 0
        self.talk = {s: 0 for s in SPEAKERS}
        self.overtalk = 0
        self.dead_air = 0
        self.silent_run = 0  # frames of silence on both sides, right now
        self.spoken = False  # anybody has spoken yet
        self._mono: dict[Speaker, tuple[int, int] | None] = {s: None for s in SPEAKERS}
        self.longest = {s: 0 for s in SPEAKERS}
        self._other_run = {s: 0 for s in SPEAKERS}
        self._turn_start: dict[Speaker, int | None] = {s: None for s in SPEAKERS}
        self._barge: tuple[int, int] | None = None  # (agent onset frame, overlap frames so far)
        self._barge_reported = False
        self._window: deque[tuple[bool, bool]] = deque(maxlen=round(share_window_s / frame_s))
        self._window_talk = {s: 0 for s in SPEAKERS}

    def update(self, active: dict[Speaker, bool], speaking: dict[Speaker, bool] | None = None) -> Interruption | None:
        speaking = speaking or active
        i = self.frames
        self.frames += 1
        on = [s for s in SPEAKERS if active.get(s)]
        for s in on:
            self.talk[s] += 1
        if len(on) == 2:
            self.overtalk += 1
        if on:
            if self.spoken and self.silent_run >= self.dead_air_min:
                self.dead_air += self.silent_run
            self.silent_run = 0
            self.spoken = True
        else:
            self.silent_run += 1
        self._update_share(active)
        for s in SPEAKERS:
            self._update_monologue(s, i, active)
        return self._update_interruption(i, active, speaking)

    def _update_share(self, active: dict[Speaker, bool]) -> None:
        if len(self._window) == self._window.maxlen:
            old = self._window[0]
            for j, s in enumerate(SPEAKERS):
                self._window_talk[s] -= old[j]
        frame = (bool(active.get("agent")), bool(active.get("customer")))
        self._window.append(frame)
        for j, s in enumerate(SPEAKERS):
            self._window_talk[s] += frame[j]

    def _update_monologue(self, s: Speaker, i: int, active: dict[Speaker, bool]) -> None:
        self._other_run[s] = self._other_run[s] + 1 if active.get(_other(s)) else 0
        run = self._mono[s]
        # the other side holding the floor for ~1 s (more than a backchannel) ends a monologue
        if run is not None and (i - run[1] > self.mono_gap or self._other_run[s] * self.frame_s >= 1.0):
            self._mono[s] = run = None
        if active.get(s):
            self._mono[s] = run = (run[0] if run else i, i)
            self.longest[s] = max(self.longest[s], run[1] - run[0] + 1)

    def _update_interruption(self, i: int, active: dict[Speaker, bool], speaking: dict[Speaker, bool]) -> Interruption | None:
        for s in SPEAKERS:
            if speaking.get(s) and self._turn_start[s] is None:
                self._turn_start[s] = i
            elif not speaking.get(s):
                self._turn_start[s] = None
        agent_start, cust_start = self._turn_start["agent"], self._turn_start["customer"]
        if agent_start is None:
            self._barge, self._barge_reported = None, False
            return None
        if self._barge is None and agent_start == i and cust_start is not None and i - cust_start >= self.lead_frames:
            self._barge = (i, 0)  # the agent started while the customer was mid-turn
        if self._barge is None or self._barge_reported:
            return None
        onset, overlap = self._barge
        if active.get("agent") and active.get("customer"):
            overlap += 1
        self._barge = (onset, overlap)
        if overlap >= self.overlap_frames:
            self._barge_reported = True
            return Interruption(onset * self.frame_s, (i + 1) * self.frame_s, overlap * self.frame_s)
        return None

    # -- what rules read -------------------------------------------------------------

    def silence_s(self) -> float:
        return self.silent_run * self.frame_s if self.spoken else 0.0

    def monologue_s(self, s: Speaker) -> float:
        run = self._mono[s]
        return 0.0 if run is None else (run[1] - run[0] + 1) * self.frame_s

    def share(self, s: Speaker) -> tuple[float | None, float]:
        """(s's share of the talk in the recent window, seconds of talk in it)."""
        total = sum(self._window_talk.values())
        return (self._window_talk[s] / total if total else None), total * self.frame_s

    def window_full(self) -> bool:
        return len(self._window) == self._window.maxlen

    def seconds(self, frames: int) -> float:
        return round(frames * self.frame_s, 2)
