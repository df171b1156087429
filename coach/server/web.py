"""The dashboard's rendering (its routes are in routes/pages.py): the Jinja2 environment
(autoescaped) with its filters, and the trends page's weekly numbers and small SVG charts."""

import html
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from coach.analysis.catalog import CATALOG, SEVERITY_COLOURS
from coach.server.palette import PALETTE  # cue colours from the cue registry

ALERT, INFO, CALM = (SEVERITY_COLOURS[k] for k in ("alert", "info", "positive"))

env = Environment(loader=PackageLoader("coach.server", "templates"), autoescape=select_autoescape(["html"]))


def label(cue_id: str) -> str:
    return CATALOG[cue_id].label if cue_id in CATALOG else cue_id


env.filters["cue_label"] = label
env.filters["mmss"] = lambda t: f"{int(t // 60):02d}:{int(t % 60):02d}" if t is not None else ""


# --- trends ------------------------------------------------------------------------------


def week_of(t: datetime) -> date:
    d = t.date()
    return d - timedelta(days=d.weekday())


def call_facts(summary: dict[str, Any]) -> dict[str, Any]:
    """One call's numbers for the weekly view: cues by kind, escalated, calmed after it."""
    cues = sorted(summary.get("cues") or [], key=lambda c: c.get("t", 0))
    esc = [c["t"] for c in cues if c["id"] == "customer_escalating"]
    calmed = bool(esc) and any(c["id"] == "customer_calming" and c["t"] > esc[0] for c in cues)
    agent = (summary.get("metrics") or {}).get("agent") or {}
    return {"kinds": Counter(c["id"] for c in cues), "escalated": bool(esc), "calmed": calmed,
            "talk": agent.get("talk_ratio"), "wpm": agent.get("wpm")}


def trend_groups(calls: list[dict[str, Any]], weeks: int) -> list[dict[str, Any]]:
    """Per team and per agent, per week: calls, cues per call by kind, escalations and how many
    calmed, the agent's talk share and pace; each with small SVG charts."""
    this_week = week_of(datetime.now())
    wk = [this_week - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    buckets: dict[tuple[str, str], dict[date, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for c in calls:
        f = call_facts(c["summary"])
        w = week_of(c["received"])
        buckets[("team", c["team"] or "–")][w].append(f)
        buckets[("agent", c["agent"])][w].append(f)
    groups = []
    for (kind, name), by_week in sorted(buckets.items(), key=lambda kv: (kv[0][0] != "team", kv[0][1])):
        rows = []
        for w in wk:
            fs = by_week.get(w, [])
            kinds: Counter[str] = Counter()
            for f in fs:
                kinds.update(f["kinds"])
            esc = sum(f["escalated"] for f in fs)
            talks = [f["talk"] for f in fs if f["talk"] is not None]
            paces = [f["wpm"] for f in fs if f["wpm"]]
            rows.append({"week": w, "calls": len(fs), "per_call": {k: v / len(fs) for k, v in kinds.items()} if fs else {},
                         "escalations": esc, "calmed": sum(f["calmed"] for f in fs),
                         "talk": sum(talks) / len(talks) if talks else None, "wpm": sum(paces) / len(paces) if paces else None})
        n_calls = sum(r["calls"] for r in rows)
        groups.append({"kind": kind, "name": name, "rows": rows,
                       "cues_per_call": sum(sum(r["per_call"].values()) * r["calls"] for r in rows) / n_calls if n_calls else 0.0,
                       "talk_latest": next((r["talk"] for r in reversed(rows) if r["talk"] is not None), None),
                       "wpm_latest": next((r["wpm"] for r in reversed(rows) if r["wpm"]), None),
                       "cue_chart": cue_bars(rows), "talk_chart": line(rows, "talk", 0, 1),
                       "wpm_chart": line(rows, "wpm", 80, 260), "esc_chart": esc_bars(rows)})
    return groups




def cue_bars(rows: list[dict[str, Any]], w: int = 240, h: int = 60) -> str:
    """Stacked bars: cues per call by kind, one bar per week."""
    top = max([sum(r["per_call"].values()) for r in rows] + [1.0])
    bw = w / len(rows)
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>cues per call by kind</title>']
    for i, r in enumerate(rows):
        y = h
        for k, v in sorted(r["per_call"].items()):
            bh = (h - 4) * v / top
            y -= bh
            parts.append(f'<rect x="{i * bw + 2:.1f}" y="{y:.1f}" width="{bw - 4:.1f}" height="{bh:.1f}" fill="{PALETTE.get(k, "#999")}">'
                         f'<title>{html.escape(label(k))}: {v:.2f} per call (week of {r["week"]})</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def esc_bars(rows: list[dict[str, Any]], w: int = 160, h: int = 60) -> str:
    """Escalations per week (red) and how many of them calmed (green, inside)."""
    top = max([r["escalations"] for r in rows] + [1])
    bw = w / len(rows)
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>escalations, calmed</title>']
    for i, r in enumerate(rows):
        eh, ch = (h - 4) * r["escalations"] / top, (h - 4) * r["calmed"] / top
        parts.append(f'<rect x="{i * bw + 2:.1f}" y="{h - eh:.1f}" width="{bw - 4:.1f}" height="{eh:.1f}" fill="{ALERT}">'
                     f'<title>{r["escalations"]} escalations, {r["calmed"]} calmed (week of {r["week"]})</title></rect>'
                     f'<rect x="{i * bw + 4:.1f}" y="{h - ch:.1f}" width="{max(bw - 8, 1):.1f}" height="{ch:.1f}" fill="{CALM}"/>')
    parts.append("</svg>")
    return "".join(parts)


def line(rows: list[dict[str, Any]], key: str, lo: float, hi: float, w: int = 160, h: int = 60) -> str:
    pts = [(i, r[key]) for i, r in enumerate(rows) if r[key] is not None]
    step = w / max(len(rows) - 1, 1)
    y = lambda v: h - 4 - (h - 8) * (min(max(v, lo), hi) - lo) / (hi - lo)  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>{key} per week</title>',
             f'<line x1="0" y1="{h - 4}" x2="{w}" y2="{h - 4}" stroke="#ddd"/>']
    if len(pts) > 1:
        parts.append('<polyline fill="none" stroke="' + INFO + '" stroke-width="2" points="' +
                     " ".join(f"{i * step:.1f},{y(v):.1f}" for i, v in pts) + '"/>')
    for i, v in pts:
        shown = f"{v:.0%}" if key == "talk" else f"{v:.0f} wpm"
        parts.append(f'<circle cx="{i * step:.1f}" cy="{y(v):.1f}" r="3" fill="{INFO}"><title>{shown} (week of {rows[i]["week"]})</title></circle>')
    parts.append("</svg>")
    return "".join(parts)

