"""How much a cue's evidence can be trusted."""

from __future__ import annotations


def combine(*signals: float) -> float:
    """Independent signals that agree: the chance that all of them are wrong is the product."""
    doubt = 1.0
    for c in signals:
        doubt *= 1.0 - max(0.0, min(1.0, c))
    return round(1.0 - doubt, 2)
