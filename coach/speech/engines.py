"""Speech engines by name: the one place a recognizer is built from the settings.

`model.engine` names the engine; each engine is a factory from the settings and the data folder
to a SpeechToText (coach/speech/stt.py) and the model it loaded. A second recognizer, or a
second pass with another model, registers here and the pipeline needs no change.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from coach.config import paths
from coach.core.errors import UserError
from coach.speech.models import ResolvedModel, resolve_model
from coach.speech.stt import SecondPass, SpeechToText, TwoPasses

if TYPE_CHECKING:
    from coach.config.settings import ModelSettings, Settings

# (model settings, data folder) -> (cache key, loader): the key says when two loads are the same model
Engine = Callable[["ModelSettings", Path], tuple[tuple, ResolvedModel, Callable[[], SpeechToText]]]
ENGINES: dict[str, Engine] = {}


def engine(name: str) -> Callable[[Engine], Engine]:
    def add(factory: Engine) -> Engine:
        ENGINES[name] = factory
        return factory
    return add


@engine("whisper")
def _whisper(m: ModelSettings, data: Path) -> tuple[tuple, ResolvedModel, Callable[[], SpeechToText]]:
    """faster-whisper (CTranslate2), offline first (coach/speech/models.py)."""
    resolved = resolve_model(m.name, paths.model_dirs(data))
    key = (str(resolved.path), m.compute_type, m.threads, m.encoder_window, m.beam_size, m.prompt, tuple(m.vocabulary))

    def load() -> SpeechToText:
        from coach.speech.transcriber import Transcriber  # loads CTranslate2: only when a model is wanted

        return Transcriber(*key)
    return key, resolved, load


_loaded: dict[tuple, SpeechToText] = {}
_loading = threading.Lock()


def load_model(s: Settings, data: Path) -> tuple[SpeechToText, ResolvedModel]:
    """The recognizer, loaded once per process for the same engine, model and options (a mono
    call's separation and its analysis share it), with its second pass (loaded when first used).
    A decode's text can depend on the decodes before it (the temperature fallback's random
    generator, coach/speech/transcriber.py)."""
    factory = ENGINES.get(s.model.engine)
    if factory is None:
        raise UserError(f"unknown speech engine '{s.model.engine}' (known: {', '.join(sorted(ENGINES))})")
    key, resolved, load = factory(s.model, data)
    first = _cached((s.model.engine, key), resolved, load)
    return TwoPasses(first, second_pass(s, data)), resolved


def _cached(key: tuple, resolved: ResolvedModel, load: Callable[[], SpeechToText]) -> SpeechToText:
    with _loading:
        if key not in _loaded:
            try:
                _loaded[key] = load()
            except (RuntimeError, ValueError) as e:
                raise UserError(f"cannot load model '{resolved.name}' from {resolved.path}: {e}") from None
        return _loaded[key]


# The second pass's model when model.second_pass = "auto": the first of these on this PC (never
# downloaded for it), else the first pass's own. None yet: base as the second pass cost 0.28 core-s
# per audio second on the Harper Valley calls, which with the first pass's 0.25 is over issue #32's
# 0.5 budget for a 2-core PC; tiny.en's costs 0.15 (docs/benchmark.md). second_pass = "base" opts in.
AUTO_SECOND: tuple[str, ...] = ()


def second_model(s: Settings, data: Path) -> str | None:
    """The model name the second pass uses, or None when it is off."""
    m = s.model
    if not m.second_pass:
        return None
    if m.second_pass != "auto":
        return m.second_pass
    for name in AUTO_SECOND:
        try:
            resolve_model(name, paths.model_dirs(data), allow_download=False)
            return name
        except UserError:
            continue
    return m.name


def second_pass(s: Settings, data: Path) -> SecondPass | None:
    """The second pass: the same engine with the second pass's model and beam, a recognizer of its own
    (it decodes on another thread), loaded when first used."""
    name = second_model(s, data)
    if name is None:
        return None
    m = dataclasses.replace(s.model, name=name, beam_size=s.model.second_beam_size, threads=1)
    key, resolved, load = ENGINES[s.model.engine](m, data)
    return SecondPass(resolved.name, lambda: _cached((s.model.engine, "second", key), resolved, load))


def unload() -> None:
    """Forget the loaded recognizers: the next load_model starts from a fresh model, as a new process
    would (a decode's text can depend on the decodes before it)."""
    with _loading:
        _loaded.clear()
