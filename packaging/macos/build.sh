#!/usr/bin/env bash
# macOS: dist/coach (one folder), dist/Call Coach.app and the DMG. Needs Python 3.11 with the project and
# pyinstaller>=6.10 installed (.venv/bin/python if it exists, else $PYTHON, else python3).
# Not run by this project's CI (Linux only): .github/workflows/package-macos.yml runs it on a macOS runner.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-python3}
[ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && py=.venv/bin/python
rm -rf "dist/Call Coach.app"
"$py" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/macos/coach-app.spec
bash packaging/macos/make_dmg.sh
