"""Supervisor exports, Qt-free: a flagged segment (audio clip + transcript + cues as JSON)
and a one-page HTML report of a session with an inline SVG timeline."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from coach.analysis.catalog import SEVERITY_COLOURS
from coach.core.errors import UserError

COLORS = SEVERITY_COLOURS  # from the cue registry, as the overlay and the dashboard


def export_segment(doc: dict[str, Any], start: float, end: float, out_dir: Path) -> Path:
    """Write clip.wav, and segment.json with the utterances and cues inside [start, end]."""
    clip, rate = segment_clip(doc, start, end)
    out_dir.mkdir(parents=True, exist_ok=True)
    sf.write(out_dir / "clip.wav", clip, rate, subtype="PCM_16")
    (out_dir / "segment.json").write_text(json.dumps(segment_doc(doc, start, end), indent=1))
    return out_dir


def segment_clip(doc: dict[str, Any], start: float, end: float) -> tuple[np.ndarray, int]:
    """The session's audio in [start, end], payment-data spans silenced."""
    audio = doc.get("session", {}).get("audio") or doc["source"]["path"]
    if not audio or not Path(audio).exists():
        raise UserError(f"the session's audio file {audio} is missing; the transcript can still be exported")
    with sf.SoundFile(audio) as f:
        f.seek(min(int(start * f.samplerate), f.frames))
        clip = f.read(max(0, int((end - start) * f.samplerate)), dtype="float32", always_2d=True)
        silence_redactions(clip, f.samplerate, doc, offset=start)
        return clip, f.samplerate


def segment_doc(doc: dict[str, Any], start: float, end: float) -> dict[str, Any]:
    """The utterances, cues and flags of a session inside [start, end]."""
    return {
        "session": doc.get("session"), "start": start, "end": end,
        "utterances": [u for u in doc["utterances"] if u["end"] > start and u["start"] < end],
        "cues": [c for c in doc["cues"] if start <= c["t"] <= end],
        "flags": [f for f in doc["flags"] if f["end"] > start and f["start"] < end],
    }


def timeline_svg(doc: dict[str, Any], width: int = 900, height: int = 180) -> str:
    """Both speakers' speech, the customer's sentiment, cue markers and flagged regions."""
    dur = max(doc["source"]["duration_s"], 1.0)
    x = lambda t: round(40 + (width - 50) * t / dur, 1)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">']
    for f in doc["flags"]:
        parts.append(f'<rect x="{x(f["start"])}" y="0" width="{x(f["end"]) - x(f["start"])}" height="{height}" fill="#f6e3b4"/>')
    for row, (speaker, y) in enumerate((("agent", 20), ("customer", 50))):
        parts.append(f'<text x="0" y="{y + 10}">{"agent" if row == 0 else "cust."}</text>')
        for u in doc["utterances"]:
            if u["speaker"] == speaker:
                color = "#3d8fe8" if speaker == "agent" else "#8957e5"
                parts.append(f'<rect x="{x(u["start"])}" y="{y}" width="{max(1, x(u["end"]) - x(u["start"]))}" height="14" fill="{color}"/>')
    mid, amp = 120, 40
    parts.append(f'<line x1="40" y1="{mid}" x2="{width - 10}" y2="{mid}" stroke="#ccc"/><text x="0" y="{mid + 4}">mood</text>')
    pts = [(x((u["start"] + u["end"]) / 2), round(mid - amp * u["sentiment"], 1)) for u in doc["utterances"]
           if u["speaker"] == "customer" and u.get("sentiment") is not None]
    if pts:
        parts.append('<polyline fill="none" stroke="#8957e5" stroke-width="2" points="' + " ".join(f"{a},{b}" for a, b in pts) + '"/>')
    for c in doc["cues"]:
        cx = x(c["t"])
        parts.append(f'<polygon points="{cx - 5},{height - 4} {cx + 5},{height - 4} {cx},{height - 14}" fill="{COLORS[c["severity"]]}">'
                     f'<title>{html.escape(c["label"])} at {c["t"]:.1f} s</title></polygon>')
    parts.append("</svg>")
    return "".join(parts)


def html_report(doc: dict[str, Any], out: Path) -> Path:
    sess = doc.get("session", {})
    m = doc.get("metrics", {})
    rows = sorted([(u["start"], f'<tr><td>{u["start"]:.1f}</td><td>{u["speaker"]}</td><td>{html.escape(u["text"])}</td></tr>')
                   for u in doc["utterances"]]
                  + [(c["t"], f'<tr class="cue"><td>{c["t"]:.1f}</td><td style="color:{COLORS[c["severity"]]}">cue</td>'
                              f'<td><b>{html.escape(c["label"])}</b> — {html.escape(c["reason"])}</td></tr>') for c in doc["cues"]])
    agent, cust = m.get("agent", {}), m.get("customer", {})
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Call Coach session {sess.get("id", "")}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}} td{{padding:2px 8px;vertical-align:top}}
tr.cue td{{background:#f4f4f4}} .k{{color:#666}}</style></head><body>
<h1>Session {sess.get("id", "")} <span class="k">{html.escape(str(sess.get("started", "")))} · {html.escape(str(sess.get("mode", "")))}</span></h1>
<p class="k">{html.escape(Path(doc["source"]["path"]).name)} · {doc["source"]["duration_s"]:.0f} s · {len(doc["cues"])} cues ·
{len(doc["flags"])} flagged segments · agent talk share {agent.get("talk_ratio", 0):.0%}, pace {agent.get("wpm") or 0:.0f} wpm ·
customer mood {cust.get("sentiment_mean") if cust.get("sentiment_mean") is not None else "–"}</p>
{timeline_svg(doc)}
<h2>Transcript</h2><table>{"".join(r for _, r in rows)}</table></body></html>"""
    out.write_text(page, encoding="utf-8")
    return out


def audio_array(doc: dict[str, Any]) -> tuple[np.ndarray, int] | None:
    audio = doc.get("session", {}).get("audio") or doc["source"]["path"]
    if not audio or not Path(audio).exists():
        return None
    data, rate = sf.read(audio, dtype="float32", always_2d=True)
    silence_redactions(data, rate, doc)
    return data, rate


def silence_redactions(audio: np.ndarray, rate: int, doc: dict[str, Any], offset: float = 0.0) -> None:
    """Zero the session's payment-data spans (0.1 s margin, both channels) in audio starting at `offset`."""
    for a, b in doc.get("redactions", []):
        lo, hi = max(0, int((a - 0.1 - offset) * rate)), int((b + 0.1 - offset) * rate)
        if lo < min(hi, len(audio)):
            audio[lo:hi] = 0
