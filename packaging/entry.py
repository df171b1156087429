"""Entry point of the frozen app: the same commands as `coach`, plus what a desktop app
owes its users: a readable error (and a dialog) instead of a silent exit, with the details in the log."""

import ctypes.util
import logging
import os
import sys
import traceback

if getattr(sys, "frozen", False):
    # sounddevice finds PortAudio with ctypes.util.find_library, which does not look inside
    # the bundle; point it at the PortAudio that travels with the app
    here = getattr(sys, "_MEIPASS", os.path.dirname(sys.executable))
    bundled = next((os.path.join(here, n) for n in os.listdir(here) if n.startswith("libportaudio")), None)
    if bundled:
        _find = ctypes.util.find_library
        ctypes.util.find_library = lambda name: bundled if name == "portaudio" else _find(name)


def _show(message: str) -> None:
    print(message, file=sys.stderr)
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform in ("win32", "darwin"):
        try:
            from PySide6.QtWidgets import QApplication, QMessageBox

            app = QApplication.instance() or QApplication([])
            QMessageBox.critical(None, "Call Coach", message)
            del app
        except Exception:  # noqa: BLE001 - the stderr line has been written already
            pass


def run() -> int:
    try:
        from coach.app.cli import main  # logs every command to <data dir>/logs/coach.log (or COACH_LOG_DIR)

        return main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - the last line of defence: log it, say it, exit non-zero
        logging.getLogger("coach").error("unexpected error\n%s", traceback.format_exc())
        where = next((h.baseFilename for h in logging.getLogger().handlers if hasattr(h, "baseFilename")), "the log")
        _show(f"coach: unexpected error: {type(e).__name__}: {e} (details in {where})")
        return 1


raise SystemExit(run())
