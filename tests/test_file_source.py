from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coach.audio.file_source import FileSource
from coach.core.errors import UserError
from coach.core.events import SAMPLE_RATE

DATA = Path(__file__).parent / "data"


def tone(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_freq(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)[np.argmax(spec)])


def collect(src: FileSource) -> dict[str, np.ndarray]:
    chunks = list(src.chunks())
    for a, b in zip(chunks, chunks[1:]):
        assert b.t0 == pytest.approx(a.t1)  # stream time from sample counts, no gaps
    return {s: np.concatenate([c.channels[s] for c in chunks]) for s in chunks[0].channels}


@pytest.mark.parametrize("rate, fmt", [(44100, "WAV"), (8000, "FLAC"), (48000, "OGG"), (22050, "MP3")])
def test_any_rate_and_format_becomes_16k_per_speaker(tmp_path: Path, rate: int, fmt: str):
    path = tmp_path / f"call.{fmt.lower()}"
    stereo = np.stack([tone(440, 2.0, rate), tone(1000, 2.0, rate)], axis=1)
    sf.write(path, stereo, rate, format=fmt)
    src = FileSource(path)
    assert src.info.sample_rate == rate and src.info.channels == 2
    out = collect(src)
    assert set(out) == {"agent", "customer"}
    assert len(out["agent"]) == pytest.approx(2.0 * SAMPLE_RATE, abs=0.08 * SAMPLE_RATE)  # MP3 adds priming
    assert dominant_freq(out["agent"]) == pytest.approx(440, abs=5)
    assert dominant_freq(out["customer"]) == pytest.approx(1000, abs=5)


def test_agent_channel_swaps_speakers(tmp_path: Path):
    path = tmp_path / "call.wav"
    sf.write(path, np.stack([tone(440, 1.0, 16000), tone(1000, 1.0, 16000)], axis=1), 16000)
    out = collect(FileSource(path, agent_channel=1))
    assert dominant_freq(out["agent"]) == pytest.approx(1000, abs=5)


def test_mono_is_one_speaker(tmp_path: Path):
    path = tmp_path / "mono.wav"
    sf.write(path, tone(300, 1.0, 16000), 16000)
    assert set(collect(FileSource(path, mono_speaker="agent"))) == {"agent"}
    assert set(collect(FileSource(path))) == {"customer"}


def test_three_channels_need_a_mapping(tmp_path: Path):
    path = tmp_path / "three.wav"
    sf.write(path, np.zeros((16000, 3), np.float32), 16000)
    with pytest.raises(UserError, match="3 channels"):
        FileSource(path)
    src = FileSource(path, agent_channel=1)
    assert src.info.speakers == {"agent": 1, "customer": 2}


def test_real_stereo_call_keeps_its_length():
    src = FileSource(DATA / "auto_repairs_49_stereo.flac")
    assert src.info.sample_rate == 8000
    assert src.info.duration_s == pytest.approx(237.56, abs=0.01)


@pytest.mark.parametrize("case", ["missing", "empty", "text", "truncated", "folder", "header-only"])
def test_bad_input_is_a_user_error(tmp_path: Path, case: str):
    path = tmp_path / "bad.wav"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("this is not audio\n" * 20)
    elif case in ("truncated", "header-only"):
        good = tmp_path / "good.wav"
        sf.write(good, np.zeros((16000 * 4, 2), np.float32), 16000)
        data = good.read_bytes()
        path.write_bytes(data[: len(data) // 3] if case == "truncated" else data[:30])
    elif case == "folder":
        path.mkdir()
    with pytest.raises(UserError) as e:
        list(FileSource(path).chunks())
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def test_realtime_pacing_follows_the_clock(tmp_path: Path):
    import time

    path = tmp_path / "short.wav"
    sf.write(path, np.zeros((16000, 2), np.float32), 16000)
    src = FileSource(path, realtime=True, speed=4.0)
    t = time.monotonic()
    chunks = list(src.chunks())
    # 1 s of audio at 4x takes at least ~0.25 s of wall time (a lower bound, not a timing assertion)
    assert time.monotonic() - t >= 0.2
    assert chunks[-1].t1 == pytest.approx(1.0)
