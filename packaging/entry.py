"""Entry point of the frozen app: the same commands as `coach`, plus what a desktop app
owes its users: logs in the OS's log folder, and a readable error instead of a silent exit."""

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


def _log_file() -> str:
    import platformdirs

    folder = os.environ.get("COACH_LOG_DIR") or platformdirs.user_log_dir("call-coach")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, "coach.log")


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
    log = _log_file()
    logging.basicConfig(filename=log, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("coach").info("start: %s", " ".join(sys.argv[1:]))
    try:
        from coach.cli import main

        code = main()
        logging.getLogger("coach").info("exit %s", code)
        return code
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - the last line of defence: log it, say it, exit non-zero
        logging.getLogger("coach").error("unexpected error\n%s", traceback.format_exc())
        _show(f"coach: unexpected error: {type(e).__name__}: {e} (details in {log})")
        return 1


raise SystemExit(run())
