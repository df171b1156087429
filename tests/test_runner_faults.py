"""A runner that cannot hang: a failing worker is reported at once and nothing blocks on it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import render_one
from fakes import ScriptedTranscriber

from coach.audio.file_source import FileSource
from coach.config.settings import Settings
from coach.core.events import AudioChunk, Flag
from coach.core.pipeline import Pipeline
from coach.core.runner import RunnerStopped, ThreadedRunner


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return render_one(tmp_path_factory, "scenarios_payment.json", "p1_card_payment")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def runner_for(truth: Path, fail_on: int | None = None, inbox: int = 300) -> tuple[ThreadedRunner, list[BaseException]]:
    clock = Clock()
    p = Pipeline(Settings(), ScriptedTranscriber.from_truth(truth, fail_on=fail_on), ["agent", "customer"], clock)
    seen: list[BaseException] = []
    return ThreadedRunner(p, inbox_size=inbox, on_error=seen.append), seen


def test_pipeline_error_at_chunk_n_is_reported_at_once_and_close_returns(call: tuple[Path, Path]):
    r, seen = runner_for(call[1], inbox=20)  # a demo's blocking put, on a queue that fills
    feed = r.p.feed
    n = [0]

    def feed_then_fail(chunk: AudioChunk):  # noqa: ANN202
        n[0] += 1
        if n[0] == 50:
            raise ValueError("pipeline broke at chunk 50")
        return feed(chunk)

    r.p.feed = feed_then_fail  # type: ignore[method-assign]
    r.start()
    with pytest.raises(RunnerStopped):
        for chunk in FileSource(str(call[0])).chunks():  # must not hang on a dead worker
            r.put(chunk)
    assert [str(e) for e in seen] == ["pipeline broke at chunk 50"]
    t = time.monotonic()
    with pytest.raises(ValueError, match="chunk 50"):
        r.close()
    assert time.monotonic() - t < 1.0


def test_recognizer_error_on_job_k_stops_coaching_loudly(call: tuple[Path, Path]):
    r, seen = runner_for(call[1], fail_on=2, inbox=20)
    r.start()
    with pytest.raises(RunnerStopped):
        for chunk in FileSource(str(call[0])).chunks():
            r.put(chunk)
            r.p.clock.t = chunk.t1  # type: ignore[attr-defined]
    assert len(seen) == 1 and "decode 2" in str(seen[0])
    t = time.monotonic()
    with pytest.raises(RuntimeError, match="decode 2"):
        r.close()
    assert time.monotonic() - t < 1.0


def test_a_flag_while_the_audio_queue_is_full_does_not_block(call: tuple[Path, Path]):
    r, _ = runner_for(call[1], inbox=5)
    gate = threading.Event()
    feed = r.p.feed
    r.p.feed = lambda chunk: (gate.wait(), feed(chunk))[1]  # type: ignore[method-assign]
    r.start()
    silence = {"agent": np.zeros(1600, np.float32), "customer": np.zeros(1600, np.float32)}
    for i in range(6):  # the worker holds one, five fill the queue
        r.put(AudioChunk(i * 0.1, silence))
    assert r.inbox.audio_waiting() == 5
    t = time.monotonic()
    r.put_flag(Flag(0.0, 1.0, "flagged by the agent", "user"))
    assert time.monotonic() - t < 0.1
    dropping = ThreadedRunner(r.p, inbox_size=1, drop=True)
    dropping.inbox.put_audio(AudioChunk(0.0, silence))
    assert dropping.put(AudioChunk(0.1, silence)) is False and dropping.dropped_chunks == 1  # live drops, never waits
    gate.set()
    r.close(timeout=5)
    assert [f.by for f in r.p.flags] == ["user"]


@pytest.mark.slow  # loads the speech model before the first chunk
def test_analysis_error_exits_non_zero_with_one_line(tmp_path: Path, call: tuple[Path, Path]):
    """Through the real CLI: a session whose analysis fails says so on one line and exits 1."""
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        "from coach.app import cli\n"
        "from coach.core import pipeline\n"
        "def broken(self, chunk): raise OSError('simulated analysis failure')\n"
        "pipeline.Pipeline.feed = broken\n"
        "sys.exit(cli.main(sys.argv[1:]))\n")
    r = subprocess.run([sys.executable, str(script), "demo", str(call[0]), "--speed", "8", "--no-audio", "--headless",
                        "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "simulated analysis failure" in r.stderr and "Traceback" not in r.stderr
    assert json.dumps(r.stderr).count("\\n") <= 3
    log = (tmp_path / "data" / "logs" / "coach.log").read_text()
    assert "start: demo" in log and "Traceback" in log and "simulated analysis failure" in log and "exit 1" in log


def test_everything_written_is_private(tmp_path: Path):
    """The data folder, the settings and the session store are readable by the user only."""
    import os
    import stat

    data = tmp_path / "data"
    r = subprocess.run([sys.executable, "-m", "coach", "sessions", "list", "--data-dir", str(data)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    made = [data, *data.rglob("*")]
    assert len(made) >= 3  # the folder, settings.toml, sessions.db
    for f in made:
        mode = stat.S_IMODE(os.stat(f).st_mode)
        assert mode & 0o077 == 0, (f, oct(mode))


def test_analysis_and_speech_never_import_qt():
    """The layers below the UI run headless and in other processes: no PySide6 on their path."""
    code = ("import sys, coach.analysis.rules, coach.analysis.escalation, coach.speech.transcriber, coach.speech.vad, "
            "coach.speech.agreement, coach.core.pipeline, coach.core.runner, coach.core.conversation, coach.privacy.redact; "
            "print(sorted(m for m in sys.modules if m.startswith('PySide6')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
