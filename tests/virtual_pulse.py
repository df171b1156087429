"""A private PulseAudio daemon with virtual devices, for live-capture tests (the docs/facts.md recipe).

softphone_out: a null sink standing in for the softphone's speaker; its `.monitor` is the
loopback the app records. mic_feed + virtual_mic: what is played into mic_feed comes out
of virtual_mic, the agent's "microphone". line_tap: an 8 kHz mono line carrying both
voices (a call recorder's input); its `.monitor` is the mono device. Only the daemon started here is stopped here.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

CONF = """load-module module-native-protocol-unix auth-anonymous=1
load-module module-null-sink sink_name=softphone_out rate=48000 channels=2
load-module module-null-sink sink_name=mic_feed rate=48000 channels=1
load-module module-remap-source source_name=virtual_mic master=mic_feed.monitor
load-module module-null-sink sink_name=line_tap rate=8000 channels=1
"""


class VirtualPulse:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = dict(os.environ)
        for k, sub in (("XDG_RUNTIME_DIR", "run"), ("PULSE_RUNTIME_PATH", "run"), ("PULSE_STATE_PATH", "state"), ("HOME", "home")):
            (root / sub).mkdir(parents=True, exist_ok=True)
            self.env[k] = str(root / sub)
        for k in ("DISPLAY", "WAYLAND_DISPLAY", "PULSE_SERVER", "PULSE_SOURCE", "PULSE_SINK"):
            self.env.pop(k, None)
        (root / "pa.conf").write_text(CONF)
        self.pidfile = root / "run" / "pid"

    def start(self) -> VirtualPulse:
        if shutil.which("pulseaudio") is None:
            raise RuntimeError("pulseaudio is not installed: `make test` installs it (tools/system-deps.sh)")
        subprocess.run(["pulseaudio", "-n", "-F", str(self.root / "pa.conf"), "--daemonize=yes", "--exit-idle-time=-1",
                        "--use-pid-file=yes"], env=self.env, check=True, capture_output=True, timeout=30)
        deadline = time.monotonic() + 10
        while self.pactl("info").returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the private PulseAudio daemon did not come up")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.pidfile.exists():
            try:
                os.kill(int(self.pidfile.read_text().split()[0]), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass

    def pactl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10)

    def play(self, wav: Path, device: str) -> subprocess.Popen:
        return subprocess.Popen(["paplay", f"--device={device}", str(wav)], env=self.env)

    def module_of(self, sink: str) -> str:
        for line in self.pactl("list", "short", "modules").stdout.splitlines():
            if f"sink_name={sink}" in line:
                return line.split("\t")[0]
        raise KeyError(sink)

    def unplug(self, sink: str) -> None:
        self.pactl("unload-module", self.module_of(sink))

    def replug(self, sink: str, channels: int = 2) -> None:
        self.pactl("load-module", "module-null-sink", f"sink_name={sink}", "rate=48000", f"channels={channels}")
