"""The agent's voiceprint: the mean speaker embedding of their own microphone's speech.

Biometric data, so: off until the agent turns `voiceprint.enroll` on; learnt only from the
agent's own channel in live calls (never the customer's); kept in one private file on this
PC (voiceprint.json, 0600), never uploaded; shown and deleted in the settings dialog or with
`coach voiceprint show|delete`; deleted when enrolment is turned off. Used only to tell which
voice of a mono recording is the agent.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from coach.config.settings import Settings

MAX_WEIGHT_S = 600.0  # later calls still move the print once it holds ten minutes of speech
MIN_SPEECH_S = 10.0  # a call with less of the agent's speech teaches nothing


def path(data: Path) -> Path:
    return data / "voiceprint.json"


def read(data: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path(data).read_text())
        vec = np.asarray(doc["embedding"], np.float32)
        if vec.ndim != 1 or not np.all(np.isfinite(vec)):
            return None
        return doc
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load(data: Path, s: Settings) -> np.ndarray | None:
    """The voiceprint, if the agent opted in and one has been learnt."""
    if not s.voiceprint.enroll:
        return None
    doc = read(data)
    return None if doc is None else np.asarray(doc["embedding"], np.float32)


def learn(data: Path, embedding: np.ndarray, speech_s: float) -> None:
    """Fold one call's embedding of the agent's speech into the stored print."""
    if speech_s < MIN_SPEECH_S or not np.all(np.isfinite(embedding)):
        return
    doc = read(data)
    vec = embedding / (np.linalg.norm(embedding) + 1e-12)
    seconds, calls = speech_s, 1
    if doc is not None and len(doc["embedding"]) == len(vec):
        old_s = min(float(doc.get("speech_s", 0.0)), MAX_WEIGHT_S)
        vec = (np.asarray(doc["embedding"]) * old_s + vec * speech_s) / (old_s + speech_s)
        vec = vec / (np.linalg.norm(vec) + 1e-12)
        seconds, calls = float(doc.get("speech_s", 0.0)) + speech_s, int(doc.get("calls", 0)) + 1
    out = {"embedding": [round(float(v), 6) for v in vec], "speech_s": round(seconds, 1), "calls": calls,
           "updated": time.strftime("%Y-%m-%dT%H:%M:%S"), "model": "campplus"}
    tmp = path(data).with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(out, f)
    os.replace(tmp, path(data))


def delete(data: Path) -> bool:
    try:
        path(data).unlink()
        return True
    except FileNotFoundError:
        return False


def describe(data: Path) -> str:
    doc = read(data)
    if doc is None:
        return "no voiceprint stored"
    return (f"voiceprint learnt from {float(doc['speech_s']) / 60:.1f} min of your speech in {doc.get('calls', 0)} "
            f"call(s), last {doc.get('updated', '?')}; stored only on this PC in {path(data)}")


class Enroller:
    """Collects the agent's own channel during a live call (bounded), and at the end folds
    the embedding of its speech into the voiceprint. Never sees the customer's channel."""

    MAX_S = 180.0  # the first three minutes of a call say enough about a voice

    def __init__(self, rate: int = 16000) -> None:
        self._rate = rate
        self._chunks: list[np.ndarray] = []
        self._n = 0

    def feed(self, agent_audio: np.ndarray) -> None:
        if self._n < self.MAX_S * self._rate:
            self._chunks.append(np.asarray(agent_audio, np.float32).copy())
            self._n += len(agent_audio)

    def finish(self, data: Path) -> float:
        """Learn from what was heard; returns the seconds of speech used (0: too little)."""
        from coach.voices import speakers as sp

        if not self._chunks:
            return 0.0
        audio = np.concatenate(self._chunks)
        self._chunks = []
        emb = sp.default_embedder()
        feats = emb.features(audio)
        speech = sp.speech_mask(audio)[:len(feats)]  # features stop a window short of the audio's end
        starts = sp.speech_windows(speech)
        speech_s = float(speech.sum()) * sp.FRAME_S
        if len(starts) == 0 or speech_s < MIN_SPEECH_S:
            return 0.0
        vecs = emb(feats, starts, sp.WINDOW_FRAMES)
        learn(data, vecs.mean(axis=0), speech_s)
        return speech_s
