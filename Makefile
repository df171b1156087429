# Call Coach. `make demo` and `make test` install everything they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test bench lint eval install clean package package-test

install: $(STAMP)

$(STAMP): pyproject.toml
	@bash tools/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/coach demo $(CALL)

test: $(STAMP)
	$(BIN)/python -m pytest -q

eval: $(STAMP)
	$(BIN)/python tools/eval.py

bench: $(STAMP)
	$(BIN)/python tools/bench.py

package: $(STAMP)
	$(BIN)/python -m pip install -q 'pyinstaller>=6.10'
	bash packaging/build_linux.sh

package-test: package
	$(BIN)/python -m pytest -q tests/packaging_check.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build dist *.egg-info tests/.rendered bench-out
