"""FileSource: a recorded call as timestamped 16 kHz chunks, one channel per speaker.

Decoding streams block by block (an hour-long call never sits in memory twice) and
resamples with soxr, a real band-limited resampler. Files libsndfile cannot read
(e.g. M4A) fall back to PyAV, which faster-whisper already depends on.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from coach.audio.source import ChannelSplit, SourceHealth
from coach.core.errors import UserError
from coach.core.events import SAMPLE_RATE, AudioChunk, Speaker

CHUNK_S = 0.1  # 100 ms blocks: what a PortAudio callback would deliver, give or take
MIN_RATE = 4000  # telephone audio is 8 kHz; below 4 kHz there is no intelligible speech


@dataclass(frozen=True)
class SourceInfo:
    path: str
    duration_s: float
    channels: int
    sample_rate: int
    speakers: dict[Speaker, int]  # speaker -> channel index in the file
    split: ChannelSplit | None = None  # a mono call's two voices, each made a channel of its own

    @property
    def agent_identified_by(self) -> str:
        if self.split is not None:
            return self.split.info.agent_identified_by
        if self.channels == 1:
            return "single_speaker"  # one voice: nobody to tell apart
        return "channel"


def _speaker_map(channels: int, agent_channel: int | None, mono_speaker: Speaker, stereo_default: int = 0) -> dict[Speaker, int]:
    if channels == 1:
        return {mono_speaker: 0}
    if channels == 2:
        a = stereo_default if agent_channel is None else agent_channel
        if a not in (0, 1):
            raise UserError(f"--agent-channel must be 0 or 1, got {a}")
        return {"agent": a, "customer": 1 - a}
    if agent_channel is None:
        raise UserError(
            f"the file has {channels} channels: say which one is the agent with --agent-channel "
            "(the customer is taken from the next channel)"
        )
    if not 0 <= agent_channel < channels - 1:
        raise UserError(f"--agent-channel must be between 0 and {channels - 2} for a {channels}-channel file")
    return {"agent": agent_channel, "customer": agent_channel + 1}


@contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """libsndfile's MP3 decoder prints "Note: Illegal Audio-MPEG-Header" to fd 2 while it
    sniffs a file; a user should see our one line, not that."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise UserError(f"no such file: {path}")
    if path.is_dir():
        raise UserError(f"{path} is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise UserError(f"{path} is empty")


class FileSource:
    """Yields AudioChunks from a call recording, as fast as possible or at real-time pace."""

    def __init__(
        self,
        path: str | Path,
        agent_channel: int | None = None,
        mono_speaker: Speaker = "customer",
        stereo_agent_channel: int = 0,
        realtime: bool = False,
        speed: float = 1.0,
    ) -> None:
        self.path = Path(path)
        _check_readable(self.path)
        self.realtime = realtime
        self.speed = speed
        self._start_wall: float | None = None
        self._pos_s = 0.0
        self._stopped = False
        self._skip_to = -1.0
        self._paused_at: float | None = None
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._running.set()
        self._changed = threading.Event()
        self._sf_info = None
        try:
            with _quiet_native_stderr():
                info = sf.info(str(self.path))
            if "should be" in info.extra_info:  # libsndfile's note on a header longer than the data
                raise UserError(f"{self.path} is truncated: its header promises more audio than it holds")
            if info.frames <= 0:
                raise UserError(f"{self.path} holds no audio")
            self._sf_info = info
            rate, channels, frames = info.samplerate, info.channels, info.frames
        except sf.LibsndfileError:
            rate, channels, frames = self._probe_with_av()
        if rate < MIN_RATE:  # also keeps the block size (rate x 0.1 s) above zero
            raise UserError(f"{self.path} has a sample rate of {rate} Hz; a call needs at least {MIN_RATE} Hz")
        self.split: ChannelSplit | None = None
        self.info = SourceInfo(
            path=str(self.path),
            duration_s=frames / rate,
            channels=channels,
            sample_rate=rate,
            speakers=_speaker_map(channels, agent_channel, mono_speaker, stereo_agent_channel),
        )

    def _probe_with_av(self) -> tuple[int, int, int]:
        import av  # only for formats libsndfile cannot read

        try:
            with av.open(str(self.path)) as container:
                if not container.streams.audio:
                    raise UserError(f"{self.path} is not an audio file")
                stream = container.streams.audio[0]
                rate = stream.rate or stream.codec_context.sample_rate
                channels = stream.codec_context.channels
                dur = float(stream.duration * stream.time_base) if stream.duration else None
                if dur is None and container.duration:
                    dur = container.duration / 1_000_000
        except av.error.FFmpegError:
            raise UserError(f"{self.path} is not an audio file this program can read") from None
        if not rate or not dur:
            raise UserError(f"{self.path} holds no audio")
        return int(rate), int(channels), int(dur * rate)

    # -- decoding ---------------------------------------------------------------------

    def _blocks_sf(self, block: int) -> Iterator[np.ndarray]:
        read = 0
        try:
            with sf.SoundFile(str(self.path)) as f:
                for b in f.blocks(blocksize=block, dtype="float32", always_2d=True):
                    read += len(b)
                    yield b
        except sf.LibsndfileError as e:
            raise UserError(f"{self.path} is damaged: decoding stopped at {read / self.info.sample_rate:.1f} s ({e})") from None
        if read < self._sf_info.frames * 0.99:
            raise UserError(f"{self.path} is truncated: {read / self.info.sample_rate:.1f} s of {self.info.duration_s:.1f} s decoded")

    def _blocks_av(self, block: int) -> Iterator[np.ndarray]:
        import av

        try:
            with av.open(str(self.path)) as container:
                resampler = av.AudioResampler(format="flt", layout=None, rate=None)
                for frame in container.decode(audio=0):
                    for f in resampler.resample(frame):
                        yield f.to_ndarray().reshape(-1, self.info.channels)
        except av.error.FFmpegError as e:
            raise UserError(f"{self.path} is damaged: {e}") from None

    def chunks(self) -> Iterator[AudioChunk]:
        """Stream the call as equal-length chunks; stream time comes from sample counts."""
        rate = self.info.sample_rate
        blocks = self._blocks_sf(int(rate * CHUNK_S)) if self._sf_info else self._blocks_av(int(rate * CHUNK_S))
        speakers = self.info.speakers
        cols = [0] if self.split else [speakers[s] for s in speakers]
        resampler = soxr.ResampleStream(rate, SAMPLE_RATE, len(cols), dtype="float32") if rate != SAMPLE_RATE else None
        pending = np.zeros((0, len(cols)), dtype=np.float32)
        step = int(SAMPLE_RATE * CHUNK_S)
        emitted = 0
        self._start_wall = time.monotonic()
        for block, last in self._with_last(blocks):
            x = np.ascontiguousarray(block[:, cols])
            if resampler is not None:
                x = resampler.resample_chunk(x, last=last)
            pending = np.concatenate([pending, x]) if len(pending) else x
            while len(pending) >= step or (last and len(pending)):
                out, pending = pending[:step], pending[step:]
                chunk = AudioChunk(
                    t0=emitted / SAMPLE_RATE,
                    channels=self.split.split(emitted, out[:, 0]) if self.split else
                    {s: np.ascontiguousarray(out[:, j]) for j, s in enumerate(speakers)},
                )
                emitted += len(out)
                if chunk.t1 <= self._skip_to:
                    continue  # a trainer skipped ahead: the pipeline sees a gap and fills it with silence
                if self.realtime:
                    self._pace(chunk.t1)
                if self._stopped:
                    return
                self._pos_s = chunk.t1
                yield chunk

    def use_split(self, split: ChannelSplit) -> None:
        """Play a mono call as two speakers: each voice's stretches on a channel of its own."""
        if self.info.channels != 1:
            raise ValueError("only a mono call is split into voices")
        self.split = split
        self.info = dataclasses.replace(self.info, speakers={"agent": 0, "customer": 0}, split=split)

    def mono_16k(self) -> np.ndarray:
        """The whole call as one 16 kHz channel (its first, for a mono file): what the speaker
        separation listens to before the call plays."""
        probe = FileSource(self.path, mono_speaker="customer")
        return np.concatenate([c.channels["customer"] for c in probe.chunks()] or [np.zeros(0, np.float32)])

    @staticmethod
    def _with_last(it: Iterator[np.ndarray]) -> Iterator[tuple[np.ndarray, bool]]:
        prev = None
        for x in it:
            if prev is not None:
                yield prev, False
            prev = x
        if prev is not None:
            yield prev, True

    def _pace(self, t_audio: float) -> None:
        """Hold each chunk until its audio would have arrived from a live device."""
        while True:
            self._running.wait()  # a trainer's pause holds the call here
            with self._lock:
                assert self._start_wall is not None
                wait = self._start_wall + t_audio / self.speed - time.monotonic()
            if wait <= 0 or self._stopped:
                return
            # the clock of the simulated device; wakes early on pause/speed changes to re-check
            self._changed.wait(min(wait, 0.5))
            self._changed.clear()

    def now(self) -> float:
        """Stream time right now: what a live device would have delivered by this moment."""
        with self._lock:
            if self.realtime and self._start_wall is not None:
                if self._paused_at is not None:
                    return (self._paused_at - self._start_wall) * self.speed
                return (time.monotonic() - self._start_wall) * self.speed
            return self._pos_s

    # -- trainer controls (demo): pause, speed, skip ahead --------------------------------

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def pause(self) -> None:
        with self._lock:
            if self._paused_at is None:
                self._paused_at = time.monotonic()
                self._running.clear()
        self._changed.set()

    def resume(self) -> None:
        with self._lock:
            if self._paused_at is not None and self._start_wall is not None:
                self._start_wall += time.monotonic() - self._paused_at  # the pause does not count as call time
            self._paused_at = None
            self._running.set()
        self._changed.set()

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise UserError("speed must be above 0")
        pos = self.now()
        with self._lock:
            self.speed = speed
            ref = self._paused_at if self._paused_at is not None else time.monotonic()
            if self._start_wall is not None:
                self._start_wall = ref - pos / speed
        self._changed.set()

    def skip(self, seconds: float) -> None:
        """Jump ahead (a seek backwards would run stream time backwards; restart the demo instead)."""
        pos = self.now()
        with self._lock:
            self._skip_to = pos + seconds
            if self._start_wall is not None:
                self._start_wall -= seconds / self.speed
        self._changed.set()

    @property
    def speakers(self) -> list[Speaker]:
        return list(self.info.speakers)

    def start(self) -> None:
        """Nothing to open: the file was probed when the source was made."""

    def health(self) -> SourceHealth:
        return SourceHealth()

    def stop(self) -> None:
        self._stopped = True
        self._running.set()
        self._changed.set()
