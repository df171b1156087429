"""The Windows WASAPI loopback backend, driven through a stand-in for PyAudioWPatch
(its real module only exists on Windows; docs/usage.md says so)."""

from __future__ import annotations

import queue
import sys
import types

import numpy as np
import pytest

from coach.audio import wasapi
from coach.audio.live_source import _default_factory


class FakeStream:
    def __init__(self, callback) -> None:
        self.callback = callback
        self.active = True

    def is_active(self) -> bool:
        return self.active

    def stop_stream(self) -> None:
        self.active = False

    def close(self) -> None:
        pass


class FakePyAudio:
    opened: list[dict] = []

    def get_loopback_device_info_generator(self):
        yield {"index": 7, "name": "Speakers (Realtek) [Loopback]", "maxInputChannels": 2, "defaultSampleRate": 48000.0}

    def open(self, **kw) -> FakeStream:
        FakePyAudio.opened.append(kw)
        self.stream = FakeStream(kw["stream_callback"])
        return self.stream

    def terminate(self) -> None:
        pass


@pytest.fixture
def fake_pyaudiowpatch(monkeypatch: pytest.MonkeyPatch):
    mod = types.ModuleType("pyaudiowpatch")
    mod.PyAudio = FakePyAudio
    mod.paInt16, mod.paContinue = 8, 0
    monkeypatch.setitem(sys.modules, "pyaudiowpatch", mod)
    FakePyAudio.opened = []
    return mod


def test_loopback_devices_are_listed_as_inputs(fake_pyaudiowpatch):
    [dev] = wasapi.loopback_inputs()
    assert dev.name == "Speakers (Realtek) [Loopback]" and dev.backend == "wasapi-loopback" and dev.loopback
    assert dev.index == 7 and dev.rate == 48000


def test_capture_copies_int16_blocks_into_the_queue(fake_pyaudiowpatch):
    [dev] = wasapi.loopback_inputs()
    q: queue.Queue = queue.Queue(maxsize=1)
    cap = _default_factory(dev, "customer", q, None)
    assert isinstance(cap, wasapi.WasapiLoopbackCapture)
    cap.start()
    opened = FakePyAudio.opened[0]
    assert opened["input"] and opened["input_device_index"] == 7 and opened["channels"] == 2
    pcm = (np.array([[16384, -16384]] * 4, dtype="<i2")).tobytes()
    assert opened["stream_callback"](pcm, 4, None, 0) == (None, 0)
    side, block, _ = q.get_nowait()
    assert side == "customer" and block.shape == (4, 2) and block[0, 0] == pytest.approx(0.5)
    q.put_nowait(("x", None, 0))
    opened["stream_callback"](pcm, 4, None, 0)  # queue full: counted, never blocks the audio thread
    assert cap.dropped_blocks == 1
    assert not cap.is_lost()
    cap._stream.active = False  # the output device went away
    assert cap.is_lost()
    cap.close()
