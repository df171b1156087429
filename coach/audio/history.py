"""A fixed-size ring of recent audio, addressed by absolute sample index."""

from __future__ import annotations

import numpy as np


class History:
    def __init__(self, capacity: int) -> None:
        self._buf = np.zeros(capacity, np.float32)
        self.end = 0  # absolute index one past the newest sample

    @property
    def start(self) -> int:
        """Absolute index of the oldest sample still held."""
        return max(0, self.end - len(self._buf))

    def write(self, x: np.ndarray) -> None:
        cap = len(self._buf)
        if len(x) >= cap:
            x = x[-cap:]
            self.end += len(x) - cap
        i = self.end % cap
        first = min(len(x), cap - i)
        self._buf[i:i + first] = x[:first]
        self._buf[: len(x) - first] = x[first:]
        self.end += len(x)

    def read(self, start: int, end: int) -> np.ndarray:
        """Samples [start, end); the part older than the ring holds is dropped."""
        cap = len(self._buf)
        start = max(start, self.end - cap, 0)
        end = min(end, self.end)
        if end <= start:
            return np.zeros(0, np.float32)
        idx = np.arange(start, end) % cap
        return self._buf[idx]
