"""A coached call on disk: its audio (crash-safe WAV) and its analysis JSON, saved as it goes.

Until the session store (SQLite) lands, a session is a folder under <data>/sessions/.
The JSON is rewritten atomically whenever something new happened (at most every few
seconds), so a crash loses at most those seconds of transcript, and no audio.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from coach import report
from coach.audio.recorder import Recorder
from coach.errors import UserError


class SessionWriter:
    def __init__(self, data_dir: Path, min_interval_s: float = 5.0) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.folder = data_dir / "sessions" / stamp
        try:
            self.folder.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            self.folder = data_dir / "sessions" / f"{stamp}-{time.monotonic_ns() % 10_000}"
            self.folder.mkdir(parents=True)
        except OSError as e:
            raise UserError(f"cannot create the session folder {self.folder}: {e.strerror}") from None
        self.recorder = Recorder(self.folder / "audio.wav")
        self.json_path = self.folder / "session.json"
        self.min_interval_s = min_interval_s
        self._saved_at = 0.0

    def due(self) -> bool:
        """Time for another save? (Checked before the document is built, not after.)"""
        return time.monotonic() - self._saved_at >= self.min_interval_s

    def save(self, doc: dict[str, Any], force: bool = False) -> None:
        if not force and not self.due():
            return
        self._saved_at = time.monotonic()
        doc = {**doc, "audio": str(self.recorder.path.name)}
        report.write(doc, str(self.json_path))

    def close(self) -> None:
        self.recorder.close()
