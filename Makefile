# truceline: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install clean examples

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/truceline agreement validate default
	$(VENV)/bin/truceline agreement show default
	$(VENV)/bin/truceline simulate scenarios/escalation.yaml --out out/demo/escalation
	rm -rf out/demo/data
	$(VENV)/bin/truceline ingest out/demo/escalation --data out/demo/data
	$(VENV)/bin/truceline process --data out/demo/data --agreement out/demo/escalation/agreement
	$(VENV)/bin/truceline export --data out/demo/data --out out/demo/results
	$(VENV)/bin/truceline aggregates --data out/demo/data --by day,sector,family,party
	$(VENV)/bin/truceline score --truth out/demo/escalation --result out/demo/results

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/geo_points.py
	$(PY) benchmarks/sim_day.py
	$(PY) benchmarks/fusion_vs_pyocto.py
	$(PY) benchmarks/adjudication.py

examples: $(STAMP)
	$(PY) scripts/make_example_agreements.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
