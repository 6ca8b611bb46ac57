# briefing-api: the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TOOLS  := .tools# node tools of the test suite (the spec linter), installed once, git-ignored
REDOCLY_VERSION := 2.11.1
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 2
WORKER_CONNECTIONS ?= 1000
# `make run` starts the webhook delivery worker (`briefing deliver`) beside the server; 0: not
DELIVER ?= 1
# pytest-xdist processes for `make test` (auto: one per core)
TEST_WORKERS ?= auto
export HOST PORT WORKERS WORKER_CONNECTIONS

.PHONY: install install-dev run seed test lint layers format openapi bench bench-compare vendor clean

install: $(VENV)/.installed      ## the service and its runtime dependencies
install-dev: $(VENV)/.installed-dev  ## plus the test and lint tools

# uv (from PyPI, into the venv) installs what pyproject.toml asks for, several times faster than pip
UV := $(BIN)/uv pip install --python $(BIN)/python --quiet

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv
	$(UV) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(UV) -e '.[dev]'
	touch $@

run: install  ## create or upgrade the schema, seed it if empty (under one lock: replicas may start together), serve, deliver webhooks
	$(BIN)/briefing db upgrade
	$(BIN)/briefing seed --if-empty
	@if [ "$(DELIVER)" = 1 ]; then \
		$(BIN)/briefing deliver & deliver=$$!; \
		trap 'kill $$deliver 2>/dev/null' EXIT INT TERM; \
		$(BIN)/briefing serve; \
	else $(BIN)/briefing serve; fi

seed: install
	$(BIN)/briefing seed

$(TOOLS)/.installed:
	@if command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefer-offline --ignore-scripts --prefix $(TOOLS) @redocly/cli@$(REDOCLY_VERSION) \
		&& touch $@; \
	else echo "npm not found: the spec lint test will be skipped"; fi

test:  ## the whole suite; again on PostgreSQL when TEST_DATABASE_URL is set
	$(MAKE) --no-print-directory -j2 install-dev $(TOOLS)/.installed  # Python and node side by side
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory layers
	$(BIN)/mypy  # api/ and schemas/ (pyproject.toml)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal  # idle workers take queued tests from busy ones

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory layers
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

layers:  ## the import contracts of pyproject.toml (imports only point down); quiet unless broken
	@out=$$($(BIN)/lint-imports --no-logo --no-cache 2>&1) && echo "$$out" | tail -1 || { echo "$$out"; exit 1; }

openapi: install  ## regenerate openapi.yaml from the code
	$(BIN)/briefing openapi write --format yaml openapi.yaml

bench: bench-compare  ## the page comparison, then the load benchmark on SQLite and PostgreSQL (bench/README.md)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-compare: install  ## the service vs Datasette (own venv in .tools/) vs bare Flask: `COMPARE_ARGS="--events 20000"`
	$(BIN)/python -m bench.compare $(COMPARE_ARGS)

# The explorer's (/explore) browser libraries, pinned, from the npm registry into the package
# (committed with their licences: `make run` needs no node). `make vendor` after changing a pin.
EXPLORER_STATIC := api/http/explorer/static
VENDOR := $(EXPLORER_STATIC)/vendor
AXE_DIR := tests/live/vendor/axe-core
VENDOR_PACKAGES := leaflet@1.9.4 uplot@1.6.32 cytoscape@3.35.0 world-atlas@2.0.2 topojson-client@3.1.0 axe-core@4.14.1

vendor:  ## fetch the pinned explorer libraries (needs npm); the basemap is derived once here
	rm -rf $(TOOLS)/vendor $(VENDOR) $(AXE_DIR)
	npm install --silent --no-audit --no-fund --ignore-scripts --no-save --prefix $(TOOLS)/vendor $(VENDOR_PACKAGES)
	m=$(TOOLS)/vendor/node_modules; \
	mkdir -p $(VENDOR)/leaflet $(VENDOR)/uplot $(VENDOR)/cytoscape $(VENDOR)/world-atlas $(AXE_DIR) && \
	cp $$m/leaflet/dist/leaflet-src.esm.js $$m/leaflet/dist/leaflet-src.esm.js.map $$m/leaflet/dist/leaflet.css $$m/leaflet/LICENSE $(VENDOR)/leaflet/ && \
	cp -r $$m/leaflet/dist/images $(VENDOR)/leaflet/ && \
	cp $$m/uplot/dist/uPlot.esm.js $$m/uplot/dist/uPlot.min.css $$m/uplot/LICENSE $(VENDOR)/uplot/ && \
	cp $$m/cytoscape/dist/cytoscape.esm.min.mjs $(VENDOR)/cytoscape/cytoscape.esm.min.js && \
	cp $$m/cytoscape/LICENSE $(VENDOR)/cytoscape/ && \
	cp $$m/world-atlas/LICENSE $(VENDOR)/world-atlas/ && \
	cp $$m/topojson-client/LICENSE $(VENDOR)/world-atlas/LICENSE.topojson-client && \
	node -e 'const [t, w] = process.argv.slice(1).map(require); process.stdout.write(JSON.stringify(t.feature(w, w.objects.countries)))' \
	  "$$(realpath $$m)/topojson-client" "$$(realpath $$m)/world-atlas/countries-110m.json" > $(VENDOR)/world-atlas/countries-110m.geojson && \
	cp $$m/axe-core/axe.min.js $$m/axe-core/LICENSE $(AXE_DIR)/ && \
	for p in $(VENDOR_PACKAGES); do echo "$$p"; done > $(VENDOR)/VERSIONS

clean:
	rm -rf $(VENV) instance .pytest_cache
