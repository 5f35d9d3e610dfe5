# The newest Airflow 3 and Airflow 2.11 in their own virtualenvs, built by scripts/venv.sh on first use;
# scripts/matrix.sh builds and tests the rest of the supported versions.
AIRFLOW3 ?= 3.3.2
AIRFLOW2 ?= 2.11.2
VENV3 := .venv-af3
VENV2 := .venv-af2
TMP := .tmp

.PHONY: demo test test-fast lint matrix test-af3 test-af2 e2e e2e-celery bench bench-triggers bench-escalation dist check-wheel clean

$(VENV3)/.installed: pyproject.toml
	scripts/venv.sh $(AIRFLOW3) 3.11 $(VENV3)

$(VENV2)/.installed: pyproject.toml
	scripts/venv.sh $(AIRFLOW2) 3.11 $(VENV2)

## demo: run the example escalation DAG through Airflow against the local emulator
demo: $(VENV3)/.installed
	rm -rf $(TMP)/demo-airflow && mkdir -p $(TMP)/demo-airflow
	AIRFLOW_HOME=$(CURDIR)/$(TMP)/demo-airflow AIRFLOW__CORE__LOAD_EXAMPLES=False \
		$(VENV3)/bin/airflow db migrate > $(TMP)/demo-airflow/db-migrate.log 2>&1
	AIRFLOW_HOME=$(CURDIR)/$(TMP)/demo-airflow $(VENV3)/bin/python scripts/demo.py

## test: what CI runs: lint and types, the suite on every supported Airflow, the deployment test, the wheel
test: lint matrix e2e e2e-celery check-wheel

## test-fast: the pure unit tests (tests/unit), in seconds
test-fast: $(VENV3)/.installed
	$(VENV3)/bin/python -m pytest -q -p no:cacheprovider tests/unit

lint: $(VENV3)/.installed
	$(VENV3)/bin/ruff check .
	$(VENV3)/bin/ruff format --check .
	$(VENV3)/bin/mypy

## matrix: the whole suite on Airflow 3.3 and 2.11, a subset on 3.0, 3.1, 3.2 and on Python 3.10 and 3.13
matrix:
	scripts/matrix.sh

test-af3: $(VENV3)/.installed
	$(VENV3)/bin/python -m pytest -q

test-af2: $(VENV2)/.installed
	$(VENV2)/bin/python -m pytest -q

## bench: performance figures (not part of test: timings are noisy)
bench: $(VENV3)/.installed
	$(VENV3)/bin/pip install -q apache-airflow-providers-http "apache-airflow==$(AIRFLOW3)"
	$(VENV3)/bin/python benchmarks/run.py

## bench-triggers: N deferred sensors in one triggerer event loop, against baselines (a few minutes)
bench-triggers: $(VENV3)/.installed
	$(VENV3)/bin/pip install -q apache-airflow-providers-http "apache-airflow==$(AIRFLOW3)"
	$(VENV3)/bin/python benchmarks/triggers.py --n 1 200 1000 --latency 0.3 --interval 2 --deadline 20 \
		--contenders native to_thread http_sensor_trigger

## bench-escalation: from the primary's final status to the secondary's call, call-status chain vs sessions chain
bench-escalation: $(VENV3)/.installed
	$(VENV3)/bin/python benchmarks/escalation_latency.py

## dist: build the wheel and sdist into dist/ and check their metadata with twine
dist: $(VENV3)/.installed
	$(VENV3)/bin/pip install -q build twine
	rm -rf dist
	$(VENV3)/bin/python -m build
	$(VENV3)/bin/twine check --strict dist/*

## check-wheel: install the built wheel in a fresh venv and run the fast tests against it
check-wheel:
	AIRFLOW_VERSION=$(AIRFLOW3) scripts/check_wheel.sh

## e2e: a real Airflow 3 deployment (api-server, scheduler, dag-processor, triggerer) against the emulator;
## E2E_DB=postgres runs it on PostgreSQL instead of SQLite
e2e: $(VENV3)/.installed
	bash e2e/setup.sh
	$(VENV3)/bin/pip install -q -e ".[e2e]"
	$(VENV3)/bin/python e2e/run.py

## e2e-celery: the production topology (CeleryExecutor, PostgreSQL, Redis, two workers, two triggerers) and the
## process faults that matter there: a worker, a triggerer, the scheduler, the broker, the DB. Airflow 3 only
e2e-celery: $(VENV3)/.installed
	E2E_CELERY=1 bash e2e/setup.sh
	$(VENV3)/bin/pip install -q -e ".[e2e]" -r e2e/celery-requirements.txt "apache-airflow==$(AIRFLOW3)"
	$(VENV3)/bin/python e2e/run_celery.py

clean:
	rm -rf .venv-af* $(TMP) dist build
