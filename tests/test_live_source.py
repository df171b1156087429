"""LiveSource logic with fake capture backends and a fake clock: what real devices on
other OSes do (WASAPI loopback sending nothing while the softphone is silent, drifting
clocks, permission errors) and that a private PulseAudio cannot show."""

from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from coach.app import compose as app
from coach.audio import devices as devices_mod
from coach.audio.device_choice import choose_devices
from coach.audio.devices import InputDevice, resolve
from coach.audio.live_source import LiveSource
from coach.core.errors import UserError

MIC = InputDevice("Headset Mic", "Windows WASAPI", 1, 48000, 3)
LOOP = InputDevice("Speakers [Loopback]", "Windows WASAPI", 2, 48000, 7)


class FakeCapture:
    def __init__(self, device: InputDevice, side: str, q: queue.Queue, channels: int | None, fail: str | None = None) -> None:
        self.device, self.side, self.q = device, side, q
        self.channels = channels or 1
        self.rate = int(device.rate)
        self.lost = threading.Event()
        self.first_block = threading.Event()
        self.first_block.set()
        self.dropped_blocks = 0
        self.fail = fail
        self.closed = False

    def start(self) -> None:
        if self.fail:
            raise UserError(self.fail)

    def close(self) -> None:
        self.closed = True

    def send(self, seconds: float, value: float = 0.1, cols: int | None = None) -> None:
        n = int(self.rate * seconds)
        self.q.put((self.side, np.full((n, cols or self.channels), value, np.float32), 0.0))


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def make(clock: Clock, caps: dict, **kw) -> LiveSource:
    fail = kw.pop("fail", None)

    def factory(device: InputDevice, side: str, q: queue.Queue, channels: int | None) -> FakeCapture:
        cap = FakeCapture(device, side, q, channels, fail if side == "customer" else None)
        caps[side] = cap
        return cap

    return LiveSource(kw.pop("devices", {"agent": MIC, "customer": LOOP}), kw.pop("stereo", None), on_notice=kw.pop("notes").append,
                      factory=factory, clock=clock, device_present=kw.pop("present", lambda d: True), **kw)


def pump(src: LiveSource, it, n: int) -> list:
    return [next(it) for _ in range(n)]


def drain(src: LiveSource, it) -> list:
    """Consume like a real-time consumer: everything that is there, nothing more."""
    out = []
    while not src._q.empty() or all(src._buffered[s] >= 1600 for s in src.speakers):
        out.append(next(it))
    return out


def test_both_sides_resampled_aligned_and_timed_by_sample_count():
    clock, caps, notes = Clock(), {}, []
    src = make(clock, caps, notes=notes)
    src.start()
    it = src.chunks()
    caps["agent"].send(1.0, 0.2)
    caps["customer"].send(1.0, 0.3)
    clock.t += 1.0
    chunks = pump(src, it, 8)  # soxr holds back a few ms of its 1 s input
    assert [round(c.t0, 1) for c in chunks] == [round(0.1 * i, 1) for i in range(8)]
    assert all(c.n == 1600 for c in chunks)  # 48 kHz -> 16 kHz
    assert np.allclose(chunks[5].channels["agent"], 0.2, atol=0.01) and np.allclose(chunks[5].channels["customer"], 0.3, atol=0.01)
    assert notes == []


def test_a_silent_loopback_is_padded_by_the_wall_clock():
    """WASAPI loopback sends nothing while nothing plays: the agent side must keep flowing."""
    clock, caps, notes = Clock(), {}, []
    src = make(clock, caps, notes=notes)
    src.start()
    it = src.chunks()
    caps["agent"].send(2.0, 0.2)
    clock.t += 2.0
    chunks = pump(src, it, 15)
    assert len(chunks) == 15 and np.allclose(chunks[3].channels["customer"], 0.0)
    assert src.padded["customer"] >= 1.5 * 16000 and src.padded["agent"] == 0


def test_drift_between_device_clocks_is_measured_and_corrected():
    clock, caps, notes = Clock(), {}, []
    src = make(clock, caps, notes=notes)
    src.start()
    it = src.chunks()
    got = []
    caps["agent"].send(0.3, 0.2)  # prime past soxr's delay so every later block completes a chunk
    caps["customer"].send(0.3, 0.3)
    for _ in range(300):  # 30 s in 100 ms blocks; the customer's device clock runs 1 % fast
        caps["agent"].send(0.1, 0.2)
        caps["customer"].send(0.101, 0.3)
        clock.t += 0.1
        got += drain(src, it)
    assert src.drift_corrected["customer"] > 0 and src.drift_corrected["agent"] == 0
    lead = src.received["customer"] - src.received["agent"]
    # held within one block of arrival jitter plus the 40 ms limit, instead of growing to 300 ms
    assert abs(lead) < (0.1 + 0.04 + 0.05) * 16000
    assert src.drift_ppm() > 1000


def test_stereo_device_split_by_channel():
    clock, caps, notes = Clock(), {}, []
    src = make(clock, caps, notes=notes, devices=None, stereo=(LOOP, 1))
    src.start()
    it = src.chunks()
    block = np.zeros((48000, 2), np.float32)
    block[:, 0], block[:, 1] = 0.3, 0.2  # channel 1 is the agent
    src._q.put(("stereo", block, 0.0))
    clock.t += 1.0
    c = pump(src, it, 3)[2]
    assert np.allclose(c.channels["agent"], 0.2, atol=0.01) and np.allclose(c.channels["customer"], 0.3, atol=0.01)


def test_lost_device_is_reported_padded_and_reconnected():
    clock, caps, notes = Clock(), {}, []
    present = {"ok": True}
    src = make(clock, caps, notes=notes, present=lambda d: present["ok"])
    src.start()
    it = src.chunks()
    old = caps["customer"]
    old.lost.set()  # PortAudio's finished callback: the device went away
    present["ok"] = False
    caps["agent"].send(1.0)
    clock.t += 1.0
    pump(src, it, 5)
    assert old.closed and src.status["customer"] == "lost" and src.health().lost == ["customer"]
    assert any("stopped delivering audio" in n and "recorded as silence" in n for n in notes)
    present["ok"] = True
    clock.t += 3.0
    caps["agent"].send(3.0)
    pump(src, it, 5)
    assert src.status["customer"] == "ok" and caps["customer"] is not old
    assert any("is back" in n for n in notes)


def test_permission_denied_is_one_clear_line():
    clock, caps, notes = Clock(), {}, []
    src = make(clock, caps, notes=notes, fail="cannot open Speakers [Loopback]: permission denied")
    with pytest.raises(UserError, match="permission denied"):
        src.start()


def test_device_names_resolve_by_unique_part():
    devs = [MIC, LOOP, InputDevice("Headset Mic", "MME", 1, 44100, 1)]
    assert resolve("loopback", devices=devs) == LOOP
    assert resolve("Headset Mic (Windows WASAPI)", devices=devs) == MIC
    assert resolve("headset", "MME", devices=devs).hostapi == "MME"
    with pytest.raises(UserError, match="matches 2 input devices"):
        resolve("headset", devices=devs)
    with pytest.raises(UserError, match="no input device matches"):
        resolve("blackhole", devices=devs)
    assert LOOP.loopback and not MIC.loopback
    assert InputDevice("BlackHole 2ch", "Core Audio", 2, 48000, 0).loopback


def test_no_input_devices_at_all(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setattr(devices_mod, "list_inputs", lambda: [])
    s, data = app.load_settings(app.Options(data_dir=str(tmp_path)))
    with pytest.raises(UserError, match="no audio input devices"):
        choose_devices(s, app.LiveOptions(), data)


def test_a_device_delivering_only_silence_gets_a_notice():
    clock, caps, notes = Clock(), {}, []
    src = make(clock, caps, notes=notes)
    src.start()
    it = src.chunks()
    caps["agent"].send(0.3, 0.2)
    caps["customer"].send(0.3, 0.0)  # a muted loopback: blocks arrive, all zeros
    for _ in range(220):
        caps["agent"].send(0.1, 0.2)
        caps["customer"].send(0.1, 0.0)
        clock.t += 0.1
        drain(src, it)
    assert [n for n in notes if "customer side has been digital silence" in n]
    assert not [n for n in notes if "agent side" in n]
