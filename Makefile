# Two commands on a fresh machine:
#   make demo   set up, write the demo landing set, run the warehouse job, print the 2022 KPIs
#   make test   set up and run the whole test suite (what CI runs)
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_COMPILE_BYTECODE := 1

.PHONY: setup demo run test lint dev bench clean

# Set-up makes two environments, kzdw's (.venv) and dbt's (dbt_env/.venv: dbt-core, its
# adapters, pyspark, run only as commands of their own), and builds the code once (the dbt
# manifest, Python's compiled bytecode) so that running a deployment never writes into the
# checkout.
setup:
	@command -v uv >/dev/null 2>&1 || test -x $(UV) || python3 -m pip install --user --quiet uv
	$(UV) sync --frozen
	$(UV) sync --frozen --project dbt_env
	$(UV) run --frozen kzdw prepare
	@$(UV) run --frozen python -m compileall -q kzdw orchestration sources expectations
	@# dbt imports `daff` from its environment's bin/ (the folder of the script that starts dbt
	@# comes first on its path): compiled now rather than written there by the first build.
	@dbt_env/.venv/bin/python -m compileall -q dbt_env/.venv/bin
	@scripts/install-system-packages.sh

demo: setup
	$(UV) run --frozen kzdw demo --force
	$(UV) run --frozen kzdw run
	$(UV) run --frozen kzdw kpis --year 2022

run: setup
	$(UV) run --frozen kzdw run

test: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen pytest -n 2 --dist loadscope --no-loadscope-reorder

dev: setup
	$(UV) run --frozen kzdw dev

bench: setup
	$(UV) run --frozen python benchmarks/ingest.py --rows 5000000 --repeat 3
	$(UV) run --frozen python benchmarks/demo.py --repeat 3

clean:
	rm -rf data dbt_project/target
