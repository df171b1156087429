"""Digital silence: a clip with nothing to decode. Apart from the recognizers so that the pipeline
can skip a decode without importing any engine."""

from __future__ import annotations

import numpy as np

from coach.core.events import SAMPLE_RATE


def silence_check(audio: np.ndarray) -> bool:
    """True when the clip is digital silence (no decode needed)."""
    return len(audio) < SAMPLE_RATE // 10 or float(np.max(np.abs(audio))) < 1e-4
