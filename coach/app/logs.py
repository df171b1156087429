"""One log for every command: <log dir>/coach.log, rotated, private; the terminal shows only our one-line messages.

Our own records (start, exit, drops, recoveries, tracebacks of faults) are kept at INFO; third-party libraries'
(faster-whisper logs a line per decode) only from WARNING. With COACH_DEBUG set, records also go to stderr."""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

MAX_BYTES = 1_000_000  # a busy day of live coaching logs well under this; three old files are kept
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_handler: RotatingFileHandler | None = None


def log_dir(data: Path) -> Path:
    """COACH_LOG_DIR > <data dir>/logs."""
    chosen = os.environ.get("COACH_LOG_DIR")
    return Path(chosen).expanduser() if chosen else data / "logs"


class _Ours(logging.Filter):
    """Everything from `coach.*`; from other libraries, warnings and worse."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == "coach" or record.name.startswith("coach.") or record.levelno >= logging.WARNING


def setup(folder: Path) -> Path:
    """Send log records to folder/coach.log (once per process; a second call moves the file)."""
    global _handler
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "coach.log"
    root = logging.getLogger()
    if _handler is not None:
        if Path(_handler.baseFilename) == path.resolve():
            return path
        root.removeHandler(_handler)
        _handler.close()
    _handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=False)
    _handler.setFormatter(logging.Formatter(FORMAT))
    _handler.addFilter(_Ours())
    root.addHandler(_handler)
    root.setLevel(logging.INFO)
    return path


def catch_the_rest() -> None:
    """An exception nobody caught, on any thread, goes to the log with its traceback; the
    terminal gets one line (the CLI's own handler covers the main path; this is the net)."""
    import sys
    import threading

    log = logging.getLogger("coach")

    def main_hook(kind: type[BaseException], e: BaseException, tb: object) -> None:
        if issubclass(kind, KeyboardInterrupt):
            return sys.__excepthook__(kind, e, tb)  # type: ignore[arg-type]
        log.critical("uncaught %s: %s", kind.__name__, e, exc_info=(kind, e, tb))  # type: ignore[arg-type]
        print(f"coach: error: {kind.__name__}: {e} (details in the log)", file=sys.stderr)

    def thread_hook(a: threading.ExceptHookArgs) -> None:
        if a.exc_type is SystemExit:
            return
        log.error("thread %s died: %s", a.thread.name if a.thread else "?", a.exc_value,
                  exc_info=(a.exc_type, a.exc_value, a.exc_traceback))  # type: ignore[arg-type]

    sys.excepthook = main_hook
    threading.excepthook = thread_hook


def quiet_terminal() -> None:
    """No log records on the terminal (the CLI prints its own one-line messages), unless COACH_DEBUG is set."""
    root = logging.getLogger()
    if os.environ.get("COACH_DEBUG") and not any(type(h) is logging.StreamHandler for h in root.handlers):
        h = logging.StreamHandler()
        h.setFormatter(logging.Formatter(FORMAT))
        h.setLevel(logging.DEBUG)
        root.addHandler(h)
    root.setLevel(logging.INFO)


def stop() -> None:
    """Close the log file (tests, and anything that embeds the CLI)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None
