# truceline: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install clean examples sysdeps fuzz reliability postgis test-postgis mosquitto

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# PostgreSQL 15 + PostGIS from Debian's packages, cluster started, role and database made; prints the store URL.
postgis:
	bash scripts/postgis.sh

# The store and service tests on PostGIS, in a throw-away database (dropped and made anew); `make test`
# runs them on SQLite.
test-postgis: $(STAMP)
	url="$$(bash scripts/postgis.sh --test)" && TRUCELINE_TEST_PG_URL="$$url" \
		$(PY) -m pytest -q tests/store tests/service --store-backends=postgis

# Mosquitto from Debian's packages, users per contingent and ACL, started; prints the broker URL.
mosquitto:
	bash scripts/mosquitto.sh

# Debian packages: Chromium (browser tests), Pango (PDF), fonts, poppler (PDF to PNG). Idempotent.
sysdeps:
	bash scripts/install_system_deps.sh

demo: $(STAMP) sysdeps
	$(VENV)/bin/truceline agreement validate default
	$(VENV)/bin/truceline demo

test: $(STAMP) sysdeps
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/geo_points.py
	$(PY) benchmarks/sim_day.py
	$(PY) benchmarks/fusion_vs_pyocto.py
	$(PY) benchmarks/pyocto_home.py
	$(PY) benchmarks/adjudication.py
	$(PY) benchmarks/ledger.py
	$(PY) benchmarks/line_sources.py
	$(PY) benchmarks/band_attribution.py
	$(PY) benchmarks/reprocess.py
	$(PY) benchmarks/live_ops.py  # starts Mosquitto (scripts/mosquitto.sh: root or sudo)

# Evidence integrity: >= 20,000 malformed inputs over every ingest path; >= 100 kill -9 of ingest, process
# and the API. Each writes benchmarks/results/NAME.json and exits 1 on any crash, acceptance or loss.
fuzz: $(STAMP)
	$(PY) scripts/fuzz.py
	$(PY) benchmarks/figures.py --render

reliability: $(STAMP)
	$(PY) scripts/reliability.py
	$(PY) benchmarks/figures.py --render

examples: $(STAMP)
	$(PY) scripts/make_example_agreements.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
