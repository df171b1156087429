"""Turn-taking from VAD timing alone: talk time, overtalk, dead air, monologues.

Fed one 32 ms frame at a time with each speaker's voice activity, so these signals are
available at once, without waiting for speech recognition.
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.events import SPEAKERS, Speaker


@dataclass
class DeadAir:
    """Silence on both sides crossed the limit: `since` is when it began, `at` when it crossed."""

    since: float
    at: float


class TurnTracker:
    def __init__(self, frame_s: float, dead_air_min_s: float, monologue_gap_s: float, check_in_s: float) -> None:
        self.frame_s = frame_s
        self.dead_air_min = round(dead_air_min_s / frame_s)
        self.check_in = round(check_in_s / frame_s)
        self.mono_gap = round(monologue_gap_s / frame_s)
        self.frames = 0
        self.talk = {s: 0 for s in SPEAKERS}
        self.overtalk = 0
        self.dead_air = 0
        self._silent_run = 0
        self._spoken = False
        # monologue: first and last active frame of each speaker's current run
        self._mono: dict[Speaker, tuple[int, int] | None] = {s: None for s in SPEAKERS}
        self.longest = {s: 0 for s in SPEAKERS}
        self._other_run = {s: 0 for s in SPEAKERS}

    def update(self, active: dict[Speaker, bool]) -> DeadAir | None:
        i = self.frames
        self.frames += 1
        on = [s for s in SPEAKERS if active.get(s)]
        for s in on:
            self.talk[s] += 1
        if len(on) == 2:
            self.overtalk += 1
        event = None
        if on:
            if self._spoken and self._silent_run >= self.dead_air_min:
                self.dead_air += self._silent_run
            self._silent_run = 0
            self._spoken = True
        else:
            self._silent_run += 1
            if self._spoken and self._silent_run == self.check_in:
                event = DeadAir((i + 1 - self._silent_run) * self.frame_s, (i + 1) * self.frame_s)
        for s in SPEAKERS:
            other = SPEAKERS[1 - SPEAKERS.index(s)]
            self._other_run[s] = self._other_run[s] + 1 if active.get(other) else 0
            run = self._mono[s]
            # the other side taking the floor for ~1 s (more than a backchannel) ends a monologue
            ended = run is not None and (i - run[1] > self.mono_gap or self._other_run[s] * self.frame_s >= 1.0)
            if ended:
                self._mono[s] = run = None
            if active.get(s):
                self._mono[s] = run = (run[0] if run else i, i)
                self.longest[s] = max(self.longest[s], run[1] - run[0] + 1)
        return event

    def monologue_s(self, s: Speaker) -> float:
        run = self._mono[s]
        return 0.0 if run is None else (run[1] - run[0] + 1) * self.frame_s

    def seconds(self, frames: int) -> float:
        return round(frames * self.frame_s, 2)
