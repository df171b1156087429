"""The seam between where audio comes from and the coaching session: a recorded call played
(FileSource) or two live devices (LiveSource), and fakes in tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from coach.core.events import AudioChunk, Speaker


@dataclass(frozen=True)
class SourceHealth:
    """How the audio is arriving, for the overlay's health line and the session file."""

    lost: list[Speaker] = field(default_factory=list)  # sides whose device is gone (recorded as silence)
    dropped_blocks: int = 0  # blocks the capture callback could not queue
    padded_s: dict[Speaker, float] = field(default_factory=dict)  # silence inserted per side
    drift_ppm: float = 0.0  # clock drift between two devices


class AudioSource(Protocol):
    speakers: list[Speaker]

    def start(self) -> None:
        """Open devices (or nothing, for a file): before the first chunk."""

    def chunks(self) -> Iterator[AudioChunk]:
        """Equal-length chunks of every speaker's 16 kHz audio, stream time from sample counts."""
        ...

    def now(self) -> float:
        """Stream time right now (a file played in real time: the playback position)."""
        ...

    def stop(self) -> None:
        """Make chunks() end soon; safe from any thread."""

    def health(self) -> SourceHealth: ...


class ChannelSplit(Protocol):
    """One channel carrying two voices, made a channel per voice (coach/voices/ does it; a source
    only applies it). `info` says how the agent's voice was identified."""

    info: Any

    def split(self, start: int, x: np.ndarray) -> dict[Speaker, np.ndarray]:
        """`x`: the mono samples from sample `start` of the stream; each speaker's share of them."""
        ...
