"""Cue discipline: the one place that decides whether a proposed cue is shown.

Cue overload is the top complaint about live coaching (docs/cues.md), so a cue is dropped when it
is switched off, inside its own cooldown, or inside the global gap after another cue unless it is
more urgent than that one. A warning or tip whose evidence is less certain than `min_confidence`
is dropped too (an alert has its own evidence threshold, the escalation score). A warning or tip
that has already been shown waits `repeat_backoff` times longer before each repeat (x2, x4 at
most): the same nudge every minute is what agents learn to ignore.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from coach.analysis.catalog import CATALOG
from coach.analysis.cues.base import Proposal
from coach.core.events import Cue

if TYPE_CHECKING:
    from coach.config.settings import CueSettings

__all__ = ["CueEngine", "Proposal"]


@dataclass
class CueEngine:
    settings: CueSettings
    fired: list[Cue] = field(default_factory=list)
    suppressed: list[tuple[float, str, str]] = field(default_factory=list)  # (t, id, why)
    _last: dict[str, float] = field(default_factory=dict)
    _count: dict[str, int] = field(default_factory=dict)  # times each cue has fired this call

    def _rule(self, cue_id: str):  # noqa: ANN202 - per-cue settings dataclass or None
        return getattr(self.settings, cue_id, None)

    def enabled(self, cue_id: str) -> bool:
        rule = self._rule(cue_id)
        return rule is None or rule.enabled

    def offer(self, p: Proposal, t: float) -> Cue | None:
        spec = CATALOG[p.id]
        rule = self._rule(p.id)
        if not self.enabled(p.id):
            return None
        if spec.severity in ("warn", "info") and p.confidence < self.settings.min_confidence:
            self.suppressed.append((t, p.id, f"confidence {p.confidence:.2f} below {self.settings.min_confidence:g}"))
            return None
        cooldown = rule.cooldown_s if rule is not None else 45.0
        if spec.severity != "alert":  # a repeated nudge is a nag: each repeat waits longer (alerts never do)
            cooldown *= self.settings.repeat_backoff ** min(self._count.get(p.id, 1) - 1, 2)
        last = self._last.get(p.id)
        if last is not None and t - last < cooldown:
            self.suppressed.append((t, p.id, "cooldown"))
            return None
        if self.fired:
            prev = self.fired[-1]
            if t - prev.t < self.settings.global_gap_s and spec.priority >= CATALOG[prev.id].priority:
                self.suppressed.append((t, p.id, f"within {self.settings.global_gap_s:g} s of {prev.id}"))
                return None
        cue = Cue(
            id=spec.id, label=spec.label, t=round(t, 3), speaker=p.speaker, severity=spec.severity,
            skill=spec.skill, tip=spec.tip, reason=p.reason if p.confidence >= 1.0 else f"{p.reason} (confidence {p.confidence:.2f})",
            latency_s=round(max(0.0, t - p.evidence_end), 3), confidence=round(p.confidence, 2),
        )
        self._last[p.id] = t
        self._count[p.id] = self._count.get(p.id, 0) + 1
        self.fired.append(cue)
        return cue
