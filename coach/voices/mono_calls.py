"""Mono call files: find the two voices, decide which is the agent, split the channel.

A file is separated once, before it plays (it is all on disk, so the voices' labels never
change mid-call); a live mono device is split as it speaks (coach/voices/live_split.py) and
OpeningWords listens to its first words. Which voice is the agent, in order of trust:
  1. the user said so (`--agent-voice`, or a trainer's swap later);
  2. the agent's voiceprint, if the agent enrolled one (opt-in, settings);
  3. the voices' first words (coach/voices/roles.py): greetings and service language;
  4. otherwise the voice heard first (most recorded calls are answered by the agent).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from coach.core.events import SAMPLE_RATE, Speaker
from coach.speech.stt import SpeechToText
from coach.voices import speakers as sp
from coach.voices.roles import which_is_agent
from coach.voices.voice_split import VoiceSplit

OPENING_S = 20.0  # of each voice's first speech, transcribed to tell the agent by their words


def first_speech(labels: np.ndarray, audio: sp.Audio, voice: int, seconds: float = OPENING_S) -> np.ndarray:
    """The voice's first `seconds` of speech, its stretches joined with short pauses (read from
    the call's first blocks only, as far as they reach)."""
    hop = int(sp.FRAME_S * SAMPLE_RATE)
    mine = np.flatnonzero(np.diff(np.concatenate([[0], (labels == voice).astype(np.int8), [0]])))
    spans, total = [], 0
    for a, b in zip(mine[::2], mine[1::2]):
        spans.append((max(0, a * hop - 1600), b * hop + 1600))  # 0.1 s each side: the first and last phonemes
        total += spans[-1][1] - spans[-1][0]
        if total >= seconds * SAMPLE_RATE:
            break
    if not spans:
        return np.zeros(0, np.float32)
    pieces: list[list[np.ndarray]] = [[] for _ in spans]
    pos = 0
    for block in sp.blocks(audio):
        for k, (a, b) in enumerate(spans):
            if a < pos + len(block) and b > pos:
                pieces[k].append(block[max(0, a - pos):b - pos])
        pos += len(block)
        if pos >= spans[-1][1]:
            break
    gap = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    return np.concatenate([x for p in pieces if p for x in (*p, gap)])


def identify_agent(d: sp.Diarization, audio: sp.Audio, transcriber: SpeechToText | None,
                   voiceprint: np.ndarray | None) -> tuple[int, str]:
    """(the agent's voice, how it was told) for a two-voice diarization."""
    if voiceprint is not None and (v := sp.voice_of(d.centroids, voiceprint)) is not None:
        return v, "voiceprint"
    if transcriber is not None:
        texts = []
        for v in (0, 1):
            clip = first_speech(d.labels, audio, v)
            texts.append(transcriber.transcribe(clip, 0.0).text if len(clip) else "")
        agent = which_is_agent(texts)
        if agent is not None:
            return agent, "opening_words"
    return 0, "first_voice"


def separate(audio: sp.Audio, mode: str, transcriber: Callable[[], SpeechToText] | None = None,
             voiceprint: np.ndarray | None = None, agent_voice: int | None = None,
             embedder: sp.Embedder | None = None, told_by: str = "user") -> VoiceSplit | None:
    """A split of a mono call (16 kHz) into agent and customer, or None when one voice speaks.
    `audio`: the samples, or a function giving them anew in blocks (read three times: the VAD,
    the embeddings, each voice's first words), so an hour-long call is never held whole.
    mode: "2" (always two voices) or "auto" (two when two are heard). `agent_voice`: 0 or 1,
    said by a person (`told_by`: user on the command line, trainer in the replay window)."""
    speech = sp.speech_mask(audio)
    d = sp.diarize(audio, speech, embedder, speakers=2 if mode == "2" else None)
    if d.speakers == 1:
        return None
    if agent_voice is not None:
        return VoiceSplit(d, agent_voice, told_by)
    agent, by = identify_agent(d, audio, transcriber() if transcriber else None, voiceprint)
    return VoiceSplit(d, agent, by)


class OpeningWords:
    """A live mono call: the voices' first words, as the recognizer gives them, tell which one
    is the agent, once; not after a voiceprint or a person has said."""

    MAX_WORDS = 80  # per voice: the opening is over, the first voice stays the agent

    def __init__(self, split: VoiceSplit) -> None:
        self.split = split
        self.texts: dict[int, list[str]] = {0: [], 1: []}
        self.done = False

    def heard(self, speaker: Speaker, text: str, at: float) -> None:
        """An utterance's text; `at`: the stream time from which a change of agent applies."""
        if self.done or not text.strip():
            return
        if self.split.info.agent_identified_by != "first_voice":
            self.done = True
            return
        self.texts[self.split.voice_of(speaker)].append(text)
        joined = [" ".join(self.texts[v]) for v in (0, 1)]
        if all(joined):
            agent = which_is_agent(joined)
            if agent is not None:
                self.split.set_agent(agent, "opening_words", at)
                self.done = True
        if any(len(t.split()) > self.MAX_WORDS for t in joined):
            self.done = True
