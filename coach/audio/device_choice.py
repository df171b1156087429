"""Which devices `coach live` listens to: the command line's choice, else the remembered one, else
the one obvious candidate; a choice from the command line is remembered in the settings."""

from __future__ import annotations

from dataclasses import dataclass

from coach.audio.device_info import InputDevice
from coach.config.settings import Settings
from coach.config.settings_store import SettingsStore
from coach.core.errors import UserError
from coach.core.events import Speaker


@dataclass
class LiveOptions:
    agent_device: str | None = None
    customer_device: str | None = None
    stereo_device: str | None = None
    agent_channel: int | None = None
    duration_s: float | None = None
    mono_device: str | None = None


@dataclass
class LiveDevices:
    """What `coach live` listens to: two devices, one stereo device, or one mono device of both voices."""

    sides: dict[Speaker, InputDevice] | None = None
    stereo: tuple[InputDevice, int] | None = None
    mono: InputDevice | None = None

    def describe(self) -> str:
        if self.stereo:
            return f"stereo {self.stereo[0].label}, agent on channel {self.stereo[1]}"
        if self.mono:
            return f"both voices on {self.mono.label}, told apart as they speak"
        assert self.sides is not None
        return f"agent = {self.sides['agent'].label}, customer = {self.sides['customer'].label}"


def choose_devices(s: Settings, lo: LiveOptions, store: SettingsStore) -> LiveDevices:
    """Devices from the command line, else the remembered ones; command-line choices are remembered."""
    from coach.audio.devices import list_inputs, resolve

    given = lo.agent_device or lo.customer_device or lo.stereo_device
    if lo.mono_device and given:
        raise UserError("--mono-device carries both voices: give it alone, without the agent, customer or stereo device")
    inputs = list_inputs()
    if not inputs:
        raise UserError("no audio input devices found: plug in a headset, or check the sound server is running")
    mono_q = lo.mono_device or (None if given else s.audio.mono_device or None)
    if mono_q:
        dev = resolve(mono_q, devices=inputs)
        _remember(store, mono_device=dev.label, stereo_device="")
        return LiveDevices(mono=dev)
    stereo_q = lo.stereo_device or (None if (lo.agent_device or lo.customer_device) else s.audio.stereo_device or None)
    if stereo_q:
        dev = resolve(stereo_q, devices=inputs)
        channel = lo.agent_channel if lo.agent_channel is not None else s.audio.agent_channel
        if channel not in (0, 1):
            raise UserError("--agent-channel must be 0 or 1")
        _remember(store, stereo_device=dev.label, agent_channel=channel, mono_device="")
        return LiveDevices(stereo=(dev, channel))
    agent_q = lo.agent_device or s.audio.agent_device
    customer_q = lo.customer_device or s.audio.customer_device
    if not customer_q:
        loops = [d for d in inputs if d.loopback]
        if len(loops) != 1:
            raise UserError("say which input carries the customer (the softphone's output) with --customer-device; "
                            "`coach devices` marks likely loopback sources")
        customer_q = loops[0].label
    customer = resolve(customer_q, devices=inputs)
    if agent_q:
        agent = resolve(agent_q, devices=inputs)
    else:
        mics = [d for d in inputs if not d.loopback and d.name not in ("pulse", "default")]
        agent = mics[0] if len(mics) == 1 else resolve("default", devices=inputs)
    if agent == customer:
        raise UserError(f"the agent and the customer cannot both be {agent.label}")
    _remember(store, agent_device=agent.label, customer_device=customer.label, stereo_device="", mono_device="")
    return LiveDevices(sides={"agent": agent, "customer": customer})


def _remember(store: SettingsStore, **audio: object) -> None:
    """Persist device choices in settings.toml (this run's --set values stay this run's)."""
    store.update(lambda st: [setattr(st.audio, key, value) for key, value in audio.items()])
