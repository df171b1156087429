"""Where things live: user data (sessions, settings), bundled assets and models."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP = "call-coach"


def package_root() -> Path:
    """The folder holding assets/ and models/: the repo in development, the bundle when frozen."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    return Path(__file__).resolve().parents[2]


def assets_dir() -> Path:
    return package_root() / "assets"


def data_dir(override: str | None = None) -> Path:
    """--data-dir > COACH_DATA_DIR > the OS's per-user data folder."""
    chosen = override or os.environ.get("COACH_DATA_DIR")
    return Path(chosen).expanduser() if chosen else Path(platformdirs.user_data_dir(APP))


def outbox_dir(data: Path) -> Path:
    """Uploads waiting for the team server."""
    return data / "outbox"


def settings_path(data: Path) -> Path:
    return data / "settings.toml"


def model_dirs(data: Path) -> list[Path]:
    """Folders searched for models/<name>/, the user's own first."""
    return [data / "models", package_root() / "models"]


def sample_call() -> Path:
    return assets_dir() / "sample_call.flac"


def store_path(data: Path) -> Path:
    return data / "sessions.db"


def private_file(folder: Path, name: str, text: str) -> Path:
    """Write text to folder/name readable by its owner only (0600, whatever the umask), replacing
    any earlier one in one rename; for a secret handed over once, instead of printing it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)  # in case it existed with wider rights
    os.replace(tmp, path)
    return path
