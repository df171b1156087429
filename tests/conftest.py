"""Shared fixtures: real files on disk, the real tiny.en model, scripted calls rendered with espeak-ng."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"  # tests never reach for the network

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
REAL_CALL = DATA / "auto_repairs_49_stereo.flac"
SCENARIO_FILES = [DATA / "scenarios.json", DATA / "scenarios_coach.json", DATA / "scenarios_holdout.json",
                  DATA / "scenarios_holdout2.json", DATA / "scenarios_streaming.json", ROOT / "assets" / "sample_call.json"]


def scenario_names() -> list[str]:
    return [sc["name"] for f in SCENARIO_FILES for sc in json.loads(f.read_text())]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every scripted call of tests/data/scenarios.json and the sample call, as WAV + truth."""
    out = tmp_path_factory.mktemp("calls")
    for script in SCENARIO_FILES:
        subprocess.run([sys.executable, str(ROOT / "tools" / "render_calls.py"), str(out), str(script)],
                       check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("coach-data")


@pytest.fixture(scope="session")
def model_path() -> str:
    from coach.speech.models import resolve_model

    return str(resolve_model("tiny.en", [], allow_download=False).path)


def compute_type() -> str:
    """int8 unless COACH_SET picks another (make test-asr-variants: other kernels, other words)."""
    for a in os.environ.get("COACH_SET", "").split(";"):
        key, _, value = a.partition("=")
        if key.strip() == "model.compute_type":
            return value.strip().strip('"')
    return "int8"


@pytest.fixture(scope="session")
def transcriber(model_path: str):
    from coach.speech.transcriber import Transcriber

    return Transcriber(model_path, compute_type=compute_type())


@pytest.fixture(scope="session")
def analyzed(tmp_path_factory: pytest.TempPathFactory, data_dir: Path):
    """analyze(path) -> analysis JSON, each call analysed once per test session."""
    from coach.app import compose as app

    out = tmp_path_factory.mktemp("analysis")
    cache: dict[str, dict] = {}

    def run(path: Path) -> dict:
        key = str(path)
        if key not in cache:
            target = out / (path.stem + ".json")
            app.analyze(str(path), str(target), app.Options(data_dir=str(data_dir)), progress=False)
            cache[key] = json.loads(target.read_text())
        return cache[key]

    return run


def render_one(tmp_path_factory: pytest.TempPathFactory, script: str, name: str) -> tuple[Path, Path]:
    """One scripted call of tests/data/SCRIPT rendered with espeak-ng: (wav, truth json)."""
    out = tmp_path_factory.mktemp(name)
    subprocess.run([sys.executable, str(ROOT / "tools" / "render_calls.py"), str(out), str(DATA / script), name],
                   check=True, capture_output=True)
    return out / f"{name}.wav", out / f"{name}.truth.json"


def truth(rendered: Path, name: str) -> dict:
    return json.loads((rendered / f"{name}.truth.json").read_text())


# The fast tier (`make test-fast`, first in `make test`) runs without the speech model, the
# sound server or a display server; whatever needs them is marked slow here, by what it uses.
SLOW_FIXTURES = {"transcriber", "model_path", "analyzed", "rendered", "payment_call", "pulse", "xvfb"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
