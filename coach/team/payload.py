"""What a coached call shares with the team server, built from its (already redacted)
session document: a summary (with the call's skill scorecard, numbers and times only), and
each flagged segment with its clip. Nothing else of
the call is sent: not the other utterances, not the rest of the audio."""

from __future__ import annotations

import io
import json
from typing import Any

import soundfile as sf

from coach.core.errors import UserError
from coach.session.exports import segment_clip, segment_doc
from coach.session.scorecard import scorecard, shared

Request = tuple[str, str, bytes, str]  # method, path, body, content type

_METRICS = ("talk_s", "talk_ratio", "wpm", "longest_monologue_s", "sentiment_mean")


def _cue(c: dict[str, Any]) -> dict[str, Any]:
    return {"id": c["id"], "label": c.get("label", ""), "t": c["t"], "severity": c.get("severity", ""), "reason": c.get("reason", "")}


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    m = doc.get("metrics", {})
    return {
        "started": (doc.get("session") or {}).get("started"),
        "duration_s": doc["source"]["duration_s"],
        "mode": (doc.get("session") or {}).get("mode", ""),
        # numbers only: talk share and pace of both, mood of the customer (never the agent's: not computed)
        "metrics": {sp: {k: m.get(sp, {}).get(k) for k in _METRICS} for sp in ("agent", "customer") if sp in m},
        "cues": [_cue(c) for c in doc["cues"]],
        "flags": [{k: f.get(k, "") for k in ("start", "end", "reason", "by", "note")} for f in doc["flags"]],
        # the call's skill scorecard: numbers and times only; a moment in a flagged span names that segment
        "scorecard": shared(scorecard(doc)),
    }


def segment(doc: dict[str, Any], call_id: str, flag: dict[str, Any]) -> dict[str, Any]:
    start, end = max(0.0, flag["start"]), min(flag["end"], doc["source"]["duration_s"])
    seg = segment_doc(doc, start, end)
    return {
        "call_id": call_id, "start": start, "end": end, "reason": flag.get("reason", "")[:200], "by": flag.get("by", ""),
        "note": flag.get("note", ""), "cues": [_cue(c) for c in seg["cues"]],
        "utterances": [{"speaker": u["speaker"], "start": u["start"], "end": u["end"], "text": u["text"],
                        "sentiment": u.get("sentiment")} for u in seg["utterances"]],
    }


OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def clip(doc: dict[str, Any], start: float, end: float, fmt: str = "opus") -> tuple[bytes, str] | None:
    """The segment's audio, payment-data spans silenced, as Ogg Opus (about a third of FLAC's
    size for speech) or FLAC (lossless); None when the call's audio is gone."""
    try:
        audio, rate = segment_clip(doc, start, end)
    except UserError:
        return None  # no audio (a file that has gone): the transcript still goes
    if not len(audio):
        return None
    buf = io.BytesIO()
    if fmt == "flac":
        sf.write(buf, audio, rate, format="FLAC", subtype="PCM_16")
        return buf.getvalue(), "audio/flac"
    if rate not in OPUS_RATES:
        import soxr

        audio, rate = soxr.resample(audio, rate, 16000).astype("float32"), 16000
    sf.write(buf, audio, rate, format="OGG", subtype="OPUS")
    return buf.getvalue(), "audio/ogg"


CLIP_MAX = 15 * 1024 * 1024  # the server refuses bodies over 16 MB; a bigger clip would block the outbox


def requests(doc: dict[str, Any], call_id: str, clip_format: str = "opus", whole_call: bool = False) -> list[Request]:
    """The call's summary, then per flag its segment and then its clip (the server wants that order)."""
    out: list[Request] = [("PUT", f"/api/agent/calls/{call_id}", json.dumps(summary(doc)).encode(), "application/json")]
    spans = [(str(i), f) for i, f in enumerate(doc["flags"])]
    if whole_call:  # the team's admin chose to review whole calls: the call as one segment, still redacted
        spans.append(("call", {"start": 0.0, "end": doc["source"]["duration_s"], "reason": "whole call (team policy)", "by": "policy"}))
    for key, f in spans:
        seg = segment(doc, call_id, f)
        sid = f"{call_id}:{key}"
        out.append(("PUT", f"/api/agent/segments/{sid}", json.dumps(seg).encode(), "application/json"))
        audio = clip(doc, seg["start"], seg["end"], clip_format)
        if audio and len(audio[0]) > CLIP_MAX:  # a flag spanning many minutes: its words still go, not its audio
            audio = None
        if audio:
            out.append(("PUT", f"/api/agent/segments/{sid}/clip", audio[0], audio[1]))
    return out
