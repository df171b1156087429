"""LiveSource: the agent's microphone and the softphone's output, in step, as 16 kHz chunks.

Two capture streams (or one stereo device) feed one bounded queue. Here, off the audio
thread: resampling with soxr, alignment of the two sides by sample counts, silence padded
by the wall clock where a side delivers nothing (a loopback while the softphone is
silent, a lost device), drift between the two device clocks measured and corrected, and
device health watched (lost, silently moved to another source, delivering only silence),
with reconnection when the device comes back. Stream time comes from sample counts.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np
import soxr

from coach.audio.capture import Capture, PortAudioCapture
from coach.audio.devices import InputDevice, pulse_sources
from coach.audio.source import SourceHealth
from coach.core.errors import UserError
from coach.core.events import SAMPLE_RATE, AudioChunk, Speaker

log = logging.getLogger(__name__)
STEP = int(SAMPLE_RATE * 0.1)
GAP_S = 0.5  # a side this far behind the wall clock is padded with silence
DRIFT_LIMIT_S = 0.04  # a steady offset past this (lip-sync-level) is corrected
DRIFT_WINDOW_S = 2.0
SILENCE_WARN_S = 20.0
RETRY_S = 2.0
WATCH_S = 2.0
FIRST_BLOCK_TIMEOUT_S = 5.0

CaptureFactory = Callable[[InputDevice, str, queue.Queue, int | None], Capture]


def _default_factory(device: InputDevice, side: str, q: queue.Queue, channels: int | None) -> Capture:
    if device.backend == "wasapi-loopback":
        from coach.audio.wasapi import WasapiLoopbackCapture

        return WasapiLoopbackCapture(device, side, q, channels)
    return PortAudioCapture(device, side, q, channels)


class LiveSource:
    def __init__(
        self,
        devices: dict[Speaker, InputDevice] | None = None,
        stereo: tuple[InputDevice, int] | None = None,
        duration_s: float | None = None,
        on_notice: Callable[[str], None] = print,
        factory: CaptureFactory = _default_factory,
        device_present: Callable[[InputDevice], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not devices and not stereo:
            raise UserError("no input device given")
        self._q: queue.Queue = queue.Queue(maxsize=400)  # ~20 s of 50 ms blocks
        self.devices = devices or {}
        self.stereo = stereo
        self.speakers: list[Speaker] = ["agent", "customer"] if stereo else list(self.devices)
        self.duration_s = duration_s
        self.notice = on_notice
        self._factory = factory
        self._present = device_present or _device_present
        self._caps: dict[str, Capture] = {}
        self._res: dict[Speaker, soxr.ResampleStream | None] = {}
        self._buf: dict[Speaker, list[np.ndarray]] = {s: [] for s in self.speakers}
        self._buffered = {s: 0 for s in self.speakers}
        self.received = {s: 0 for s in self.speakers}  # samples at 16 kHz, padding included
        self.padded = {s: 0 for s in self.speakers}
        self.status: dict[Speaker, str] = {s: "ok" for s in self.speakers}
        self.drift_corrected = {s: 0 for s in self.speakers}
        self._offsets: deque[tuple[float, int]] = deque()  # (wall time, agent - customer samples)
        self._last_sound = {s: 0.0 for s in self.speakers}
        self._last_block = {s: 0.0 for s in self.speakers}
        self._silence_warned = {s: False for s in self.speakers}
        self._retry_at: dict[str, float] = {}
        self._watch_at = 0.0
        self.emitted = 0
        self._t0: float | None = None
        self._stopped = False
        self._clock = clock

    # -- lifecycle -------------------------------------------------------------------

    def _open(self, key: str) -> Capture:
        if key == "stereo":
            assert self.stereo is not None
            cap = self._factory(self.stereo[0], "stereo", self._q, 2)
        else:
            cap = self._factory(self.devices[key], key, self._q, 1)  # type: ignore[index]
        cap.start()
        for s in self._sides(key):
            self._res[s] = soxr.ResampleStream(cap.rate, SAMPLE_RATE, 1, dtype="float32") if cap.rate != SAMPLE_RATE else None
        return cap

    def _sides(self, key: str) -> list[Speaker]:
        return ["agent", "customer"] if key == "stereo" else [key]  # type: ignore[list-item]

    def _device(self, key: str) -> InputDevice:
        return self.stereo[0] if key == "stereo" else self.devices[key]  # type: ignore[index,return-value]

    def start(self) -> None:
        keys = ["stereo"] if self.stereo else list(self.devices)
        for key in keys:
            self._caps[key] = self._open(key)
        deadline = self._clock() + FIRST_BLOCK_TIMEOUT_S
        for key, cap in self._caps.items():  # PulseAudio's first callback can take 0.1-2 s (docs/facts.md)
            first = getattr(cap, "first_block", None)
            if first is not None and not first.wait(max(0.0, deadline - self._clock())):
                self.notice(f"no audio yet from {self._device(key).label}; padding it with silence until it arrives")
        self._t0 = self._clock()
        for s in self.speakers:
            self._last_sound[s] = self._last_block[s] = self._t0

    def stop(self) -> None:
        self._stopped = True

    def close(self) -> None:
        for cap in self._caps.values():
            cap.close()
        self._caps.clear()

    def now(self) -> float:
        """Stream time right now, by the wall clock since capture started."""
        return 0.0 if self._t0 is None else self._clock() - self._t0

    @property
    def dropped_blocks(self) -> int:
        return sum(c.dropped_blocks for c in self._caps.values())

    def health(self) -> SourceHealth:
        return SourceHealth(lost=[s for s, v in self.status.items() if v == "lost"], dropped_blocks=self.dropped_blocks,
                            padded_s={s: round(v / SAMPLE_RATE, 2) for s, v in self.padded.items()},
                            drift_ppm=round(self.drift_ppm(), 1))

    # -- the loop ----------------------------------------------------------------------

    def chunks(self) -> Iterator[AudioChunk]:
        if self._t0 is None:
            self.start()
        try:
            while not self._stopped:
                try:
                    item = self._q.get(timeout=0.1)  # blocks; wakes for health checks
                    while True:  # take everything that arrived, both sides, before judging gaps
                        self._ingest(item[0], item[1])
                        item = self._q.get_nowait()
                except queue.Empty:
                    pass
                now = self._clock()
                self._health(now)
                self._fill_gaps(now)
                yield from self._emit()
                if self.duration_s is not None and self.emitted >= self.duration_s * SAMPLE_RATE:
                    return
        finally:
            self.close()

    def _ingest(self, side: str, block: np.ndarray) -> None:
        cols = {"agent": block[:, self.stereo[1]], "customer": block[:, 1 - self.stereo[1]]} if side == "stereo" and self.stereo \
            else {side: block[:, 0]}
        for s, x in cols.items():
            self._last_block[s] = self._clock()  # type: ignore[index]
            res = self._res.get(s)  # type: ignore[call-overload]
            y = res.resample_chunk(np.ascontiguousarray(x)) if res is not None else x
            if len(y):
                self._push(s, y)  # type: ignore[arg-type]
                if float(np.max(np.abs(y))) > 1e-4:
                    self._last_sound[s] = self._clock()  # type: ignore[index]
        self._correct_drift()

    def _push(self, s: Speaker, y: np.ndarray) -> None:
        self._buf[s].append(y)
        self._buffered[s] += len(y)
        self.received[s] += len(y)

    def _emit(self) -> Iterator[AudioChunk]:
        while all(self._buffered[s] >= STEP for s in self.speakers):
            channels = {s: self._take(s, STEP) for s in self.speakers}
            chunk = AudioChunk(self.emitted / SAMPLE_RATE, channels)
            self.emitted += STEP
            yield chunk

    def _take(self, s: Speaker, n: int) -> np.ndarray:
        data = np.concatenate(self._buf[s]) if len(self._buf[s]) > 1 else self._buf[s][0]
        out, rest = data[:n], data[n:]
        self._buf[s] = [rest] if len(rest) else []
        self._buffered[s] -= n
        return out

    def _fill_gaps(self, now: float) -> None:
        """A side that delivers nothing is padded with silence by the wall clock, so the
        other side keeps flowing and both stay aligned (WASAPI loopback sends nothing while
        the softphone is silent; a lost device sends nothing at all)."""
        assert self._t0 is not None
        expected = int((now - self._t0) * SAMPLE_RATE)
        for s in self.speakers:
            behind = expected - self.received[s]
            if behind > GAP_S * SAMPLE_RATE and now - self._last_block[s] > GAP_S:
                pad = behind - int(0.1 * SAMPLE_RATE)
                self._push(s, np.zeros(pad, np.float32))
                self.padded[s] += pad

    def _correct_drift(self) -> None:
        """Two device clocks differ by tens of ppm: over a long call the sides slip apart.
        Blocks arrive in bursts, so the offset between the sides' sample counts jitters by a
        block or two; only the part of it that persisted through the last two seconds
        (its smallest size, with one sign) is drift. Past the limit, the side that runs
        ahead loses that surplus."""
        if len(self.speakers) < 2 or any(v != "ok" for v in self.status.values()):
            self._offsets.clear()
            return
        a, c = self.speakers
        now = self._clock()
        self._offsets.append((now, self.received[a] - self.received[c]))
        while self._offsets and now - self._offsets[0][0] > DRIFT_WINDOW_S:
            self._offsets.popleft()
        if now - self._offsets[0][0] < DRIFT_WINDOW_S * 0.9:
            return  # not two seconds of evidence yet
        lo, hi = min(o for _, o in self._offsets), max(o for _, o in self._offsets)
        steady = lo if lo > 0 else hi if hi < 0 else 0  # the offset that never went away
        if steady > DRIFT_LIMIT_S * SAMPLE_RATE or steady < -DRIFT_LIMIT_S * SAMPLE_RATE:
            ahead = a if steady > 0 else c
            n = min(abs(steady), self._buffered[ahead])
            if n > 0:
                self._take(ahead, n)
                self.received[ahead] -= n
                self.drift_corrected[ahead] += n
                log.info("drift: dropped %d samples (%.0f ms) from the %s side", n, n / 16, ahead)
            self._offsets.clear()

    def drift_ppm(self) -> float:
        elapsed = self.now() * SAMPLE_RATE
        return 1e6 * sum(self.drift_corrected.values()) / elapsed if elapsed else 0.0

    # -- device health -------------------------------------------------------------------

    def _health(self, now: float) -> None:
        watch = now >= self._watch_at
        if watch:
            self._watch_at = now + WATCH_S
        for key in list(self._retry_at) + [k for k in self._caps if k not in self._retry_at]:
            dev = self._device(key)
            cap = self._caps.get(key)
            if cap is not None:
                moved = watch and dev.pulse_source is not None and not self._present(dev)
                if cap.lost.is_set() or moved or getattr(cap, "is_lost", lambda: False)():
                    why = "was removed" if moved else "stopped delivering audio"
                    self._lose(key, f"{dev.label} {why}")
            elif now >= self._retry_at.get(key, 0.0):
                self._retry(key, now)
        for s in self.speakers:
            if self.status[s] == "ok" and now - self._last_sound[s] > SILENCE_WARN_S and not self._silence_warned[s]:
                self._silence_warned[s] = True
                self.notice(f"the {s} side has been digital silence for {SILENCE_WARN_S:.0f} s: is the device muted?")
            elif now - self._last_sound[s] <= SILENCE_WARN_S:
                self._silence_warned[s] = False

    def _lose(self, key: str, why: str) -> None:
        cap = self._caps.pop(key)
        cap.close()  # a silently moved stream would record the wrong audio: close it
        for s in self._sides(key):
            self.status[s] = "lost"
        self._retry_at[key] = self._clock() + RETRY_S
        msg = f"{why}: the {' and '.join(self._sides(key))} side is recorded as silence until it returns"
        log.warning(msg)
        self.notice(msg)

    def _retry(self, key: str, now: float) -> None:
        dev = self._device(key)
        self._retry_at[key] = now + RETRY_S
        if not self._present(dev):
            return
        try:
            self._caps[key] = self._open(key)
        except UserError:
            return
        del self._retry_at[key]
        for s in self._sides(key):
            self.status[s] = "ok"
            self._last_sound[s] = now
        log.warning("%s is back", dev.label)
        self.notice(f"{dev.label} is back: coaching both sides again")


def _device_present(dev: InputDevice) -> bool:
    """Is the device still there? For Pulse sources, ask the sound server (a removed
    source's stream is moved elsewhere without an error, docs/facts.md)."""
    if dev.pulse_source is not None:
        return any(name == dev.pulse_source for name, _, _ in pulse_sources())
    try:
        from coach.audio.devices import list_inputs

        return any(d.name == dev.name and d.hostapi == dev.hostapi for d in list_inputs())
    except UserError:
        return False
