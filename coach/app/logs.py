"""One log for every command: <log dir>/coach.log, rotated, private; the terminal shows only our one-line messages.

Our own records (start, exit, drops, recoveries, tracebacks of faults) are kept at INFO; third-party libraries'
(faster-whisper logs a line per decode) only from WARNING. With COACH_DEBUG set, records also go to stderr.

No secret is written: passwords in URLs and connection strings are masked in every record, and the
command line is logged with its secrets and its search words masked (a log outlives the session it
searched). A secret that must be handed over (the first admin's password) goes to a file only its
owner can read (`coach.config.paths.private_file`), never to the log or the terminal."""

from __future__ import annotations

import logging
import os
import re
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


MASK = "***"
# scheme://user:PASSWORD@host, and libpq's keyword form password=PASSWORD
# (to the last @ of the word: a password may hold an unencoded @; masking more is no harm)
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s:/?#@]*:)\S*(@)")
_ARG_URL_PASSWORD = re.compile(r"(?is)^(.*?[a-z][a-z0-9+.-]*://[^\s:/?#@]*:).*(@)")  # one argv item, spaces and all
_KEYWORD_PASSWORD = re.compile(r"(?i)(\bpassword\s*=\s*)('[^']*'|\S+)")
_SECRET_NAME = re.compile(r"(?i)pass(word)?|token|secret")
PRIVATE_OPTIONS = ("--search",)  # words said in a call: they must go when the session goes


def mask(text: str, one_arg: bool = False) -> str:
    """The text with passwords in URLs and connection strings replaced by ***."""
    url = _ARG_URL_PASSWORD if one_arg else _URL_PASSWORD
    return _KEYWORD_PASSWORD.sub(rf"\1{MASK}", url.sub(rf"\1{MASK}\2", text))


def command_line(argv: list[str]) -> str:
    """argv as logged: URL passwords masked, and the value of any option or KEY=VALUE whose name
    says password, token or secret (`--set team.token=...`), or of a private option (--search)."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        name, eq, _ = arg.partition("=")
        secret = name in PRIVATE_OPTIONS or bool(_SECRET_NAME.search(name)) and not name.endswith(("-stdin", "-file"))
        if eq and secret:
            out.append(f"{name}={MASK}")
        else:
            # a flag such as --password-stdin takes no value; an option naming a secret does
            hide_next = secret and arg.startswith("--") and not eq
            out.append(mask(arg, one_arg=True))
    return " ".join(out)


class _Masked(logging.Filter):
    """Every record leaves with its URL and connection-string passwords masked, whoever logged it
    (a driver's error can quote its connection string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask(text)
        if masked != text:
            record.msg, record.args = masked, None
        return True


class _Ours(logging.Filter):
    """Everything from `coach.*`; from other libraries, warnings and worse."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == "coach" or record.name.startswith("coach.") or record.levelno >= logging.WARNING


_OLD_SEARCH = re.compile(r"(?m)^(\S+ \S+ INFO coach: start: .*?--search[ =]).*$")
_MASKED_MARK = ".masked-1"


def _mask_old_logs(folder: Path) -> None:
    """Logs written before masking (once per folder): passwords and search words masked in place."""
    mark = folder / _MASKED_MARK
    if mark.exists():
        return
    for f in folder.glob("coach.log*"):
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
            masked = _OLD_SEARCH.sub(rf"\1{MASK}", mask(text))
            if masked != text:
                with open(f, "r+", encoding="utf-8") as out:  # in place: another process may be appending
                    out.write(masked)
                    out.truncate()
        except OSError:
            return  # tried again next time
    mark.touch()


def setup(folder: Path) -> Path:
    """Send log records to folder/coach.log (once per process; a second call moves the file)."""
    global _handler
    folder.mkdir(parents=True, exist_ok=True)
    _mask_old_logs(folder)
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
    _handler.addFilter(_Masked())
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
        h.addFilter(_Masked())
        root.addHandler(h)
    root.setLevel(logging.INFO)


def stop() -> None:
    """Close the log file (tests, and anything that embeds the CLI)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None
