"""Settings: cue switches and thresholds, speech model, input devices, where sessions live.

Edits the live Settings object in place, so cue switches and thresholds apply at once
(the cue engine reads them on every cue); the model and devices apply on the next start.
Saved to the TOML file on OK.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coach.analysis.catalog import CATALOG
from coach.config.settings import Settings
from coach.core.errors import UserError
from coach.voices import voiceprint


class Probe(Protocol):
    def peak(self) -> float: ...
    def close(self) -> None: ...

THRESHOLDS = [  # (label, section, key, min, max, step)
    ("global gap between cues (s)", "cues", "global_gap_s", 0, 60, 1),
    ("slow down above (wpm)", "cues.slow_down", "max_wpm", 150, 350, 5),
    ("check in after silence (s)", "cues.check_in", "dead_air_s", 3, 30, 1),
    ("escalation score", "cues.customer_escalating", "score_threshold", 0.3, 1.5, 0.05),
    ("monologue limit (s)", "cues.pause_and_listen", "monologue_s", 15, 180, 5),
]


def _section(s: Settings, dotted: str) -> object:
    obj: object = s
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, save: Callable[[Settings], object], data_dir: Path, models: list[str],
                 inputs: list[str] | None = None, probe: Callable[[str], Probe] | None = None) -> None:
        """`settings`: a copy of the stored settings to edit; `save` stores the edited copy."""
        super().__init__()
        self.setWindowTitle("Call Coach settings")
        self.s, self.save = settings, save
        self.probe_factory = probe
        self.probes: list[tuple[Probe, QProgressBar]] = []
        self.timer = QTimer(self)
        self.timer.setInterval(100)  # live meters: the GUI polls, the audio thread only queues
        self.timer.timeout.connect(self._poll)
        tabs = QTabWidget()
        # cues
        cues = QWidget()
        form = QFormLayout(cues)
        self.toggles: dict[str, QCheckBox] = {}
        for cue_id, spec in CATALOG.items():
            box = QCheckBox(spec.label)
            box.setChecked(getattr(settings.cues, cue_id).enabled)
            box.setToolTip(spec.tip)
            self.toggles[cue_id] = box
            form.addRow(box)
        self.spins: dict[tuple[str, str], QDoubleSpinBox] = {}
        for label, section, key, lo, hi, step in THRESHOLDS:
            spin = QDoubleSpinBox()
            spin.setRange(lo, hi)
            spin.setSingleStep(step)
            spin.setDecimals(2 if step < 1 else 0)
            spin.setValue(getattr(_section(settings, section), key))
            self.spins[(section, key)] = spin
            form.addRow(label, spin)
        tabs.addTab(cues, "Cues")
        # model
        model = QWidget()
        mform = QFormLayout(model)
        self.model = QComboBox()
        self.model.addItems(models)
        self.model.setCurrentText(settings.model.name)
        mform.addRow("speech model", self.model)
        mform.addRow(QLabel("tiny.en is bundled; others download once. Applies on the next start."))
        tabs.addTab(model, "Model")
        # devices
        dev = QWidget()
        dform = QFormLayout(dev)
        self.agent_dev, self.customer_dev = QComboBox(), QComboBox()
        for combo, current in ((self.agent_dev, settings.audio.agent_device), (self.customer_dev, settings.audio.customer_device)):
            combo.addItems(inputs or [])
            if current:
                combo.setCurrentText(current)
        self.agent_meter, self.customer_meter = QProgressBar(), QProgressBar()
        for m in (self.agent_meter, self.customer_meter):
            m.setRange(0, 100)
            m.setTextVisible(False)
        self.error = QLabel()
        test = QPushButton("Test: speak, and play something in the softphone")
        test.clicked.connect(self.test_devices)
        dform.addRow("your microphone", self.agent_dev)
        dform.addRow("level", self.agent_meter)
        dform.addRow("softphone output", self.customer_dev)
        dform.addRow("level", self.customer_meter)
        dform.addRow(test)
        dform.addRow(self.error)
        tabs.addTab(dev, "Devices")
        # storage
        store = QWidget()
        sform = QFormLayout(store)
        sform.addRow("sessions and settings", QLabel(str(data_dir)))
        sform.addRow(QLabel("Set COACH_DATA_DIR or --data-dir to keep them elsewhere."))
        tabs.addTab(store, "Storage")
        # voiceprint: biometric, opt-in, local, deletable
        vp = QWidget()
        vform = QFormLayout(vp)
        self.data_dir = data_dir
        self.enroll = QCheckBox("Learn my voice from my own microphone in live calls")
        self.enroll.setChecked(settings.voiceprint.enroll)
        self.enroll.setToolTip("So that mono recordings know which voice is yours. Only your microphone is used.")
        self.voiceprint_state = QLabel(voiceprint.describe(data_dir))
        self.voiceprint_state.setWordWrap(True)
        self.delete_voiceprint = QPushButton("Delete my voiceprint")
        self.delete_voiceprint.clicked.connect(self._delete_voiceprint)
        self.delete_voiceprint.setEnabled(voiceprint.read(data_dir) is not None)
        vform.addRow(self.enroll)
        vform.addRow(QLabel("A voiceprint is biometric data: it never leaves this PC, and turning this off deletes it."))
        vform.addRow(self.voiceprint_state)
        vform.addRow(self.delete_voiceprint)
        tabs.addTab(vp, "Voiceprint")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        root = QVBoxLayout(self)
        root.addWidget(tabs)
        root.addWidget(buttons)

    def _delete_voiceprint(self) -> None:
        voiceprint.delete(self.data_dir)
        self.voiceprint_state.setText(voiceprint.describe(self.data_dir))
        self.delete_voiceprint.setEnabled(False)

    def test_devices(self) -> None:
        """Open both chosen devices and show their levels live until the dialog closes."""
        self.stop_meters()
        if self.probe_factory is None:
            return
        for combo, meter in ((self.agent_dev, self.agent_meter), (self.customer_dev, self.customer_meter)):
            if combo.currentText():
                try:
                    self.probes.append((self.probe_factory(combo.currentText()), meter))
                except UserError as e:
                    self.error.setText(str(e))
        self.timer.start()

    def _poll(self) -> None:
        for probe, meter in self.probes:
            meter.setValue(int(100 * min(1.0, probe.peak() * 2)))  # speech peaks ~0.1-0.5 full scale

    def stop_meters(self) -> None:
        self.timer.stop()
        for probe, _ in self.probes:
            probe.close()
        self.probes = []

    def done(self, result: int) -> None:
        self.stop_meters()
        super().done(result)

    def apply(self) -> None:
        for cue_id, box in self.toggles.items():
            getattr(self.s.cues, cue_id).enabled = box.isChecked()
        for (section, key), spin in self.spins.items():
            kind = type(getattr(_section(self.s, section), key))
            setattr(_section(self.s, section), key, kind(spin.value()))
        self.s.model.name = self.model.currentText()
        self.s.voiceprint.enroll = self.enroll.isChecked()
        if not self.s.voiceprint.enroll:  # consent withdrawn: the biometric data goes too
            self._delete_voiceprint()
        if self.agent_dev.currentText():
            self.s.audio.agent_device = self.agent_dev.currentText()
        if self.customer_dev.currentText():
            self.s.audio.customer_device = self.customer_dev.currentText()
        self.save(copy.deepcopy(self.s))

    def accept(self) -> None:
        self.apply()
        super().accept()
