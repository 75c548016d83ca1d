# Two commands do everything on a fresh machine:
#   make demo   set up, then run the main job on the bundled demo data (embedded DuckDB store)
#   make test   set up, then run the test suite
# Set-up makes .venv with Python >= 3.12 (found on PATH or under pyenv, see scripts/find-python)
# and installs the project with its dev dependencies. It is redone only when pyproject.toml changes.

VENV      := .venv
PY        := $(VENV)/bin/python
CONFIG    := configs/example.yaml
STAMP     := $(VENV)/.installed

.PHONY: setup browser demo test bench bench-prophet clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/find-python
	@test -x $(PY) || "$$(sh scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@mkdir -p var/drop
	@# a store left by an older version is brought up to date first (a backup copy is kept)
	@if [ -f var/demo.duckdb ]; then $(VENV)/bin/forecaster --config $(CONFIG) store migrate; fi
	@# deliver the demo history the way an export job should: a hidden name first, then a rename
	cp data/demo/actuals.csv.gz var/drop/.demo-actuals.csv.gz.part && mv var/drop/.demo-actuals.csv.gz.part var/drop/demo-actuals.csv.gz
	$(VENV)/bin/forecaster --config $(CONFIG) campaigns submit data/demo/campaigns.csv --by demo
	$(VENV)/bin/forecaster --config $(CONFIG) nightly
	$(VENV)/bin/forecaster --config $(CONFIG) runs show latest
	@echo "Outputs of the run: var/out/latest/ (report.html, forecast, requirements, shifts, coverage, capacity,"
	@echo "campaign impact, outbound.ics); open var/out/latest/report.html in a browser"

# The report's browser test needs Debian's headless Chromium and ChromeDriver; installed here when
# missing (as root, through apt-get). Without them that one test is skipped with the reason.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium and chromium-driver for the report's browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "note: install chromium and chromium-driver (apt-get) to run the report's browser test"; fi

test: $(STAMP) browser
	$(VENV)/bin/python -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/python -m pytest -q benchmarks --benchmark-only

# Prophet against our models on the same origins (installs the optional 'bench' set first)
bench-prophet: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(PY) -m benchmarks.prophet_peer

clean:
	rm -rf $(VENV) var .pytest_cache .benchmarks
