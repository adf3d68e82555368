# `make run` trains and evaluates the default MNIST MLP; `make test` runs the whole suite.
# Both create .venv on first use and install what is missing (Debian's graphviz for `dot`
# and python3-venv too, when run as root).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= runs/default

.PHONY: run test bench graph-picture system-deps

run: $(STAMP)
	$(BIN)/python -m mnist train --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

graph-picture: $(STAMP)
	$(BIN)/python -m mnist graph --out docs/mlp-graph.svg --layers 784 32 16 10 --grads

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
