"""A level meter for the device picker: a short-lived capture and its recent peak."""

from __future__ import annotations

import queue

import numpy as np

from coach.audio.capture import PortAudioCapture
from coach.audio.devices import list_inputs, resolve


class LevelProbe:
    """Opens the device; peak() drains what arrived since the last call (GUI timer, not the audio thread)."""

    def __init__(self, label: str) -> None:
        self._q: queue.Queue = queue.Queue(maxsize=50)
        self._cap = PortAudioCapture(resolve(label, devices=list_inputs()), "probe", self._q, 1)
        self._cap.start()

    def peak(self) -> float:
        level = 0.0
        while True:
            try:
                _, block, _ = self._q.get_nowait()
            except queue.Empty:
                return level
            level = max(level, float(np.max(np.abs(block))) if len(block) else 0.0)

    def close(self) -> None:
        self._cap.close()
