"""An input device as the app names it: by name and host API, never by index (indices move between runs)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# names under which OSes and tools expose "what the speakers play" as an input
LOOPBACK = re.compile(r"\.monitor\b|monitor of|stereo mix|what u hear|blackhole|loopback|vb-audio|cable output", re.I)


@dataclass(frozen=True)
class InputDevice:
    name: str
    hostapi: str
    channels: int
    rate: float
    index: int | str  # what sounddevice opens: an index, or "pulse" for a Pulse source
    pulse_source: str | None = None
    backend: str = "portaudio"  # or "wasapi-loopback" (Windows, PyAudioWPatch)

    @property
    def loopback(self) -> bool:
        return bool(LOOPBACK.search(self.name))

    @property
    def label(self) -> str:
        return f"{self.name} ({self.hostapi})"
