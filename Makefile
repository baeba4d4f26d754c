# Two commands do everything (see README.md):
#   make demo   install what is missing, build, run the research path, write the report
#   make test   install what is missing, build, run every test (+ a short fuzz pass)
# Both are idempotent: a second run installs nothing and rebuilds only what changed.

PRESET ?= $(if $(CI),ci,release)
BUILD := build/$(PRESET)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 4
CMAKE_STAMP := $(BUILD)/build.ninja

.PHONY: all setup configure build test unit-test fuzz-smoke fuzz demo live-demo bench bench-serve bench-research bench-big bench-lake bench-logger bench-backup lint clean install

all: build

setup:
	@bash scripts/setup.sh

$(CMAKE_STAMP): CMakeLists.txt CMakePresets.json
	@cmake --preset $(PRESET) >/dev/null

configure: setup $(CMAKE_STAMP)

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

unit-test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# Each fuzz target runs FUZZ_SECONDS on its committed corpus (CI runs it briefly;
# run `make fuzz FUZZ_SECONDS=600` for a real session).
fuzz-smoke: setup
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz: fuzz-smoke

test: fuzz-smoke unit-test

demo: build
	@bash scripts/demo.sh $(BUILD)/apps/quant/quant $(DATA)

# The live path replayed end to end: quant replay → quant bridge → Redis → quant live, in lock step.
live-demo: build
	@bash scripts/live_demo.sh $(BUILD)/apps/quant/quant $(DATA)

# Installs the release build on this machine (as root): /usr/local, /etc/quant, /var/lib/quant,
# the systemd units (docs/deploy.md). Nothing is enabled or started.
install: build
	@bash deploy/install.sh $(BUILD)

bench: setup
	@cmake --preset bench >/dev/null && cmake --build build/bench -j $(JOBS)
	@bash bench/run.sh build/bench
	@bash bench/serve/run.sh build/bench

# A 10 M-bar backtest end to end (default outputs and report), the lake feed alone, and the
# report of a 400 k-trade run in headless Chromium.
bench-big: setup
	@cmake --preset bench >/dev/null && cmake --build build/bench --target quant backtest_bench report_fixture -j $(JOBS)
	@bash bench/backtest/big_run.sh build/bench/apps/quant/quant
	@bash bench/report/run.sh build/bench

# The tick lake at B3 volumes: a generated month of 20 M WIN-like trades through quant ingest
# against DuckDB's read_csv -> COPY, a day re-ingested into the month, lake ls, one huge day.
bench-lake: setup
	@cmake --preset bench >/dev/null && cmake --build build/bench --target quant duckdb_sql gen_trades lake_ls_bench -j $(JOBS)
	@bash bench/lake/run.sh build/bench

# quant lake backup/restore of the shared-data lake to s3rver on loopback and to a directory.
bench-backup: setup
	@cmake --preset bench >/dev/null && cmake --build build/bench --target quant -j $(JOBS)
	@bash bench/backup/run.sh build/bench

# The signal service against FastAPI/uvicorn + XGBoost only (wrk, 1 and 64 connections).
bench-serve: setup
	@cmake --preset bench >/dev/null && cmake --build build/bench --target quant -j $(JOBS)
	@bash bench/serve/run.sh build/bench

# TPE against Optuna 3.1 and random search (Branin, Hartmann-6, Rosenbrock-4), then a walk-forward
# and a 50-trial optimisation on the real WIN bars of ../shared/data, timed.
bench-research: setup
	@cmake --preset bench >/dev/null && cmake --build build/bench --target tpe_bench quant -j $(JOBS)
	@bash bench/research/run.sh build/bench
	@bash bench/research/optimize_win.sh build/bench/apps/quant/quant

# clang-format, clang-tidy (in parallel, JOBS at a time) and the layering check; fails on any
# finding. clang-tidy's compile database lives in build/lint, apart from the other builds.
lint: setup
	@JOBS=$(JOBS) bash scripts/lint.sh build/lint

clean:
	rm -rf build

# quant logger into ClickHouse: flat-out rows/s and the lag at 10 Hz x 100 symbols
# (bench/results/clickhouse_<date>.txt; about 8 minutes).
bench-logger: setup
	@cmake --preset bench >/dev/null && cmake --build build/bench --target quant logger_feed -j $(JOBS)
	@bash bench/clickhouse/run.sh build/bench
