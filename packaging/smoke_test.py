"""Frozen smoke test for any OS: `python packaging/smoke_test.py <bundle executable>`.

The checks of tests/packaging_check.py (which is Linux-only: it hard-codes dist/coach/coach and a
Linux PATH) for a bundle anywhere: dist/coach/coach, dist\\coach\\coach.exe, an installed copy, or
Call Coach.app/Contents/MacOS/coach. Runs the executable without the project's Python (no venv on
PATH, no PYTHONPATH, a fresh HOME and data folder), headless:
  coach --help, coach --version, coach devices, coach analyze <the bundle's own sample_call.flac>
  --json out.json (schema coach.analysis/1, the bundled model, the sample's cues), a missing file
  (exit 2), and the log of it all. Exit status 0 when every check passes. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bundled_sample(exe: Path) -> Path:
    """The sample call that travels with the bundle: _internal/assets next to the executable (one-folder
    build, Linux/Windows/macOS), or Contents/Resources/assets in a macOS .app (PyInstaller's BUNDLE layout)."""
    for folder in (exe.parent / "_internal", exe.parent.parent / "Resources", exe.parent.parent / "Frameworks", exe.parent):
        if (folder / "assets" / "sample_call.flac").is_file():
            return folder / "assets" / "sample_call.flac"
    raise SystemExit(f"smoke: no assets/sample_call.flac in the bundle around {exe}")


def clean_env(tmp: Path) -> dict[str, str]:
    """No venv, no PYTHONPATH, a system PATH only; the user's folders and the app's data in tmp."""
    if sys.platform == "win32":
        sysroot = os.environ.get("SystemRoot", r"C:\Windows")
        env = {k: os.environ[k] for k in ("SystemRoot", "SystemDrive", "WINDIR", "COMSPEC", "PATHEXT", "NUMBER_OF_PROCESSORS",
                                          "PROCESSOR_ARCHITECTURE", "TEMP", "TMP") if k in os.environ}
        env["PATH"] = rf"{sysroot}\System32;{sysroot}"
        env.update(USERPROFILE=str(tmp), APPDATA=str(tmp / "AppData" / "Roaming"), LOCALAPPDATA=str(tmp / "AppData" / "Local"))
    else:
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        if "TMPDIR" in os.environ:
            env["TMPDIR"] = os.environ["TMPDIR"]
    env.update(HOME=str(tmp), COACH_DATA_DIR=str(tmp / "data"), HF_HUB_OFFLINE="1",
               QT_QPA_PLATFORM="offscreen", PYTHONIOENCODING="utf-8")
    return env


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("exe", type=Path, help="the frozen coach executable")
    p.add_argument("--timeout", type=float, default=600, help="seconds per command (a first start on a CI runner is slow)")
    args = p.parse_args()
    exe = args.exe.resolve()
    if not exe.is_file():
        raise SystemExit(f"smoke: no executable at {exe}")
    failures: list[str] = []

    def check(ok: bool, what: str, detail: str = "") -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + ("" if ok or not detail else f"\n     {detail.strip()[-2000:]}"), flush=True)
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="coach-smoke-") as t:
        tmp = Path(t)
        env = clean_env(tmp)

        def frozen(*a: str, logs: str = "logs") -> subprocess.CompletedProcess:
            return subprocess.run([str(exe), *a], capture_output=True, text=True, encoding="utf-8", errors="replace",
                                  env={**env, "COACH_LOG_DIR": str(tmp / logs)}, cwd=tmp, timeout=args.timeout)

        r = frozen("--help")
        check(r.returncode == 0 and "analyze" in r.stdout, "coach --help lists analyze", r.stderr + r.stdout)
        r = frozen("--version")
        m = re.search(r'__version__\s*=\s*"([^"]+)"', (ROOT / "coach" / "__init__.py").read_text(encoding="utf-8")) \
            if (ROOT / "coach" / "__init__.py").is_file() else None
        want = f"coach {m.group(1)}" if m else "coach "
        check(r.returncode == 0 and r.stdout.strip().startswith(want), f"coach --version says {want!r}", r.stderr + r.stdout)
        r = frozen("devices")  # PortAudio travels with the bundle (a runner without sound devices lists none)
        check(r.returncode == 0, "coach devices (PortAudio loads)", r.stderr)

        sample, out = bundled_sample(exe), tmp / "out.json"
        r = frozen("analyze", str(sample), "--json", str(out), "--quiet", logs="analyze-logs")  # a log of this run alone
        check(r.returncode == 0 and out.is_file(), f"coach analyze {sample.name} --json out.json", r.stderr)
        if out.is_file():
            doc = json.loads(out.read_text(encoding="utf-8"))
            check(doc.get("schema") == "coach.analysis/1", "schema is coach.analysis/1", f"schema {doc.get('schema')!r}")
            check(doc.get("model", {}).get("origin") == "bundled", "the bundled speech model was used", f"model {doc.get('model')!r}")
            cues = {c.get("id") for c in doc.get("cues", [])}
            check(cues >= {"slow_down", "customer_escalating"}, "the sample's cues fired (slow_down, customer_escalating)", f"cues {sorted(cues)}")
            said = " ".join(u.get("text", "") for u in doc.get("utterances", []) if u.get("speaker") == "customer").lower()
            check("manager" in said, "the customer asks for a manager in the transcript", said[-500:])

        r = frozen("analyze", str(tmp / "missing.wav"), "--json", "-")
        check(r.returncode == 2 and r.stderr.strip().startswith("coach: error: no such file"), "a missing file exits 2 with a clear error",
              f"exit {r.returncode}: {r.stderr}")

        log_file = tmp / "analyze-logs" / "coach.log"
        log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.is_file() else ""
        check("start: analyze" in log and "exit 0" in log, "the log records the analyze run", log[-2000:] or f"no {log_file}")
        check("ERROR" not in log and "Traceback" not in log, "no error in the analyze run's log", log[-2000:])

    bundle = exe.parent.parent if exe.parent.name == "MacOS" else exe.parent  # Call Coach.app/Contents, or the one folder
    size = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"bundle: {bundle} {size / 2**20:.0f} MB")
    print("smoke test passed" if not failures else f"smoke test FAILED: {len(failures)} check(s): {'; '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
