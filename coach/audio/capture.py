"""One capture stream: a PortAudio callback that only copies into a bounded queue.

Nothing heavy runs in the callback (no resampling, no numpy growth, no locks held long,
no Qt): it copies the block, stamps it with the wall clock, and counts what it could not
queue. A stream that ends without being asked (device unplugged, sound server killed)
sets `lost`; PortAudio raises nothing into Python for that (docs/facts.md).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from typing import Protocol

import numpy as np

from coach.audio.devices import InputDevice, sounddevice
from coach.core.errors import UserError

_OPEN_LOCK = threading.Lock()  # PULSE_SOURCE is process-wide: open one stream at a time


class Capture(Protocol):
    """What LiveSource needs of a capture backend (PortAudio here; WASAPI loopback via
    PyAudioWPatch on Windows would implement the same)."""

    device: InputDevice
    rate: int
    channels: int
    lost: threading.Event
    dropped_blocks: int

    def start(self) -> None: ...
    def close(self) -> None: ...


class PortAudioCapture:
    def __init__(self, device: InputDevice, side: str, out: queue.Queue, channels: int | None = None, block_s: float = 0.05) -> None:
        self.device = device
        self.side = side
        self.out = out
        self.channels = channels or min(2, max(1, device.channels))
        self.rate = int(device.rate) or 48000
        self.block = int(self.rate * block_s)
        self.lost = threading.Event()
        self.first_block = threading.Event()
        self.dropped_blocks = 0
        self._closing = False
        self._stream = None

    def _callback(self, indata: np.ndarray, frames: int, t: object, status: object) -> None:
        try:
            self.out.put_nowait((self.side, indata.copy(), time.monotonic()))
        except queue.Full:
            self.dropped_blocks += 1
        self.first_block.set()

    def _finished(self) -> None:
        if not self._closing:
            self.lost.set()

    def start(self) -> None:
        sd = sounddevice()
        with _OPEN_LOCK:
            saved = os.environ.get("PULSE_SOURCE")
            if self.device.pulse_source:
                os.environ["PULSE_SOURCE"] = self.device.pulse_source
            try:
                self._stream = sd.InputStream(
                    device=self.device.index, channels=self.channels, samplerate=self.rate, blocksize=self.block,
                    dtype="float32", callback=self._callback, finished_callback=self._finished,
                )
                self._stream.start()
            except sd.PortAudioError as e:
                msg = str(e)
                hint = " (permission denied: allow microphone access for this app)" if "ermission" in msg else ""
                raise UserError(f"cannot open {self.device.label}: {msg}{hint}") from None
            finally:
                if saved is None:
                    os.environ.pop("PULSE_SOURCE", None)
                else:
                    os.environ["PULSE_SOURCE"] = saved

    def close(self) -> None:
        self._closing = True
        if self._stream is not None:
            try:
                self._stream.abort()  # stop() can hang when a source sends nothing (docs/facts.md)
                self._stream.close()
            except Exception:  # noqa: BLE001 - a dead device may fail to close; it is gone either way
                pass
            self._stream = None
