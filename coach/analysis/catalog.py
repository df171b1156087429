"""The cue catalog: stable ids, overlay labels, skills, tips, severity, priority — derived from
the cue plug-ins (coach/analysis/cues/), most urgent first. docs/cues.md describes each."""

from __future__ import annotations

from coach.analysis.cues import specs
from coach.analysis.cues.base import SEVERITY_COLOURS, SEVERITY_ICONS, CueSpec

CATALOG: dict[str, CueSpec] = specs()

__all__ = ["CATALOG", "SEVERITY_COLOURS", "SEVERITY_ICONS", "CueSpec"]
