"""Settings: dataclasses <-> TOML, validated with one-line errors.

Every threshold carries a comment naming where its default comes from (see FACTS.md /
CUES.md in the design notes and the README's cue section).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import tomli_w

from coach.errors import UserError


@dataclass
class ModelSettings:
    name: str = "tiny.en"  # bundled, offline; base.en / small.en when downloaded
    compute_type: str = "int8"  # int8 ~20 % faster than float32 on CPU (FACTS.md)
    threads: int = 2  # 2 beat 1 by ~1.4x on a 2-core machine (FACTS.md)
    # "auto": encoder window sized to the utterance plus a margin; "full": Whisper's 30 s
    encoder_window: str = "auto"


@dataclass
class AudioSettings:
    agent_channel: int = 0  # no standard says which side is left in dual-channel recordings
    mono_speaker: str = "customer"


@dataclass
class VadSettings:
    threshold: float = 0.5  # Silero's documented default
    end_silence_s: float = 0.5  # end-of-speech wait: ~0.3-0.5 s (ARCHITECTURE.md)
    max_utterance_s: float = 14.0  # cap long turns at ~12-15 s so text keeps flowing
    min_utterance_s: float = 0.25  # shorter blips are clicks/breaths: Whisper invents text on them


@dataclass
class EscalationSettings:
    enabled: bool = True
    cooldown_s: float = 45.0  # CUES.md: per-cue cooldown 30-60 s
    score_threshold: float = 0.6
    loud_db: float = 3.0  # loudness above the customer's own running baseline
    negative_sentiment: float = -0.3
    calm_turns: int = 2  # customer turns after an escalation before "calming" can show
    calm_sentiment: float = 0.3


@dataclass
class SlowDownSettings:
    enabled: bool = True
    cooldown_s: float = 60.0
    # Published bands are speaking rates, pauses included: 130-175 wpm comfortable, one
    # product triggers at 180 (FACTS.md). This is an articulation rate (pauses > 0.5 s
    # excluded), which runs ~15-25 % higher: 230 is roughly a 190 wpm speaking rate.
    max_wpm: float = 230.0
    window_s: float = 20.0  # rate over the last ~20 s of the agent's own speech
    min_speech_s: float = 6.0  # flag only sustained pace: short turns are noise
    baseline_ratio: float = 1.3  # or this much above the agent's own usual pace
    baseline_min_speech_s: float = 60.0


@dataclass
class CheckInSettings:
    enabled: bool = True
    cooldown_s: float = 30.0
    dead_air_s: float = 8.0  # vendors use 3 s (Amazon), 5 s (Google), 10 s; CUES.md ~8 s


@dataclass
class CueSettings:
    global_gap_s: float = 8.0  # CUES.md: ~8 s between cues against cue overload
    visible_s: float = 6.0  # how long a cue stays on screen before it fades
    customer_escalating: EscalationSettings = field(default_factory=EscalationSettings)
    slow_down: SlowDownSettings = field(default_factory=SlowDownSettings)
    check_in: CheckInSettings = field(default_factory=CheckInSettings)


@dataclass
class MetricSettings:
    dead_air_min_s: float = 3.0  # silences shorter than this are normal turn gaps (Amazon: 3 s)
    monologue_gap_s: float = 2.0  # own pauses shorter than this keep a monologue going


@dataclass
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    vad: VadSettings = field(default_factory=VadSettings)
    cues: CueSettings = field(default_factory=CueSettings)
    metrics: MetricSettings = field(default_factory=MetricSettings)


def _from_dict(cls: type, data: dict[str, Any], where: str) -> Any:
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in hints:
            raise UserError(f"settings: unknown key '{where}{key}'")
        default = getattr(cls(), key)
        if dataclasses.is_dataclass(default):
            if not isinstance(value, dict):
                raise UserError(f"settings: '{where}{key}' must be a table")
            kwargs[key] = _from_dict(type(default), value, f"{where}{key}.")
            continue
        kind = type(default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise UserError(
                f"settings: '{where}{key}' must be {kind.__name__}, got {value!r}"
            )
        kwargs[key] = value
    return cls(**kwargs)


def validate(s: Settings) -> Settings:
    if s.model.encoder_window not in ("auto", "full"):
        raise UserError("settings: 'model.encoder_window' must be 'auto' or 'full'")
    if s.audio.agent_channel not in (0, 1):
        raise UserError("settings: 'audio.agent_channel' must be 0 or 1")
    if s.audio.mono_speaker not in ("agent", "customer"):
        raise UserError("settings: 'audio.mono_speaker' must be 'agent' or 'customer'")
    if not 0.0 < s.vad.threshold < 1.0:
        raise UserError("settings: 'vad.threshold' must be between 0 and 1")
    if s.model.threads < 1:
        raise UserError("settings: 'model.threads' must be at least 1")
    return s


def load(path: Path) -> Settings:
    """Read settings from TOML; a missing file means defaults."""
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"settings file {path} is not valid TOML: {e}") from None
    return validate(_from_dict(Settings, data, ""))


def save(settings: Settings, path: Path) -> None:
    """Write settings atomically so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(dataclasses.asdict(settings)), encoding="utf-8")
    tmp.replace(path)
