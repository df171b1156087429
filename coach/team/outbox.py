"""Uploads waiting for the team server: one file per request, in the data folder, sent
oldest first. A file is written whole (temp file, fsync, rename) before it counts, and
removed only after the server accepted it; every request is an idempotent PUT keyed by
the call's UUID, so a crash between the two repeats a request and creates nothing twice.
The files hold what is shared anyway (redacted text, clips with payment data silenced).

A request the server refuses for good, or keeps failing on while it accepts others, is
parked in refused/ (with a .why beside it) so that it blocks nothing queued after it; the
count of parked requests is shown (`coach team status`, the overlay's team line)."""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path

TMP_STALE_S = 600.0  # a temp file is written in well under a second: one this old is a crash's leftover


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.refused = folder / "refused"
        folder.mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count()
        self._migrate()
        self.clean()

    def _migrate(self) -> None:
        """Earlier versions parked refused requests in rejected/: one folder, one count."""
        old = self.folder / "rejected"
        if old.is_dir():
            self.refused.mkdir(exist_ok=True)
            for f in old.iterdir():
                os.replace(f, self.refused / f.name)
            old.rmdir()

    def clean(self) -> int:
        """Remove temp files a crash left behind (their writer is gone or they are stale),
        and sidecars whose request is gone. Returns how many files were removed."""
        n = 0
        for tmp in self.folder.glob("*.item.tmp"):
            if _writer_alive(tmp) and time.time() - _mtime(tmp) < TMP_STALE_S:
                continue  # another process (a live session) is writing it right now
            tmp.unlink(missing_ok=True)
            n += 1
        for side in [*self.folder.glob("*.item.tries"), *self.refused.glob("*.item.why")]:
            if not side.with_suffix("").exists():
                side.unlink(missing_ok=True)
                n += 1
        return n

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

    def refused_count(self) -> int:
        return len(list(self.refused.glob("*.item"))) if self.refused.is_dir() else 0

    @staticmethod
    def read(item: Path) -> tuple[str, str, str, bytes]:
        raw = item.read_bytes()
        head, _, body = raw.partition(b"\n")
        h = json.loads(head)
        return h["method"], h["path"], h["content_type"], body

    @staticmethod
    def call_of(path: str) -> str:
        """The call a request belongs to (its segments and clips go after its summary)."""
        m = re.match(r"/api/agent/(?:calls|segments)/([^/:]+)", path)
        return m.group(1) if m else path

    @staticmethod
    def done(item: Path) -> None:
        item.unlink(missing_ok=True)
        _tries(item).unlink(missing_ok=True)

    @staticmethod
    def strike(item: Path) -> int:
        """Count one more server failure (5xx) on this request, kept across restarts; returns the count."""
        side = _tries(item)
        try:
            n = int(side.read_text()) + 1
        except (OSError, ValueError):
            n = 1
        side.write_text(str(n))
        return n

    def park(self, item: Path, why: str) -> None:
        """Set a request aside in refused/ for a look, not retried: the ones after it go on."""
        self.refused.mkdir(exist_ok=True)
        os.replace(item, self.refused / item.name)
        _tries(item).unlink(missing_ok=True)
        (self.refused / (item.name + ".why")).write_text(why)

    def drop_call(self, call_id: str) -> int:
        """Forget what is queued, parked or half-written for a call (its session was deleted on
        this PC: delete means gone here too). Returns how many requests were dropped."""
        n = 0
        files = [*self.folder.glob("*.item"), *self.folder.glob("*.item.tmp"), *self.refused.glob("*.item")]
        for item in files:
            try:
                with open(item, "rb") as f:
                    path = json.loads(f.readline())["path"]
            except (OSError, ValueError, KeyError):
                continue  # a temp file cut short in its header: removed by clean() once its writer is gone
            if f"/{call_id}" in path:
                item.unlink(missing_ok=True)
                for side in (_tries(item), item.parent / (item.name + ".why")):
                    side.unlink(missing_ok=True)
                n += 1
        return n


def describe(folder: Path) -> str:
    """`coach team status`: what waits for the team server on this PC, and what it refused."""
    if not folder.is_dir():
        return "nothing queued for the team server, nothing refused"
    box = Outbox(folder)
    lines = [f"{box.count()} upload(s) queued in {folder} (sent while a coached call runs)"]
    parked = sorted(box.refused.glob("*.item")) if box.refused.is_dir() else []
    lines.append(f"{len(parked)} refused by the server, set aside in {box.refused}" if parked else "none refused")
    for item in parked:
        try:
            method, path, _, _ = Outbox.read(item)
        except (OSError, ValueError):
            method, path = "?", "(unreadable)"
        why = item.parent / (item.name + ".why")
        lines.append(f"  {item.name}: {method} {path}: {why.read_text() if why.exists() else '?'}")
    if parked:
        lines.append("move one back into the outbox folder to try it again, or delete it; deleting its session removes it too")
    return "\n".join(lines)


def _tries(item: Path) -> Path:
    return item.parent / (item.name + ".tries")


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def _writer_alive(tmp: Path) -> bool:
    """Whether the process that named this temp file (…-PID-SEQ.item.tmp) still runs."""
    try:
        pid = int(tmp.name.split("-")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid() or os.name == "nt":  # on Windows os.kill(pid, 0) would end that process
        return True  # then only the file's age tells
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True
