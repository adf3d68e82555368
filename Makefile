# `make run` trains and evaluates the default MNIST MLP; `make test` runs the whole suite.
# Both create .venv on first use and install what is missing: as root, Debian's graphviz (for `dot`)
# and python3-venv; otherwise a note names the missing package and the command that installs it.
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
	$(BIN)/python -m mnist graph --out docs/cnn-graph.svg --model cnn --grads --collapse

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

# graphviz gives `dot`, which renders graph pictures (without it those tests skip and `mnist graph`
# writes only .dot); python3-venv gives `python3 -m venv`, without which nothing here can start.
system-deps:
	@packages=""; \
	command -v dot >/dev/null || packages="graphviz"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || packages="$$packages python3-venv"; \
	packages=$${packages# }; \
	if [ -z "$$packages" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's $$packages" >&2; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$packages >/dev/null; \
	  exit; \
	fi; \
	case "$$packages" in \
	  graphviz) echo "note: dot is missing (Debian's graphviz; graph pictures need it)." \
	                 "Install it with: sudo apt-get install graphviz" >&2 ;; \
	  python3-venv) echo "error: $(PYTHON) -m venv is missing (Debian's python3-venv)." \
	                     "Install it with: sudo apt-get install python3-venv" >&2; exit 1 ;; \
	  *) echo "error: dot and $(PYTHON) -m venv are missing (Debian's graphviz and python3-venv)." \
	          "Install them with: sudo apt-get install graphviz python3-venv" >&2; exit 1 ;; \
	esac

$(STAMP): pyproject.toml
	$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)
