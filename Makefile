# tap-asos: two commands set everything up on a fresh machine.
#   make demo   create .venv, install, start the sandbox + local S3, run the pipeline twice
#   make test   create .venv if needed and run the whole suite
#   make check  the inner loop: lint (ruff, format, mypy, import contracts) + the tests that
#               start no server (pytest -m "not server"), under a minute
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The stamp changes whenever a dependency list changes, so installs re-run then only.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml loaders/target-s3/pyproject.toml 2>/dev/null | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: venv test test-sdk-latest lint lint-python check docs demo bench readme hub dist clean

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]' -e ./loaders/target-s3
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

test: venv
	bash scripts/run-tests.sh $(PYTEST_ARGS)

# The suite against the newest singer-sdk the registry serves, the pin lifted, in a venv of
# its own: an SDK release that breaks the tap shows here before users see it (CI runs it).
LATEST := .venv-sdk-latest
test-sdk-latest:
	@test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --disable-pip-version-check uv
	echo 'singer-sdk[testing]' > $(LATEST)/overrides.txt
	$(LATEST)/bin/uv pip install --quiet --python $(LATEST)/bin/python --upgrade \
		--overrides $(LATEST)/overrides.txt -e '.[dev]' -e ./loaders/target-s3
	$(LATEST)/bin/python -c "from importlib.metadata import version; print('singer-sdk', version('singer-sdk'))"
	VENV=$(LATEST) bash scripts/run-tests.sh $(PYTEST_ARGS)

lint-python: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy tap_asos loaders/target-s3/target_s3 orchestrate/elt_run.py orchestrate/progress_view.py
	$(BIN)/lint-imports   # the rooms' import contracts, [tool.importlinter] in pyproject.toml

lint: lint-python
	bash scripts/lint-workflows.sh   # actionlint + zizmor over .github/workflows

# Tests marked `server` (tests/conftest.py) start sandboxes, moto or meltano: make test runs them.
check: lint-python
	bash scripts/run-tests.sh -m "not server" $(PYTEST_ARGS)

# The documentation site (mkdocs.yml, docs/) into site/; a broken link or anchor fails.
docs: venv
	mkdir -p docs/assets/bench && cp bench/chart-*.png docs/assets/bench/   # the benchmark's charts
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

demo: venv
	bash scripts/demo.sh

readme: venv
	$(BIN)/python scripts/readme_settings.py

# Meltano Hub definitions (hub/) from the plugins' --about; release files in dist/, checked.
hub: venv
	$(BIN)/python scripts/hub_definitions.py

dist: venv
	rm -rf dist
	$(BIN)/uv build --out-dir dist .
	$(BIN)/uv build --out-dir dist loaders/target-s3
	$(BIN)/twine check --strict dist/*.whl dist/*.tar.gz
	$(BIN)/python scripts/check_dists.py dist

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(LATEST) .meltano .demo .pytest_cache .mypy_cache .ruff_cache .tools dist site
