# edgecloud: `make report` builds outputs/report.html, `make test` checks everything. `make` lists targets.
SHELL := /bin/bash
PARAMS ?= params/default.yaml
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.installed-runtime
INSTALLED := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb))
EXECUTED := $(patsubst notebooks/%,outputs/notebooks/%,$(NOTEBOOKS))
STAMPS := $(patsubst notebooks/%.ipynb,outputs/.stamps/%.params,$(NOTEBOOKS))
LIB := $(shell find lib -name '*.py')
# Runs measured elsewhere and committed under data/results/<machine>/: a content digest, so copies that keep old
# modification times are noticed too (read by notebook 02).
DATA_RESULTS := outputs/.stamps/data-results
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -hE '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN{FS=":.*## "}{printf "  %-10s %s\n",$$1,$$2}'
	@echo "  PARAMS=$(PARAMS) (also params/smoke.yaml, params/full.yaml)"

# The runtime alone is what `make measure` needs on a small device; the workbook adds Jupyter, plots and tools.
$(RUNTIME): requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(INSTALLED): $(RUNTIME) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m ipykernel install --sys-prefix --name edgecloud --display-name "Python (edgecloud)" >/dev/null
	touch $@

venv: $(INSTALLED)  ## create .venv with the pinned requirements and the edgecloud kernel

# Validates PARAMS before any kernel starts; a stamp is rewritten only when its notebook's parameters (or the
# committed results) change. `+`: it runs under `make -n` too, so `make -n report` lists only what would re-run.
$(STAMPS) $(DATA_RESULTS) &: $(wildcard $(PARAMS)) $(INSTALLED) FORCE
	+$(PY) -m edgecloud stamp --params $(PARAMS)

outputs/notebooks/%.ipynb: notebooks/%.ipynb outputs/.stamps/%.params $(LIB) requirements.txt requirements-dev.txt
	$(PY) -m edgecloud run $* --params $(PARAMS)

# Later notebooks read earlier notebooks' results: the edges come from the notebook registry (no venv needed).
$(foreach edge,$(shell python3 lib/edgecloud/notebooks.py),$(eval $(subst :,: ,$(edge))))
outputs/notebooks/02-cloud-edge-measurements.ipynb: $(DATA_RESULTS)

outputs/report.html: $(EXECUTED)
	$(PY) -m edgecloud report

report: outputs/report.html  ## run the notebooks that changed and build outputs/report.html

validate: $(INSTALLED)  ## check PARAMS against the schema
	$(PY) -m edgecloud validate --params $(PARAMS)

measure: $(RUNTIME)  ## the cloud/edge measurements without Jupyter (e.g. on a Raspberry Pi), into the results store
	$(PY) -m edgecloud measure --params $(PARAMS)

bench: $(RUNTIME)  ## acceptance goals as ratios measured in one run: outputs/bench/bench.json, exit 1 on a miss
	$(PY) -m edgecloud.acceptance --params $(PARAMS)

lint: $(INSTALLED)  ## ruff on the library, tests and notebooks
	$(PY) -m ruff check lib tests notebooks

test: $(INSTALLED)  ## lint, the import contracts, then the whole pytest suite (includes a smoke `make report`)
	$(PY) -m ruff check lib tests notebooks
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest

# mutmut mutates only ./, src/ or source/: it runs in a copy of the project with lib/ as src/ ([tool.mutmut]).
MUTATION := outputs/mutation
mutate: $(INSTALLED)  ## mutation testing of timing, decisions/ and results/ (slow; not part of `make test`)
	rm -rf $(MUTATION) && mkdir -p $(MUTATION)
	cp -r lib $(MUTATION)/src && cp -r tests params data notebooks pyproject.toml README.md $(MUTATION)/
	cd $(MUTATION) && $(CURDIR)/$(VENV)/bin/mutmut run --max-children 2 >mutmut.log 2>&1; \
		$(CURDIR)/$(VENV)/bin/mutmut export-cicd-stats >/dev/null && $(CURDIR)/$(VENV)/bin/mutmut results >survivors.txt
	$(PY) -m edgecloud.acceptance --mutation $(MUTATION)

lab: $(INSTALLED)  ## JupyterLab with the edgecloud kernel on 127.0.0.1 (token in the URL it prints)
	$(PY) -m edgecloud lab

clean:  ## remove generated outputs (keeps .venv and the model cache)
	find outputs -mindepth 1 -maxdepth 1 ! -name .gitkeep ! -name cache -exec rm -rf {} +

distclean: clean  ## also remove .venv and the model cache
	rm -rf $(VENV) outputs/cache

.PHONY: help venv report validate measure bench lint test mutate lab clean distclean FORCE
FORCE:
