"""Audio devices through sounddevice/PortAudio, with hints for likely loopback sources."""

from __future__ import annotations

import re

from coach.errors import UserError

# names under which OSes and tools expose "what the speakers play" as an input
LOOPBACK = re.compile(r"\.monitor\b|monitor of|stereo mix|what u hear|blackhole|loopback|vb-audio|cable output", re.I)


def _sd():  # noqa: ANN202 - the sounddevice module
    try:
        import sounddevice
    except OSError:
        raise UserError("PortAudio is not installed (Debian: apt-get install libportaudio2)") from None
    return sounddevice


def is_loopback(name: str) -> bool:
    return bool(LOOPBACK.search(name))


def list_devices() -> list[str]:
    sd = _sd()
    apis = sd.query_hostapis()
    lines = []
    for i, d in enumerate(sd.query_devices()):
        kinds = []
        if d["max_input_channels"]:
            kinds.append(f"in {d['max_input_channels']}ch")
        if d["max_output_channels"]:
            kinds.append(f"out {d['max_output_channels']}ch")
        hint = "  [likely loopback: the softphone's output]" if d["max_input_channels"] and is_loopback(d["name"]) else ""
        lines.append(f"{i:3d}  {d['name']} ({apis[d['hostapi']]['name']})  {', '.join(kinds)}  {d['default_samplerate']:.0f} Hz{hint}")
    if not lines:
        lines.append("no audio devices found")
    return lines
