"""`make package-test`: the frozen Linux bundle runs without the project's Python.

Not part of `make test` (it needs `make package` first); .ci/run runs it after the tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "coach" / "coach"


def frozen(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "COACH_DATA_DIR": str(tmp / "data"),
           "COACH_LOG_DIR": str(tmp / "logs"), "HF_HUB_OFFLINE": "1", "LANG": "C.UTF-8"}  # no venv, no PYTHONPATH
    return subprocess.run([str(BUNDLE), *args], capture_output=True, text=True, env=env, cwd=tmp, timeout=300)


def test_bundle_analyzes_the_bundled_sample_call(tmp_path: Path):
    assert BUNDLE.exists(), "run `make package` first"
    out = tmp_path / "sample.json"
    sample = ROOT / "dist" / "coach" / "_internal" / "assets" / "sample_call.flac"
    r = frozen("analyze", str(sample), "--json", str(out), "--quiet", tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["schema"] == "coach.analysis/1" and doc["model"]["origin"] == "bundled"
    assert {c["id"] for c in doc["cues"]} >= {"slow_down", "customer_escalating"}
    assert any("manager" in u["text"].lower() for u in doc["utterances"] if u["speaker"] == "customer")
    log = (tmp_path / "logs" / "coach.log").read_text()
    assert "start: analyze" in log and "exit 0" in log
    assert "ERROR" not in log and "Traceback" not in log


def test_bundle_help_devices_and_bad_input(tmp_path: Path):
    assert "analyze" in frozen("--help", tmp=tmp_path).stdout
    r = frozen("devices", tmp=tmp_path)  # PortAudio travels with the bundle
    assert r.returncode == 0, r.stderr
    r = frozen("analyze", str(tmp_path / "missing.wav"), "--json", "-", tmp=tmp_path)
    assert r.returncode == 2 and r.stderr.strip().startswith("coach: error: no such file")


def test_bundle_size_is_reported(tmp_path: Path):
    size = int(subprocess.run(["du", "-sm", str(BUNDLE.parent)], capture_output=True, text=True).stdout.split()[0])
    assert size < 900  # MB: a regression guard on what the bundle drags in; docs/usage.md (Install) records the figure
