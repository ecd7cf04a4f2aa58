# Two entry points (see README): `make demo` runs the main job, `make test` runs the tests.
# Both install everything from the project's own files first (idempotent).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.omnidsl-installed
NATIVE  := $(wildcard native/Cargo.toml native/Cargo.lock native/src/*.rs native/src/**/*.rs)

.PHONY: install browser demo test lint bench clean

$(STAMP): pyproject.toml package.json package-lock.json $(NATIVE)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@echo "==> pip install -e '.[all]': builds the Rust core (native/, maturin + cargo --release;"
	@echo "    several minutes the first time, pip's progress below), then the Python dependencies"
	$(BIN)/pip install -e '.[all]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP) browser

browser:  # Debian's chromium for the browser test (apt, only when missing)
	sh scripts/install-browser.sh

demo: install
	$(BIN)/omnidsl market demo --rule cosine --pin tau=0.2 --pin min_norm=0.01 --norm-factor 1

test: install
	$(BIN)/ruff check omnidsl tests benchmarks
	$(BIN)/mypy omnidsl
	cd native && cargo test --release --quiet
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check omnidsl tests benchmarks
	$(BIN)/mypy omnidsl

bench: install
	for b in benchmarks/*_bench.py; do $(BIN)/python $$b || exit 1; done
	$(BIN)/python benchmarks/compile_bench.py --rules  # every rule vs its hand-written circom

clean:
	rm -rf $(VENV) node_modules native/target
