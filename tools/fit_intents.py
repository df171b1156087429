#!/usr/bin/env python3
"""Fit the intent models on assets/sentence-minilm/intent_examples.json and write their weights
beside them (intent_weights.json), so the app need not fit them at each start. Run after editing
the examples or replacing the encoder; tests/test_meaning.py fails until then."""

from __future__ import annotations

import json

from coach.analysis.meaning import WEIGHTS, Meaning, model_dir


def main() -> None:
    raw = json.loads((model_dir() / "intent_examples.json").read_text(encoding="utf-8"))
    m = Meaning(examples={k: v for k, v in raw.items() if isinstance(v, list)})
    (model_dir() / WEIGHTS).write_text(m.weights_json(), encoding="utf-8")
    print(f"wrote {model_dir() / WEIGHTS}")


if __name__ == "__main__":
    main()
