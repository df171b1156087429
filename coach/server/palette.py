"""The dashboard's cue and severity colours, derived from the cue registry (coach/analysis/cues/base.py
is the one place they are defined), so a new cue has its colour in every chart."""

from __future__ import annotations

from coach.analysis.catalog import CATALOG, SEVERITY_COLOURS

PALETTE: dict[str, str] = {cue_id: spec.colour for cue_id, spec in CATALOG.items()}


def severity_css() -> str:
    """CSS custom properties for the pages' stylesheet (app.css reads var(--alert) and the rest)."""
    names = {"alert": "alert", "warn": "warn", "info": "info", "positive": "ok"}
    return ":root { " + " ".join(f"--{names[k]}: {v};" for k, v in SEVERITY_COLOURS.items()) + " }"
