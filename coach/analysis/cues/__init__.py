"""The cues, one module each; importing this package registers every one of them.

A new cue is a new module here (docs/adding-a-cue.md). Folders named in the environment variable
COACH_CUE_PATH (separated as PATH is) are searched too: a contact centre's own cues without a fork."""

from __future__ import annotations

import importlib
import os
import pkgutil

from coach.analysis.cues.base import REGISTRY, CueRule, CueSpec

__path__ += [p for p in os.environ.get("COACH_CUE_PATH", "").split(os.pathsep) if p]
_NOT_CUES = {"base", "state"}

for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _m.name not in _NOT_CUES and not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")


def all_cues() -> list[type[CueRule]]:
    """Every registered cue, most urgent first: the order the dispatcher asks them in."""
    return sorted(REGISTRY.values(), key=lambda c: (c.spec.priority, c.spec.id))


def specs() -> dict[str, CueSpec]:
    return {c.spec.id: c.spec for c in all_cues()}


__all__ = ["CueRule", "CueSpec", "all_cues", "specs"]
