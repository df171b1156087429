"""Session snapshots: written off the pipeline thread, newest wins, a failing disk is reported, not raised."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from coach.core.errors import UserError
from coach.session import report
from coach.session.writer import SessionWriter


def test_a_slow_disk_never_blocks_the_caller_and_the_newest_document_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    gate, writing, threads = threading.Event(), threading.Event(), []
    real_write = report.write

    def slow_write(doc: dict, out: str) -> None:
        threads.append(threading.current_thread().name)
        writing.set()
        assert gate.wait(10)
        real_write(doc, out)

    monkeypatch.setattr(report, "write", slow_write)
    w = SessionWriter(tmp_path, min_interval_s=0.0)
    w.save({"n": 1})
    assert writing.wait(10)  # the first document is on its way and the disk is stuck
    w.save({"n": 2})  # returns at once: the caller is the pipeline thread
    w.save({"n": 3})  # supersedes 2, which is never written
    gate.set()
    w.save({"n": 4}, force=True)  # the final document, written now
    w.close()
    assert json.loads(w.json_path.read_text())["n"] == 4
    assert threads[0] == "session-writer" and threads[-1] == threading.current_thread().name
    assert len(threads) <= 3  # 1, maybe 3 (if the writer got to it first), and 4; never 2


def test_a_full_disk_is_reported_once_by_the_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def full(doc: dict, out: str) -> None:
        raise UserError("no space left on device")

    monkeypatch.setattr(report, "write", full)
    told: list[str] = []
    done = threading.Event()
    w = SessionWriter(tmp_path, min_interval_s=0.0, on_error=lambda m: (told.append(m), done.set()))
    w.save({"n": 1})
    assert done.wait(10)
    w.close()
    assert told == ["no space left on device"]
