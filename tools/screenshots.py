#!/usr/bin/env python3
"""Screenshots of the real overlay for the README and docs/usage.md (docs/overlay-*.png): run the demo under Xvfb and grab the
screen at moments when the sample call shows each state. Needs xvfb-run and ImageMagick's
`import`/`convert` (apt-get install imagemagick). Usage: tools/screenshots.py [OUTDIR]"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOTS = [(18.0, "overlay-listening", False), (26.0, "overlay-slow-down", False), (35.5, "overlay-escalating", False),
         (67.5, "overlay-calming", False)]


def run(out: Path, expanded: bool, shots: list[tuple[float, str, bool]]) -> None:
    data = Path(tempfile.mkdtemp())
    if expanded:
        (data / "settings.toml").write_text("[ui]\nexpanded = true\n")
    env = dict(os.environ, COACH_DATA_DIR=str(data))
    p = subprocess.Popen([str(ROOT / ".venv/bin/coach"), "demo"], env=env, stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    for t, name, _ in shots:
        time.sleep(max(0.0, t - (time.monotonic() - t0)))
        raw = out / f"{name}.full.png"
        subprocess.run(["import", "-window", "root", str(raw)], env=env, check=True)
        height = 270 if expanded else 200
        subprocess.run(["convert", str(raw), "-crop", f"400x{height}+864+8", "+repage", str(out / f"{name}.png")], check=True)
        raw.unlink()
    p.terminate()
    p.wait(timeout=60)


def main() -> None:
    if "DISPLAY" not in os.environ:
        os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1280x720x24", sys.executable, *sys.argv])
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    out.mkdir(exist_ok=True)
    run(out, False, SHOTS)
    run(out, True, [(36.0, "overlay-expanded", True)])


if __name__ == "__main__":
    main()
