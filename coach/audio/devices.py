"""Audio input devices: PortAudio's, plus PulseAudio/PipeWire sources on Linux.

PortAudio on Linux sees ALSA, where the whole sound server is one device named "pulse";
the sources behind it (the softphone output's `.monitor`, each microphone) are reached by
setting PULSE_SOURCE while opening that device (docs/facts.md). So on Linux each Pulse source
is listed as a device of its own, with host API "PulseAudio". Devices are remembered by
name and host API, never by index: indices move between runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from coach.audio.device_info import InputDevice
from coach.core.errors import UserError

PULSE_API = "PulseAudio"


def sounddevice():  # noqa: ANN201 - the module
    try:
        import sounddevice as sd
    except OSError:
        raise UserError("PortAudio is not installed (Debian: apt-get install libportaudio2)") from None
    return sd


def pulse_sources() -> list[tuple[str, int, float]]:
    """(name, channels, rate) of the Pulse/PipeWire sources, or [] without a sound server."""
    if not sys.platform.startswith("linux") or shutil.which("pactl") is None:
        return []
    try:
        out = subprocess.run(["pactl", "list", "short", "sources"], capture_output=True, text=True, timeout=3).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 4:
            m = re.search(r"(\d+)ch (\d+)Hz", parts[3])
            found.append((parts[1], int(m.group(1)) if m else 2, float(m.group(2)) if m else 48000.0))
    return found


def list_inputs() -> list[InputDevice]:
    sd = sounddevice()
    apis = sd.query_hostapis()
    devices = []
    has_pulse = False
    for i, d in enumerate(sd.query_devices()):
        if d["max_input_channels"] > 0:
            devices.append(InputDevice(d["name"], apis[d["hostapi"]]["name"], d["max_input_channels"], d["default_samplerate"], i))
            has_pulse = has_pulse or d["name"] == "pulse"
    if has_pulse:
        devices += [InputDevice(n, PULSE_API, ch, rate, "pulse", n) for n, ch, rate in pulse_sources()]
    from coach.audio.wasapi import loopback_inputs

    return devices + loopback_inputs()


def resolve(query: str, host_api: str | None = None, devices: list[InputDevice] | None = None) -> InputDevice:
    """A device by exact name, else by a unique case-insensitive substring of 'name (host API)'."""
    devices = list_inputs() if devices is None else devices
    if host_api:
        devices = [d for d in devices if d.hostapi.lower() == host_api.lower()]
    exact = [d for d in devices if d.name == query or d.label == query]
    if len(exact) == 1:
        return exact[0]
    q = query.lower()
    matches = exact or [d for d in devices if q in d.label.lower()]
    if not matches:
        raise UserError(f"no input device matches '{query}'; `coach devices` lists them")
    if len(matches) > 1:
        names = "; ".join(d.label for d in matches[:5])
        raise UserError(f"'{query}' matches {len(matches)} input devices ({names}); give more of the name")
    return matches[0]


def list_devices() -> list[str]:
    """Lines for `coach devices`: inputs first, likely loopbacks marked, then outputs."""
    sd = sounddevice()
    apis = sd.query_hostapis()
    lines = ["inputs (give a name, or a unique part of it, to --agent-device / --customer-device):"]
    for d in list_inputs():
        hint = "  <- likely loopback: the softphone's output" if d.loopback else ""
        lines.append(f"  {d.label}  {d.channels} ch, {d.rate:.0f} Hz{hint}")
    lines.append("outputs:")
    for d in sd.query_devices():
        if d["max_output_channels"] > 0:
            lines.append(f"  {d['name']} ({apis[d['hostapi']]['name']})  {d['max_output_channels']} ch, {d['default_samplerate']:.0f} Hz")
    if len(lines) == 2:
        lines.append("  (none)")
    return lines
