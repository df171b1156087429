"""Settings fields: a default and the comment written beside it in the settings file.

Apart from settings.py so that the cue plug-ins (coach/analysis/cues/) can declare their own
settings without importing the settings module that assembles them."""

from __future__ import annotations

import copy
from dataclasses import field
from typing import Any


def opt(default: Any, doc: str, lo: float | None = 0.0, hi: float | None = None) -> Any:
    """A settings field with its default and the comment written beside it in the TOML.
    Numbers must be finite and within [lo, hi] (lo=None: no lower bound); validate() checks."""
    if isinstance(default, list):
        return field(default_factory=lambda: copy.copy(default), metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi})


def table(cls: type, doc: str = "") -> Any:
    return field(default_factory=cls, metadata={"doc": doc})
