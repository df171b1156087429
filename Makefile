# Call Coach. `make demo` and `make test` install everything they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast test-payment-explore test-asr-variants bench bench-server server lint eval install clean package package-test

# As the app does (coach/__init__.py): numpy's BLAS threads spin after each small product,
# so scripts that import numpy before coach get the same single BLAS thread.
export OPENBLAS_NUM_THREADS ?= 1

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
	$(BIN)/python -m pytest -q -m "not slow"
	$(BIN)/python -m pytest -q -m slow

# 30 generated card read-outs spoken and heard by the real recognizer (in `make test`, which stops at
# the first leak): here every one that leaks a digit is listed, with what each pass heard
test-payment-explore: $(STAMP)
	rm -f payment-leaks.txt
	PAYMENT_RENDERED_REPORT=$(CURDIR)/payment-leaks.txt $(BIN)/python -m pytest -q -m explore
	@if [ -s payment-leaks.txt ]; then cat payment-leaks.txt; echo "$$(grep -c ^LEAK payment-leaks.txt) of 30 leaked"; else echo "0 of 30 leaked"; fi

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# The recognizer hears other words on other CPUs (int8 kernels differ): the whole-call tests
# must pass whatever the exact transcript, so run them with other kernels too.
test-asr-variants: $(STAMP)
	COACH_SET='model.compute_type="float32"' $(BIN)/python -m pytest -q -m "slow and not explore"
	COACH_SET='model.compute_type="int8_float32"' $(BIN)/python -m pytest -q -m "slow and not explore"

# scripted calls (every expected cue, none forbidden), then the judged real calls (precision per cue and severity)
eval: $(STAMP)
	$(BIN)/python tools/eval.py
	$(BIN)/python tools/judged_eval.py

# every benchmark, its output shown and written into docs/benchmark.md (dated, with the machine)
bench: $(STAMP)
	$(BIN)/python tools/bench_page.py

# The team server on a local PostgreSQL cluster in the data folder (initdb on first run);
# prints its URL and, on an empty database, a first admin login.
server: $(STAMP)
	$(BIN)/coach server $(ARGS)

bench-server: $(STAMP)
	$(BIN)/python tools/bench_server.py $(ARGS)

package: $(STAMP)
	$(BIN)/python -m pip install -q 'pyinstaller>=6.10'
	bash packaging/build_linux.sh

package-test: package
	$(BIN)/python -m pytest -q tests/packaging_check.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build dist *.egg-info tests/.rendered bench-out
