"""What a privacy test reads off disk: every byte of the files, as text, with times blanked
(stream times such as 21.982, session start times and folder names such as 20261125-104111),
so a secret like "982" or "4111" is found wherever it is written and never in a time that
happens to contain its digits (the test's outcome must not depend on the clock)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_TIMES = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}|\d{8}-\d{6}|\d+\.\d+")


def stored_text(files: Iterable[Path]) -> str:
    return b"\n".join(_TIMES.sub(b"#", p.read_bytes()) for p in files).decode("utf-8", "replace").lower()
