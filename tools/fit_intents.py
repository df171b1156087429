#!/usr/bin/env python3
"""Fit the intent models on assets/sentence-minilm/intent_examples.json and write their weights
beside them (intent_weights.json), so the app need not fit them at each start. Run after editing
the examples or replacing the encoder; tests/test_meaning.py fails until then."""

from __future__ import annotations

from coach.analysis.meaning import WEIGHTS, Meaning, model_dir, shipped_examples


def main() -> None:
    m = Meaning(examples=shipped_examples())
    (model_dir() / WEIGHTS).write_text(m.weights_json(), encoding="utf-8")
    print(f"wrote {model_dir() / WEIGHTS}")


if __name__ == "__main__":
    main()
