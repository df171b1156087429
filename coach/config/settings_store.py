"""Settings as stored vs this run's settings, in one place.

settings.toml holds what the user chose (the settings dialog, the overlay's position, the
devices remembered). This run's settings are those plus the command line's `--set`,
`--model`, `--encoder-window` and the environment's COACH_SET, which are for this run only
and never written back. Whoever runs with settings gets its own copy: a change made in the
dialog is saved to the file and handed to listeners (the running session) as a new copy,
never by mutating an object another thread is reading.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from pathlib import Path

from coach.config import settings as settings_mod
from coach.config.settings import Settings
from coach.core.errors import UserError


class SettingsStore:
    def __init__(self, path: Path, this_run: Callable[[Settings], None] = lambda s: None) -> None:
        self.path = path
        self._this_run = this_run
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Settings], None]] = []
        self._stored = settings_mod.load(path)
        self.effective()  # a bad --set fails now, before anything starts
        if not path.exists():
            try:  # first run: write the defaults where the user can find and edit them
                settings_mod.save(self._stored, path)
            except OSError as e:
                raise UserError(f"cannot create the data folder {path.parent}: {e.strerror}") from None

    def stored(self) -> Settings:
        """A copy of what settings.toml says, to edit and hand back to update()."""
        with self._lock:
            return copy.deepcopy(self._stored)

    def effective(self) -> Settings:
        """A copy of this run's settings: the stored ones with this run's overrides."""
        with self._lock:
            s = copy.deepcopy(self._stored)
        self._this_run(s)
        return settings_mod.validate(s)

    def update(self, change: Callable[[Settings], None]) -> Settings:
        """Change the stored settings, save them, and tell listeners this run's new settings."""
        s = self.stored()
        change(s)
        return self.replace(s)

    def replace(self, new: Settings) -> Settings:
        """Store these settings (e.g. the dialog's), save them, and tell listeners."""
        new = settings_mod.validate(copy.deepcopy(new))
        with self._lock:
            settings_mod.save(new, self.path)
            self._stored = new
            listeners = list(self._listeners)
        now = self.effective()
        for fn in listeners:
            fn(copy.deepcopy(now))
        return now

    def subscribe(self, fn: Callable[[Settings], None]) -> None:
        with self._lock:
            self._listeners.append(fn)
