"""What an agent's words do, by meaning rather than by phrase list.

Real agents summarise, reflect and acknowledge in endless wordings ("so I have an 8am
appointment for Maria in the system for two days from now" is a summary with none of the
listed phrases). A sentence encoder (all-MiniLM-L6-v2, int8 ONNX in assets/sentence-minilm,
run by onnxruntime and tokenizers, which faster-whisper already brings) turns a line into a
384-d vector; one logistic regression per intent, fitted on the example lines in
assets/sentence-minilm/intent_examples.json, says how likely the line is a summary, a
reflection or an acknowledgement. Examples of other agent lines on the same topics teach
it the act rather than the topic ("can I book an appointment" is not a summary). The fitted
weights ship beside the examples (intent_weights.json, written by tools/fit_intents.py, keyed
by the SHA-256 of the examples and of the model), so a start costs no fit; when either file
changed, the models are fitted at load.

make eval scores it against the phrase lists on a labelled set (tests/data/intents_labelled.json).
Pure computation: no Qt, no audio; about 4 ms a line on one thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from coach.config.paths import assets_dir

log = logging.getLogger(__name__)

INTENTS = ("summary", "reflection", "acknowledgement")
MAX_TOKENS = 128  # a long agent turn is judged on its first ~90 words, which is where a summary starts


def model_dir() -> Path:
    return assets_dir() / "sentence-minilm"


WEIGHTS = "intent_weights.json"


def shipped_examples() -> dict[str, list[str]]:
    """The example lines per intent (the file's other keys are notes)."""
    raw = json.loads((model_dir() / "intent_examples.json").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if isinstance(v, list)}


def fit_key(folder: Path) -> str:
    """What the shipped weights were fitted from: the example lines and the encoder."""
    h = hashlib.sha256()
    for name in ("intent_examples.json", "model.onnx"):
        h.update(hashlib.sha256((folder / name).read_bytes()).digest())
    return h.hexdigest()


class SentenceEncoder:
    """Unit sentence vectors from the ONNX encoder (mean pooling and L2 norm are in the graph)."""

    def __init__(self, folder: Path | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = 1  # the other core decodes speech
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 4
        opts.enable_cpu_mem_arena = False  # an arena keeps its peak allocation resident for the process
        self._sess = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"], sess_options=opts)
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.enable_padding()
        self._tok.enable_truncation(MAX_TOKENS)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        enc = self._tok.encode_batch(list(texts))
        ids = np.array([e.ids for e in enc], np.int64)
        mask = np.array([e.attention_mask for e in enc], np.int64)
        return self._sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]


def _fit(x: np.ndarray, y: np.ndarray, steps: int = 2000, lr: float = 0.5, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """Logistic regression by plain gradient descent (~190 examples: deterministic, no extra library).
    Class weights equalised were measured too: recall rose, but half the lines it called summaries were
    not (tests/data/intents_labelled.json); the rules' threshold (0.4) sets the balance instead."""
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        g = 1.0 / (1.0 + np.exp(-(x @ w + b))) - y
        w -= lr * (x.T @ g / len(y) + l2 * w)
        b -= lr * float(g.mean())
    return w, b


class Meaning:
    """Intent probabilities for agent lines, and how close two lines are in meaning."""

    def __init__(self, encoder: SentenceEncoder | None = None, examples: dict[str, list[str]] | None = None) -> None:
        """examples=None: the shipped examples, with their shipped weights when those were fitted from them."""
        self.encode = encoder or SentenceEncoder()
        self._vec = lru_cache(maxsize=512)(self._embed_one)
        shipped = self._shipped_weights() if examples is None and encoder is None else None
        if shipped is not None:
            self._models = shipped
            return
        self._models = self.fit(shipped_examples() if examples is None else examples)

    def fit(self, examples: dict[str, list[str]]) -> dict[str, tuple[np.ndarray, float]]:
        """One logistic regression per intent on the example lines (~1 CPU s for ~190 lines)."""
        # one line at a time, as lines are scored: int8 activations are quantized over the whole batch
        # tensor, so a line's vector depended on its batch-mates (and their padding)
        x = np.vstack([self.encode([line]) for group in examples.values() for line in group])
        labels = [k for k, lines in examples.items() for _ in lines]
        return {i: _fit(x, np.array([k == i for k in labels], float)) for i in INTENTS if i in examples}

    @staticmethod
    def _shipped_weights() -> dict[str, tuple[np.ndarray, float]] | None:
        path = model_dir() / WEIGHTS
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("fit_key") != fit_key(model_dir()):
                log.info("%s was fitted from other examples or another model: fitting at load", path.name)
                return None
            return {i: (np.array(m["w"], float), float(m["b"])) for i, m in data["intents"].items()}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def weights_json(self) -> str:
        """The fitted models as intent_weights.json holds them (tools/fit_intents.py)."""
        intents = {i: {"w": [round(float(v), 7) for v in w], "b": round(b, 7)} for i, (w, b) in self._models.items()}
        return json.dumps({"fit_key": fit_key(model_dir()), "intents": intents}, separators=(",", ":")) + "\n"

    def _embed_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def intents(self, text: str) -> dict[str, float]:
        """Probability that the line is each intent (independent one-vs-rest models)."""
        v = self._vec(text.strip())
        return {i: float(1.0 / (1.0 + np.exp(-(v @ w + b)))) for i, (w, b) in self._models.items()}

    def similarity(self, a: str, b: str) -> float:
        """Cosine of the two lines' sentence vectors: ~0.6+ for the same content in other words."""
        return float(self._vec(a.strip()) @ self._vec(b.strip()))


@lru_cache(maxsize=1)
def shared_meaning() -> Meaning | None:
    """The process's one Meaning (load ~1 s: the encoder and the example lines), or None when
    the model files are missing (a stripped install): the phrase lists still work then."""
    if not (model_dir() / "model.onnx").is_file():
        log.warning("no sentence model in %s: summaries, reflections and acknowledgements are found by phrase list only",
                    model_dir())
        return None
    return Meaning()
