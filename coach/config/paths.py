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
