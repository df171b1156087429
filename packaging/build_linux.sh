#!/usr/bin/env bash
# make package: the one-folder bundle at dist/coach/ and a tarball with the .desktop file.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/coach.spec
cp packaging/linux/call-coach.desktop dist/coach/
version=$(.venv/bin/python -c "import coach; print(coach.__version__)")
tar -C dist -czf "dist/call-coach-${version}-linux-$(uname -m).tar.gz" coach
echo "bundle: dist/coach ($(du -sh dist/coach | cut -f1) on disk), tarball: dist/call-coach-${version}-linux-$(uname -m).tar.gz ($(du -sh dist/call-coach-*.tar.gz | tail -1 | cut -f1))"
