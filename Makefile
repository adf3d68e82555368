# `make run` trains and evaluates the default MNIST MLP; `make test` runs the whole suite.
# Both create .venv on first use and install what is missing (Debian's graphviz for `dot`
# and python3-venv too, when run as root).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= runs/default

.PHONY: run test bench graph-picture diagnostics-pictures system-deps

run: $(STAMP)
	$(BIN)/python -m mnist train --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

graph-picture: $(STAMP)
	$(BIN)/python -m mnist graph --out docs/mlp-graph.svg --layers 784 32 16 10 --grads

# The README's two diagnostics runs: one network, ReLU against sigmoid; the pictures go to docs/diagnostics/,
# reduced to 256 colours to keep the repository small.
diagnostics-pictures: $(STAMP)
	for activation in relu sigmoid; do \
	  $(BIN)/python -m mnist train --diagnostics --epochs 3 --layers 784 64 64 64 64 64 10 \
	    --activation $$activation --out runs/diagnostics-$$activation || exit 1; \
	  mkdir -p docs/diagnostics/$$activation; \
	  for picture in gradient_flow update_ratios activations first_layer_weights; do \
	    cp runs/diagnostics-$$activation/$$picture.png docs/diagnostics/$$activation/ || exit 1; \
	  done; \
	done
	$(BIN)/python -c 'import sys; from PIL import Image; \
	  [Image.open(p).convert("RGB").quantize(256).save(p, optimize=True) for p in sys.argv[1:]]' docs/diagnostics/*/*.png

system-deps:
	@if ! command -v dot >/dev/null || ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz python3-venv >/dev/null; \
	  else \
	    echo "note: install Debian's graphviz (for dot) and python3-venv as root" >&2; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	$(MAKE) system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)
