"""The analysis JSON of docs/contracts.md ("coach.analysis/1"), written atomically."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from coach.audio.file_source import SourceInfo
from coach.core.errors import UserError
from coach.core.pipeline import Pipeline

SCHEMA = "coach.analysis/1"


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def source(info: SourceInfo) -> dict[str, Any]:
    """The call file, and how its speakers were told apart."""
    out: dict[str, Any] = {"path": info.path, "duration_s": round(info.duration_s, 3), "channels": info.channels,
                           "sample_rate": info.sample_rate, "speakers": {s: ch for s, ch in info.speakers.items()},
                           "agent_identified_by": info.agent_identified_by}
    if info.split is not None:
        si = info.split.info
        out["voices"] = {"count": si.speakers, "agent": "first" if si.agent_voice == 0 else "second",
                         "similarity": si.voice_similarity, "swapped_at": list(info.split.swaps),
                         "segments": info.split.segments()}
    return out


def build(p: Pipeline, info: SourceInfo, model: dict[str, str], wall_s: float, cpu_s: float) -> dict[str, Any]:
    cue_lat = [c.latency_s for c in p.cues]
    text_lat = [max(0.0, u.t_ready - u.end) for u in p.utterances]
    # a word's text exists once a partial decode committed it, or else once its utterance's first pass
    # was decoded: the latency of the words the overlay shows (the second pass revises them later)
    word_lat = p.shown_word_lat
    revised = [u.t_revised - u.end for u in p.utterances if u.t_revised is not None]
    floor = p.floor_turns()
    m = p.metrics(floor)
    return {
        "schema": SCHEMA,
        "source": source(info),
        "model": {**model, "second_pass": p.second.name if p.second is not None else None},
        "utterances": [
            {"speaker": u.speaker, "start": u.start, "end": u.end, "text": u.text,
             "words": [{"w": w.w, "start": w.start, "end": w.end, "p": w.p, "t_ready": w.t_ready if w.t_ready is not None else u.t_ready}
                       for w in u.words],
             "sentiment": u.sentiment, "wpm": u.wpm, "loudness_db": u.loudness_db, "t_ready": u.t_ready,
             # which pass the text is from: "second" = its turn decoded again whole, at t_revised
             "text_from": u.decoded_by, "t_revised": u.t_revised}
            for u in p.utterances
        ],
        # who held the floor: every utterance is in one turn, as part of it or as a backchannel to it
        "turns": [{"speaker": t.speaker, "start": t.start, "end": t.end, "utterances": len(t.utterances),
                   "backchannels": len(t.backchannels), "words": t.words} for t in floor],
        "cues": [dataclasses.asdict(c) for c in p.cues],
        "suppressed_cues": [{"t": round(t, 3), "id": i, "why": why} for t, i, why in p.suppressed],
        "flags": [dataclasses.asdict(f) for f in p.flags],
        # payment-data spans: silenced in the recording, and by every export and playback of
        # whatever audio file the session points to (a demo's is the original call)
        "redactions": [list(span) for span in p.redactions],
        "metrics": {
            "agent": dataclasses.asdict(m.agent),
            "customer": dataclasses.asdict(m.customer),
            "overtalk_s": m.overtalk_s,
            "dead_air_s": m.dead_air_s,
        },
        "timing": {
            "wall_s": round(wall_s, 3),
            "rtf": round(wall_s / info.duration_s, 4) if info.duration_s else None,
            "cpu_s_per_audio_s": round(cpu_s / info.duration_s, 4) if info.duration_s else None,
            "cue_latency_p50_s": percentile(cue_lat, 50),
            "cue_latency_p95_s": percentile(cue_lat, 95),
            "text_latency_p50_s": percentile(text_lat, 50),
            "text_latency_p95_s": percentile(text_lat, 95),
            "word_latency_p50_s": percentile(word_lat, 50),
            "word_latency_p95_s": percentile(word_lat, 95),
            "word_latency_p99_s": percentile(word_lat, 99),
            "decodes": len(p.decode_s),
            "decode_p50_s": percentile(p.decode_s, 50),
            "partial_decodes": len(p.partial_decode_s),
            "partial_decode_p50_s": percentile(p.partial_decode_s, 50),
            "partials_dropped": p.partials_dropped,
            # the second pass: decodes of whole turns, how long after an utterance ended its text was revised,
            # and how many came after the exchange rules and the recording had stopped waiting for them
            "second_pass_decodes": len(p.second_decode_s),
            "second_pass_decode_p50_s": percentile(p.second_decode_s, 50),
            "second_pass_cpu_s_per_audio_s": round(p.second_cpu_s / info.duration_s, 4) if info.duration_s else None,
            "first_pass_cpu_s_per_audio_s": round(p.first_cpu_s / info.duration_s, 4) if info.duration_s else None,
            "second_pass_revised": p.second_revised,
            "second_pass_latency_p50_s": percentile(revised, 50),
            "second_pass_latency_p95_s": percentile(revised, 95),
            "second_pass_late": p.second_late,
        },
    }


def check_writable(out: str) -> None:
    """Fail before the work, not after it, when the output cannot be written."""
    if out == "-":
        return
    path = Path(out)
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file name for the JSON")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"cannot write {path}: permission denied")


def write(doc: dict[str, Any], out: str) -> None:
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    if out == "-":
        sys.stdout.write(text + "\n")
        return
    path = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {e.strerror}") from None
