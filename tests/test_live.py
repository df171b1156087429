"""Live capture through real PortAudio and a private PulseAudio with virtual devices:
a scripted call's customer side is played into the virtual softphone output, the agent
side into the virtual microphone, and `coach live` runs as a user would start it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import ROOT, truth
from virtual_pulse import VirtualPulse


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory):
    vp = VirtualPulse(tmp_path_factory.mktemp("pulse")).start()
    yield vp
    vp.stop()


@pytest.fixture(scope="module")
def sides(rendered: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """d1's agent and customer channels as separate files, as each device would play them."""
    out = tmp_path_factory.mktemp("sides")
    x, sr = sf.read(rendered / "d1_refund_escalation.wav")
    files = {"agent": out / "agent.wav", "customer": out / "customer.wav"}
    sf.write(files["agent"], x[:, 0], sr)
    sf.write(files["customer"], x[:, 1], sr)
    return files


def start_live(pulse: VirtualPulse, data: Path, *args: str,
               devices: tuple[str, ...] = ("--agent-device", "virtual_mic", "--customer-device", "softphone_out.monitor"),
               ) -> subprocess.Popen:
    env = dict(pulse.env, COACH_DATA_DIR=str(data))
    return subprocess.Popen([sys.executable, "-m", "coach", "live", *devices, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def wait_for(p: subprocess.Popen, text: str, timeout: float = 60) -> tuple[str, float]:
    seen, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        seen += line
        if text in line:
            return seen, time.monotonic()
    raise AssertionError(f"'{text}' never appeared; output so far:\n{seen}\n{p.stderr.read() if p.poll() is not None else ''}")


def session_dir(data: Path) -> Path:
    [folder] = list((data / "sessions").iterdir())
    return folder


def test_live_call_right_speakers_timing_and_cues(pulse: VirtualPulse, sides: dict, rendered: Path, tmp_path: Path):
    t = truth(rendered, "d1_refund_escalation")
    p = start_live(pulse, tmp_path, "--duration", "62")
    wait_for(p, "listening")
    players = [pulse.play(sides["customer"], "softphone_out"), pulse.play(sides["agent"], "mic_feed")]
    for pl in players:
        pl.wait(timeout=90)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "CUSTOMER ESCALATING" in out
    doc = json.loads((session_dir(tmp_path) / "session.json").read_text())
    utts = doc["utterances"]
    # every scripted turn is heard on the right side, at the right time up to one playback offset
    offsets = []
    for turn in t["turns"]:
        mid = (turn["start"] + turn["end"]) / 2
        near = [u for u in utts if abs((u["start"] + u["end"]) / 2 - (mid + 2.0)) < 3.0 and u["speaker"] == turn["who"]]
        assert near, (turn, utts)
        offsets.append(min(near, key=lambda u: abs(u["start"] - turn["start"] - 2.0))["start"] - turn["start"])
    assert max(offsets) - min(offsets) < 0.6, offsets  # one constant offset: the two sides stay aligned
    offset = float(np.median(offsets))
    angry = t["turns"][5]
    [cue] = [c for c in doc["cues"] if c["id"] == "customer_escalating"]
    # while the customer is still talking (partial decodes) or within 4 s after the turn
    assert angry["start"] + offset < cue["t"] < angry["end"] + offset + 4.0
    assert any("unacceptable" in u["text"].lower() and u["speaker"] == "customer" for u in utts)
    # the recording holds both sides, agent left, customer right
    audio, sr = sf.read(session_dir(tmp_path) / "audio.wav")
    assert sr == 16000 and audio.shape[1] == 2 and abs(len(audio) / sr - 62) < 1.0
    a0 = int((t["turns"][0]["start"] + offset + 0.5) * sr)
    agent_rms, cust_rms = np.sqrt(np.mean(audio[a0:a0 + sr, 0] ** 2)), np.sqrt(np.mean(audio[a0:a0 + sr, 1] ** 2))
    assert agent_rms > 10 * cust_rms
    # the devices are remembered for next time
    settings = (tmp_path / "settings.toml").read_text()
    assert 'agent_device = "virtual_mic (PulseAudio)"' in settings
    assert doc["live"]["dropped_chunks"] == 0


def test_unplugged_device_clear_message_recording_kept_and_recovery(pulse: VirtualPulse, sides: dict, tmp_path: Path):
    p = start_live(pulse, tmp_path, "--duration", "25")
    wait_for(p, "listening")
    player = pulse.play(sides["customer"], "softphone_out")
    time.sleep(5)
    pulse.unplug("softphone_out")
    lost, _ = wait_for(p, "softphone_out.monitor (PulseAudio) was removed", timeout=15)
    assert "recorded as silence until it returns" in lost
    player.kill()
    pulse.replug("softphone_out")
    wait_for(p, "is back", timeout=15)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "Traceback" not in err
    folder = session_dir(tmp_path)
    with wave.open(str(folder / "audio.wav")) as w:
        assert abs(w.getnframes() / w.getframerate() - 25) < 1.0  # the whole session, the gap as silence
    doc = json.loads((folder / "session.json").read_text())
    assert doc["live"]["padded_s"]["customer"] > 1.0
    assert "was removed" in (tmp_path / "logs" / "coach.log").read_text()


def test_kill_9_leaves_a_readable_recording(pulse: VirtualPulse, sides: dict, tmp_path: Path):
    p = start_live(pulse, tmp_path, "--duration", "120")
    _, t_listen = wait_for(p, "listening")
    players = [pulse.play(sides["customer"], "softphone_out"), pulse.play(sides["agent"], "mic_feed")]
    time.sleep(12)
    p.send_signal(signal.SIGKILL)
    t_kill = time.monotonic()
    p.wait(timeout=10)
    for pl in players:
        pl.kill()
    path = session_dir(tmp_path) / "audio.wav"
    with wave.open(str(path)) as w:  # Python's wave is the strictest reader (docs/facts.md)
        seconds = w.getnframes() / w.getframerate()
    # what was transcribed and redacted before the kill, never more (speech still open or
    # being decoded was only in memory)
    # (bounded by the longest utterance, 14 s, plus the decode)
    elapsed = t_kill - t_listen
    assert elapsed - 20 <= seconds <= elapsed + 0.5
    audio, sr = sf.read(path)
    assert len(audio) / sr == pytest.approx(seconds, abs=0.01)
    if seconds > 4:
        assert np.max(np.abs(audio[:, 0])) > 0.1  # the agent's first words are in it


def test_wrong_device_name_is_one_line_exit_2(pulse: VirtualPulse, tmp_path: Path):
    env = dict(pulse.env, COACH_DATA_DIR=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "coach", "live", "--headless", "--agent-device", "virtual_mic",
                        "--customer-device", "no-such-softphone"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == "coach: error: no input device matches 'no-such-softphone'; `coach devices` lists them"


def test_a_mono_line_carrying_both_voices_is_coached_as_two_speakers(pulse: VirtualPulse, rendered: Path, tmp_path: Path):
    """A call recorder's line: both voices mixed in one 8 kHz channel. The voices are told apart
    as they speak; the agent is the voice that answers with service words."""
    name = "h1_energy_escalation"
    t = truth(rendered, name)
    x, sr = sf.read(rendered / f"{name}.wav")
    line = tmp_path / "line.wav"
    sf.write(line, x.mean(axis=1), sr)
    data = tmp_path / "data"
    p = start_live(pulse, data, "--duration", "42", devices=("--mono-device", "line_tap.monitor"))
    wait_for(p, "listening: both voices on line_tap.monitor")
    pulse.play(line, "line_tap").wait(timeout=90)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    doc = json.loads((session_dir(data) / "session.json").read_text())
    assert doc["source"]["voices"]["count"] == 2
    assert doc["source"]["agent_identified_by"] == "opening_words"
    utts = doc["utterances"]
    # once both voices have been heard for a few seconds, each turn lands on its speaker's side
    offset = utts[0]["start"] - t["turns"][0]["start"]  # when the line started playing
    assert -0.5 < offset < 3.0
    for turn in [turn for turn in t["turns"] if turn["start"] > 9.0]:
        mine = [u for u in utts if turn["start"] < (u["start"] + u["end"]) / 2 - offset < turn["end"]]
        assert mine and all(u["speaker"] == turn["who"] for u in mine), (turn, utts)
    [cue] = [c for c in doc["cues"] if c["id"] == "customer_escalating"]
    assert cue["t"] > t["turns"][3]["start"]
    # the recording holds the split: the agent's stretches on the left, the customer's on the right
    audio, rate = sf.read(session_dir(data) / "audio.wav")
    for turn, side in ((t["turns"][4], 0), (t["turns"][3], 1)):
        a, b = int((turn["start"] + offset + 0.5) * rate), int((turn["end"] + offset - 0.5) * rate)
        assert np.sqrt(np.mean(audio[a:b, side] ** 2)) > 5 * np.sqrt(np.mean(audio[a:b, 1 - side] ** 2))
    assert 'mono_device = "line_tap.monitor (PulseAudio)"' in (data / "settings.toml").read_text()
