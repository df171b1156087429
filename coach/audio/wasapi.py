"""Windows: capturing what the softphone plays, through WASAPI loopback.

python-sounddevice's bundled PortAudio cannot open WASAPI loopback (upstream issue #510,
docs/facts.md); PyAudioWPatch, a Windows-only PortAudio fork, lists each output's loopback as
an input named "... [Loopback]". This module puts it behind the same Capture interface
as PortAudioCapture. Loopback delivers nothing while nothing plays; LiveSource pads that
with silence by the wall clock. Not testable on Linux: tests drive it with a fake module.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any

import numpy as np

from coach.audio.device_info import InputDevice
from coach.core.errors import UserError

BACKEND = "wasapi-loopback"


def _pyaudio() -> Any:
    try:
        import pyaudiowpatch
    except ImportError:
        return None
    return pyaudiowpatch


def loopback_inputs() -> list[InputDevice]:
    """The WASAPI loopback devices, as inputs; [] off Windows or without PyAudioWPatch."""
    pa_mod = _pyaudio() if sys.platform == "win32" or "pyaudiowpatch" in sys.modules else None
    if pa_mod is None:
        return []
    pa = pa_mod.PyAudio()
    try:
        return [InputDevice(d["name"], "Windows WASAPI", int(d["maxInputChannels"]), float(d["defaultSampleRate"]),
                            int(d["index"]), backend=BACKEND) for d in pa.get_loopback_device_info_generator()]
    finally:
        pa.terminate()


class WasapiLoopbackCapture:
    """Same contract as PortAudioCapture: the callback only copies into a bounded queue."""

    def __init__(self, device: InputDevice, side: str, out: queue.Queue, channels: int | None = None, block_s: float = 0.05) -> None:
        self.device = device
        self.side = side
        self.out = out
        self.channels = max(1, min(2, device.channels))  # loopback opens at the output's own channel count
        self.rate = int(device.rate)
        self.block = int(self.rate * block_s)
        self.lost = threading.Event()
        self.first_block = threading.Event()
        self.first_block.set()  # silence is normal here: the softphone may not be playing yet
        self.dropped_blocks = 0
        self._pa: Any = None
        self._stream: Any = None
        self._closing = False

    def _callback(self, in_data: bytes, frame_count: int, time_info: object, status: int) -> tuple[None, int]:
        pa_mod = _pyaudio()
        block = np.frombuffer(in_data, dtype="<i2").reshape(-1, self.channels).astype(np.float32) / 32768.0
        try:
            self.out.put_nowait((self.side, block, time.monotonic()))
        except queue.Full:
            self.dropped_blocks += 1
        return None, pa_mod.paContinue

    def start(self) -> None:
        pa_mod = _pyaudio()
        if pa_mod is None:
            raise UserError("WASAPI loopback needs PyAudioWPatch (pip install PyAudioWPatch) on Windows")
        self._pa = pa_mod.PyAudio()
        try:
            self._stream = self._pa.open(format=pa_mod.paInt16, channels=self.channels, rate=self.rate, input=True,
                                         input_device_index=self.device.index, frames_per_buffer=self.block,
                                         stream_callback=self._callback)
        except OSError as e:
            self._pa.terminate()
            raise UserError(f"cannot open {self.device.label}: {e}") from None

    def is_lost(self) -> bool:
        return self._stream is not None and not self._closing and not self._stream.is_active()

    def close(self) -> None:
        self._closing = True
        if self._stream is not None:
            try:
                self._stream.stop_stream()
                self._stream.close()
            except OSError:
                pass
            self._stream = None
        if self._pa is not None:
            self._pa.terminate()
            self._pa = None
