"""Trainer controls on a demo call: pause, speed, skip ahead."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coach.audio.file_source import FileSource


@pytest.fixture
def call(tmp_path: Path) -> Path:
    path = tmp_path / "call.wav"
    sf.write(path, np.zeros((16000 * 30, 2), np.float32), 16000)
    return path


def test_pause_holds_the_call_and_resume_continues(call: Path):
    src = FileSource(call, realtime=True, speed=10.0)
    it = src.chunks()
    for _ in range(5):
        next(it)
    src.pause()
    frozen = src.now()
    got = []
    t = threading.Thread(target=lambda: got.append(next(it)), daemon=True)
    t.start()
    t.join(0.4)
    assert t.is_alive() and got == []  # held while paused (0.4 s would be 4 s of call at 10x)
    assert src.now() == pytest.approx(frozen)
    src.resume()
    t.join(2)
    assert got and got[0].t0 == pytest.approx(0.5)
    assert src.now() < frozen + 1.0  # the pause did not count as call time
    src.stop()


def test_skip_ahead_and_speed(call: Path):
    src = FileSource(call, realtime=True, speed=4.0)
    it = src.chunks()
    next(it)
    src.skip(10.0)
    c = next(it)
    assert c.t0 >= 10.0 and src.now() >= 10.0  # the gap is the pipeline's to fill with silence
    src.set_speed(20.0)
    start = time.monotonic()
    last = c
    for c in it:
        last = c
        if c.t1 >= 20.0:
            break
    assert last.t1 >= 20.0 and time.monotonic() - start < 5.0  # 10 s of call at 20x, generously bounded
    src.stop()
