"""Uploads waiting for the team server: one file per request, in the data folder, sent
oldest first. A file is written whole (temp file, fsync, rename) before it counts, and
removed only after the server accepted it; every request is an idempotent PUT keyed by
the call's UUID, so a crash between the two repeats a request and creates nothing twice.
The files hold what is shared anyway (redacted text, clips with payment data silenced)."""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rejected = folder / "rejected"
        folder.mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count()

    def put(self, method: str, path: str, body: bytes, content_type: str) -> Path:
        head = json.dumps({"method": method, "path": path, "content_type": content_type}).encode()
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._seq):04d}.item"
        tmp = self.folder / (name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(head + b"\n" + body)
            f.flush()
            os.fsync(f.fileno())
        final = self.folder / name
        os.replace(tmp, final)
        return final

    def pending(self) -> list[Path]:
        return sorted(self.folder.glob("*.item"))

    def count(self) -> int:
        return len(self.pending())

    @staticmethod
    def read(item: Path) -> tuple[str, str, str, bytes]:
        raw = item.read_bytes()
        head, _, body = raw.partition(b"\n")
        h = json.loads(head)
        return h["method"], h["path"], h["content_type"], body

    @staticmethod
    def done(item: Path) -> None:
        item.unlink(missing_ok=True)

    def reject(self, item: Path, why: str) -> None:
        """The server refused this request for good (bad data): kept aside for a look, not retried."""
        self.rejected.mkdir(exist_ok=True)
        os.replace(item, self.rejected / item.name)
        (self.rejected / (item.name + ".why")).write_text(why)

    def drop_call(self, call_id: str) -> int:
        """Forget what is queued or set aside for a call (its session was deleted on this PC:
        delete means gone here too). Returns how many requests were dropped."""
        n = 0
        for item in [*self.folder.glob("*.item"), *self.rejected.glob("*.item")]:
            try:
                with open(item, "rb") as f:
                    path = json.loads(f.readline())["path"]
            except (OSError, ValueError, KeyError):
                continue
            if f"/{call_id}" in path:
                item.unlink(missing_ok=True)
                (item.parent / (item.name + ".why")).unlink(missing_ok=True)
                n += 1
        return n
