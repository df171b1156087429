"""A coached call on disk: its audio (crash-safe WAV) and its analysis JSON, saved as it goes.

Until the session store (SQLite) lands, a session is a folder under <data>/sessions/.
The JSON is rewritten atomically whenever something new happened (at most every few
seconds), so a crash loses at most those seconds of transcript, and no audio. Periodic
saves are written by a writer thread, newest first (an older document never overwrites a
newer one): the pipeline thread only hands the document over, so a slow or full disk never
delays a cue. The final save is written at once.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from coach.audio.recorder import Recorder
from coach.core.errors import UserError
from coach.session import report


class SessionWriter:
    def __init__(self, data_dir: Path, min_interval_s: float = 5.0, on_error: Callable[[str], None] = lambda message: None) -> None:
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
        self.on_error = on_error
        self._saved_at = 0.0
        self._seq = itertools.count(1)
        self._written = 0  # sequence number of the document on disk
        self._write_lock = threading.Lock()
        self._cv = threading.Condition()
        self._slot: tuple[int, dict[str, Any]] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._write_loop, name="session-writer", daemon=True)
        self._thread.start()

    def due(self) -> bool:
        """Time for another save? (Checked before the document is built, not after.)"""
        return time.monotonic() - self._saved_at >= self.min_interval_s

    def save(self, doc: dict[str, Any], force: bool = False) -> None:
        """Periodic saves go to the writer thread; a forced (final) save is written now and raises on failure."""
        if not force and not self.due():
            return
        self._saved_at = time.monotonic()
        item = (next(self._seq), {**doc, "audio": str(self.recorder.path.name)})
        if force:
            self._write(*item)
            return
        with self._cv:
            self._slot = item  # a document still waiting is superseded
            self._cv.notify()

    def _write(self, seq: int, doc: dict[str, Any]) -> None:
        with self._write_lock:
            if seq > self._written:
                report.write(doc, str(self.json_path))
                self._written = seq

    def _write_loop(self) -> None:
        while True:
            with self._cv:
                while self._slot is None and not self._closed:
                    self._cv.wait()
                if self._slot is None:
                    return
                item, self._slot = self._slot, None
            try:
                self._write(*item)
            except UserError as e:  # a full disk must not stop the coaching
                self.on_error(str(e))

    def close(self, checked_until: float = float("inf")) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join(timeout=10)
        self.recorder.close(checked_until)
