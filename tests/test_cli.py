"""The command line as a user meets it: real processes, real files, exit codes and messages."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import ROOT


def coach(*args: str, data_dir: Path, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["COACH_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "coach", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT, **kw)


def test_help_lists_the_commands(tmp_path: Path):
    r = coach("--help", data_dir=tmp_path)
    assert r.returncode == 0
    for cmd in ("analyze", "demo", "devices"):
        assert cmd in r.stdout


def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {}
    files["missing"] = tmp_path / "nope.wav"
    files["empty"] = tmp_path / "empty.wav"
    files["empty"].write_bytes(b"")
    files["not audio"] = tmp_path / "notes.mp3"
    files["not audio"].write_text("meeting notes, not a call\n" * 50)
    good = tmp_path / "good.wav"
    sf.write(good, np.zeros((16000 * 5, 2), np.float32), 16000)
    files["truncated"] = tmp_path / "truncated.wav"
    files["truncated"].write_bytes(good.read_bytes()[:40000])
    files["three channels"] = tmp_path / "three.wav"
    sf.write(files["three channels"], np.zeros((16000, 3), np.float32), 16000)
    return files


@pytest.mark.parametrize("case", ["missing", "empty", "not audio", "truncated", "three channels"])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path: Path, case: str):
    path = bad_files(tmp_path)[case]
    out = tmp_path / "out.json"
    r = coach("analyze", str(path), "--json", str(out), data_dir=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coach: error:"), r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.json")]


@pytest.mark.parametrize("case", ["unknown model", "no such folder", "output is a folder", "bad settings", "bad channel"])
def test_bad_arguments_one_line_exit_2(tmp_path: Path, rendered: Path, case: str):
    call = str(rendered / "d3_friendly_call.wav")
    out = str(tmp_path / "out.json")
    args = ["analyze", call, "--json", out]
    if case == "unknown model":
        args += ["--model", "huge.xx"]
    elif case == "no such folder":
        args[3] = str(tmp_path / "missing" / "out.json")
    elif case == "output is a folder":
        args[3] = str(tmp_path)
    elif case == "bad settings":
        (tmp_path / "settings.toml").write_text("[vad]\nthreshold = 7.0\n")
    elif case == "bad channel":
        args += ["--agent-channel", "2"]
    r = coach(*args, data_dir=tmp_path)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr


def test_analyze_to_stdout(tmp_path: Path, rendered: Path):
    r = coach("analyze", str(rendered / "d2_rushed_agent.wav"), "--json", "-", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert any(c["id"] == "slow_down" for c in doc["cues"])


def test_settings_file_changes_behaviour(tmp_path: Path, rendered: Path):
    (tmp_path / "settings.toml").write_text("[cues.slow_down]\nenabled = false\n")
    r = coach("analyze", str(rendered / "d2_rushed_agent.wav"), "--json", "-", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not any(c["id"] == "slow_down" for c in json.loads(r.stdout)["cues"])


def test_demo_headless_prints_cues_as_they_fire(tmp_path: Path, rendered: Path):
    r = coach("demo", str(rendered / "d1_refund_escalation.wav"), "--speed", "4", "--no-audio", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if "CUSTOMER ESCALATING" in ln)
    minutes, seconds = line[1:8].split(":")
    t = int(minutes) * 60 + float(seconds)
    assert 28.0 < t < 46  # stream time of the cue: during the angry turn (28.0-37.6 s, partial decodes) or after it
    assert "position" in r.stdout and "lag" in r.stdout
    assert "done:" in r.stdout


@pytest.mark.slow
def test_demo_default_sample_runs(tmp_path: Path):
    r = coach("demo", "--speed", "8", "--no-audio", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "sample_call.flac" in r.stdout and "CUSTOMER ESCALATING" in r.stdout


def test_demo_stops_cleanly_on_sigterm(tmp_path: Path, rendered: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["COACH_DATA_DIR"] = str(tmp_path)
    p = subprocess.Popen([sys.executable, "-m", "coach", "demo", str(rendered / "d1_refund_escalation.wav"), "--no-audio"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    seen = ""
    while "playing" not in seen and time.monotonic() < deadline:
        seen += p.stdout.readline()
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "stopped:" in out and "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    # no sound server and no sound card here: the machine has no inputs at all
    (["--agent-device", "no-such-mic", "--customer-device", "no-such-loopback"], "no audio input devices found"),
    (["--duration", "-3"], "--duration must be above 0"),
])
def test_live_bad_devices_one_line_exit_2(tmp_path: Path, args: list[str], message: str):
    r = coach("live", "--headless", *args, data_dir=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in r.stderr


def test_set_changes_one_run_only(tmp_path: Path, rendered: Path):
    call = str(rendered / "d2_rushed_agent.wav")
    r = coach("analyze", call, "--json", "-", "--set", "cues.slow_down.max_wpm=400", "--set", "cues.slow_down.repeat_wpm=400", data_dir=tmp_path)
    assert r.returncode == 0 and not any(c["id"] == "slow_down" for c in json.loads(r.stdout)["cues"])
    r = coach("analyze", call, "--json", "-", data_dir=tmp_path)  # the settings file was not changed
    assert any(c["id"] == "slow_down" for c in json.loads(r.stdout)["cues"])
    r = coach("analyze", call, "--json", "-", "--set", "cues.nope=1", data_dir=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_a_second_live_instance_is_refused_clearly(tmp_path: Path):
    from coach.app.instance import InstanceLock

    lock = InstanceLock(tmp_path / "live.lock").acquire()
    try:
        r = coach("live", "--headless", "--agent-device", "x", "--customer-device", "y", data_dir=tmp_path)
        assert r.returncode == 2
        assert r.stderr.strip() == f"coach: error: another Call Coach is already coaching from this data folder (pid {os.getpid()}); close it first"
    finally:
        lock.release()
    assert "already coaching" not in coach("live", "--headless", "--agent-device", "x", data_dir=tmp_path).stderr


def test_every_command_logs_its_start_and_exit_code(tmp_path: Path):
    assert coach("sessions", "list", data_dir=tmp_path).returncode == 0
    assert coach("analyze", str(tmp_path / "missing.wav"), "--json", "-", data_dir=tmp_path).returncode == 2
    log = (tmp_path / "logs" / "coach.log").read_text()
    assert "start: sessions list" in log and "exit 0" in log
    assert "start: analyze" in log and "exit 2" in log


def test_an_unwritable_log_folder_is_one_line_exit_2(tmp_path: Path):
    (tmp_path / "logs").write_text("a file where the log folder should be")
    r = coach("sessions", "list", data_dir=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("coach: error: cannot write the log")


def test_the_log_rotates(tmp_path: Path):
    import logging

    from coach.app import logs

    path = logs.setup(tmp_path)
    try:
        noisy = logging.getLogger("coach.test")
        for _ in range(logs.MAX_BYTES // 100 + 100):
            noisy.info("x" * 100)
        logging.getLogger("faster_whisper").info("a decode: not ours, below warning, not kept")
        assert (tmp_path / "coach.log.1").exists() and path.stat().st_size < logs.MAX_BYTES
        assert "a decode" not in path.read_text()
    finally:
        logs.stop()


@pytest.mark.parametrize("case", ["rate 8 Hz", "speed nan", "session id 2**64", "settings is a folder", "data dir is a file",
                                  "negative wait", "100000 threads", "nan gap", "negative utterance cap", "unknown command"])
def test_each_bad_input_is_one_line_exit_2(tmp_path: Path, case: str):
    """Inputs that used to hang, loop at 100 % CPU or end in a traceback."""
    data = tmp_path / "data"
    data.mkdir()
    slow = tmp_path / "slow.wav"
    sf.write(slow, np.zeros((80, 2), np.float32), 8)  # 8 samples a second: a block of 0.1 s is no samples
    settings = {"negative wait": "[vad]\nend_silence_s = -5\n", "100000 threads": "[model]\nthreads = 100000\n",
                "nan gap": "[cues]\nglobal_gap_s = nan\n", "negative utterance cap": "[vad]\nmax_utterance_s = -1\n"}
    args = {"rate 8 Hz": ["analyze", str(slow), "--json", "-"],
            "speed nan": ["demo", str(slow), "--speed", "nan", "--headless", "--no-audio"],
            "session id 2**64": ["sessions", "show", str(2**64)],
            "unknown command": ["frobnicate"]}.get(case, ["sessions", "list"])
    if case in settings:
        (data / "settings.toml").write_text(settings[case])
    if case == "settings is a folder":
        (data / "settings.toml").mkdir()
    if case == "data dir is a file":
        data.rmdir()
        data.write_text("not a folder")
    r = coach(*args, data_dir=data, timeout=60)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coach: error:") and "Traceback" not in r.stderr, r.stderr


def test_an_error_on_a_thread_reaches_the_log(tmp_path: Path):
    """A thread that dies (not one of the runner's, which report their own) leaves its traceback in the log."""
    script = tmp_path / "run.py"
    script.write_text(
        "import sys, threading\n"
        "from coach.app import cli, session_commands\n"
        "def boom(*a, **k):\n"
        "    t = threading.Thread(target=lambda: 1 / 0, name='helper'); t.start(); t.join()\n"
        "    return 0\n"
        "session_commands.devices = boom\n"
        "sys.exit(cli.main(['devices']))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["COACH_DATA_DIR"] = str(tmp_path)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    log = (tmp_path / "logs" / "coach.log").read_text()
    assert "thread helper died: division by zero" in log and "ZeroDivisionError" in log
